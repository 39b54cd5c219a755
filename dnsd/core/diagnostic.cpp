#include "dnsd/core/diagnostic.hpp"

#include <algorithm>
#include <climits>

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

void Diagnostics::sort_by_line() {
    std::vector<std::string> files;
    auto file_index = [&](const std::string& f) {
        auto it = std::find(files.begin(), files.end(), f);
        if (it == files.end()) {
            files.push_back(f);
            return files.size() - 1;
        }
        return static_cast<std::size_t>(it - files.begin());
    };
    for (const auto& d : items_) file_index(d.file);
    std::stable_sort(items_.begin(), items_.end(), [&](const Diagnostic& a, const Diagnostic& b) {
        const auto fa = file_index(a.file), fb = file_index(b.file);
        if (fa != fb) return fa < fb;
        return (a.line > 0 ? a.line : INT_MAX) < (b.line > 0 ? b.line : INT_MAX);
    });
}

}  // namespace dnsd
