// Answers at service names through the whole runtime (config text, zone,
// load::runtime), without sockets: what decide() chose as it reaches the
// reply, its counters slot and its explanation. ldns decodes the replies.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "dnsd/load/runtime.hpp"
#include "dnsd/query/explain.hpp"
#include "tests/messages.hpp"
#include "tests/query/fixture.hpp"

using namespace dnsd;
using namespace dnsd::test;

namespace {

// Two sites with both families, an IPv4-only and an IPv6-only site; a
// `nearest` service over the first two (fallback none), a `nearest`
// IPv4-only service, an IPv6-only service. 10.1.0.0/16 is near ams.
std::string config_text() {
    return "[server]\nexplain_allow = [\"127.0.0.1\"]\n"
           "[[zone]]\norigin = \"example.test.\"\nfile = \"" +
           std::string(DNSD_SOURCE_DIR) +
           "/tests/query/data/example.test.zone\"\n"
           "[[geo.networks]]\nprefix = \"10.1.0.0/16\"\nlocation = { lat = 52.4, lon = 4.9 }\n"
           "[sites.ams]\nlocation = { lat = 52.37, lon = 4.90 }\n"
           "addresses = [\"192.0.2.1\", \"2001:db8::1\"]\n"
           "[sites.nyc]\nlocation = { lat = 40.71, lon = -74.01 }\n"
           "addresses = [\"192.0.2.2\", \"2001:db8::2\"]\n"
           "[sites.v4]\nlocation = { lat = 1.35, lon = 103.82 }\naddresses = [\"192.0.2.4\"]\n"
           "[sites.v6]\naddresses = [\"2001:db8::6\"]\n"
           "[[service]]\nname = \"near.example.test.\"\nsites = [\"ams\", \"nyc\"]\npolicy = \"nearest\"\n"
           "ttl = 20\nfallback = \"none\"\n"
           "[[service]]\nname = \"v4only.example.test.\"\nsites = [\"v4\"]\npolicy = \"nearest\"\nttl = 20\n"
           "[[service]]\nname = \"v6only.example.test.\"\nsites = [\"v6\"]\nttl = 20\n";
}

std::shared_ptr<const query::View> view_from(const std::string& text) {
    Diagnostics diags;
    const auto cfg = config::read_config_text(text, "/steered.toml", diags);
    auto v = diags.has_errors() ? nullptr : load::runtime(cfg, diags);
    for (const auto& m : messages(diags)) INFO(m);
    REQUIRE(v);
    return v;
}

const Address kLoopback = *Address::parse("127.0.0.1");

/// Every address up, `down` (site indices) forced down. Address indices:
/// ams 0 (v4) 1 (v6), nyc 2 3, v4 4, v6 5.
health::Snapshot health_of(const query::View& view, std::vector<std::size_t> down = {}) {
    health::Snapshot h;
    h.up.assign(view.catalog().addresses.size(), 1);
    h.overrides.assign(view.catalog().sites.size(), health::Override::none);
    for (auto s : down) h.overrides[s] = health::Override::down;
    h.catalog_id = view.catalog().id;
    return h;
}

/// A query of class `klass` carrying ECS `a.b.c.0/24`.
Packet ecs_query(const std::string& name, std::uint16_t type, std::uint8_t a, std::uint8_t b, std::uint8_t c,
                 std::uint16_t klass = 1) {
    std::string opt("\x00\x08\x00\x07\x00\x01\x18\x00", 8);
    opt += static_cast<char>(a);
    opt += static_cast<char>(b);
    opt += static_cast<char>(c);
    return make_query(name, type, klass, true, 1232, opt);
}

/// The TXT strings of a CH TXT explanation.
std::vector<std::string> explanation_lines(const Reply& r) {
    std::vector<std::string> out;
    for (const auto& rr : r.answer()) out.push_back(rr.substr(rr.find('"')));
    return out;
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
    for (const auto& l : lines)
        if (l == "\"" + line + "\"") return true;
    return false;
}

}  // namespace

