#include "dnsd/query/simulate.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "dnsd/core/name.hpp"
#include "dnsd/steer/decide.hpp"
#include "dnsd/steer/rendezvous.hpp"

namespace dnsd::query {

namespace {

/// Where one decision sends a prefix: sites (several for `all`), or the
/// fallback's sites, or no answer.
struct Outcome {
    std::vector<std::pair<std::uint32_t, double>> sites;  ///< site, share of the prefix
    double fallback = 0, none = 0;                        ///< shares
};

void add_site(Outcome& o, std::uint32_t site, double share) {
    for (auto& [s, sh] : o.sites)
        if (s == site) {
            sh += share;
            return;
        }
    o.sites.emplace_back(site, share);
}

void add_choice(const steer::Catalog& cat, const steer::Choice& c, double share, Outcome& o) {
    // The fallback decided (no site up), whatever it gives: addresses, or
    // none (fallback "none", or every site forced down).
    if (c.fallback) o.fallback += share;
    if (c.kind == steer::Choice::Kind::nodata) {
        o.none += share;
        return;
    }
    if (c.kind == steer::Choice::Kind::cname || c.count == 0) {
        if (c.site != steer::kNoSite) add_site(o, c.site, share);
        return;
    }
    std::vector<std::uint32_t> sites;
    for (unsigned i = 0; i < c.count; ++i) {
        const std::uint32_t s = cat.address_site[c.address[i]];
        if (std::find(sites.begin(), sites.end(), s) == sites.end()) sites.push_back(s);
    }
    for (const auto s : sites) add_site(o, s, share / static_cast<double>(sites.size()));
}

Outcome decide_all(const steer::Catalog& cat, const steer::Service& svc, Family family,
                   const steer::Client& client, const health::Snapshot& h) {
    Outcome o;
    // Seeded by the client (a prefix's key), so that prefixes draw apart
    // and the same demand always simulates alike.
    steer::Random random;
    random.state ^= client.key | 1;
    const bool draws = svc.policy == config::Service::Policy::weighted && !svc.sticky;
    const unsigned n = draws ? Simulation::kDraws : 1;
    for (unsigned i = 0; i < n; ++i) {
        random.rotation = 0;
        add_choice(cat, steer::decide(cat, svc, family, client, h, random), 1.0 / n, o);
    }
    return o;
}

/// The site a prefix mostly goes to, as a move's end: a site name,
/// "fallback" or "none".
std::string main_place(const steer::Catalog& cat, const Outcome& o) {
    if (o.none >= 0.5) return "none";
    std::uint32_t best = steer::kNoSite;
    double share = 0;
    for (const auto& [s, sh] : o.sites)
        if (sh > share) {
            best = s;
            share = sh;
        }
    if (best == steer::kNoSite) return "none";
    return o.fallback >= 0.5 ? "fallback " + cat.sites[best].name : cat.sites[best].name;
}

/// Sites of `svc` up in `h` for A or AAAA and neither drained nor down.
unsigned sites_up(const steer::Catalog& cat, const steer::Service& svc, Family family,
                  const health::Snapshot& h, std::vector<bool>* up) {
    unsigned n = 0;
    for (const auto s : svc.sites) {
        const auto o = s < h.overrides.size() ? h.overrides[s] : health::Override::none;
        const bool is = o != health::Override::down && o != health::Override::drain &&
                        steer::site_health(cat, s, family, h).is_up;
        if (up) up->push_back(is);
        n += is;
    }
    return n;
}

}  // namespace

Simulation simulate(const View& view, const health::Snapshot& now, const health::Snapshot& after,
                    const steer::Demand& demand, const std::vector<double>& capacity,
                    const std::vector<unsigned>& min_sites_up, const std::string& service) {
    Simulation sim;
    sim.counted = demand.counted();
    if (!view.catalog_ptr()) return sim;
    const steer::Catalog& cat = view.catalog();
    for (const auto& svc : cat.services) {
        const std::string name = name_to_text(svc.name);
        if (!service.empty() && name != service) continue;
        Simulation::Service out;
        out.name = name;
        out.min_sites_up = svc.index < min_sites_up.size() ? min_sites_up[svc.index] : 0;
        // A service with IPv4 addresses is simulated as A queries.
        Family family = Family::v6;
        for (const auto s : svc.sites)
            if (cat.sites[s].v4.count || !cat.sites[s].cname.empty()) family = Family::v4;
        std::vector<bool> up_now, up_after;
        out.up_now = sites_up(cat, svc, family, now, &up_now);
        out.up_after = sites_up(cat, svc, family, after, &up_after);
        for (std::size_t i = 0; i < svc.sites.size(); ++i) {
            const auto s = svc.sites[i];
            out.sites.push_back(
                {cat.sites[s].name, 0, 0, s < capacity.size() ? capacity[s] : 0, up_now[i], up_after[i]});
        }
        const steer::Demand::Service* d = demand.service(svc.demand_key);
        if (d && d->total > 0) {
            out.empty = false;
            out.rate = demand.rate(d->total);
            out.error = demand.rate(d->error);
            double top = 0;
            for (const auto& e : d->top) top += e.count;
            out.top_rate = demand.rate(top);
            // The tail is spread like the top: each top prefix stands for
            // its share of the whole.
            const double scale = top > 0 ? d->total / top : 0;
            std::map<std::pair<std::string, std::string>, Simulation::Move> moves;
            for (const auto& e : d->top) {
                const Prefix p = steer::demand_prefix(e.prefix);
                steer::Client client;
                Simulation::Place place{p, demand.rate(e.count)};
                if (view.locator()) {
                    const geo::Located l = view.locator()->locate(p.address);
                    if (l.source != geo::Located::Source::unknown) {
                        client.located = true;
                        client.location = l.location.unit;
                        place.located = true;
                        place.lat = l.location.lat;
                        place.lon = l.location.lon;
                    }
                }
                client.key = steer::key_of(p);
                client.keyed = svc.sticky;
                const Outcome before = decide_all(cat, svc, family, client, now);
                const Outcome later = decide_all(cat, svc, family, client, after);
                const double r = demand.rate(e.count * scale);
                auto spread = [&](const Outcome& o, bool is_after) {
                    for (const auto& [s, sh] : o.sites)
                        for (std::size_t i = 0; i < svc.sites.size(); ++i)
                            if (svc.sites[i] == s)
                                (is_after ? out.sites[i].after : out.sites[i].now) += r * sh;
                    (is_after ? out.fallback_after : out.fallback_now) += r * o.fallback;
                    (is_after ? out.none_after : out.none_now) += r * o.none;
                };
                spread(before, false);
                spread(later, true);
                const std::string from = main_place(cat, before), to = main_place(cat, later);
                if (from == to) continue;
                Simulation::Move& m = moves[{from, to}];
                m.from = from;
                m.to = to;
                m.rate += r;
                if (m.top.size() < Simulation::kTopMoves) m.top.push_back(place);  // d->top is largest first
            }
            for (auto& [key, m] : moves) out.moves.push_back(std::move(m));
            std::sort(out.moves.begin(), out.moves.end(),
                      [](const auto& a, const auto& b) { return a.rate > b.rate; });
        }
        if (out.up_after < out.min_sites_up && out.up_after < out.up_now)
            sim.breaches.push_back("service " + name + ": " + std::to_string(out.up_after) +
                                   " site(s) up, below min_sites_up " + std::to_string(out.min_sites_up));
        for (const auto& s : out.sites) {
            auto it = std::find_if(sim.sites.begin(), sim.sites.end(),
                                   [&](const Simulation::Site& t) { return t.name == s.name; });
            if (it == sim.sites.end()) {
                sim.sites.push_back(s);
                continue;
            }
            it->now += s.now;
            it->after += s.after;
        }
        sim.services.push_back(std::move(out));
    }
    for (const auto& s : sim.sites)
        if (s.over() && s.after > s.now)
            sim.breaches.push_back(
                "site " + s.name + " would take " + std::to_string(static_cast<long long>(s.after + 0.5)) +
                " q/s, above its capacity " + std::to_string(static_cast<long long>(s.capacity)));
    return sim;
}

}  // namespace dnsd::query
