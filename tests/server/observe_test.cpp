#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "dnsd/query/counters.hpp"
#include "dnsd/server/observe.hpp"
#include "tests/query/fixture.hpp"

using namespace dnsd;

namespace {

config::Config two_sites() {
    config::Config cfg;
    config::Probe p;
    p.rise = 1;
    p.fall = 1;
    config::Site a;
    a.name = "a";
    a.addresses = {*Address::parse("192.0.2.1"), *Address::parse("2001:db8::1")};
    a.probe = p;
    a.location = config::Location{52.37, 4.90};
    config::Site b;
    b.name = "b\"q";  // a name that needs escaping in labels
    b.addresses = {*Address::parse("192.0.2.2")};
    cfg.sites = {a, b};
    return cfg;
}

/// An Observation as the state thread takes it, from a real board.
server::Observation observation(health::Board& board) {
    server::Observation o;
    o.view = test::load_view("tests/query/data/example.test.zone", "example.test.");
    o.catalog = board.catalog_ptr();
    o.health = board.snapshot();
    o.override_until.assign(board.catalog().sites.size(), 0);
    o.latencies = board.latencies();
    return o;
}

}  // namespace

TEST_CASE("observe: /status shows each site, address and override from the observation") {
    const auto cfg = two_sites();
    health::Board board(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 1000);
    board.record(0, false, 12, "connection refused", 1001);
    board.set_override(1, health::Override::drain, 5000);
    auto o = observation(board);
    o.override_until[1] = board.override_until(1);
    const auto doc = boost::json::parse(server::status_json(o)).as_object();
    const auto& sites = doc.at("sites").as_array();
    REQUIRE(sites.size() == 2);
    const auto& a = sites[0].as_object();
    CHECK(a.at("name") == "a");
    CHECK(a.at("override") == "auto");
    CHECK(a.at("ipv4").as_object().at("state") == "down");
    CHECK(a.at("ipv6").as_object().at("state") == "up");
    const auto& first = a.at("addresses").as_array()[0].as_object();
    CHECK(first.at("address") == "192.0.2.1");
    CHECK(first.at("up") == false);
    CHECK(first.at("last").as_object().at("message") == "connection refused");
    const auto& b = sites[1].as_object();
    CHECK(b.at("override") == "drain");
    CHECK(b.at("override_until") == 5000);
    CHECK_FALSE(doc.contains("cluster"));

    o.cluster = true;
    o.quorum = 2;
    o.vantage_points = 1;
    o.degraded = true;
    o.peers.push_back({"http://127.0.0.1:1", false, false, "", "connection refused"});
    const auto with = boost::json::parse(server::status_json(o)).as_object();
    const auto& cluster = with.at("cluster").as_object();
    CHECK(cluster.at("degraded") == true);
    CHECK(cluster.at("peers").as_array()[0].as_object().at("error") == "connection refused");
}

TEST_CASE("observe: /metrics renders the observation's counts, escaped") {
    const auto cfg = two_sites();
    health::Board board(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 1000);
    board.record(0, true, 7, "200", 1001);
    auto o = observation(board);
    o.rate_limited[1] = 3;
    o.reloads[0] = 4;
    o.reloads[1] = 1;
    o.alerts[2] = 6;
    o.probe_intervals["a"] = Duration(2500);
    o.counts.queries[R"(zone="example.test.",type="A",rcode="NOERROR",transport="udp")"] = 41;
    o.counts.queries[R"(zone="",type="other",rcode="REFUSED",transport="tcp")"] = 2;
    const std::string m = server::metrics_text(o);
    auto has = [&](const std::string& line) {
        INFO(line);
        CHECK(m.find("\n" + line + "\n") != std::string::npos);
    };
    has(R"(dnsd_queries_total{zone="example.test.",type="A",rcode="NOERROR",transport="udp"} 41)");
    has(R"(dnsd_queries_total{zone="",type="other",rcode="REFUSED",transport="tcp"} 2)");
    has(R"(dnsd_rate_limited_total{action="truncated"} 3)");
    has(R"(dnsd_reloads_total{outcome="ok"} 4)");
    has(R"(dnsd_reloads_total{outcome="failed"} 1)");
    has(R"(dnsd_alerts_total{outcome="dropped"} 6)");
    has(R"(dnsd_address_up{site="a",address="192.0.2.1"} 1)");
    has(R"(dnsd_site_up{site="b\"q",family="ipv4"} 1)");
    has(R"(dnsd_probe_duration_seconds_bucket{site="a",le="0.01"} 1)");
    has(R"(dnsd_probe_duration_seconds_count{site="a"} 1)");
    has(R"(dnsd_probe_interval_seconds{site="a"} 2.500)");
    CHECK(m.find("dnsd_cluster_") == std::string::npos);  // no [cluster]
}

