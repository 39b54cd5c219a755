#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/steer/decide.hpp"
#include "dnsd/steer/staying.hpp"

using namespace dnsd;
using namespace dnsd::steer;

namespace {

// Two probed sites, a (192.0.2.1, 192.0.2.2; min_up 2) and b (198.51.100.1),
// one failover service over them, as `tune` sets it up.
struct World {
    config::Config cfg;
    std::shared_ptr<const Catalog> catalog;
    Staying staying;
    std::vector<std::uint8_t> up{1, 1, 1};
    std::int64_t now = 1'000'000;

    template <typename Tune>
    explicit World(Tune tune) {
        config::Probe probe;
        probe.name = "web";
        for (auto [name, addrs] : {std::pair{"a", std::vector<const char*>{"192.0.2.1", "192.0.2.2"}},
                                   std::pair{"b", std::vector<const char*>{"198.51.100.1"}}}) {
            config::Site s;
            s.name = name;
            for (auto a : addrs) s.addresses.push_back(*Address::parse(a));
            s.min_up = static_cast<unsigned>(s.addresses.size());
            s.probe = probe;
            cfg.sites.push_back(s);
        }
        config::Service svc;
        svc.name = std::string("\3www\7example\4test\0", 18);
        svc.sites = {0, 1};
        svc.ttl = 20;
        tune(svc);
        cfg.services.push_back(svc);
        catalog = std::make_shared<const Catalog>(Catalog::build(cfg));
        staying = Staying(cfg, catalog);
    }

    /// The snapshot at `now`, as the state thread publishes it.
    health::Snapshot publish(std::vector<Staying::Change>* changes = nullptr) {
        health::Snapshot h;
        h.up = up;
        h.overrides.assign(catalog->sites.size(), health::Override::none);
        h.catalog_id = catalog->id;
        fill_site_states(*catalog, h);
        auto c = staying.apply(h, now, false);
        if (changes) *changes = std::move(c);
        return h;
    }
    std::string answer(const health::Snapshot& h, Trace* trace = nullptr) {
        Random r;
        const Choice c = decide(*catalog, catalog->services[0], Family::v4, Client{}, h, r, trace);
        if (c.kind != Choice::Kind::addresses) return "nodata";
        std::string out = c.fallback ? "fallback:" : "";
        for (unsigned i = 0; i < c.count; ++i) out += (i ? " " : "") + catalog->addresses[c.address[i]].str();
        return out;
    }
};

bool has(const std::vector<Staying::Change>& changes, const std::string& kind, const std::string& state) {
    return std::any_of(changes.begin(), changes.end(),
                       [&](const auto& c) { return c.kind == kind && c.state == state; });
}

}  // namespace

TEST_CASE("staying: a site that comes back is held down for the failback, then answered again") {
    World w([](config::Service& s) {
        s.failback = Duration{30000};
        s.ttl_degraded = 5;
    });
    auto h = w.publish();
    CHECK(w.answer(h) == "192.0.2.1 192.0.2.2");
    CHECK(h.services.at(0).ttl == 20);

    w.up[0] = 0;  // a is down (min_up 2): failover at once
    w.now += 1000;
    h = w.publish();
    CHECK(w.answer(h) == "198.51.100.1");
    CHECK(h.services[0].ttl == 5);
    CHECK(h.services[0].degraded);

    w.up[0] = 1;  // a is back: held down
    w.now += 1000;
    std::vector<Staying::Change> changes;
    h = w.publish(&changes);
    CHECK(has(changes, "hold", "held"));
    Trace trace;
    CHECK(w.answer(h, &trace) == "198.51.100.1");
    CHECK(trace.sites[0].verdict == Trace::Verdict::held_down);
    CHECK(trace.sites[0].stay.reason == health::Stay::Reason::held);
    CHECK(trace.sites[0].stay.until_ms == w.now + 30000);
    CHECK(w.staying.counting());
    CHECK(h.services[0].ttl == 5);

    w.now += 29999;
    h = w.publish();
    CHECK(w.answer(h) == "198.51.100.1");
    CHECK(h.services[0].ttl == 0);  // never past the failback, 1 ms away

    w.now += 1;
    h = w.publish(&changes);
    CHECK(has(changes, "hold", "released"));
    CHECK(w.answer(h) == "192.0.2.1 192.0.2.2");
    CHECK(h.services[0].ttl == 20);
    CHECK_FALSE(h.services[0].degraded);
    CHECK_FALSE(w.staying.counting());
}

