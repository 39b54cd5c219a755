#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dnsd/steer/decide.hpp"
#include "dnsd/steer/rendezvous.hpp"

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

// Stickiness (SPEC 9): weighted and max_answers picks by rendezvous hashing
// of the client's prefix.
namespace {

config::Config sticky_config(std::vector<std::pair<const char*, unsigned>> sites) {
    config::Config cfg;
    config::Service svc;
    svc.policy = Policy::weighted;
    svc.stickiness = config::Service::Stickiness::client;
    for (const auto& [name, weight] : sites) {
        svc.sites.push_back(cfg.sites.size());
        const std::string address = "192.0.2." + std::to_string(cfg.sites.size() + 1);
        cfg.sites.push_back(site(name, {address.c_str()}, 0, 0, 1, weight));
    }
    cfg.services.push_back(svc);
    return cfg;
}

/// 4096 distinct /24 clients.
std::vector<Client> clients_24() {
    std::vector<Client> out;
    for (unsigned i = 0; i < 4096; ++i) {
        Client c;
        c.keyed = true;
        c.key = key_of(Prefix::of(
            Address::v4(10, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i), 0), 24));
        out.push_back(c);
    }
    return out;
}

health::Snapshot all_up(const Catalog& c) {
    return {std::vector<std::uint8_t>(c.addresses.size(), 1),
            std::vector<Override>(c.sites.size(), Override::none),
            {},
            1};
}

/// The name of the site each client gets.
std::vector<std::string> sites_of(const Catalog& c, const health::Snapshot& h,
                                  const std::vector<Client>& clients, Random random = {}) {
    std::vector<std::string> out;
    for (const auto& client : clients) {
        const Choice ch = decide(c, c.services[0], Family::v4, client, h, random);
        REQUIRE(ch.kind == Choice::Kind::addresses);
        out.push_back(c.sites[ch.site].name);
    }
    return out;
}

/// SPEC 9's formula written out: the site with the highest -weight / ln(u).
std::vector<std::string> by_formula(const Catalog& c, const std::vector<Client>& clients) {
    std::vector<std::string> out;
    for (const auto& client : clients) {
        const Site* best = nullptr;
        double best_score = 0;
        for (const auto& site : c.sites) {
            const double score = weighted_score(rank(client.key, key_of(site.name)), site.weight);
            if (best && score <= best_score) continue;
            best = &site;
            best_score = score;
        }
        out.push_back(best->name);
    }
    return out;
}

std::map<std::string, int> shares(const std::vector<std::string>& sites) {
    std::map<std::string, int> n;
    for (const auto& s : sites) ++n[s];
    return n;
}

}  // namespace

TEST_CASE("decide: stickiness spreads clients over the sites by weight, each always to the same") {
    const Catalog c = Catalog::build(sticky_config({{"ams", 100}, {"fra", 100}, {"lon", 100}, {"par", 100}}));
    const auto clients = clients_24();
    const auto h = all_up(c);
    const auto picked = sites_of(c, h, clients);
    for (const auto& [name, n] : shares(picked)) {
        INFO(name << ": " << n);
        CHECK(std::abs(n - 1024) < 1024 * 0.12);
    }
    CHECK(shares(picked).size() == 4);
    CHECK(picked == by_formula(c, clients));
    // whatever the worker's random source and rotation
    Random other;
    other.state = 987654321;
    other.rotation = 17;
    CHECK(sites_of(c, h, clients, other) == picked);
    CHECK(sites_of(c, h, clients) == picked);
    // the site was picked by the client's key; one weighted site up: no pick
    Random random;
    const Choice ch = decide(c, c.services[0], Family::v4, clients[0], h, random);
    CHECK(ch.hashed_site);
    CHECK_FALSE(ch.hashed_addresses);
    health::Snapshot one = h;
    one.overrides = {Override::none, Override::down, Override::down, Override::down};
    CHECK_FALSE(decide(c, c.services[0], Family::v4, clients[0], one, random).hashed());
    // unkeyed clients (a service without stickiness) draw as before
    CHECK_FALSE(decide(c, c.services[0], Family::v4, Client{}, h, random).hashed());

    // weights 3:1, as the weighted draw
    const Catalog w = Catalog::build(sticky_config({{"a", 300}, {"b", 100}}));
    const auto weighted = sites_of(w, all_up(w), clients);
    CHECK(weighted == by_formula(w, clients));
    const auto n = shares(weighted);
    CHECK(std::abs(n.at("a") / 4096.0 - 0.75) < 0.03);
    CHECK(std::abs(n.at("b") / 4096.0 - 0.25) < 0.03);
}

