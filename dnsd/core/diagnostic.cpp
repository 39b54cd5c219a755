#include "dnsd/core/diagnostic.hpp"

namespace dnsd {

std::string Diagnostic::str() const {
    std::string out = file;
    if (line > 0) {
        out += ':';
        out += std::to_string(line);
    }
    out += ": ";
    if (severity == Severity::warning) out += "warning: ";
    out += message;
    return out;
}

void Diagnostics::error(std::string file, int line, std::string message) {
    items_.push_back({Severity::error, std::move(file), line, std::move(message)});
}

void Diagnostics::warning(std::string file, int line, std::string message) {
    items_.push_back({Severity::warning, std::move(file), line, std::move(message)});
}

void Diagnostics::append(const Diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

bool Diagnostics::has_errors() const {
    for (const auto& d : items_)
        if (d.severity == Severity::error) return true;
    return false;
}

}  // namespace dnsd
