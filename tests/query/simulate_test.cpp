// The what-if (SPEC 10) through the whole runtime (config text, zone,
// load::runtime): query::simulate() over a demand counted by the workers'
// own table, with the health changed, for each policy.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dnsd/core/name.hpp"
#include "dnsd/load/runtime.hpp"
#include "dnsd/query/simulate.hpp"
#include "dnsd/steer/decide.hpp"
#include "tests/messages.hpp"

using namespace dnsd;

namespace {

std::shared_ptr<const query::View> view_from(const std::string& text) {
    Diagnostics diags;
    const auto cfg = config::read_config_text(text, "/simulate.toml", diags);
    auto v = diags.has_errors() ? nullptr : load::runtime(cfg, diags);
    for (const auto& m : test::messages(diags)) INFO(m);
    REQUIRE(v);
    return v;
}

const std::string kConfig =
    "[[zone]]\norigin = \"example.test.\"\nfile = \"" + std::string(DNSD_SOURCE_DIR) +
    "/tests/query/data/example.test.zone\"\n"
    "[[geo.networks]]\nprefix = \"10.1.0.0/16\"\nlocation = { lat = 52.4, lon = 4.9 }\n"
    "[[geo.networks]]\nprefix = \"10.2.0.0/16\"\nlocation = { lat = 40.7, lon = -74.0 }\n"
    "[sites.ams]\nlocation = { lat = 52.37, lon = 4.90 }\naddresses = [\"192.0.2.1\"]\nweight = 100\n"
    "[sites.nyc]\nlocation = { lat = 40.71, lon = -74.01 }\naddresses = [\"192.0.2.2\"]\nweight = 300\n"
    "[[service]]\nname = \"near.example.test.\"\nsites = [\"ams\", \"nyc\"]\npolicy = \"nearest\"\n"
    "[[service]]\nname = \"svc.example.test.\"\nsites = [\"ams\", \"nyc\"]\npolicy = \"weighted\"\n"
    "[[service]]\nname = \"all.example.test.\"\nsites = [\"ams\", \"nyc\"]\npolicy = \"all\"\n"
    "[[service]]\nname = \"cn.example.test.\"\nsites = [\"ams\", \"nyc\"]\nfallback = \"none\"\n";

health::Snapshot health_of(const query::View& view, std::vector<std::uint32_t> down = {}) {
    health::Snapshot h;
    h.up.assign(view.catalog().addresses.size(), 1);
    h.overrides.assign(view.catalog().sites.size(), health::Override::none);
    for (auto s : down) h.overrides[s] = health::Override::down;
    h.catalog_id = view.catalog().id;
    steer::fill_site_states(view.catalog(), h);
    return h;
}

/// 60 queries from 10.1.7.0/24 (near ams) and 20 from 10.2.7.0/24 (near
/// nyc) for every service, counted as a worker counts them.
steer::Demand demand_of(const query::View& view) {
    steer::DemandTable table;
    steer::Demand demand(1e12);
    std::vector<std::uint32_t> keys;
    for (const auto& svc : view.catalog().services) {
        keys.push_back(svc.demand_key);
        for (int i = 0; i < 60; ++i)
            table.record(svc.demand_key, steer::demand_word(*Prefix::parse("10.1.7.0/24")));
        for (int i = 0; i < 20; ++i)
            table.record(svc.demand_key, steer::demand_word(*Prefix::parse("10.2.7.0/24")));
    }
    steer::DemandTable::Epoch e;
    demand.advance(0);
    for (int i = 0; i < 2; ++i) {
        table.sync();
        REQUIRE(table.harvest(e));
        demand.add(e);
    }
    demand.advance(80);
    demand.settle(keys);
    return demand;
}

const query::Simulation::Service& service(const query::Simulation& sim, const std::string& name) {
    for (const auto& s : sim.services)
        if (s.name == name) return s;
    FAIL("no service " << name);
    return sim.services.front();
}

}  // namespace

TEST_CASE("simulate: each policy's demand now and with ams down") {
    const auto view = view_from(kConfig);
    const auto demand = demand_of(*view);
    const auto now = health_of(*view), after = health_of(*view, {0});
    const std::vector<double> capacity{0, 0.5};  // nyc: half a query a second
    const std::vector<unsigned> min_up{0, 0, 2, 0};
    const auto sim = query::simulate(*view, now, after, demand, capacity, min_up, "");
    REQUIRE(sim.services.size() == 4);

    // nearest: each prefix at its nearest site; ams's moves to nyc.
    const auto& near = service(sim, "near.example.test.");
    CHECK_FALSE(near.empty);
    CHECK(near.rate == Approx(1.0).epsilon(1e-6));  // 80 queries over 80 s
    CHECK(near.sites[0].now == Approx(0.75));
    CHECK(near.sites[1].now == Approx(0.25));
    CHECK(near.sites[0].after == Approx(0));
    CHECK(near.sites[1].after == Approx(1.0));
    REQUIRE(near.moves.size() == 1);
    CHECK(near.moves[0].from == "ams");
    CHECK(near.moves[0].to == "nyc");
    CHECK(near.moves[0].rate == Approx(0.75));
    REQUIRE(near.moves[0].top.size() == 1);
    CHECK(near.moves[0].top[0].prefix.str() == "10.1.7.0/24");
    CHECK(near.moves[0].top[0].located);

    // weighted: split by 64 draws per prefix, about 1:3; all after on nyc.
    const auto& weighted = service(sim, "svc.example.test.");
    CHECK(weighted.sites[0].now + weighted.sites[1].now == Approx(1.0));
    CHECK(weighted.sites[1].now == Approx(0.75).margin(0.15));
    CHECK(weighted.sites[1].after == Approx(1.0));

    // all: both sites answer every query, split evenly.
    const auto& all = service(sim, "all.example.test.");
    CHECK(all.sites[0].now == Approx(0.5));
    CHECK(all.sites[1].now == Approx(0.5));
    CHECK(all.up_after == 1);

    // The guards: all.example.test. wants 2 sites up; nyc takes more than 0.5 q/s.
    CHECK(sim.breaches.size() == 2);
    CHECK(sim.breaches[0] == "service all.example.test.: 1 site(s) up, below min_sites_up 2");
    CHECK(sim.breaches[1] == "site nyc would take 4 q/s, above its capacity 0");
    CHECK(sim.sites.size() == 2);
}

TEST_CASE("simulate: every site down; fallback none; a service without demand") {
    const auto view = view_from(kConfig);
    const auto demand = demand_of(*view);
    const auto sim = query::simulate(*view, health_of(*view), health_of(*view, {0, 1}), demand, {}, {},
                                     "cn.example.test.");
    REQUIRE(sim.services.size() == 1);
    const auto& cn = sim.services[0];
    CHECK(cn.fallback_now == 0);
    CHECK(cn.fallback_after == Approx(cn.rate));
    CHECK(cn.none_after == Approx(cn.rate));
    CHECK(sim.breaches.empty());

    const auto idle =
        query::simulate(*view, health_of(*view), health_of(*view, {0}), steer::Demand{}, {}, {}, "");
    for (const auto& s : idle.services) CHECK(s.empty);
}