TEST_CASE("steered: AAAA of an IPv4-only service is NODATA, not a fallback") {
    const auto view = view_from(config_text());
    const std::int32_t svc = query::service_named(*view, *name_from_text("v4only.example.test."));
    REQUIRE(svc >= 0);
    const auto& service = view->catalog().services[static_cast<std::size_t>(svc)];

    std::vector<std::uint8_t> buf(65535);
    const Packet q = make_query("v4only.example.test.", 28);
    const auto res = query::answer({q.bytes.data(), q.bytes.size()}, buf, *view, query::Client{kLoopback});
    // counted as its own outcome, not as the fallback that alarms mean an outage
    CHECK(res.service == svc);
    CHECK(res.decision == service.sites.size() + query::Counters::nodata);
    CHECK(std::string(query::Counters::extra_name(query::Counters::nodata)) == "nodata");

    // NODATA with the SOA, its TTL at most the service's (SPEC 3)
    const auto r = ask(*view, q);
    CHECK(r.rcode() == LDNS_RCODE_NOERROR);
    CHECK(r.answer().empty());
    REQUIRE(r.authority().size() == 1);
    CHECK(r.authority().begin()->find("example.test. 20 IN SOA") == 0);

    // the explanation says why
    const auto lines = explanation_lines(ask(*view, make_query("v4only.example.test.", 16, 3)));
    CHECK(has_line(lines, "AAAA answer: NODATA (no IPv6 address in any site), ttl 20, ECS scope 0"));
    CHECK(has_line(lines, "A answer: 192.0.2.4, ttl 20, ECS scope 0"));
}

TEST_CASE("steered: ANY at a service name gets the steered A answer (RFC 8482)") {
    const auto view = view_from(config_text());
    const auto all_up = health_of(*view);
    const auto ams_down = health_of(*view, {0});
    auto any = [&](const char* name, const health::Snapshot& h) {
        return ask(*view, ecs_query(name, 255, 10, 1, 2),
                   query::Client{kLoopback, query::Transport::udp, &h});
    };
    // near ams: ams's address only, with the scope that decided
    const auto r = any("near.example.test.", all_up);
    CHECK(r.answer() == std::multiset<std::string>{"near.example.test. 20 IN A 192.0.2.1"});
    CHECK(scope_of(r) == 16);
    // ams forced down: never answered, not even to ANY
    const auto down = any("near.example.test.", ams_down);
    CHECK(down.answer() == std::multiset<std::string>{"near.example.test. 20 IN A 192.0.2.2"});
    // a service without IPv4: its steered AAAA answer
    const auto v6 = any("v6only.example.test.", all_up);
    CHECK(v6.answer() == std::multiset<std::string>{"v6only.example.test. 20 IN AAAA 2001:db8::6"});
    CHECK(v6.aa());
    // counted as a decision, like A
    std::vector<std::uint8_t> buf(65535);
    const Packet q = make_query("near.example.test.", 255);
    const auto res = query::answer({q.bytes.data(), q.bytes.size()}, buf, *view, query::Client{kLoopback});
    CHECK(res.service >= 0);
}

TEST_CASE("steered: negative answers of a nearest service have ECS scope 0") {
    const auto view = view_from(config_text());
    const auto all_up = health_of(*view);
    const auto all_down = health_of(*view, {0, 1});
    auto ask_ecs = [&](const char* name, std::uint16_t type, std::uint16_t klass, const health::Snapshot& h) {
        return ask(*view, ecs_query(name, type, 10, 1, 2, klass),
                   query::Client{kLoopback, query::Transport::udp, &h});
    };
    // positive: the scope that decided
    CHECK(scope_of(ask_ecs("near.example.test.", 1, 1, all_up)) == 16);
    // every site down, fallback none: NODATA, scope 0
    const auto outage = ask_ecs("near.example.test.", 1, 1, all_down);
    CHECK(outage.rcode() == LDNS_RCODE_NOERROR);
    CHECK(outage.answer().empty());
    CHECK(scope_of(outage) == 0);
    // no site with an IPv6 address: NODATA, scope 0
    const auto v6 = ask_ecs("v4only.example.test.", 28, 1, all_up);
    CHECK(v6.answer().empty());
    CHECK(scope_of(v6) == 0);
    CHECK(scope_of(ask_ecs("v4only.example.test.", 1, 1, all_up)) == 16);
    // and the explanation says the same
    const auto lines = explanation_lines(ask_ecs("near.example.test.", 16, 3, all_down));
    CHECK(has_line(lines, "A answer: NODATA (fallback), ttl 20, ECS scope 0"));
    const auto lines6 = explanation_lines(ask_ecs("v4only.example.test.", 16, 3, all_up));
    CHECK(has_line(lines6, "AAAA answer: NODATA (no IPv6 address in any site), ttl 20, ECS scope 0"));
    CHECK(has_line(lines6, "A answer: 192.0.2.4, ttl 20, ECS scope 16"));
}

