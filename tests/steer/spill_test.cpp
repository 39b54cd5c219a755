// Spill-over (SPEC 10): fill_spills() works out each overloaded site's cut
// from a reference distribution of clients, and decide() sheds exactly the
// clients below it, to their next-nearest site.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "dnsd/steer/decide.hpp"

using namespace dnsd;
using namespace dnsd::steer;
using health::Override;

namespace {

// ams, fra, lon: one IPv4 address each, nearest, spill_at 0.8.
Catalog three(double spill_at = 0.8) {
    config::Config cfg;
    auto site = [&](const char* name, const char* address, double lat, double lon) {
        config::Site s;
        s.name = name;
        s.addresses.push_back(*Address::parse(address));
        s.location = config::Location{lat, lon};
        cfg.sites.push_back(s);
    };
    site("ams", "192.0.2.1", 52.37, 4.90);
    site("fra", "192.0.2.2", 50.11, 8.68);
    site("lon", "192.0.2.3", 51.51, -0.13);
    config::Service svc;
    svc.sites = {0, 1, 2};
    svc.policy = config::Service::Policy::nearest;
    svc.spill_at = spill_at;
    cfg.services.push_back(svc);
    return Catalog::build(cfg);
}

// Clients every half degree over western Europe, all of the same weight.
std::vector<WeightedPoint> grid() {
    std::vector<WeightedPoint> out;
    for (double lat = 45; lat <= 58; lat += 0.5)
        for (double lon = -5; lon <= 15; lon += 0.5) out.push_back({GeoPoint::from_degrees(lat, lon), 1.0});
    for (auto& p : out) p.weight = 1.0 / static_cast<double>(out.size());
    return out;
}

health::Snapshot all_up(const Catalog& c) {
    health::Snapshot h{std::vector<std::uint8_t>(c.addresses.size(), 1),
                       std::vector<Override>(c.sites.size(), Override::none),
                       {},
                       1};
    fill_site_states(c, h);
    return h;
}

Client at(const GeoPoint& p) {
    Client c;
    c.located = true;
    c.location = p.unit;
    return c;
}

struct Outcome {
    double ams_weight = 0, shed_weight = 0;
    double max_shed_extra = -1, min_kept_extra = std::numeric_limits<double>::infinity();
};

// Decides for every reference client whose nearest site is ams.
Outcome run(const Catalog& c, const health::Snapshot& h, const std::vector<WeightedPoint>& ref) {
    Outcome o;
    Random random;
    for (const auto& p : ref) {
        const Client client = at(p.at);
        double best = -2;
        std::uint32_t nearest = kNoSite, next = kNoSite;
        double next_dot = -2;
        for (std::uint32_t s = 0; s < c.sites.size(); ++s) {
            const double d = c.sites[s].location.unit.dot(client.location);
            if (d > best) {
                next = nearest;
                next_dot = best;
                best = d;
                nearest = s;
            } else if (d > next_dot) {
                next = s;
                next_dot = d;
            }
        }
        if (nearest != 0) continue;
        Trace trace;
        const Choice ch = decide(c, c.services[0], Family::v4, client, h, random, &trace);
        REQUIRE(ch.kind == Choice::Kind::addresses);
        const double extra = c.sites[next].location.unit.distance_km(client.location) -
                             c.sites[0].location.unit.distance_km(client.location);
        o.ams_weight += p.weight;
        if (ch.site == 0) {
            CHECK_FALSE(ch.shed);
            o.min_kept_extra = std::min(o.min_kept_extra, extra);
        } else {
            CHECK(ch.shed);
            CHECK(ch.site == next);  // to its next-nearest site
            CHECK(trace.spill.shed);
            CHECK(trace.spill.to == next);
            o.shed_weight += p.weight;
            o.max_shed_extra = std::max(o.max_shed_extra, extra);
        }
    }
    return o;
}

}  // namespace

