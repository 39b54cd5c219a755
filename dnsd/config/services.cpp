// [[service]] entries.

#include "dnsd/config/sections.hpp"

namespace dnsd::config {

void read_service(TableReader& r, Draft& d) {
    ServiceDraft draft;
    Service& s = draft.service;
    bool& ok = draft.ok;
    s.line = r.line();

    ok &= r.require("name", "the name the service answers, e.g. \"www.gslb.example.com.\"");
    std::string name;
    const Got got_name = r.domain_name("name", false, name);
    ok &= good(got_name);
    if (got_name == Got::value && name[0] == 1 && name[1] == '*') {
        r.error(*r.get("name"), "name", "a service cannot be a wildcard name");
        ok = false;
    } else if (got_name == Got::value) {
        s.name = name;
        draft.name = r.spot_at("name");
    }

    // Site names as written: validate finds the sites.
    ok &= r.require("sites", "the sites that serve it, in order of preference");
    if (const auto* n = r.get("sites")) {
        const auto names = r.strings(*n, "sites");
        if (names.empty() && n->is_array()) {
            r.error(*n, "sites", "expected at least one site");
            ok = false;
        }
        for (const auto& item : names) draft.sites.push_back({item.text, r.spot(item.line)});
    }

    const Got policy = r.enum_value("policy", kPolicies, s.policy);
    ok &= good(policy);
    if (policy == Got::value && s.policy == Service::Policy::nearest) draft.policy = r.spot_at("policy");
    ok &= good(r.integer("ttl", 0, 86400, s.ttl));
    ok &= good(r.integer("max_answers", 1, Service::kMaxAddresses, s.max_answers));
    ok &= good(r.enum_value("stickiness", kStickiness, s.stickiness));
    ok &= good(r.integer("min_sites_up", 0, Service::kMaxSites, s.min_sites_up));
    if (s.min_sites_up > draft.sites.size() && !draft.sites.empty()) {
        // Every override would be refused, and the service would start out
        // below it.
        r.error(*r.get("min_sites_up"), "min_sites_up",
                "the service has only " + std::to_string(draft.sites.size()) + " sites");
        ok = false;
    }

    // A keyword, or one of the service's own sites (validate finds it).
    std::string fallback;
    const Got got_fallback = r.string("fallback", fallback);
    ok &= good(got_fallback);
    if (got_fallback == Got::value) {
        if (const auto keyword = kFallbacks.parse(fallback))
            s.fallback = *keyword;
        else
            draft.fallback = Ref{fallback, r.spot_at("fallback")};
    }
    // Staying put (SPEC 9).
    if (const auto* n = r.get("failback")) {
        const auto text = n->value<std::string_view>();
        const auto parsed = text ? parse_duration(*text) : std::nullopt;
        if (text == "manual") {
            s.failback_manual = true;
        } else if (parsed) {
            s.failback = *parsed;
        } else {
            r.error(*n, "failback", "expected a duration such as \"30s\", or \"manual\"");
            ok = false;
        }
    }
    if (const auto* n = r.get("damping")) {
        if (const auto* t = n->as_table()) {
            s.damping = true;
            ok &= read_damping(r, *t, s.damping_figures);
        } else {
            ok &= good(r.boolean("damping", s.damping));
        }
    }
    std::uint32_t ttl_degraded = 0;
    const Got got_degraded = r.integer("ttl_degraded", 0, 86400, ttl_degraded);
    ok &= good(got_degraded);
    if (got_degraded == Got::value) s.ttl_degraded = ttl_degraded;
    if (const auto* n = r.get("spill_at")) {
        const auto value = n->value<double>();
        if (!value || !(*value > 0 && *value < 1)) {
            r.error(*n, "spill_at",
                    "expected a number between 0 and 1 (a share of the site's capacity), e.g. 0.8");
            ok = false;
        } else if (policy != Got::value || s.policy != Service::Policy::nearest) {
            r.error(*n, "spill_at", "spill-over applies to policy = \"nearest\" only");
            ok = false;
        } else {
            s.spill_at = *value;
        }
    }
    d.services.push_back(std::move(draft));
}

}  // namespace dnsd::config