TEST_CASE("steered: a rate-limited truncated reply says what the full one would") {
    const auto view = view_from(config_text());
    const auto h = health_of(*view);
    const query::Client client{kLoopback, query::Transport::udp, &h};
    auto truncated = [&](const Packet& p) {
        Reply r;
        std::vector<std::uint8_t> buf(65535);
        buf.resize(query::truncated_reply({p.bytes.data(), p.bytes.size()}, buf, *view, client));
        r.bytes = std::move(buf);
        REQUIRE(ldns_wire2pkt(&r.pkt, r.bytes.data(), r.bytes.size()) == LDNS_STATUS_OK);
        return r;
    };
    const Packet near = ecs_query("near.example.test.", 1, 10, 1, 2);
    const auto full = ask(*view, near, client);
    const auto tc = truncated(near);
    CHECK(tc.tc());
    CHECK(tc.aa() == full.aa());
    CHECK(tc.rd() == full.rd());
    CHECK(tc.rcode() == full.rcode());
    CHECK(tc.answer().empty());
    CHECK(tc.authority().empty());
    CHECK(ldns_pkt_qdcount(tc.pkt) == 1);
    REQUIRE(ldns_pkt_edns(tc.pkt));
    CHECK(ldns_pkt_edns_udp_size(tc.pkt) == 1232);
    CHECK(scope_of(full) == 16);
    CHECK(scope_of(tc) == 16);  // the scope of the answer it stands for
    // a negative answer: its rcode, scope 0
    const auto nx = truncated(ecs_query("nothing.example.test.", 1, 10, 1, 2));
    CHECK(nx.tc());
    CHECK(nx.rcode() == LDNS_RCODE_NXDOMAIN);
    CHECK(scope_of(nx) == 0);
    // without EDNS none comes back
    const auto plain = truncated(make_query("near.example.test.", 1));
    CHECK(plain.tc());
    CHECK_FALSE(ldns_pkt_edns(plain.pkt));
    // what answer() drops, it drops too
    Packet response = make_query("near.example.test.", 1);
    response.bytes[2] |= 0x80;
    std::vector<std::uint8_t> buf(65535);
    CHECK(query::truncated_reply({response.bytes.data(), response.bytes.size()}, buf, *view, client) == 0);
}

TEST_CASE("steered: an explanation's answer line says how many addresses it could not show") {
    std::string text = config_text() + "[sites.many]\naddresses = [";
    for (int i = 1; i <= 40; ++i)
        text += (i > 1 ? ", \"2001:db8:100::" : "\"2001:db8:100::") + std::to_string(i) + "\"";
    text += "]\n[[service]]\nname = \"many.example.test.\"\nsites = [\"many\"]\nttl = 20\n";
    const auto view = view_from(text);
    std::string line;
    for (const auto& l :
         explanation_lines(ask(*view, make_query("many.example.test.", 16, 3), query::Transport::tcp)))
        if (l.starts_with("\"AAAA answer: ")) line = l;
    REQUIRE_FALSE(line.empty());
    std::size_t shown = 0;
    for (auto at = line.find("2001:db8:100::"); at != std::string::npos;
         at = line.find("2001:db8:100::", at + 1))
        ++shown;
    CHECK(shown > 0);
    CHECK(shown < 40);
    CHECK(line.find(" and " + std::to_string(40 - shown) + " more, ttl 20") != std::string::npos);
}

