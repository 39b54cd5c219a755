// Geo steering against dnsd's own test data (tests/geo/data/networks.json),
// which the ctest fixture geo_data builds into mmdb files in both layouts
// dnsd reads (geo_data.hpp). For the first and last address of every test
// network and the addresses just outside it, in each layout, the answer of
// a `nearest` service must be the site nearest (haversine, computed here)
// to the most specific network that holds the address, or the first site
// when that network has no coordinates or none holds it; with that site
// down, the next one; and the ECS scope must be the depth of the record the
// database reaches, worked out here from the networks alone. Then ECS scopes
// beside [[geo.networks]], malformed ECS, the CH TXT explanation, and
// (optionally) MaxMind's own test database. answer() is called without
// sockets; ldns decodes the replies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "dnsd/load/runtime.hpp"
#include "health/snapshot.hpp"
#include "tests/geo/geo_data.hpp"
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
// Three sites far apart, in the service's order.
const Place kSites[] = {{"ams", 52.37, 4.90, "192.0.2.1", "2001:db8::1"},
                        {"nyc", 40.71, -74.01, "192.0.2.2", "2001:db8::2"},
                        {"sin", 1.35, 103.82, "192.0.2.3", "2001:db8::3"}};

double haversine_km(double lat1, double lon1, double lat2, double lon2) {
    const double r = 3.14159265358979323846 / 180;
    const double a = std::pow(std::sin((lat2 - lat1) * r / 2), 2) +
                     std::cos(lat1 * r) * std::cos(lat2 * r) * std::pow(std::sin((lon2 - lon1) * r / 2), 2);
    return 2 * 6371.0 * std::asin(std::sqrt(a));
}