TEST_CASE("staying: the TTL never reaches past the end of a hold-down") {
    World w([](config::Service& s) {
        s.failback = Duration{30000};
        s.ttl_degraded = 25;
    });
    w.publish();
    w.up[2] = 0;  // b goes down and comes back: held for 30 s
    w.now += 1000;
    w.publish();
    w.up[2] = 1;
    w.now += 1000;
    auto h = w.publish();
    CHECK(w.answer(h) == "192.0.2.1 192.0.2.2");  // a serves meanwhile
    CHECK(h.services[0].ttl == 25);               // 30 s left: degraded, not capped
    w.now += 10000;
    h = w.publish();
    CHECK(h.services[0].ttl == 19);  // 20 s left, one less for the second between views
}

TEST_CASE("staying: held-down sites serve before the fallback when nothing else is up") {
    World w([](config::Service& s) { s.failback = Duration{30000}; });
    w.publish();
    w.up = {0, 0, 0};
    w.now += 1000;
    std::vector<Staying::Change> changes;
    auto h = w.publish(&changes);
    CHECK(w.answer(h) == "fallback:192.0.2.1 192.0.2.2 198.51.100.1");
    CHECK(has(changes, "fallback", "entered"));
    w.up[2] = 1;  // b comes back, held: still better than the fallback
    w.now += 1000;
    h = w.publish(&changes);
    CHECK(w.answer(h) == "198.51.100.1");
    CHECK(has(changes, "fallback", "left"));
    CHECK(has(changes, "hold", "held"));
}

TEST_CASE("staying: manual failback waits for resume, which says what it did") {
    World w([](config::Service& s) { s.failback_manual = true; });
    w.publish();
    w.up[2] = 0;
    w.now += 1000;
    w.publish();
    w.up[2] = 1;
    w.up[0] = 0;  // a fails: b is held down, and the only one up
    w.now += 1000;
    auto h = w.publish();
    Trace trace;
    CHECK(w.answer(h, &trace) == "198.51.100.1");
    CHECK(trace.sites[1].stay.reason == health::Stay::Reason::held_manual);
    w.up[0] = 1;  // a is back (not held: it was never... it was down, so held too)
    w.now += 1000;
    h = w.publish();
    CHECK(w.answer(h) == "192.0.2.1 192.0.2.2");  // both held: the first of them
    CHECK_FALSE(w.staying.counting());            // manual: nothing counts down
    w.now += 3'600'000;
    h = w.publish();
    CHECK(w.answer(h, &trace) == "192.0.2.1 192.0.2.2");
    CHECK(trace.sites[0].verdict == Trace::Verdict::chosen);
    CHECK(trace.sites[1].stay.reason == health::Stay::Reason::held_manual);

    bool held = false;
    CHECK(w.staying.resume("www.example.test", "nowhere", held) == 404);
    CHECK(w.staying.resume("other.example.test", "a", held) == 404);
    CHECK(w.staying.resume("www.example.test.", "a", held) == 200);
    CHECK(held);
    h = w.publish();
    CHECK(w.answer(h, &trace) == "192.0.2.1 192.0.2.2");
    CHECK(trace.sites[0].stay.reason == health::Stay::Reason::none);
    CHECK(trace.sites[1].stay.reason == health::Stay::Reason::held_manual);
    CHECK(w.staying.resume("www.example.test", "", held) == 200);  // every held site
    CHECK(held);
    h = w.publish();
    w.answer(h, &trace);
    CHECK(trace.sites[1].stay.reason == health::Stay::Reason::none);
}

