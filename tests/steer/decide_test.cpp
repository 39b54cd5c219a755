#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "dnsd/steer/decide.hpp"

using namespace dnsd;
using namespace dnsd::steer;
using Policy = config::Service::Policy;
using Fallback = config::Service::Fallback;
using health::Override;

namespace {

config::Site site(const char* name, std::vector<const char*> addrs, double lat, double lon, unsigned min_up,
                  unsigned weight) {
    config::Site s;
    s.name = name;
    for (auto a : addrs) s.addresses.push_back(*Address::parse(a));
    s.location = config::Location{lat, lon};
    s.min_up = min_up;
    s.weight = weight;
    return s;
}

// Three sites: a (2 v4 + 1 v6, min_up 1, weight 3, Amsterdam), b (1 v4,
// weight 1, New York), c (2 v4 + 1 v6, min_up 2, weight 0, Singapore).
// Address indices: a 0,1 (v4) 2 (v6); b 3; c 4,5 (v4) 6 (v6).
Catalog three_sites() {
    config::Config cfg;
    cfg.sites.push_back(site("a", {"192.0.2.1", "192.0.2.2", "2001:db8::1"}, 52.37, 4.90, 1, 3));
    cfg.sites.push_back(site("b", {"198.51.100.1"}, 40.71, -74.01, 1, 1));
    cfg.sites.push_back(site("c", {"203.0.113.1", "203.0.113.2", "2001:db8:2::1"}, 1.35, 103.82, 2, 0));
    config::Service svc;
    svc.sites = {0, 1, 2};
    cfg.services.push_back(svc);
    return Catalog::build(cfg);
}

Client at(double lat, double lon) {
    Client c;
    c.located = true;
    c.location = GeoPoint::from_degrees(lat, lon).unit;
    return c;
}

double km(const Site& s, const Client& c) {
    // Haversine, independently of decide()'s dot products.
    const double r = 3.14159265358979323846 / 180;
    const double clat = std::asin(c.location.z) / r, clon = std::atan2(c.location.y, c.location.x) / r;
    const double slat = s.location.lat, slon = s.location.lon;
    const double dlat = (slat - clat) * r, dlon = (slon - clon) * r;
    const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                     std::cos(slat * r) * std::cos(clat * r) * std::sin(dlon / 2) * std::sin(dlon / 2);
    return 2 * 6371 * std::asin(std::sqrt(h));
}

struct Expected {
    Choice::Kind kind = Choice::Kind::nodata;
    std::set<std::uint32_t> addresses;
    std::set<std::uint32_t> allowed_sites;  ///< for weighted: any of these
};

// SPEC section 3, written out plainly as the test's oracle.
Expected oracle(const Catalog& c, const Service& svc, Family f, const Client& client,
                const health::Snapshot& h) {
    auto range = [&](std::uint32_t s) { return c.sites[s].family(f); };
    auto up_addrs = [&](std::uint32_t s, bool all) {
        std::set<std::uint32_t> out;
        const auto r = range(s);
        for (std::uint32_t i = r.first; i < r.first + r.count; ++i)
            if (all || h.overrides[s] == Override::up || h.up[i]) out.insert(i);
        return out;
    };
    auto is_up = [&](std::uint32_t s) {
        if (h.overrides[s] == Override::down || range(s).count == 0) return false;
        if (h.overrides[s] == Override::up) return true;
        const unsigned need = std::min<unsigned>(c.sites[s].min_up, range(s).count);
        return up_addrs(s, false).size() >= need;
    };
    std::vector<std::uint32_t> usable, drained;
    for (auto s : svc.sites) {
        if (!is_up(s)) continue;
        (h.overrides[s] == Override::drain ? drained : usable).push_back(s);
    }
    const auto& pool = usable.empty() ? drained : usable;
    Expected e;
    if (!pool.empty()) {
        e.kind = Choice::Kind::addresses;
        std::uint32_t chosen = pool[0];
        switch (svc.policy) {
            case Policy::failover:
                break;
            case Policy::nearest:
                if (client.located)
                    for (auto s : pool)
                        if (km(c.sites[s], client) < km(c.sites[chosen], client) - 1e-6) chosen = s;
                break;
            case Policy::weighted: {
                for (auto s : pool)
                    if (c.sites[s].weight > 0) e.allowed_sites.insert(s);
                if (e.allowed_sites.empty()) e.allowed_sites.insert(pool[0]);
                return e;
            }
            case Policy::all:
                for (auto s : pool)
                    for (auto a : up_addrs(s, false)) e.addresses.insert(a);
                return e;
        }
        e.addresses = up_addrs(chosen, false);
        return e;
    }
    switch (svc.fallback) {
        case Fallback::none:
            break;
        case Fallback::all:
            for (auto s : svc.sites)
                if (h.overrides[s] != Override::down)
                    for (auto a : up_addrs(s, true)) e.addresses.insert(a);
            break;
        case Fallback::site:
            if (h.overrides[svc.fallback_site] != Override::down)
                e.addresses = up_addrs(svc.fallback_site, true);
            break;
    }
    e.kind = e.addresses.empty() ? Choice::Kind::nodata : Choice::Kind::addresses;
    return e;
}

}  // namespace

