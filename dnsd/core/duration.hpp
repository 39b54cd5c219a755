#pragma once
/// Durations as the config writes them: "500ms", "2s", "1m", "1h".

#include <chrono>
#include <optional>
#include <string_view>

namespace dnsd {

using Duration = std::chrono::milliseconds;

/// A positive integer followed by one unit (ms, s, m, h). nullopt otherwise.
std::optional<Duration> parse_duration(std::string_view text);

}  // namespace dnsd