TEST_CASE("spill: at or below spill_at, or with the load unknown, nothing moves") {
    const Catalog c = three();
    const auto ref = grid();
    for (const double load : {-1.0, 0.5, 0.8}) {
        health::Snapshot h = all_up(c);
        fill_spills(c, {load, 0.1, 0.1}, ref, h);
        REQUIRE(h.spills.size() == 1);
        CHECK(h.spills[0][0].shed_below_km == 0);
        CHECK(h.spills[0][0].keep == 1.0);
        const Outcome o = run(c, h, ref);
        CHECK(o.ams_weight > 0);
        CHECK(o.shed_weight == 0);
    }
}

TEST_CASE("spill: the share kept falls linearly, and the nearest of the rest move") {
    const Catalog c = three();
    const auto ref = grid();
    const double one = ref[0].weight;
    for (const double load : {0.85, 0.9, 0.95}) {
        health::Snapshot h = all_up(c);
        fill_spills(c, {load, 0.1, 0.1}, ref, h);
        const double shed = (load - 0.8) / 0.2;
        CHECK(h.spills[0][0].keep == Approx(1 - shed).margin(1e-6));
        CHECK(h.spills[0][0].load == load);
        const Outcome o = run(c, h, ref);
        // The shed share of ams's reference clients, to one client.
        CHECK(o.shed_weight / o.ams_weight == Approx(shed).margin(one / o.ams_weight + 1e-9));
        // Every client moved had less extra distance than every one kept.
        CHECK(o.max_shed_extra < o.min_kept_extra);
        CHECK(o.max_shed_extra < h.spills[0][0].shed_below_km);
        CHECK(h.spills[0][0].shed_below_km < o.min_kept_extra);
    }
}

TEST_CASE("spill: at 1.0 every client moves; with no other site up none can") {
    const Catalog c = three();
    const auto ref = grid();
    health::Snapshot h = all_up(c);
    fill_spills(c, {1.0, 0.1, 0.1}, ref, h);
    CHECK(std::isinf(h.spills[0][0].shed_below_km));
    Outcome o = run(c, h, ref);
    CHECK(o.shed_weight == Approx(o.ams_weight));

    // fra and lon down: ams keeps all, whatever its load.
    health::Snapshot alone{{1, 0, 0}, std::vector<Override>(3, Override::none), {}, 1};
    fill_site_states(c, alone);
    fill_spills(c, {1.0, 0.1, 0.1}, ref, alone);
    CHECK(alone.spills[0][0].shed_below_km == 0);
    Random random;
    const Choice ch =
        decide(c, c.services[0], Family::v4, at(GeoPoint::from_degrees(52.4, 4.9)), alone, random);
    CHECK(ch.site == 0);
    CHECK_FALSE(ch.shed);
}

TEST_CASE("spill: the cut is worked out among the sites up: lon down, ams sheds to fra only") {
    const Catalog c = three();
    const auto ref = grid();
    health::Snapshot h{{1, 1, 0}, std::vector<Override>(3, Override::none), {}, 1};
    fill_site_states(c, h);
    fill_spills(c, {0.9, 0.1, 0.1}, ref, h);
    Random random;
    unsigned shed = 0;
    for (const auto& p : ref) {
        const Choice ch = decide(c, c.services[0], Family::v4, at(p.at), h, random);
        CHECK(ch.site != 2);
        shed += ch.shed;
        if (ch.shed) CHECK(ch.site == 1);
    }
    CHECK(shed > 0);
}

TEST_CASE("spill: services without spill_at are untouched, and the same inputs give the same cut") {
    const Catalog plain = three(0);
    const auto ref = grid();
    health::Snapshot h = all_up(plain);
    fill_spills(plain, {1.0, 1.0, 1.0}, ref, h);
    CHECK(h.spills.empty());

    const Catalog c = three();
    health::Snapshot a = all_up(c), b = all_up(c);
    fill_spills(c, {0.93, 0.2, 0.9}, ref, a);
    fill_spills(c, {0.93, 0.2, 0.9}, ref, b);
    for (std::size_t i = 0; i < a.spills[0].size(); ++i)
        CHECK(a.spills[0][i].shed_below_km == b.spills[0][i].shed_below_km);
    CHECK(a.spills[0][4].shed_below_km > 0);  // lon, IPv4, at 0.9
}
