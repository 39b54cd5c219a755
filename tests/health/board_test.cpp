#include <catch2/catch.hpp>

#include "health/board.hpp"

using namespace dnsd;
using health::Board;
using health::Override;

namespace {
config::Config two_sites() {
    config::Config cfg;
    config::Probe p;
    p.rise = 2;
    p.fall = 2;
    config::Site a;
    a.name = "a";
    a.addresses = {*Address::parse("192.0.2.1"), *Address::parse("2001:db8::1")};
    a.probe = p;
    config::Site b;
    b.name = "b";
    b.addresses = {*Address::parse("192.0.2.2")};  // not probed
    cfg.sites = {a, b};
    return cfg;
}
}  // namespace

TEST_CASE("board: results go through rise/fall into snapshots and events") {
    const auto cfg = two_sites();
    Board board(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 1000);
    REQUIRE(board.address_count() == 3);
    CHECK(board.probe(0) != nullptr);
    CHECK(board.probe(2) == nullptr);
    auto s = board.snapshot();
    CHECK(s->up == std::vector<std::uint8_t>{1, 1, 1});  // up until the first verdict
    CHECK(s->catalog_id == board.catalog().id);
    CHECK_FALSE(board.record(0, false, 3, "refused", 1001));
    CHECK(board.record(0, false, 3, "refused", 1002));
    s = board.snapshot();
    CHECK(s->up == std::vector<std::uint8_t>{0, 1, 1});
    CHECK(s->info[0].since == 1002);
    CHECK(s->info[0].message == "refused");
    const auto events = board.take_events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].text == "a/192.0.2.1 is down (refused)");
    CHECK(board.take_events().empty());
    CHECK(board.set_override(1, Override::drain));
    CHECK_FALSE(board.set_override(1, Override::drain));
    CHECK(board.snapshot()->overrides[1] == Override::drain);
}

TEST_CASE("board: what the state file keeps, and a stale one") {
    const auto cfg = two_sites();
    auto catalog = std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg));
    Board board(cfg, catalog, 1000);
    board.record(1, false, 1, "timeout", 1500);
    board.record(1, false, 1, "timeout", 1501);
    board.set_override(0, Override::up);
    const auto saved = board.persisted();
    CHECK(saved.overrides.size() == 1);
    CHECK(saved.addresses.size() == 2);  // the probed ones
    CHECK_FALSE(saved.addresses.at("a/2001:db8::1").up);

    Board restarted(cfg, catalog, 2000);
    Diagnostics diags;
    restarted.restore(saved, "state.json", diags);
    CHECK(diags.size() == 0);
    const auto s = restarted.snapshot();
    CHECK(s->up == std::vector<std::uint8_t>{1, 0, 1});
    CHECK(s->info[1].since == 1501);
    CHECK(s->overrides[0] == Override::up);

    Board fresh(cfg, catalog, 3000);
    health::Persisted stale;
    stale.overrides["gone"] = {Override::down, 0};
    stale.addresses["gone/192.0.2.7"] = {false, 5};
    Diagnostics bad;
    fresh.restore(stale, "state.json", bad);
    REQUIRE(bad.size() == 1);
    CHECK(bad.items()[0].str() == "state.json: warning: override for unknown site 'gone' ignored");
    CHECK_FALSE(bad.has_errors());  // a stale state file never stops the server
    CHECK(fresh.snapshot()->up == std::vector<std::uint8_t>{1, 1, 1});
}

TEST_CASE("board: a reload keeps the state of unchanged targets") {
    auto cfg = two_sites();
    Board old(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 1000);
    old.record(0, false, 1, "x", 1001);
    old.record(0, false, 1, "x", 1002);
    old.set_override(1, Override::down);
    // Sites reordered and one address added: indices change, keys do not.
    std::swap(cfg.sites[0], cfg.sites[1]);
    cfg.sites[1].addresses.push_back(*Address::parse("192.0.2.9"));
    Board next(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 2000);
    next.carry_over(old);
    const auto s = next.snapshot();
    // new order: b (192.0.2.2), a (192.0.2.1, 192.0.2.9, 2001:db8::1)
    CHECK(s->up == std::vector<std::uint8_t>{1, 0, 1, 1});
    CHECK(s->overrides[0] == Override::down);
    CHECK(s->overrides[1] == Override::none);
}

TEST_CASE("board: probe_targets: verdicts under the answered address; a changed target starts afresh") {
    auto cfg = two_sites();
    cfg.sites[0].probe_targets = {{*Address::parse("192.0.2.1"), *Address::parse("127.0.0.7")}};
    Board old(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 1000);
    CHECK(old.catalog().probe_targets[0] == *Address::parse("127.0.0.7"));
    CHECK(old.catalog().probe_targets[1] == *Address::parse("2001:db8::1"));  // itself
    old.record(0, false, 1, "HTTP 500", 1001);
    old.record(0, false, 1, "HTTP 500", 1002);
    old.record(1, false, 1, "refused", 1001);
    old.record(1, false, 1, "refused", 1002);
    const auto events = old.take_events();
    REQUIRE(events.size() == 2);
    CHECK(events[0].text == "a/192.0.2.1 is down (probed at 127.0.0.7: HTTP 500)");
    CHECK(events[1].text == "a/2001:db8::1 is down (refused)");
    CHECK(old.persisted().addresses.count("a/192.0.2.1") == 1);  // keyed by the answered address

    // The same target: the state stays.
    Board same(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 2000);
    same.carry_over(old);
    CHECK(same.snapshot()->up == std::vector<std::uint8_t>{0, 0, 1});

    // Another target (or none) is another probe: its verdicts start afresh,
    // as for a changed port; the address without one keeps its state.
    cfg.sites[0].probe_targets[0].target = *Address::parse("127.0.0.8");
    Board moved(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 2000);
    moved.carry_over(old);
    CHECK(moved.snapshot()->up == std::vector<std::uint8_t>{1, 0, 1});
    cfg.sites[0].probe_targets.clear();
    Board dropped(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 2000);
    dropped.carry_over(old);
    CHECK(dropped.snapshot()->up == std::vector<std::uint8_t>{1, 0, 1});
}

TEST_CASE("board: overrides with an end time expire, and survive a restart") {
    const auto cfg = two_sites();
    auto catalog = std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg));
    Board board(cfg, catalog, 1000);
    CHECK(board.set_override(0, Override::drain, 1100));
    CHECK(board.override_until(0) == 1100);
    CHECK_FALSE(board.expire(1099));
    Board restarted(cfg, catalog, 1050);
    Diagnostics diags;
    restarted.restore(board.persisted(), "state.json", diags);
    CHECK(diags.size() == 0);
    CHECK(restarted.override_of(0) == Override::drain);
    CHECK(restarted.override_until(0) == 1100);
    board.take_events();
    CHECK(board.expire(1100));
    CHECK(board.override_of(0) == Override::none);
    CHECK(board.override_until(0) == 0);
    const auto events = board.take_events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].text == "site a override drain expired: auto");
    CHECK_FALSE(board.expire(2000));
    // auto clears the end time; a plain override has none
    CHECK(board.set_override(1, Override::down));
    CHECK(board.override_until(1) == 0);
}