TEST_CASE("decide: every policy x health pattern x override x fallback x family x client") {
    const Catalog c = three_sites();
    Service svc = c.services[0];
    const Client clients[] = {Client{}, at(48.85, 2.35) /* Paris */, at(34.05, -118.24) /* Los Angeles */,
                              at(-33.87, 151.21) /* Sydney */};
    Random random;
    std::size_t cases = 0;
    for (Policy policy : {Policy::failover, Policy::nearest, Policy::weighted, Policy::all})
        for (Fallback fallback : {Fallback::all, Fallback::none, Fallback::site})
            for (unsigned health_bits = 0; health_bits < 128; ++health_bits)
                for (unsigned ov_bits = 0; ov_bits < 64; ++ov_bits) {
                    svc.policy = policy;
                    svc.fallback = fallback;
                    svc.fallback_site = 1;
                    health::Snapshot h;
                    for (unsigned i = 0; i < 7; ++i) h.up.push_back((health_bits >> i) & 1u);
                    for (unsigned s = 0; s < 3; ++s)
                        h.overrides.push_back(static_cast<Override>((ov_bits >> (2 * s)) & 3u));
                    // Site states worked out per query, and filled in once
                    // as the board publishes them: both must follow SPEC.
                    health::Snapshot filled = h;
                    fill_site_states(c, filled);
                    REQUIRE(filled.sites.size() == 6);
                    for (const health::Snapshot* hs : {&h, &filled})
                        for (Family f : {Family::v4, Family::v6})
                            for (const Client& client : clients) {
                                ++cases;
                                Trace trace;
                                const Choice got = decide(c, svc, f, client, *hs, random, &trace);
                                const Expected want = oracle(c, svc, f, client, h);
                                INFO("policy " << int(policy) << " fallback " << int(fallback) << " health "
                                               << health_bits << " overrides " << ov_bits << " family "
                                               << int(f) << " client " << (&client - clients) << " filled "
                                               << (hs == &filled));
                                REQUIRE(got.kind == want.kind);
                                std::set<std::uint32_t> addrs(got.address, got.address + got.count);
                                REQUIRE(addrs.size() == got.count);  // no duplicates
                                for (auto a : addrs) REQUIRE(c.addresses[a].family == f);
                                if (!want.allowed_sites.empty()) {
                                    REQUIRE(want.allowed_sites.count(got.site) == 1);
                                    // the chosen site's addresses that are up
                                    for (auto a : addrs) REQUIRE(c.address_site[a] == got.site);
                                } else {
                                    REQUIRE(addrs == want.addresses);
                                }
                                REQUIRE(trace.count == 3);
                            }
                }
    CHECK(cases == 4 * 3 * 128 * 64 * 2 * 2 * 4);
}

TEST_CASE("decide: weighted draws follow the weights") {
    const Catalog c = three_sites();
    Service svc = c.services[0];
    svc.policy = Policy::weighted;
    health::Snapshot h{std::vector<std::uint8_t>(7, 1), std::vector<Override>(3, Override::none), {}, 1};
    Random random;
    random.state = 12345;
    std::map<std::uint32_t, int> count;
    const int n = 40000;
    for (int i = 0; i < n; ++i) ++count[decide(c, svc, Family::v4, Client{}, h, random).site];
    // a: weight 3, b: weight 1, c: weight 0 (only when no weighted site is up)
    CHECK(count[2] == 0);
    CHECK(std::abs(count[0] / double(n) - 0.75) < 0.015);
    CHECK(std::abs(count[1] / double(n) - 0.25) < 0.015);
    // a and b down: c (weight 0) serves
    h.overrides = {Override::down, Override::down, Override::none};
    CHECK(decide(c, svc, Family::v4, Client{}, h, random).site == 2);
}

