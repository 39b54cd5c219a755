#include "dnsd/config/report.hpp"

#include <algorithm>

namespace dnsd::config {

Spot Report::spot(int line) {
    // The spot gets a place of its own between what came before and what
    // comes after.
    const Spot at{line, ++place_};
    ++place_;
    return at;
}

void Report::error(int line, std::string_view key, std::string_view message) {
    add(place_, Severity::error, line, key, message);
}

void Report::warning(int line, std::string_view key, std::string_view message) {
    add(place_, Severity::warning, line, key, message);
}

void Report::error(const Spot& at, std::string_view key, std::string_view message) {
    add(at.place, Severity::error, at.line, key, message);
}

void Report::warning(const Spot& at, std::string_view key, std::string_view message) {
    add(at.place, Severity::warning, at.line, key, message);
}

void Report::add(std::uint32_t place, Severity severity, int line, std::string_view key,
                 std::string_view message) {
    std::string text(key);
    text += ": ";
    text += message;
    findings_.push_back({place, {severity, path_, line, std::move(text)}});
}

Diagnostics Report::diagnostics() const {
    auto ordered = findings_;
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const Finding& a, const Finding& b) { return a.place < b.place; });
    Diagnostics out;
    for (auto& f : ordered) out.add(std::move(f.diagnostic));
    out.sort_by_line();
    return out;
}

}  // namespace dnsd::config
