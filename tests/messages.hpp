#pragma once
// Test helper: diagnostics as the operator reads them (`FILE:LINE: message`).

#include <string>
#include <vector>

#include "dnsd/core/diagnostic.hpp"

namespace dnsd::test {
inline std::vector<std::string> messages(const Diagnostics& diags) {
    std::vector<std::string> out;
    for (const auto& d : diags) out.push_back(d.str());
    return out;
}
}  // namespace dnsd::test