TEST_CASE("decide: max_answers rotates over all the up addresses") {
    const Catalog c = three_sites();
    Service svc = c.services[0];
    svc.policy = Policy::all;
    svc.max_answers = 2;
    health::Snapshot h{std::vector<std::uint8_t>(7, 1), std::vector<Override>(3, Override::none), {}, 1};
    h.up[1] = 0;  // 192.0.2.2 down
    Random random;
    std::map<std::uint32_t, int> seen;
    for (int i = 0; i < 40; ++i) {
        const Choice ch = decide(c, svc, Family::v4, Client{}, h, random);
        REQUIRE(ch.count == 2);
        for (unsigned k = 0; k < ch.count; ++k) ++seen[ch.address[k]];
    }
    // up v4 addresses: 0 (a), 3 (b), 4 and 5 (c): each in half the answers
    CHECK(seen.size() == 4);
    CHECK(seen.count(1) == 0);
    for (auto [a, n] : seen) CHECK(n == 20);
}

TEST_CASE("decide: CNAME sites, and a family no site has") {
    config::Config cfg;
    cfg.sites.push_back(site("v4only", {"192.0.2.1"}, 0, 0, 1, 1));
    config::Site cdn;
    cdn.name = "cdn";
    cdn.cname = std::string("\3cdn\7example\0", 13);
    cfg.sites.push_back(cdn);
    config::Service svc;
    svc.sites = {0, 1};
    cfg.services.push_back(svc);
    svc.sites = {0};
    cfg.services.push_back(svc);
    const Catalog c = Catalog::build(cfg);
    health::Snapshot h{{1}, {Override::none, Override::none}, {}, 1};
    Random random;
    // AAAA: v4only has no IPv6, so the CNAME site answers
    auto ch = decide(c, c.services[0], Family::v6, Client{}, h, random);
    CHECK(ch.kind == Choice::Kind::cname);
    CHECK(ch.site == 1);
    CHECK(decide(c, c.services[0], Family::v4, Client{}, h, random).kind == Choice::Kind::addresses);
    // v4only down: the CNAME
    h.up[0] = 0;
    CHECK(decide(c, c.services[0], Family::v4, Client{}, h, random).kind == Choice::Kind::cname);
    // no IPv6 anywhere and no CNAME site: NODATA, whatever the fallback,
    // and not a fallback: that means an outage, which this is not
    for (Fallback fallback : {Fallback::all, Fallback::none, Fallback::site}) {
        Service v4only = c.services[1];
        v4only.fallback = fallback;
        v4only.fallback_site = 0;
        Trace trace;
        const auto nodata = decide(c, v4only, Family::v6, Client{}, h, random, &trace);
        CHECK(nodata.kind == Choice::Kind::nodata);
        CHECK_FALSE(nodata.fallback);
        CHECK(nodata.no_family());
        REQUIRE(trace.count == 1);
        CHECK(trace.sites[0].verdict == Trace::Verdict::no_family);
    }
    // the IPv4 of the same service down with fallback none: an outage
    Service v4none = c.services[1];
    v4none.fallback = Fallback::none;
    const auto outage = decide(c, v4none, Family::v4, Client{}, h, random);
    CHECK(outage.kind == Choice::Kind::nodata);
    CHECK(outage.fallback);
    CHECK_FALSE(outage.no_family());
    // forced down CNAME site is never answered, not even as a fallback
    h.overrides[1] = Override::down;
    const auto forced = decide(c, c.services[0], Family::v6, Client{}, h, random);
    CHECK(forced.kind == Choice::Kind::nodata);
    CHECK(forced.fallback);
}

TEST_CASE("decide: the trace says why") {
    const Catalog c = three_sites();
    Service svc = c.services[0];
    svc.policy = Policy::nearest;
    health::Snapshot h{
        std::vector<std::uint8_t>(7, 1), {Override::drain, Override::none, Override::none}, {}, 1};
    h.up[4] = 0;  // c needs 2 of 2 v4 up
    Random random;
    Trace trace;
    const Choice ch = decide(c, svc, Family::v4, at(48.85, 2.35), h, random, &trace);
    CHECK(ch.site == 1);  // Paris is nearest to a, but a is drained and c is down
    REQUIRE(trace.count == 3);
    CHECK(trace.sites[0].verdict == Trace::Verdict::drained);
    CHECK(trace.sites[1].verdict == Trace::Verdict::chosen);
    CHECK(trace.sites[2].verdict == Trace::Verdict::down);
    CHECK(trace.sites[2].up == 1);
    CHECK(trace.sites[2].total == 2);
    CHECK(std::abs(trace.sites[0].distance_km - 430) < 30);  // Paris-Amsterdam
}