/// A config with the three sites, a nearest and a failover service, and
/// `database` (a TOML value) as [geo] database.
std::string config_text(const std::string& database, const std::string& extra_geo = "") {
    std::string t =
        "[server]\nexplain_allow = [\"127.0.0.1\"]\n[[zone]]\norigin = \"example.test.\"\nfile = \"" +
        std::string(DNSD_SOURCE_DIR) +
        "/tests/query/data/example.test.zone\"\n[geo]\ndatabase = " + database + "\n" + extra_geo;
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

// ---- the test data, and what a database built from it answers ------------

struct Net {
    Prefix prefix;
    bool located = false;  ///< has coordinates
    double lat = 0, lon = 0;
    std::string name;  ///< city, else country: for messages
};

std::vector<Net> our_networks() {
    std::ifstream in(std::string(DNSD_SOURCE_DIR) + "/tests/geo/data/networks.json");
    std::ostringstream text;
    text << in.rdbuf();
    const auto root = boost::json::parse(text.str());
    std::vector<Net> out;
    for (const auto& v : root.at("networks").as_array()) {
        const auto& o = v.as_object();
        Net n;
        const auto prefix = Prefix::parse(std::string(o.at("prefix").as_string()));
        REQUIRE(prefix);
        n.prefix = *prefix;
        n.name = std::string(o.contains("city") ? o.at("city").as_string() : o.at("country").as_string());
        if (o.contains("lat")) {
            n.located = true;
            n.lat = o.at("lat").to_number<double>();
            n.lon = o.at("lon").to_number<double>();
        }
        out.push_back(n);
    }
    return out;
}

/// Bits `a` and `b` (same family) have in common from the start.
unsigned common_bits(const Address& a, const Address& b) {
    unsigned n = 0;
    for (std::size_t i = 0; i < a.view().size(); ++i) {
        const unsigned x = a.bytes[i] ^ b.bytes[i];
        if (x == 0) {
            n += 8;
            continue;
        }
        for (unsigned bit = 0x80; !(x & bit); bit >>= 1) ++n;
        break;
    }
    return n;
}

/// One mmdb file as tests/geo/make_mmdb.pl writes it.
struct DbModel {
    bool v6_tree = false;
    bool aliased = false;  ///< ::ffff:0:0/96, 2001::/32 and 2002::/16 lead to the IPv4 networks
    std::vector<const Net*> nets;
};

struct Found {
    bool lookup_error = false;  ///< an IPv6 address in an IPv4 tree
    const Net* net = nullptr;   ///< the most specific network holding the address
    unsigned depth = 0;         ///< of the record reached, in the address's own family
};

/// What libmaxminddb finds for `a` in `db`. A search tree holds a record
/// for `a` at the depth that separates `a` from every network that does not
/// hold it (one bit past their common start) and no shallower than any
/// network that does; the IPv4 networks of an IPv6 tree sit under ::/96.
Found find(const DbModel& db, const Address& a) {
    Found f;
    if (a.family == Family::v6 && !db.v6_tree) {
        f.lookup_error = true;
        return f;
    }
    auto separate = [&](const Prefix& p) {
        f.depth = std::max(f.depth, p.contains(a) ? p.length : common_bits(a, p.address) + 1);
    };
    bool has_v4 = false;
    for (const Net* n : db.nets) {
        has_v4 |= n->prefix.address.family == Family::v4;
        if (n->prefix.address.family != a.family) continue;
        separate(n->prefix);
        if (n->prefix.contains(a) && (!f.net || n->prefix.length > f.net->prefix.length)) f.net = n;
    }
    if (a.family == Family::v6) {
        std::vector<Prefix> subtrees;
        if (has_v4) subtrees.push_back(*Prefix::parse("::/96"));
        if (db.aliased)
            for (const char* p : {"::ffff:0:0/96", "2001::/32", "2002::/16"})
                subtrees.push_back(*Prefix::parse(p));
        for (const auto& p : subtrees) {
            INFO("probe " << a.str() << " inside " << p.str() << ": keep the test data out of it");
            REQUIRE(!p.contains(a));
            separate(p);
        }
    }
    return f;
}

struct Expected {
    const Net* net = nullptr;  ///< the located network that decides; null: location unknown
    unsigned prefix = 0;       ///< the prefix that decided (ECS scope before the source prefix)
    bool record = false;       ///< unknown, but a record without coordinates was found
};

/// dnsd's rule over a list of databases: the first with coordinates for
/// `a` decides; a miss reports the deepest any of them looked.
Expected expect(const std::vector<DbModel>& dbs, const Address& a) {
    Expected e;
    for (const auto& db : dbs) {
        const Found f = find(db, a);
        if (f.lookup_error) continue;
        if (f.net && f.net->located) return {f.net, f.depth, true};
        e.prefix = std::max(e.prefix, f.depth);
        e.record |= f.net != nullptr;
    }
    return e;
}

/// The files of `layout`, as tests/geo/make_mmdb.pl fills them.
std::vector<DbModel> models(GeoLayout layout, const std::vector<Net>& nets) {
    std::vector<DbModel> dbs;
    switch (layout) {
        case GeoLayout::city:
            dbs.resize(1);
            dbs[0].v6_tree = dbs[0].aliased = true;
            for (const auto& n : nets) dbs[0].nets.push_back(&n);
            break;
        case GeoLayout::dbip:
            dbs.resize(2);
            dbs[1].v6_tree = true;
            for (const auto& n : nets) dbs[n.prefix.address.family == Family::v4 ? 0 : 1].nets.push_back(&n);
            break;
    }
    return dbs;
}

/// Site indexes from nearest to farthest from `e`'s network; the listed
/// order when the location is unknown.
std::vector<int> site_order(const Expected& e) {
    std::vector<int> order = {0, 1, 2};
    if (e.net)
        std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
            return haversine_km(e.net->lat, e.net->lon, kSites[x].lat, kSites[x].lon) <
                   haversine_km(e.net->lat, e.net->lon, kSites[y].lat, kSites[y].lon);
        });
    return order;
}

/// `a` + `delta` (±1) in its family; nullopt past either end.
std::optional<Address> step(Address a, int delta) {
    for (std::size_t i = a.view().size(); i-- > 0;) {
        const int v = a.bytes[i] + delta;
        a.bytes[i] = static_cast<std::uint8_t>(v & 0xFF);
        if (v >= 0 && v <= 0xFF) return a;
    }
    return std::nullopt;
}

Address last_of(const Prefix& p) {
    Address a = p.address;
    for (unsigned bit = p.length; bit < a.bits(); ++bit)
        a.bytes[bit / 8] = static_cast<std::uint8_t>(a.bytes[bit / 8] | (0x80 >> (bit % 8)));
    return a;
}

health::Snapshot all_up(const query::View& view) {
    health::Snapshot h;
    h.up.assign(6, 1);
    h.overrides.assign(3, health::Override::none);
    h.catalog_id = view.catalog().id;
    return h;
}

const char* layout_name(GeoLayout l) {
    return l == GeoLayout::city ? "MaxMind City layout" : "DB-IP layout";
}

}  // namespace

