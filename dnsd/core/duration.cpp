#include "dnsd/core/duration.hpp"

#include <charconv>

namespace dnsd {

std::optional<Duration> parse_duration(std::string_view text) {
    long long value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr == text.data() || value < 0) return std::nullopt;
    std::string_view unit(ptr, static_cast<std::size_t>(text.data() + text.size() - ptr));
    long long factor = 0;
    if (unit == "ms")
        factor = 1;
    else if (unit == "s")
        factor = 1000;
    else if (unit == "m")
        factor = 60 * 1000;
    else if (unit == "h")
        factor = 3600 * 1000;
    else
        return std::nullopt;
    if (value > (1LL << 40) / factor) return std::nullopt;
    return Duration(value * factor);
}

}  // namespace dnsd