TEST_CASE(
    "steered: an address probed at another (probe_targets) is named in health.server and explanations") {
    std::string text = config_text();
    const std::string ams = "[sites.ams]\n";
    text.replace(text.find(ams), ams.size(),
                 ams + "probe = \"web\"\nprobe_targets = { \"192.0.2.1\" = \"127.0.0.7\" }\n");
    const auto view = view_from(text + "[probes.web]\ntype = \"http\"\n");
    auto h = health_of(*view);
    h.info.resize(h.up.size());
    h.up[0] = 0;  // ams's IPv4 address, by its probe of 127.0.0.7
    h.info[0] = {true, 0, true, false, 3, "HTTP 500"};
    h.info[1] = {true, 0, true, true, 2, "HTTP 200"};
    const query::Client client{kLoopback, query::Transport::tcp, &h};

    const auto health = explanation_lines(ask(*view, make_query("health.server.", 16, 3), client));
    CHECK(has_line(health,
                   "192.0.2.1 (ams, probed at 127.0.0.7): down since start, last probe failed in 3ms: "
                   "HTTP 500"));
    CHECK(has_line(health, "2001:db8::1 (ams): up since start, last probe passed in 2ms: HTTP 200"));

    const auto why = explanation_lines(ask(*view, ecs_query("near.example.test.", 16, 10, 1, 2, 3), client));
    CHECK(has_line(why, "A site ams: 192.0.2.1 probed at 127.0.0.7"));
    CHECK(has_line(why, "A answer: 192.0.2.2, ttl 20, ECS scope 16"));  // ams's one IPv4 address is down
    for (const auto& line : why) CHECK(line.find("2001:db8::1 probed") == std::string::npos);
}

namespace {

/// A query carrying ECS `address`/`source` (IPv4).
Packet ecs_query_v4(const std::string& name, std::uint16_t type, const char* address, std::uint8_t source,
                    std::uint16_t klass = 1) {
    const auto a = *Address::parse(address);
    const std::size_t n = (source + 7u) / 8;
    std::string opt("\x00\x08", 2);
    opt += static_cast<char>(0);
    opt += static_cast<char>(4 + n);
    opt += std::string("\x00\x01", 2);
    opt += static_cast<char>(source);
    opt += static_cast<char>(0);
    opt.append(reinterpret_cast<const char*>(a.bytes.data()), n);
    return make_query(name, type, klass, true, 1232, opt);
}

// config_text() and: a weighted service with stickiness, the same without,
// a failover one over four addresses with max_answers 2 and stickiness,
// and a nearest one with max_answers 2 and stickiness.
std::string sticky_text() {
    return config_text() +
           "[sites.four]\nlocation = { lat = 52.37, lon = 4.90 }\n"
           "addresses = [\"198.51.100.1\", \"198.51.100.2\", \"198.51.100.3\", \"198.51.100.4\"]\n"
           "[[service]]\nname = \"sticky.example.test.\"\nsites = [\"ams\", \"nyc\"]\npolicy = \"weighted\"\n"
           "ttl = 20\nstickiness = \"client\"\n"
           "[[service]]\nname = \"drawn.example.test.\"\nsites = [\"ams\", \"nyc\"]\npolicy = \"weighted\"\n"
           "ttl = 20\n"
           "[[service]]\nname = \"window.example.test.\"\nsites = [\"four\"]\nttl = 20\nmax_answers = 2\n"
           "stickiness = \"client\"\n"
           "[[service]]\nname = \"nearwin.example.test.\"\nsites = [\"four\", \"nyc\"]\npolicy = "
           "\"nearest\"\n"
           "ttl = 20\nmax_answers = 2\nstickiness = \"client\"\n";
}

}  // namespace

