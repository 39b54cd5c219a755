#pragma once
/// Diagnostics collected while reading load-time input (config, zones).
/// Libraries append to a Diagnostics list instead of throwing or exiting, so
/// that `dnsd check` can report every problem at once. Only main() decides
/// what an error means for the process.

#include <string>
#include <vector>

namespace dnsd {

enum class Severity { error, warning };

struct Diagnostic {
    Severity severity = Severity::error;
    std::string file;  ///< path as the operator gave it (or as resolved)
    int line = 0;      ///< 1-based; 0 when no line applies
    std::string message;

    /// `FILE:LINE: message` (or `FILE: message` without a line), with
    /// "warning: " before the message for warnings.
    std::string str() const;
};

class Diagnostics {
public:
    void error(std::string file, int line, std::string message);
    void warning(std::string file, int line, std::string message);
    void add(Diagnostic d) { items_.push_back(std::move(d)); }
    void append(const Diagnostics& other);

    bool has_errors() const;
    /// Orders by line within each file (files in the order they first
    /// appear; whole-file messages after the numbered ones), so that an
    /// operator reads a file's problems top to bottom.
    void sort_by_line();
    std::size_t size() const { return items_.size(); }
    const std::vector<Diagnostic>& items() const { return items_; }
    auto begin() const { return items_.begin(); }
    auto end() const { return items_.end(); }

private:
    std::vector<Diagnostic> items_;
};

}  // namespace dnsd
