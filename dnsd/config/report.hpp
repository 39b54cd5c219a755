#pragma once
/// The findings of one read of one configuration file. Private to
/// dnsd/config; one Report per read, used by one thread.
///
/// The operator reads findings by line and, within a line, in the order
/// the values were read. Reading happens in steps (parse, then resolve,
/// then validate), so a later step's finding about a value would otherwise
/// land after findings the parse made about values read after it. A Spot,
/// taken when the value is read, keeps the finding where it belongs: the
/// steps stay apart and the output stays as if it were one pass.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnsd/core/diagnostic.hpp"

namespace dnsd::config {

/// Where findings about one value go: the value's line, and its place
/// among the findings.
struct Spot {
    int line = 0;
    std::uint32_t place = 0;
};

class Report {
public:
    /// `path`: the configuration file as given, named in every finding.
    explicit Report(std::string path) : path_(std::move(path)) {}

    const std::string& path() const noexcept { return path_; }

    /// A spot for a value at `line`: findings made at it come after every
    /// finding made so far and before every finding made after this call
    /// (except at earlier spots), whenever they are made.
    Spot spot(int line);

    /// `KEY: MESSAGE` at `line` (0: the whole file), after all findings so far.
    void error(int line, std::string_view key, std::string_view message);
    void warning(int line, std::string_view key, std::string_view message);
    /// `KEY: MESSAGE` at the spot's line and place.
    void error(const Spot& at, std::string_view key, std::string_view message);
    void warning(const Spot& at, std::string_view key, std::string_view message);

    /// The findings in the order of their places, and by line within the
    /// file (Diagnostics::sort_by_line).
    Diagnostics diagnostics() const;

private:
    struct Finding {
        std::uint32_t place;
        Diagnostic diagnostic;
    };
    void add(std::uint32_t place, Severity severity, int line, std::string_view key,
             std::string_view message);

    std::string path_;
    std::vector<Finding> findings_;
    std::uint32_t place_ = 0;  ///< where findings made now go
};

}  // namespace dnsd::config
