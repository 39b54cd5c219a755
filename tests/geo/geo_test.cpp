// Geo steering against MaxMind's test databases (../shared/geo): for every
// network of the City test data with coordinates, the answer of a `nearest`
// service is the great-circle-nearest site, computed here independently
// (haversine over the source JSON), for A and AAAA, from ECS and from the
// source address; with that site down, the next nearest. Then ECS scopes
// and malformed ECS options. answer() is called without sockets; ldns
// decodes the replies.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dnsd/load/runtime.hpp"
#include "health/snapshot.hpp"
#include "tests/geo/geo_dir.hpp"
#include "tests/messages.hpp"
#include "tests/query/fixture.hpp"

using namespace dnsd;
using namespace dnsd::test;

namespace {

struct Place {
    const char* name;
    double lat, lon;
    const char* v4;
    const char* v6;
};
// Three sites far apart.
const Place kSites[] = {{"ams", 52.37, 4.90, "192.0.2.1", "2001:db8::1"},
                        {"nyc", 40.71, -74.01, "192.0.2.2", "2001:db8::2"},
                        {"sin", 1.35, 103.82, "192.0.2.3", "2001:db8::3"}};

double haversine_km(double lat1, double lon1, double lat2, double lon2) {
    const double r = 3.14159265358979323846 / 180;
    const double a = std::pow(std::sin((lat2 - lat1) * r / 2), 2) +
                     std::cos(lat1 * r) * std::cos(lat2 * r) * std::pow(std::sin((lon2 - lon1) * r / 2), 2);
    return 2 * 6371.0 * std::asin(std::sqrt(a));
}

std::string config_text(const std::string& extra_geo = "") {
    std::string t =
        "[server]\nexplain_allow = [\"127.0.0.1\"]\n[[zone]]\norigin = \"example.test.\"\nfile = \"" +
        std::string(DNSD_SOURCE_DIR) + "/tests/query/data/example.test.zone\"\n[geo]\ndatabase = \"" +
        geo_dir() + "/GeoIP2-City-Test.mmdb\"\n" + extra_geo;
    for (const auto& s : kSites)
        t += std::string("[sites.") + s.name + "]\nlocation = { lat = " + std::to_string(s.lat) +
             ", lon = " + std::to_string(s.lon) + " }\naddresses = [\"" + s.v4 + "\", \"" + s.v6 + "\"]\n";
    t += "[[service]]\nname = \"near.example.test.\"\nsites = [\"ams\", \"nyc\", \"sin\"]\npolicy = "
         "\"nearest\"\n";
    t += "[[service]]\nname = \"fail.example.test.\"\nsites = [\"ams\", \"nyc\", \"sin\"]\npolicy = "
         "\"failover\"\n";
    return t;
}

std::shared_ptr<const query::View> view_from(const std::string& text) {
    Diagnostics diags;
    const auto cfg = config::read_config_text(text, "/geo.toml", diags);
    auto v = diags.has_errors() ? nullptr : load::runtime(cfg, diags);
    INFO(messages(diags).size());
    for (const auto& m : messages(diags)) INFO(m);
    REQUIRE(v);
    return v;
}

/// A query with an ECS option for `prefix` of `address`.
Packet ecs_query(const std::string& name, std::uint16_t type, const Address& address, unsigned prefix) {
    std::string opt;
    const unsigned bytes = (prefix + 7) / 8;
    opt.push_back(0);
    opt.push_back(8);  // ECS
    opt.push_back(0);
    opt.push_back(static_cast<char>(4 + bytes));
    opt.push_back(0);
    opt.push_back(address.family == Family::v4 ? 1 : 2);
    opt.push_back(static_cast<char>(prefix));
    opt.push_back(0);
    for (unsigned i = 0; i < bytes; ++i) {
        std::uint8_t b = address.bytes[i];
        if (i == bytes - 1 && prefix % 8) b = static_cast<std::uint8_t>(b & (0xFF << (8 - prefix % 8)));
        opt.push_back(static_cast<char>(b));
    }
    return make_query(name, type, 1, true, 1232, opt);
}

std::vector<std::string> addresses_of(const Reply& r) {
    std::vector<std::string> out;
    for (const auto& rr : r.answer()) out.push_back(rr.substr(rr.rfind(' ') + 1));
    return out;
}

struct Network {
    Address first;
    unsigned length;
    double lat, lon;
};

std::vector<Network> test_networks() {
    std::ifstream in(geo_dir() + "/source-data/GeoIP2-City-Test.json");
    std::ostringstream text;
    text << in.rdbuf();
    const auto root = boost::json::parse(text.str()).as_array();
    std::vector<Network> out;
    for (const auto& entry : root) {
        for (const auto& [key, value] : entry.as_object()) {
            const auto* loc = value.as_object().if_contains("location");
            if (!loc || !loc->as_object().if_contains("latitude")) continue;
            std::string k(key);
            const auto slash = k.find('/');
            std::string addr = k.substr(0, slash);
            unsigned len = static_cast<unsigned>(std::stoul(k.substr(slash + 1)));
            if (addr.starts_with("::") && addr.find('.') != std::string::npos) {  // IPv4 written in IPv6
                addr = addr.substr(2);
                len -= 96;
            }
            Network n{*Address::parse(addr), len, loc->as_object().at("latitude").to_number<double>(),
                      loc->as_object().at("longitude").to_number<double>()};
            out.push_back(n);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("geo: every test network gets its nearest site, then the next nearest") {
    if (!std::filesystem::exists(geo_dir() + "/GeoIP2-City-Test.mmdb")) {
        WARN("MaxMind test databases not found in " << geo_dir() << " (set DNSD_GEO_TEST_DIR)");
        FAIL("no test databases");
    }
    const auto view = view_from(config_text());
    const auto networks = test_networks();
    REQUIRE(networks.size() > 200);
    std::size_t checked = 0;
    for (const auto& n : networks) {
        // Where the first address of the network really is: the most
        // specific network of the source data that contains it.
        const Network* best = &n;
        for (const auto& m : networks) {
            const Prefix pm{m.first, static_cast<std::uint8_t>(m.length)};
            if (pm.contains(n.first) && m.length > best->length) best = &m;
        }
        std::vector<std::pair<double, int>> order;
        for (int i = 0; i < 3; ++i)
            order.emplace_back(haversine_km(best->lat, best->lon, kSites[i].lat, kSites[i].lon), i);
        std::sort(order.begin(), order.end());
        for (int down = 0; down < 2; ++down) {
            health::Snapshot h;
            h.up.assign(6, 1);
            h.overrides.assign(3, health::Override::none);
            h.catalog_id = view->catalog().id;
            if (down) h.overrides[static_cast<std::size_t>(order[0].second)] = health::Override::down;
            const auto& want = kSites[order[static_cast<std::size_t>(down)].second];
            for (std::uint16_t type : {std::uint16_t{1}, std::uint16_t{28}}) {
                const std::string expected = type == 1 ? want.v4 : want.v6;
                INFO("network " << n.first.str() << "/" << n.length << " type " << type << " down " << down);
                // From the source address.
                auto r = ask(*view, make_query("near.example.test.", type),
                             query::Client{n.first, query::Transport::udp, &h, nullptr});
                CHECK(addresses_of(r) == std::vector<std::string>{expected});
                // From ECS, the query coming from loopback.
                auto e = ask(*view, ecs_query("near.example.test.", type, n.first, n.length),
                             query::Client{*Address::parse("127.0.0.1"), query::Transport::udp, &h, nullptr});
                CHECK(addresses_of(e) == std::vector<std::string>{expected});
                ++checked;
            }
        }
    }
    CHECK(checked >= 4 * 200);
}

TEST_CASE("geo: ECS scopes") {
    const auto view = view_from(config_text(
        "[[geo.networks]]\nprefix = \"10.20.0.0/16\"\nlocation = { lat = 1.3, lon = 103.8 }\n"
        "[[geo.networks]]\nprefix = \"81.2.69.143/32\"\nlocation = { lat = 40.7, lon = -74.0 }\n"));
    const Address lo = *Address::parse("127.0.0.1");
    auto ask_ecs = [&](const char* name, const char* addr, unsigned prefix) {
        return ask(*view, ecs_query(name, 1, *Address::parse(addr), prefix), query::Client{lo});
    };
    // a networks entry decides: its prefix
    auto r = ask_ecs("near.example.test.", "10.20.30.0", 24);
    CHECK(addresses_of(r) == std::vector<std::string>{"192.0.2.3"});
    CHECK(scope_of(r) == 16);
    // the database decides (81.2.69.142/31 London in the test data); a
    // more specific networks entry (81.2.69.143/32) lies inside the
    // database's network, so the scope is long enough to exclude it
    auto r1 = ask_ecs("near.example.test.", "81.2.69.142", 32);
    CHECK(addresses_of(r1) == std::vector<std::string>{"192.0.2.1"});
    CHECK(scope_of(r1) == 32);
    CHECK(addresses_of(ask_ecs("near.example.test.", "81.2.69.143", 32)) ==
          std::vector<std::string>{"192.0.2.2"});
    // a database hit with no networks entry near it: the record's prefix
    // (89.160.20.112/28, Linköping)
    CHECK(scope_of(ask_ecs("near.example.test.", "89.160.20.112", 32)) == 28);
    // IPv6 database hit: 2001:218::/32 is Japan (nearest: sin)
    auto r2 = ask_ecs("near.example.test.", "2001:218::", 48);
    CHECK(addresses_of(r2) == std::vector<std::string>{"192.0.2.3"});
    CHECK(scope_of(r2) == 32);
    // scope never longer than the source prefix
    auto r3 = ask_ecs("near.example.test.", "81.2.69.142", 24);
    CHECK(scope_of(r3) == 24);
    // a miss: the database's answer for how far it looked, the first site
    auto r4 = ask_ecs("near.example.test.", "198.51.100.0", 24);
    CHECK(addresses_of(r4) == std::vector<std::string>{"192.0.2.1"});
    CHECK(scope_of(r4) > 0);
    CHECK(scope_of(r4) <= 24);
    // source prefix 0: answered as without ECS, scope 0
    auto r5 = ask_ecs("near.example.test.", "0.0.0.0", 0);
    CHECK(scope_of(r5) == 0);
    // failover, static names, negative answers: scope 0
    CHECK(scope_of(ask_ecs("fail.example.test.", "10.20.30.0", 24)) == 0);
    CHECK(scope_of(ask_ecs("www.example.test.", "10.20.30.0", 24)) == 0);
    CHECK(scope_of(ask_ecs("nothing.example.test.", "10.20.30.0", 24)) == 0);
}

TEST_CASE("geo: malformed ECS is FORMERR; with ecs = false it is ignored") {
    const auto view = view_from(config_text());
    const auto off = view_from(config_text("ecs = false\n"));
    const Address lo = *Address::parse("127.0.0.1");
    auto with_opt = [&](const query::View& v, std::string data) {
        std::string opt = std::string("\x00\x08", 2);
        opt.push_back(0);
        opt.push_back(static_cast<char>(data.size()));
        opt += data;
        return ask(v, make_query("near.example.test.", 1, 1, true, 1232, opt), query::Client{lo});
    };
    const std::string bad[] = {
        std::string("\x00\x03\x18\x00\x0a\x14\x1e", 7),          // family 3
        std::string("\x00\x01\x21\x00\x0a\x14\x1e\x00\x00", 9),  // source 33 > 32
        std::string("\x00\x01\x18\x00\x0a\x14", 6),              // /24 with 2 address bytes
        std::string("\x00\x01\x18\x00\x0a\x14\x1e\x00", 8),      // /24 with 4 address bytes
        std::string("\x00\x01\x17\x00\x0a\x14\x1f", 7),          // bits set past /23
        std::string("\x00\x01\x18\x10\x0a\x14\x1e", 7),          // scope 16 in a query
        std::string("\x00\x01", 2),                              // too short
    };
    for (const auto& data : bad) {
        CHECK(with_opt(*view, data).rcode() == LDNS_RCODE_FORMERR);
        const auto ignored = with_opt(*off, data);
        CHECK(ignored.rcode() == LDNS_RCODE_NOERROR);
        CHECK(scope_of(ignored) == -1);  // not echoed
    }
    const auto good = with_opt(*view, std::string("\x00\x01\x18\x00\x0a\x14\x1e", 7));
    CHECK(good.rcode() == LDNS_RCODE_NOERROR);
}

TEST_CASE("geo: CH TXT explains a service's answer from the same decision") {
    const auto view = view_from(
        config_text("[[geo.networks]]\nprefix = \"10.20.0.0/16\"\nlocation = { lat = 1.3, lon = 103.8 }\n"));
    const Address lo = *Address::parse("127.0.0.1");
    health::Snapshot h;
    h.up.assign(6, 1);
    h.overrides = {health::Override::drain, health::Override::none, health::Override::none};
    h.catalog_id = view->catalog().id;
    // CH TXT with ECS 10.20.30.0/24
    Packet ch = make_query("near.example.test.", 16, 3, true, 1232,
                           std::string("\x00\x08\x00\x07\x00\x01\x18\x00\x0a\x14\x1e", 11));
    auto r = ask(*view, ch, query::Client{lo, query::Transport::udp, &h, nullptr});
    REQUIRE(r.rcode() == LDNS_RCODE_NOERROR);
    std::vector<std::string> lines;
    for (const auto& rr : r.answer()) lines.push_back(rr.substr(rr.find('"')));
    const std::multiset<std::string> got(lines.begin(), lines.end());
    auto has = [&](const std::string& s) { return got.count("\"" + s + "\"") == 1; };
    CHECK(has("client 10.20.30.0/24 (ECS, from 127.0.0.1)"));
    CHECK(has("location 1.30,103.80 (geo.networks, /16)"));
    CHECK(has("policy nearest, ttl 30, fallback all"));
    CHECK(has("A site sin: 1/1 up, override auto, 6 km: chosen"));
    CHECK(has("A site ams: 1/1 up, override drain, 10495 km: drained"));
    CHECK(has("A site nyc: 1/1 up, override auto, 15339 km: standby"));
    CHECK(has("A answer: 192.0.2.3, ttl 30, ECS scope 16"));
    CHECK(has("AAAA answer: 2001:db8::3, ttl 30, ECS scope 16"));
    // and the real answer agrees
    auto a = ask(*view, ecs_query("near.example.test.", 1, *Address::parse("10.20.30.0"), 24),
                 query::Client{lo, query::Transport::udp, &h, nullptr});
    CHECK(addresses_of(a) == std::vector<std::string>{"192.0.2.3"});
    // only from explain_allow
    auto refused =
        ask(*view, ch, query::Client{*Address::parse("192.0.2.99"), query::Transport::udp, &h, nullptr});
    CHECK(refused.rcode() == LDNS_RCODE_REFUSED);
}