TEST_CASE("observe: the status page escapes what it shows") {
    const auto cfg = two_sites();
    health::Board board(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 1000);
    const auto page = server::status_page(observation(board));
    CHECK(page.find("b&quot;q") != std::string::npos);
    CHECK(page.find("b\"q") == std::string::npos);
    CHECK(page.find("<circle") != std::string::npos);  // site a has a location
}

TEST_CASE("observe: an address probed at another (probe_targets) is shown under its own, naming it") {
    auto cfg = two_sites();
    cfg.sites[0].probe_targets = {{*Address::parse("192.0.2.1"), *Address::parse("127.0.0.7")}};
    health::Board board(cfg, std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)), 1000);
    board.record(0, false, 3, "HTTP 500", 1001);
    const auto o = observation(board);
    const auto doc = boost::json::parse(server::status_json(o)).as_object();
    const auto& addresses = doc.at("sites").as_array()[0].as_object().at("addresses").as_array();
    const auto& nat = addresses[0].as_object();
    CHECK(nat.at("address") == "192.0.2.1");
    CHECK(nat.at("probe_target") == "127.0.0.7");
    CHECK(nat.at("up") == false);
    CHECK_FALSE(addresses[1].as_object().contains("probe_target"));  // probed itself
    CHECK(server::status_page(o).find("192.0.2.1 <small>(probed at 127.0.0.7)</small>") != std::string::npos);
    // Metrics stay keyed by the answered address.
    const std::string m = server::metrics_text(o);
    CHECK(m.find("dnsd_address_up{site=\"a\",address=\"192.0.2.1\"} 0") != std::string::npos);
    CHECK(m.find("127.0.0.7") == std::string::npos);
}

TEST_CASE("observe: queries are counted by zone, type, rcode and transport, each in a cell of its own") {
    query::Counters c(2, {}, 3);
    c.count_query(0, 0, false, 1, 0);    // zone 0, UDP, A, NOERROR
    c.count_query(1, 0, false, 1, 0);    // another worker's stripe, same cell
    c.count_query(2, 1, true, 28, 3);    // zone 1, TCP, AAAA, NXDOMAIN
    c.count_query(0, -1, false, 99, 5);  // outside every zone, type 99 (other), REFUSED
    c.count_query(0, -1, false, 1, 9);   // rcode 9 (NOTAUTH): other
    const auto A = query::Counters::type_slot(1), AAAA = query::Counters::type_slot(28);
    const auto other = query::Counters::kTypeSlots - 1, rc_other = query::Counters::kRcodeSlots - 1;
    CHECK(c.query_total(0, false, A, 0) == 2);
    CHECK(c.query_total(1, true, AAAA, 3) == 1);
    CHECK(c.query_total(-1, false, other, 5) == 1);
    CHECK(c.query_total(-1, false, A, rc_other) == 1);
    std::uint64_t all = 0;
    for (std::int32_t z = -1; z < 2; ++z)
        for (bool tcp : {false, true})
            for (std::size_t t = 0; t < query::Counters::kTypeSlots; ++t)
                for (std::size_t r = 0; r < query::Counters::kRcodeSlots; ++r)
                    all += c.query_total(z, tcp, t, r);
    CHECK(all == 5);
}