TEST_CASE("geo: the test data keeps every located network clear of ties") {
    const auto nets = our_networks();
    REQUIRE(nets.size() >= 40);
    for (const auto& n : nets) {
        if (!n.located) continue;
        std::vector<double> d;
        for (const auto& s : kSites) d.push_back(haversine_km(n.lat, n.lon, s.lat, s.lon));
        std::sort(d.begin(), d.end());
        INFO(n.prefix.str() << " " << n.name);
        CHECK(d[1] - d[0] > 100);
        CHECK(d[2] - d[1] > 100);
    }
}

TEST_CASE("geo: every probe of the test networks gets its nearest site, in both layouts") {
    const auto nets = our_networks();
    const Address lo = *Address::parse("127.0.0.1");
    for (const GeoLayout layout : {GeoLayout::city, GeoLayout::dbip}) {
        INFO(layout_name(layout));
        const auto view = view_from(config_text(geo_database(layout)));
        const auto dbs = models(layout, nets);
        geo::Cache cache;  // every other query goes through a worker's cache
        std::map<std::string, int> seen;
        int queries = 0;
        for (const auto& n : nets) {
            std::vector<Address> probes = {n.prefix.address, last_of(n.prefix)};
            if (auto before = step(n.prefix.address, -1)) probes.push_back(*before);
            if (auto after = step(last_of(n.prefix), +1)) probes.push_back(*after);
            for (const auto& probe : probes) {
                const Expected e = expect(dbs, probe);
                const auto order = site_order(e);
                seen[e.net ? "located" : e.record ? "record without coordinates" : "miss"]++;
                for (int down = 0; down < 2; ++down) {
                    auto h = all_up(*view);
                    if (down) h.overrides[static_cast<std::size_t>(order[0])] = health::Override::down;
                    const auto& want = kSites[order[static_cast<std::size_t>(down)]];
                    for (const std::uint16_t type : {std::uint16_t{1}, std::uint16_t{28}}) {
                        const std::vector<std::string> expected{type == 1 ? want.v4 : want.v6};
                        INFO("client " << probe.str() << " (test network " << n.prefix.str() << " " << n.name
                                       << "), decided by "
                                       << (e.net ? e.net->prefix.str() + " " + e.net->name : "none") << " /"
                                       << e.prefix << ", type " << type << ", nearest down " << down);
                        geo::Cache* c = queries++ % 2 ? &cache : nullptr;
                        // From the source address.
                        const auto r = ask(*view, make_query("near.example.test.", type),
                                           query::Client{probe, query::Transport::udp, &h, nullptr, c});
                        CHECK(addresses_of(r) == expected);
                        // From ECS with the whole address, the query coming from loopback:
                        // the scope is the record's depth.
                        const auto full =
                            ask(*view, ecs_query("near.example.test.", type, probe, probe.bits()),
                                query::Client{lo, query::Transport::udp, &h, nullptr, c});
                        CHECK(addresses_of(full) == expected);
                        CHECK(scope_of(full) == static_cast<int>(e.prefix));
                        if (!down)
                            seen[std::string(want.name) + (probe.family == Family::v4 ? " v4" : " v6")]++;
                    }
                }
            }
            // ECS for the network as a whole (its first address, its length):
            // never a scope longer than that length.
            const Expected e = expect(dbs, n.prefix.address);
            const auto& want = kSites[site_order(e)[0]];
            auto h = all_up(*view);
            const auto r = ask(*view, ecs_query("near.example.test.", 1, n.prefix.address, n.prefix.length),
                               query::Client{lo, query::Transport::udp, &h, nullptr, &cache});
            INFO("ECS " << n.prefix.str() << " " << n.name);
            CHECK(addresses_of(r) == std::vector<std::string>{want.v4});
            CHECK(scope_of(r) == static_cast<int>(std::min<unsigned>(e.prefix, n.prefix.length)));
        }
        // The sweep meets every site from both families, and every kind of lookup.
        for (const char* k : {"ams v4", "nyc v4", "sin v4", "ams v6", "nyc v6", "sin v6", "located",
                              "record without coordinates", "miss"}) {
            INFO(k);
            CHECK(seen[k] >= 2);
        }
    }
}

