#include "dnsd/config/names.hpp"

namespace dnsd::config {

std::string join(const std::vector<std::string>& names, std::string_view last) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += i + 1 == names.size() ? last : std::string_view(", ");
        out += names[i];
    }
    return out;
}

const char* to_string(Probe::Kind kind) noexcept {
    return kProbeKinds.name(kind);
}
std::optional<Probe::Kind> parse_probe_kind(std::string_view text) noexcept {
    return kProbeKinds.parse(text);
}

const char* to_string(Service::Policy policy) noexcept {
    return kPolicies.name(policy);
}
std::optional<Service::Policy> parse_policy(std::string_view text) noexcept {
    return kPolicies.parse(text);
}

const char* to_string(Service::Fallback fallback) noexcept {
    return kFallbacks.name(fallback);
}
std::optional<Service::Fallback> parse_fallback(std::string_view text) noexcept {
    return kFallbacks.parse(text);
}

const char* to_string(Service::Stickiness stickiness) noexcept {
    return kStickiness.name(stickiness);
}
std::optional<Service::Stickiness> parse_stickiness(std::string_view text) noexcept {
    return kStickiness.parse(text);
}

const char* to_string(Alert::Kind kind) noexcept {
    return kAlertKinds.name(kind);
}
std::optional<Alert::Kind> parse_alert_kind(std::string_view text) noexcept {
    return kAlertKinds.parse(text);
}

}  // namespace dnsd::config