TEST_CASE("decide: stickiness moves only the clients of a site that goes down, over all the others") {
    const Catalog c = Catalog::build(sticky_config({{"ams", 100}, {"fra", 100}, {"lon", 100}, {"par", 100}}));
    const auto clients = clients_24();
    auto h = all_up(c);
    const auto before = sites_of(c, h, clients);
    h.up[1] = 0;  // fra's only address
    const auto after = sites_of(c, h, clients);
    std::map<std::string, int> moved_to;
    int moved = 0;
    for (std::size_t i = 0; i < clients.size(); ++i) {
        if (before[i] != "fra") {
            REQUIRE(after[i] == before[i]);  // nobody else moves
        } else {
            ++moved;
            REQUIRE(after[i] != "fra");
            ++moved_to[after[i]];
        }
    }
    CHECK(moved > 800);
    REQUIRE(moved_to.size() == 3);
    for (const auto& [name, n] : moved_to) {
        INFO(name << ": " << n << " of " << moved);
        CHECK(std::abs(n - moved / 3.0) < moved / 3.0 * 0.25);
    }
    // back up: every client back where it was
    h.up[1] = 1;
    CHECK(sites_of(c, h, clients) == before);
}

TEST_CASE("decide: stickiness moves only clients to or from a site whose weight changes") {
    const auto clients = clients_24();
    const Catalog c = Catalog::build(sticky_config({{"ams", 100}, {"fra", 100}, {"lon", 100}, {"par", 100}}));
    const auto before = sites_of(c, all_up(c), clients);
    const auto lon = static_cast<double>(std::count(before.begin(), before.end(), "lon"));
    // The clients that move, each as {from, to}, with lon's weight at `weight`.
    auto moves = [&](unsigned weight) {
        const Catalog w =
            Catalog::build(sticky_config({{"ams", 100}, {"fra", 100}, {"lon", weight}, {"par", 100}}));
        const auto after = sites_of(w, all_up(w), clients);
        std::vector<std::pair<std::string, std::string>> out;
        for (std::size_t i = 0; i < clients.size(); ++i)
            if (after[i] != before[i]) out.emplace_back(before[i], after[i]);
        return out;
    };
    // more weight to lon: clients only move to lon, which gets 2/5
    const auto heavier = moves(200);
    for (const auto& [from, to] : heavier) REQUIRE(to == "lon");
    CHECK(std::abs((lon + static_cast<double>(heavier.size())) / 4096 - 0.4) < 0.03);
    // less weight to lon: clients only move away from lon, which keeps 1/7
    const auto lighter = moves(50);
    for (const auto& [from, to] : lighter) REQUIRE(from == "lon");
    CHECK(std::abs((lon - static_cast<double>(lighter.size())) / 4096 - 1.0 / 7) < 0.03);
}