TEST_CASE("geo: ECS scopes") {
    for (const GeoLayout layout : {GeoLayout::city, GeoLayout::dbip}) {
        INFO(layout_name(layout));
        const auto view = view_from(config_text(
            geo_database(layout),
            "[[geo.networks]]\nprefix = \"10.20.0.0/16\"\nlocation = { lat = 1.3, lon = 103.8 }\n"
            "[[geo.networks]]\nprefix = \"10.1.2.129/32\"\nlocation = { lat = 40.7, lon = -74.0 }\n"));
        const Address lo = *Address::parse("127.0.0.1");
        auto ask_ecs = [&](const char* name, const char* addr, unsigned prefix) {
            return ask(*view, ecs_query(name, 1, *Address::parse(addr), prefix), query::Client{lo});
        };
        // a networks entry decides (inside the database's 10.0.0.0/8): its prefix
        auto r = ask_ecs("near.example.test.", "10.20.30.0", 24);
        CHECK(addresses_of(r) == std::vector<std::string>{"192.0.2.3"});
        CHECK(scope_of(r) == 16);
        // the database decides (10.1.2.128/25, London, split at /26 around
        // 10.1.2.200/32); a more specific networks entry (10.1.2.129/32)
        // lies inside that record, so the scope is long enough to exclude it
        auto r1 = ask_ecs("near.example.test.", "10.1.2.128", 32);
        CHECK(addresses_of(r1) == std::vector<std::string>{"192.0.2.1"});
        CHECK(scope_of(r1) == 32);
        CHECK(addresses_of(ask_ecs("near.example.test.", "10.1.2.129", 32)) ==
              std::vector<std::string>{"192.0.2.2"});
        // a database hit with no networks entry near it: the record's prefix
        // (198.51.100.64/26, Auckland)
        auto r2 = ask_ecs("near.example.test.", "198.51.100.64", 32);
        CHECK(addresses_of(r2) == std::vector<std::string>{"192.0.2.3"});
        CHECK(scope_of(r2) == 26);
        // IPv6 database hit: fd12:3456::/32 is Tokyo (nearest: sin)
        auto r3 = ask(*view, ecs_query("near.example.test.", 1, *Address::parse("fd12:3456:7::"), 48),
                      query::Client{lo});
        CHECK(addresses_of(r3) == std::vector<std::string>{"192.0.2.3"});
        CHECK(scope_of(r3) == 32);
        // scope never longer than the source prefix
        CHECK(scope_of(ask_ecs("near.example.test.", "10.1.2.128", 24)) == 24);
        // a miss: the first site, the scope where the database stopped
        // looking (203.0.113.0, 0b11001011..., parts from 192.168.0.0/16 and
        // 198.18.0.0/15, 0b11000..., after 4 bits)
        auto r4 = ask_ecs("near.example.test.", "203.0.113.0", 24);
        CHECK(addresses_of(r4) == std::vector<std::string>{"192.0.2.1"});
        CHECK(scope_of(r4) == 5);
        // source prefix 0: answered as without ECS, scope 0
        CHECK(scope_of(ask_ecs("near.example.test.", "0.0.0.0", 0)) == 0);
        // failover, static names, negative answers: scope 0
        CHECK(scope_of(ask_ecs("fail.example.test.", "10.20.30.0", 24)) == 0);
        CHECK(scope_of(ask_ecs("www.example.test.", "10.20.30.0", 24)) == 0);
        CHECK(scope_of(ask_ecs("nothing.example.test.", "10.20.30.0", 24)) == 0);
    }
}

TEST_CASE("geo: malformed ECS is FORMERR; with ecs = false it is ignored") {
    const auto view = view_from(config_text(geo_database(GeoLayout::city)));
    const auto off = view_from(config_text(geo_database(GeoLayout::city), "ecs = false\n"));
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
        config_text(geo_database(GeoLayout::city),
                    "[[geo.networks]]\nprefix = \"10.20.0.0/16\"\nlocation = { lat = 1.3, lon = 103.8 }\n"));
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

TEST_CASE("geo: CH TXT names the database location in both layouts") {
    for (const GeoLayout layout : {GeoLayout::city, GeoLayout::dbip}) {
        INFO(layout_name(layout));
        const auto view = view_from(config_text(geo_database(layout)));
        // ECS 198.51.100.64/26: Auckland in the test data
        Packet ch = make_query("near.example.test.", 16, 3, true, 1232,
                               std::string("\x00\x08\x00\x08\x00\x01\x1a\x00\xc6\x33\x64\x40", 12));
        auto r = ask(*view, ch, query::Client{*Address::parse("127.0.0.1")});
        REQUIRE(r.rcode() == LDNS_RCODE_NOERROR);
        std::multiset<std::string> got;
        for (const auto& rr : r.answer()) got.insert(rr.substr(rr.find('"')));
        CHECK(got.count("\"location -36.85,174.76 (database, /26)\"") == 1);
        CHECK(got.count("\"A answer: 192.0.2.3, ttl 30, ECS scope 26\"") == 1);
    }
}

