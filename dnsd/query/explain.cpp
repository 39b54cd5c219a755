#include "dnsd/query/explain.hpp"

#include <cstdio>

#include "dnsd/core/name.hpp"

namespace dnsd::query {

namespace {

/// Formats one line with snprintf into a stack buffer (nothing allocated)
/// and hands it on, cut at 255 bytes.
class Lines {
public:
    explicit Lines(LineSink& out) noexcept : out_(out) {}
    template <typename... Args>
    void operator()(LineScope scope, const char* format, Args... args) noexcept {
        const int n = std::snprintf(text_, sizeof text_, format, args...);
        if (n <= 0) return;
        out_.line(scope, std::string_view(text_, static_cast<std::size_t>(n < 255 ? n : 255)));
    }

private:
    LineSink& out_;
    char text_[256];
};

/// The fallback as the configuration says it: "all", "none", or the site.
const char* fallback_text(const steer::Catalog& cat, const steer::Service& svc) noexcept {
    return svc.fallback == config::Service::Fallback::site ? cat.sites[svc.fallback_site].name.c_str()
                                                           : config::to_string(svc.fallback);
}

/// Why a site is held back (SPEC 9), after its verdict: "held down,
/// failback in 21 s", "damped, penalty 2310, reuse in 48 s" (the verdict
/// not said twice); empty when it is not held back.
void stay_text(const health::Stay& stay, steer::Trace::Verdict verdict, std::int64_t at_ms, char* out,
               std::size_t size) noexcept {
    const long long left = stay.until_ms > at_ms ? (stay.until_ms - at_ms + 999) / 1000 : 0;
    const bool held_said = verdict == steer::Trace::Verdict::held_down;
    const bool damped_said = verdict == steer::Trace::Verdict::damped;
    switch (stay.reason) {
        case health::Stay::Reason::none:
            out[0] = 0;
            return;
        case health::Stay::Reason::held:
            std::snprintf(out, size, "%s, failback in %lld s", held_said ? "" : ", held down", left);
            return;
        case health::Stay::Reason::held_manual:
            std::snprintf(out, size, "%s until resumed (dnsdctl resume)", held_said ? "" : ", held down");
            return;
        case health::Stay::Reason::damped:
            std::snprintf(out, size, "%s, penalty %u, reuse in %lld s", damped_said ? "" : ", damped",
                          stay.penalty, left);
            return;
    }
    out[0] = 0;
}

/// A line for each address of the site and family whose probe connects
/// to another address (probe_targets): the health above is that probe's.
void probe_targets(const steer::Catalog& cat, std::uint32_t site, Family f, Lines& line) noexcept {
    const steer::Range r = cat.sites[site].family(f);
    for (std::uint32_t a = r.first; a < r.first + r.count; ++a) {
        if (cat.probe_targets[a] == cat.addresses[a]) continue;
        char address[64], target[64];
        address_text(cat.addresses[a], address, sizeof address);
        address_text(cat.probe_targets[a], target, sizeof target);
        line(f == Family::v4 ? LineScope::v4 : LineScope::v6, "%s site %s: %s probed at %s",
             f == Family::v4 ? "A" : "AAAA", cat.sites[site].name.c_str(), address, target);
    }
}

/// Spill-over (SPEC 10): the nearest site's load, the share it keeps, and
/// whether this client is one it sheds.
void spill_line(const steer::Catalog& cat, const steer::Service& svc, const steer::Trace::SpillNote& s,
                const char* fam, LineScope scope, Lines& line) noexcept {
    if (s.from == steer::kNoSite || !cat.sites[s.from].has_load) return;
    const char* from = cat.sites[s.from].name.c_str();
    if (s.spill.load < 0) {
        line(scope, "%s site %s load unknown (not read yet, or unreadable): counts as not overloaded", fam,
             from);
        return;
    }
    if (s.spill.load <= svc.spill_at) {
        line(scope, "%s site %s load %.2f, at most %.2f: keeps all its clients", fam, from, s.spill.load,
             svc.spill_at);
        return;
    }
    char what[120];
    if (s.to == steer::kNoSite)
        std::snprintf(what, sizeof what, "no other site up to shed to");
    else if (s.shed)
        std::snprintf(what, sizeof what, "this client sheds (+%.0f km to %s)", s.extra_km,
                      cat.sites[s.to].name.c_str());
    else
        std::snprintf(what, sizeof what, "this client stays (+%.0f km to %s; sheds below +%.0f km)",
                      s.extra_km, cat.sites[s.to].name.c_str(), s.spill.shed_below_km);
    line(scope, "%s site %s load %.2f above %.2f: keeps %.0f %%; %s", fam, from, s.spill.load, svc.spill_at,
         100.0 * s.spill.keep, what);
}

void render_answer(const Explanation& e, Family f, Lines& line) noexcept {
    const steer::Catalog& cat = e.view->catalog();
    const auto& a = f == Family::v4 ? e.v4 : e.v6;
    const LineScope scope = f == Family::v4 ? LineScope::v4 : LineScope::v6;
    const char* fam = f == Family::v4 ? "A" : "AAAA";
    for (unsigned i = 0; i < a.trace.count; ++i) {
        const auto& s = a.trace.sites[i];
        char dist[32] = "distance unknown";
        if (s.distance_km >= 0) std::snprintf(dist, sizeof dist, "%.0f km", s.distance_km);
        char stay[80];
        stay_text(s.stay, s.verdict, e.at_ms, stay, sizeof stay);
        line(scope, "%s site %s: %u/%u up, override %s, %s: %s%s", fam, cat.sites[s.site].name.c_str(), s.up,
             s.total, health::to_string(s.override_state), dist, steer::to_string(s.verdict), stay);
        probe_targets(cat, s.site, f, line);
    }
    spill_line(cat, *e.service, a.trace.spill, fam, scope, line);
    char answer[200] = "";
    std::size_t used = 0;
    if (a.choice.kind == steer::Choice::Kind::addresses) {
        // As many as fit the line (a TXT string), then how many more.
        unsigned k = 0;
        for (; k < a.choice.count && used + 48 + 16 < sizeof answer; ++k) {
            char text[64];
            address_text(cat.addresses[a.choice.address[k]], text, sizeof text);
            used += static_cast<std::size_t>(
                std::snprintf(answer + used, sizeof answer - used, "%s%s", k ? " " : "", text));
        }
        if (k < a.choice.count)
            std::snprintf(answer + used, sizeof answer - used, " and %u more", a.choice.count - k);
    } else if (a.choice.kind == steer::Choice::Kind::cname) {
        std::snprintf(answer, sizeof answer, "CNAME of site %s", cat.sites[a.choice.site].name.c_str());
    } else if (a.choice.no_family()) {
        std::snprintf(answer, sizeof answer, "NODATA (no %s address in any site)",
                      f == Family::v4 ? "IPv4" : "IPv6");
    } else {
        std::snprintf(answer, sizeof answer, "NODATA");
    }
    line(scope, "%s answer: %s%s, ttl %u%s, ECS scope %u", fam, answer,
         a.choice.fallback ? " (fallback)" : "", e.ttl, e.degraded ? " (degraded)" : "", a.scope);
    if (a.choice.hashed()) {
        char prefix[64];
        address_text(e.prefix.prefix.address, prefix, sizeof prefix);
        line(scope, "%s %s picked by client hash of %s/%u (%s)", fam,
             a.choice.hashed_site ? (a.choice.hashed_addresses ? "site and addresses" : "site") : "addresses",
             prefix, e.prefix.prefix.length, e.prefix.by_ecs ? "ECS" : "source address");
    }
}

}  // namespace

Explanation explain(const View& view, std::size_t service, const Subnet& subnet,
                    const Client& client) noexcept {
    Explanation e;
    e.view = &view;
    const steer::Catalog& cat = view.catalog();
    e.service = &cat.services[service];
    e.from = client.address;
    e.where = locate_client(subnet, view, client);
    const health::Snapshot& h = health_for(client, cat);
    e.vantage_points = h.vantage_points;
    e.quorum = h.quorum;
    e.depends = e.service->policy == config::Service::Policy::nearest;
    e.ttl = e.service->ttl;
    if (const auto* sv = steer::service_view(*e.service, h)) {
        e.ttl = sv->ttl;
        e.degraded = sv->degraded;
        e.at_ms = h.published_ms;
    }
    steer::Client who = e.depends ? e.where.client : steer::Client{};
    e.sticky = e.service->sticky;
    if (e.sticky) e.prefix = key_client(subnet, client, who);
    for (Family f : {Family::v4, Family::v6}) {
        auto& a = f == Family::v4 ? e.v4 : e.v6;
        steer::Random random = client.random ? *client.random : steer::Random{};
        steer::decide(cat, *e.service, f, who, h, random, &a.trace, a.choice);
        // As the answer: negative answers have scope 0; one picked by the
        // client's prefix has at least its scope.
        const bool positive = a.choice.kind != steer::Choice::Kind::nodata;
        a.scope = e.depends && e.where.by_ecs && positive ? e.where.scope : 0;
        if (positive && a.choice.hashed() && e.prefix.scope() > a.scope) a.scope = e.prefix.scope();
    }
    return e;
}

void render(const Explanation& e, LineSink& out) noexcept {
    Lines line(out);
    const steer::Catalog& cat = e.view->catalog();
    const auto& where = e.where;
    char addr[64];
    address_text(where.address, addr, sizeof addr);
    char from[64];
    address_text(e.from, from, sizeof from);
    if (where.by_ecs)
        line(LineScope::both, "client %s/%u (ECS, from %s)", addr, where.source_prefix, from);
    else
        line(LineScope::both, "client %s (source address)", addr);
    switch (where.located.source) {
        case geo::Located::Source::networks:
            line(LineScope::both, "location %.2f,%.2f (geo.networks, /%u)", where.located.location.lat,
                 where.located.location.lon, where.located.prefix);
            break;
        case geo::Located::Source::database:
            line(LineScope::both, "location %.2f,%.2f (database, /%u)", where.located.location.lat,
                 where.located.location.lon, where.located.prefix);
            break;
        case geo::Located::Source::unknown:
            line(LineScope::both, "location unknown%s",
                 e.view->locator() ? " (not in geo.networks or the databases)" : " (no [geo])");
            break;
    }
    line(LineScope::both, "policy %s, ttl %u, fallback %s%s", config::to_string(e.service->policy),
         e.service->ttl, fallback_text(cat, *e.service), e.sticky ? ", stickiness client" : "");
    if (e.quorum > 1 || e.vantage_points > 1)
        line(LineScope::both, "cluster: %u vantage points count, quorum %u%s", e.vantage_points, e.quorum,
             e.vantage_points < e.quorum ? " (degraded: deciding from those reachable)" : "");
    render_answer(e, Family::v4, line);
    render_answer(e, Family::v6, line);
}

std::int32_t service_at(const View& view, const std::uint8_t* lower_name, const std::uint8_t* offsets,
                        unsigned labels, std::size_t size) noexcept {
    unsigned suffix = 0;
    std::size_t index = 0;
    const zones::Zone* zone = view.find_zone(lower_name, offsets, labels, size, suffix, index);
    if (!zone) return -1;
    const std::int32_t* services = view.services_of(index);
    if (!services) return -1;
    const std::int32_t node = zone->find(lower_name, size);
    return node == zones::kNone ? -1 : services[node];
}

std::int32_t service_named(const View& view, std::string_view name) noexcept {
    std::uint8_t lower_name[kMaxNameLength];
    std::uint8_t offsets[kMaxNameLength / 2 + 1];
    if (name.empty() || name.size() > kMaxNameLength) return -1;
    for (std::size_t i = 0; i < name.size(); ++i) lower_name[i] = lower(static_cast<std::uint8_t>(name[i]));
    unsigned labels = 0;
    for (std::size_t i = 0; i < name.size() && lower_name[i] != 0; i += 1u + lower_name[i])
        offsets[labels++] = static_cast<std::uint8_t>(i);
    offsets[labels] = static_cast<std::uint8_t>(name.size() - 1);
    return service_at(view, lower_name, offsets, labels, name.size());
}

}  // namespace dnsd::query
