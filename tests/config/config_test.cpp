#include <catch2/catch.hpp>

#include "tests/messages.hpp"

#include "dnsd/config/config.hpp"
#include "dnsd/core/name.hpp"

using namespace dnsd;
using namespace dnsd::config;

namespace {
struct Read {
    Config config;
    Diagnostics diags;
    std::vector<std::string> messages() const { return test::messages(diags); }
};
Read read(const std::string& text, const std::string& path = "/etc/dnsd/dnsd.toml") {
    Read r;
    r.config = read_config_text(text, path, r.diags);
    return r;
}
const std::string kZone = "[[zone]]\norigin = \"example.test.\"\nfile = \"zones/example.test.zone\"\n";
}  // namespace

TEST_CASE("config: a full [server] and [[zone]]") {
    auto r = read(
        "[server]\n"
        "listen = [\"127.0.0.1:5353\", \"[::1]:5353\"]\n"
        "threads = 2\n"
        "identity = \"ns1.example.test\"\n"
        "udp_payload = 1400\n"
        "transfer_allow = [\"127.0.0.0/8\", \"::1\"]\n" +
        kZone + "[[zone]]\norigin = \"Other.Test\"\nfile = \"/srv/other.zone\"\n");
    INFO(r.messages().size());
    REQUIRE(r.messages().empty());
    const Config& c = r.config;
    REQUIRE(c.server.listen.size() == 2);
    CHECK(c.server.listen[0].str() == "127.0.0.1:5353");
    CHECK(c.server.listen[1].str() == "[::1]:5353");
    CHECK(c.server.threads == 2);
    CHECK(c.server.identity == "ns1.example.test");
    CHECK(c.server.udp_payload == 1400);
    CHECK(c.server.transfer_allow.contains(*Address::parse("127.9.9.9")));
    CHECK(c.server.transfer_allow.contains(*Address::parse("::1")));
    CHECK_FALSE(c.server.transfer_allow.contains(*Address::parse("192.0.2.1")));
    REQUIRE(c.zones.size() == 2);
    CHECK(name_to_text(c.zones[0].origin) == "example.test.");
    CHECK(c.zones[0].file == "/etc/dnsd/zones/example.test.zone");  // relative to the config file
    CHECK(c.zones[0].line == 7);
    CHECK(name_to_text(c.zones[1].origin) == "Other.Test.");  // a missing final dot is implied
    CHECK(c.zones[1].file == "/srv/other.zone");
}

TEST_CASE("config: defaults") {
    auto r = read(kZone);
    REQUIRE(r.messages().empty());
    REQUIRE(r.config.server.listen.size() == 1);
    CHECK(r.config.server.listen[0].str() == "127.0.0.1:53");
    CHECK(r.config.server.threads == 0);
    CHECK(r.config.server.identity.empty());
    CHECK(r.config.server.udp_payload == 1232);
    CHECK(r.config.server.transfer_allow.empty());
}

TEST_CASE("config: every error with file, line and key, all of them") {
    auto r = read(
        "[server]\n"
        "listen = [\"127.0.0.1\", \"[::1]:53\", \"[::1]:53\"]\n"  // 2
        "threads = -1\n"                                          // 3
        "identity = 7\n"                                          // 4
        "udp_payload = 100\n"                                     // 5
        "transfer_allow = [\"10.0.0.1/8\"]\n"                     // 6
        "tcp_timeout = 3\n"                                       // 7
        "user = \"dnsd\"\n"                                       // 8
        "[[zone]]\n"                                              // 9
        "origin = \"a..b\"\n"                                     // 10
        "file = \"\"\n"                                           // 11
        "[[zone]]\n"                                              // 12
        "file = \"x\"\n"                                          // 13
        "[[zone]]\n"                                              // 14
        "origin = \"dup.test.\"\n"                                // 15
        "file = \"a\"\n"                                          // 16
        "[[zone]]\n"                                              // 17
        "origin = \"DUP.test\"\n"                                 // 18
        "file = \"b\"\n"                                          // 19
        "[sites.ams]\n"                                           // 20
        "addresses = []\n"                                        // 21
        "[servre]\n",                                             // 22
        "d.toml");
    const std::vector<std::string> expected = {
        "d.toml:2: server.listen: '127.0.0.1' is not an address with a port (\"127.0.0.1:53\", \"[::1]:53\")",
        "d.toml:2: server.listen: '[::1]:53' is listed twice",
        "d.toml:3: server.threads: expected an integer from 0 to 1024",
        "d.toml:4: server.identity: expected a string",
        "d.toml:5: server.udp_payload: expected an integer from 512 to 4096",
        "d.toml:6: server.transfer_allow: '10.0.0.1/8' is not an address or network (\"192.0.2.0/24\", "
        "\"::1\")",
        "d.toml:7: server.tcp_timeout: unknown key",
        "d.toml:8: server.user: not supported by this version of dnsd",
        "d.toml:10: zone.origin: 'a..b' is not a domain name",
        "d.toml:11: zone.file: empty path",
        "d.toml:12: zone.origin: missing (the zone's name, e.g. \"gslb.example.com.\")",
        "d.toml:18: zone.origin: zone DUP.test. is already configured at line 14",
        "d.toml:20: sites.ams: has neither addresses nor cname",
        "d.toml:22: servre: unknown key",
    };
    auto got = r.messages();
    std::stable_sort(got.begin(), got.end(), [](const std::string& a, const std::string& b) {
        auto line = [](const std::string& s) { return std::stoi(s.substr(7)); };
        return line(a) < line(b);
    });
    CHECK(got == expected);
}