TEST_CASE("staying: a flapping address is damped, the site counts as down until it is reused") {
    World w([](config::Service& s) {
        s.damping = true;
        s.damping_figures = config::Damping{1000, Duration{2000}, 1500, 500};
    });
    w.publish();
    std::vector<Staying::Change> changes;
    w.up[1] = 0;  // 1000
    w.now += 100;
    w.publish();
    w.up[1] = 1;  // 965.9 + 1000 > 1500: damped
    w.now += 100;
    auto h = w.publish(&changes);
    CHECK(has(changes, "damping", "damped"));
    Trace trace;
    CHECK(w.answer(h, &trace) == "198.51.100.1");  // a needs both addresses (min_up 2)
    CHECK(trace.sites[0].verdict == Trace::Verdict::damped);
    CHECK(trace.sites[0].stay.reason == health::Stay::Reason::damped);
    CHECK(trace.sites[0].stay.penalty > 1500);
    CHECK(trace.sites[0].stay.until_ms > w.now);
    CHECK(h.services[0].suppressed.at(1) == 1);
    CHECK(w.staying.counting());
    const std::int64_t reuse = trace.sites[0].stay.until_ms;
    w.now = reuse - 10;
    h = w.publish();
    CHECK(w.answer(h) == "198.51.100.1");
    w.now = reuse;
    h = w.publish(&changes);
    CHECK(has(changes, "damping", "reused"));
    CHECK(w.answer(h) == "192.0.2.1 192.0.2.2");
    CHECK(w.staying.saved().penalties.size() == 1);  // still decaying: kept
    w.now += 60000;                                  // thirty half-lives: nothing left
    w.publish();
    CHECK(w.staying.saved().penalties.empty());
}

TEST_CASE("staying: a probe's damping figures win over the service's, and defaults are RFC 2439's") {
    config::Service svc;
    config::Probe probe;
    CHECK(config::damping_for(svc, &probe).half_life == Duration{60000});
    CHECK(config::damping_for(svc, nullptr).suppress == 2000);
    svc.damping_figures = config::Damping{500, Duration{10000}, 3000, 1000};
    CHECK(config::damping_for(svc, &probe).half_life == Duration{10000});
    probe.damping = config::Damping{1000, Duration{5000}, 2000, 750};
    CHECK(config::damping_for(svc, &probe).half_life == Duration{5000});
}

TEST_CASE("staying: holds and penalties survive a restart (saved, restored) and a reload (carry_over)") {
    auto tune = [](config::Service& s) {
        s.failback = Duration{30000};
        s.damping = true;
    };
    World w(tune);
    w.publish();
    w.up[2] = 0;
    w.now += 1000;
    w.publish();
    w.up[2] = 1;
    w.now += 1000;
    w.publish();
    const auto saved = w.staying.saved();
    REQUIRE(saved.holds.count("www.example.test b v4") == 1);
    CHECK(saved.holds.at("www.example.test b v4").until_ms == w.now + 30000);
    REQUIRE(saved.penalties.count("www.example.test b/198.51.100.1") == 1);
    CHECK(saved.penalties.at("www.example.test b/198.51.100.1").penalty > 1000);

    World restarted(tune);
    restarted.now = w.now + 5000;
    restarted.staying.restore(saved);
    Trace trace;
    auto h = restarted.publish();
    restarted.answer(h, &trace);
    CHECK(trace.sites[1].stay.reason == health::Stay::Reason::held);
    CHECK(trace.sites[1].stay.until_ms == w.now + 30000);

    World reloaded(tune);
    reloaded.now = w.now + 5000;
    reloaded.staying.carry_over(w.staying);
    std::vector<Staying::Change> changes;
    h = reloaded.publish(&changes);
    reloaded.answer(h, &trace);
    CHECK(trace.sites[1].stay.reason == health::Stay::Reason::held);
    CHECK_FALSE(has(changes, "damping", "damped"));  // no change counted that did not happen
}

TEST_CASE("staying: services that do not stay put publish nothing and cost decide() nothing") {
    World w([](config::Service&) {});
    const auto h = w.publish();
    CHECK(h.services.empty());
    CHECK_FALSE(w.catalog->services[0].stays_put);
    CHECK(w.answer(h) == "192.0.2.1 192.0.2.2");
}