// ---- optionally, MaxMind's own test database ------------------------------
// Run when $DNSD_MAXMIND_TEST_DIR (or ../shared/geo beside the checkout)
// holds MaxMind's GeoIP2-City-Test.mmdb and its source-data/ JSON; main.cpp
// leaves the [maxmind] cases out otherwise. A second source, never the only
// one: it checks the sites only (its tree is MaxMind's, not modelled here).

TEST_CASE("geo: MaxMind's City test database gives every network its nearest site", "[maxmind]") {
    const std::string dir = maxmind_test_dir();
    REQUIRE(!dir.empty());
    std::ifstream in(dir + "/source-data/GeoIP2-City-Test.json");
    std::ostringstream text;
    text << in.rdbuf();
    std::vector<Net> nets;
    const auto root = boost::json::parse(text.str());
    for (const auto& entry : root.as_array()) {
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
            Net n;
            n.prefix = {*Address::parse(addr), static_cast<std::uint8_t>(len)};
            n.located = true;
            n.lat = loc->as_object().at("latitude").to_number<double>();
            n.lon = loc->as_object().at("longitude").to_number<double>();
            n.name = k;
            nets.push_back(n);
        }
    }
    REQUIRE(nets.size() > 200);
    const auto view = view_from(config_text("\"" + dir + "/GeoIP2-City-Test.mmdb\""));
    const auto h = all_up(*view);
    for (const auto& n : nets) {
        // the most specific network of the source data holding its first address
        const Net* best = &n;
        for (const auto& m : nets)
            if (m.prefix.contains(n.prefix.address) && m.prefix.length > best->prefix.length) best = &m;
        Expected e;
        e.net = best;
        const auto& want = kSites[site_order(e)[0]];
        INFO("network " << n.name);
        const auto r = ask(*view, make_query("near.example.test.", 1),
                           query::Client{n.prefix.address, query::Transport::udp, &h, nullptr});
        CHECK(addresses_of(r) == std::vector<std::string>{want.v4});
    }
}

namespace {

/// The reference distribution (spill-over, SPEC 10) of a Locator over `geo`.
std::vector<WeightedPoint> reference_of(const config::Geo& geo) {
    Diagnostics diags;
    const auto locator = geo::Locator::load(geo, "test.toml", diags);
    REQUIRE(locator);
    return locator->reference();
}

}  // namespace

TEST_CASE("geo: the reference distribution of clients is the same in both layouts, each network once") {
    REQUIRE(missing_geo_data() == "");
    config::Geo city, dbip;
    city.databases = {geo_data_file("city.mmdb")};
    dbip.databases = {geo_data_file("dbip-ipv4.mmdb"), geo_data_file("dbip-ipv6.mmdb")};
    const auto a = reference_of(city);
    const auto b = reference_of(dbip);
    REQUIRE(!a.empty());
    double sum = 0;
    for (const auto& p : a) sum += p.weight;
    CHECK(sum == Approx(1.0));
    // The City layout holds IPv4 under ::/96 and aliases of it elsewhere;
    // counted once, it gives what the two DB-IP trees give. The DB-IP files
    // store coordinates as floats, hence a grid cell's tolerance.
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].at.lat == Approx(b[i].at.lat).margin(0.11));
        CHECK(a[i].at.lon == Approx(b[i].at.lon).margin(0.11));
        CHECK(a[i].weight == Approx(b[i].weight).epsilon(1e-9));
    }
}

TEST_CASE("geo: networks entries weigh by their address space, each family half") {
    config::Geo geo;
    auto add = [&](const char* prefix, double lat, double lon) {
        config::GeoNetwork n;
        n.prefix = *Prefix::parse(prefix);
        n.location = {lat, lon};
        geo.networks.push_back(n);
    };
    add("10.0.0.0/23", 52.37, 4.90);     // two /24s
    add("10.0.2.0/24", 50.11, 8.68);     // one
    add("2001:db8::/48", 51.51, -0.13);  // all of IPv6
    const auto ref = reference_of(geo);
    REQUIRE(ref.size() == 3);
    std::map<std::pair<long, long>, double> by_place;
    for (const auto& p : ref) by_place[{std::lround(p.at.lat * 10), std::lround(p.at.lon * 10)}] = p.weight;
    CHECK(by_place[{524, 49}] == Approx(1.0 / 3));
    CHECK(by_place[{501, 87}] == Approx(1.0 / 6));
    CHECK(by_place[{515, -1}] == Approx(0.5));
}