TEST_CASE("config: syntax errors and missing zones") {
    auto r = read("[server]\nthreads = = 2\n", "s.toml");
    REQUIRE(r.messages().size() == 1);
    CHECK(r.messages()[0].starts_with("s.toml:2: syntax: "));

    auto none = read("[server]\nthreads = 1\n", "n.toml");
    CHECK(none.messages() ==
          std::vector<std::string>{"n.toml: zone: no [[zone]] configured; dnsd needs at least one"});

    Diagnostics diags;
    read_config("/nonexistent/dnsd.toml", diags);
    REQUIRE(diags.size() == 1);
    CHECK(diags.items()[0].str() ==
          "/nonexistent/dnsd.toml: cannot read configuration: No such file or directory");
}

TEST_CASE("config: probes, sites and services with their defaults") {
    auto r =
        read(kZone +
             "[probes.web]\ntype = \"http\"\n"
             "[probes.dns]\ntype = \"dns\"\nquery = \"example.test.\"\nexpect_rcode = [\"NOERROR\", "
             "\"NXDOMAIN\"]\n"
             "[sites.b]\naddresses = [\"192.0.2.2\", \"2001:db8::2\"]\nprobe = \"web\"\n"
             "[sites.a]\nlocation = { lat = 52.5, lon = 13 }\naddresses = [\"192.0.2.1\"]\n"
             "probe = { type = \"exec\", command = \"exit 0\", interval = \"500ms\", timeout = \"100ms\" }\n"
             "[sites.c]\ncname = \"cdn.example.net\"\nweight = 0\n"
             "[[service]]\nname = \"www.example.test\"\nsites = [\"a\", \"b\", \"c\"]\n"
             "[[service]]\nname = \"api.example.test.\"\nsites = [\"b\"]\npolicy = \"all\"\nttl = 5\n"
             "max_answers = 2\nfallback = \"b\"\n");
    INFO(r.messages().size());
    REQUIRE(r.messages().empty());
    const Config& c = r.config;
    REQUIRE(c.sites.size() == 3);
    CHECK(c.sites[0].name == "b");  // the order of the file, not toml++'s sorted keys
    CHECK(c.sites[1].name == "a");
    const auto& web = *c.sites[0].probe;
    CHECK(web.kind == Probe::Kind::http);
    CHECK(web.effective_port() == 80);
    CHECK(web.path == "/");
    CHECK(web.interval == Duration{2000});
    CHECK(web.timeout == Duration{1000});
    CHECK(web.rise == 3);
    CHECK(web.fall == 3);
    CHECK(web.expect_status == std::vector<unsigned>{200});
    CHECK(failover_time(web) == Duration{7000});
    const auto& ex = *c.sites[1].probe;
    CHECK(ex.kind == Probe::Kind::exec);
    CHECK(ex.command == std::vector<std::string>{"/bin/sh", "-c", "exit 0"});
    CHECK(ex.name == "a (inline)");
    CHECK(c.sites[1].location->lat == 52.5);
    CHECK(c.sites[2].cname == *name_from_text("cdn.example.net."));
    CHECK_FALSE(c.sites[2].probe);
    CHECK(c.sites[2].weight == 0);
    CHECK(c.sites[0].min_up == 1);
    REQUIRE(c.services.size() == 2);
    CHECK(c.services[0].policy == Service::Policy::failover);
    CHECK(c.services[0].ttl == 30);
    CHECK(c.services[0].fallback == Service::Fallback::all);
    CHECK(c.services[0].sites == std::vector<std::size_t>{1, 0, 2});
    CHECK(c.services[1].policy == Service::Policy::all);
    CHECK(c.services[1].max_answers == 2);
    CHECK(c.services[1].fallback == Service::Fallback::site);
    CHECK(c.services[1].fallback_site == 0);
    CHECK(c.server.explain_allow.contains(*Address::parse("127.0.0.1")));  // default: loopback
    CHECK_FALSE(c.server.explain_allow.contains(*Address::parse("192.0.2.1")));
}