TEST_CASE("decide: stickiness gives a client the same site on every instance, by site name") {
    const auto clients = clients_24();
    // two instances: catalogs built apart (their ids differ)
    const Catalog one =
        Catalog::build(sticky_config({{"ams", 100}, {"fra", 100}, {"lon", 100}, {"par", 100}}));
    const Catalog two =
        Catalog::build(sticky_config({{"ams", 100}, {"fra", 100}, {"lon", 100}, {"par", 100}}));
    REQUIRE(one.id != two.id);
    Random r1, r2;
    r2.state = 42;
    const auto picked = sites_of(one, all_up(one), clients, r1);
    CHECK(sites_of(two, all_up(two), clients, r2) == picked);
    // the sites listed (and indexed) in another order: the same names
    const Catalog reordered =
        Catalog::build(sticky_config({{"par", 100}, {"lon", 100}, {"ams", 100}, {"fra", 100}}));
    CHECK(sites_of(reordered, all_up(reordered), clients) == picked);
    // a fifth site: clients move only to it
    const Catalog added =
        Catalog::build(sticky_config({{"ams", 100}, {"fra", 100}, {"new", 100}, {"lon", 100}, {"par", 100}}));
    const auto five = sites_of(added, all_up(added), clients);
    for (std::size_t i = 0; i < clients.size(); ++i)
        if (five[i] != picked[i]) REQUIRE(five[i] == "new");
    CHECK(std::abs(shares(five).at("new") / 4096.0 - 0.2) < 0.03);
}

TEST_CASE("decide: max_answers with stickiness: a client's own addresses, moved only when one goes") {
    config::Config cfg;
    cfg.sites.push_back(site("many",
                             {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6",
                              "192.0.2.7", "192.0.2.8"},
                             0, 0, 1, 100));
    config::Service svc;
    svc.sites = {0};
    svc.policy = Policy::failover;
    svc.max_answers = 2;
    svc.stickiness = config::Service::Stickiness::client;
    cfg.services.push_back(svc);
    const Catalog c = Catalog::build(cfg);
    const auto clients = clients_24();
    auto windows = [&](const Catalog& cat, const health::Snapshot& h, Random random) {
        std::vector<std::vector<std::string>> out;
        for (const auto& client : clients) {
            const Choice ch = decide(cat, cat.services[0], Family::v4, client, h, random);
            REQUIRE(ch.count == 2);
            REQUIRE(ch.hashed_addresses);
            out.push_back({cat.addresses[ch.address[0]].str(), cat.addresses[ch.address[1]].str()});
        }
        return out;
    };
    auto h = all_up(c);
    const auto before = windows(c, h, Random{});
    // the same client, the same addresses in the same order, whatever the
    // random source, and on another instance
    Random other;
    other.state = 5;
    other.rotation = 3;
    CHECK(windows(c, h, other) == before);
    const Catalog two = Catalog::build(cfg);
    CHECK(windows(two, all_up(two), Random{}) == before);
    // spread over every address alike: each in a quarter of the answers
    std::map<std::string, int> seen;
    for (const auto& w : before)
        for (const auto& a : w) ++seen[a];
    CHECK(seen.size() == 8);
    for (const auto& [a, n] : seen) {
        INFO(a << ": " << n);
        CHECK(std::abs(n - 1024) < 1024 * 0.15);
    }
    // 192.0.2.3 down: only the windows that had it change, and they keep
    // their other address
    h.up[2] = 0;
    const auto after = windows(c, h, Random{});
    int changed = 0;
    for (std::size_t i = 0; i < clients.size(); ++i) {
        const auto& b = before[i];
        if (b[0] != "192.0.2.3" && b[1] != "192.0.2.3") {
            REQUIRE(after[i] == b);
            continue;
        }
        ++changed;
        const std::string kept = b[0] == "192.0.2.3" ? b[1] : b[0];
        CHECK(after[i][0] == kept);
        CHECK(after[i][1] != "192.0.2.3");
    }
    CHECK(changed > 800);
    // at most max_answers addresses: nothing to pick
    health::Snapshot two_up = all_up(c);
    for (std::size_t a = 2; a < 8; ++a) two_up.up[a] = 0;
    Random random;
    CHECK_FALSE(decide(c, c.services[0], Family::v4, clients[0], two_up, random).hashed());
}
