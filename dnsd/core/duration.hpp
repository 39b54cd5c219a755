#pragma once
/// Durations as the config writes them: "500ms", "2s", "1m", "1h".

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dnsd {

using Duration = std::chrono::milliseconds;

/// A positive integer followed by one unit (ms, s, m, h). nullopt otherwise.
std::optional<Duration> parse_duration(std::string_view text);

/// The wall clock in Unix seconds, as the state file, alerts and overrides count it.
inline std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// The same in milliseconds (hold-downs and damping, SPEC 9).
inline std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace dnsd