TEST_CASE("steered: stickiness answers a client's prefix alike, with its ECS scope") {
    const auto view = view_from(sticky_text());
    const auto h = health_of(*view);
    steer::Random random;
    auto from = [&](const char* source, const Packet& p) {
        return ask(*view, p, query::Client{*Address::parse(source), query::Transport::udp, &h, &random});
    };
    auto ecs = [&](const char* name, const char* address, std::uint8_t source) {
        return from("127.0.0.1", ecs_query_v4(name, 1, address, source));
    };
    // ECS /24, /32 (cut to /24) and from another resolver: the same answer,
    // scope 24; a shorter source prefix: its own
    const auto first = ecs("sticky.example.test.", "203.0.113.0", 24);
    CHECK(first.answer().size() == 1);
    CHECK(scope_of(first) == 24);
    for (int i = 0; i < 20; ++i) {
        const auto again = ecs("sticky.example.test.", "203.0.113.77", 32);
        CHECK(again.answer() == first.answer());
        CHECK(scope_of(again) == 24);
    }
    const auto other_resolver =
        from("192.0.2.200", ecs_query_v4("sticky.example.test.", 1, "203.0.113.16", 28));
    CHECK(other_resolver.answer() == first.answer());
    CHECK(scope_of(ecs("sticky.example.test.", "203.0.112.0", 20)) == 20);
    // clients spread over both sites
    std::set<std::string> seen;
    for (int i = 0; i < 64; ++i) {
        const std::string subnet = "203.0." + std::to_string(i) + ".0";
        for (const auto& rr : ecs("sticky.example.test.", subnet.c_str(), 24).answer()) seen.insert(rr);
    }
    CHECK(seen.size() == 2);
    // without ECS: the source address's /24
    CHECK(from("203.0.113.5", make_query("sticky.example.test.", 1)).answer() == first.answer());
    CHECK(ecs("sticky.example.test.", "127.0.0.0", 24).answer() ==
          from("127.0.0.1", make_query("sticky.example.test.", 1)).answer());
    // without stickiness, weighted answers everyone alike: scope 0
    CHECK(scope_of(ecs("drawn.example.test.", "203.0.113.0", 24)) == 0);
    // one site up: nothing picked by the client, scope 0
    const auto ams_down = health_of(*view, {0});
    CHECK(scope_of(ask(*view, ecs_query_v4("sticky.example.test.", 1, "203.0.113.0", 24),
                       query::Client{kLoopback, query::Transport::udp, &ams_down})) == 0);

    // max_answers: the client's own two addresses; beside nearest, the
    // longer scope of the two (the networks entry is a /16)
    const auto window = ecs("window.example.test.", "203.0.113.0", 24);
    CHECK(window.answer().size() == 2);
    CHECK(scope_of(window) == 24);
    for (int i = 0; i < 10; ++i)
        CHECK(ecs("window.example.test.", "203.0.113.0", 24).answer() == window.answer());
    const auto near = ecs("nearwin.example.test.", "10.1.2.0", 24);
    CHECK(near.answer().size() == 2);
    CHECK(scope_of(near) == 24);
    CHECK(scope_of(ecs("nearwin.example.test.", "10.1.0.0", 18)) == 18);

    // the explanation says so
    const auto lines =
        explanation_lines(from("127.0.0.1", ecs_query_v4("sticky.example.test.", 16, "203.0.113.77", 32, 3)));
    CHECK(has_line(lines, "policy weighted, ttl 20, fallback all, stickiness client"));
    CHECK(has_line(lines, "A site picked by client hash of 203.0.113.0/24 (ECS)"));
    const auto address = first.answer().begin()->substr(first.answer().begin()->rfind(' ') + 1);
    CHECK(has_line(lines, "A answer: " + address + ", ttl 20, ECS scope 24"));
    const auto window_lines =
        explanation_lines(from("127.0.0.1", ecs_query_v4("window.example.test.", 16, "203.0.113.77", 32, 3)));
    CHECK(has_line(window_lines, "A addresses picked by client hash of 203.0.113.0/24 (ECS)"));
    const auto plain = explanation_lines(from("127.0.0.1", make_query("sticky.example.test.", 16, 3)));
    CHECK(has_line(plain, "A site picked by client hash of 127.0.0.0/24 (source address)"));
}

TEST_CASE("steered: the prefix that keys a client of a service with stickiness") {
    auto prefix = [](const char* source, const char* ecs, std::uint8_t length) {
        const Address from = *Address::parse(source);
        Address e{};
        query::Subnet subnet;
        if (ecs) {
            e = *Address::parse(ecs);
            subnet = {true, e.family, length, e.bytes.data()};
        }
        const auto p = query::client_prefix(subnet, query::Client{from});
        return p.prefix.str() + (p.by_ecs ? " ecs " : " source ") + std::to_string(p.scope());
    };
    // the source address: /24 or /56, scope 0 (as a located one)
    CHECK(prefix("198.51.100.77", nullptr, 0) == "198.51.100.0/24 source 0");
    CHECK(prefix("2001:db8:1:2345::1", nullptr, 0) == "2001:db8:1:2300::/56 source 0");
    // ECS: its source prefix, at most /24 or /56, whatever family the resolver has
    CHECK(prefix("192.0.2.53", "203.0.113.77", 32) == "203.0.113.0/24 ecs 24");
    CHECK(prefix("192.0.2.53", "203.0.112.0", 20) == "203.0.112.0/20 ecs 20");
    CHECK(prefix("192.0.2.53", "2001:db8:1:2345::", 64) == "2001:db8:1:2300::/56 ecs 56");
    CHECK(prefix("2001:db8::53", "203.0.113.0", 24) == "203.0.113.0/24 ecs 24");
    // ECS source prefix 0: as without ECS
    CHECK(prefix("198.51.100.77", "0.0.0.0", 0) == "198.51.100.0/24 source 0");
}
