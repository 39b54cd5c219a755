#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/fifo.hpp"
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

TEST_CASE("config: the IXFR journal's bounds") {
    auto r = read(kZone);
    CHECK(r.config.server.ixfr_versions == 20);
    CHECK(r.config.server.ixfr_memory == 16u << 20);
    r = read("[server]\nixfr_versions = 0\nixfr_memory = \"512KiB\"\n" + kZone);
    REQUIRE(r.messages().empty());
    CHECK(r.config.server.ixfr_versions == 0);
    CHECK(r.config.server.ixfr_memory == 512u << 10);
    for (const auto& [text, bytes] : std::vector<std::pair<std::string, std::uint64_t>>{
             {"1000", 1000}, {"2MiB", 2u << 20}, {"1GiB", 1u << 30}, {"64GiB", std::uint64_t{64} << 30}}) {
        r = read("[server]\nixfr_memory = \"" + text + "\"\n" + kZone);
        CHECK(r.messages().empty());
        CHECK(r.config.server.ixfr_memory == bytes);
    }
    r = read("[server]\nixfr_versions = -1\nixfr_memory = \"16MB\"\n" + kZone, "d.toml");
    CHECK(r.messages() ==
          std::vector<std::string>{"d.toml:2: server.ixfr_versions: expected an integer from 0 to 10000",
                                   "d.toml:3: server.ixfr_memory: '16MB' is not a size up to 64GiB "
                                   "(\"16MiB\", \"512KiB\", \"1GiB\", or "
                                   "bytes)"});
    for (const char* bad : {"", "MiB", "65GiB", "99999999999999999999", "1 MiB", "-1"}) {
        r = read(std::string("[server]\nixfr_memory = \"") + bad + "\"\n" + kZone);
        CHECK(r.messages().size() == 1);
    }
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
        "user = \"no-such-user-x\"\n"                             // 8
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
        "d.toml:8: warning: server.user: no user named 'no-such-user-x' on this machine (dnsd run will not "
        "start on a machine without it)",
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
             "max_answers = 2\nfallback = \"b\"\nstickiness = \"client\"\n");
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
    CHECK(c.services[0].stickiness == Service::Stickiness::none);
    CHECK(c.services[0].sites == std::vector<std::size_t>{1, 0, 2});
    CHECK(c.services[1].policy == Service::Policy::all);
    CHECK(c.services[1].max_answers == 2);
    CHECK(c.services[1].fallback == Service::Fallback::site);
    CHECK(c.services[1].fallback_site == 0);
    CHECK(c.services[1].stickiness == Service::Stickiness::client);
    CHECK(c.server.explain_allow.contains(*Address::parse("127.0.0.1")));  // default: loopback
    CHECK_FALSE(c.server.explain_allow.contains(*Address::parse("192.0.2.1")));
}

TEST_CASE("config: probe_targets, good") {
    auto r = read(kZone +
                  "[probes.web]\ntype = \"http\"\n"
                  "[sites.ams]\naddresses = [\"192.0.2.10\", \"192.0.2.11\", \"2001:db8:10::10\"]\n"
                  "probe = \"web\"\n"
                  "probe_targets = { \"192.0.2.10\" = \"10.1.0.10\", \"2001:DB8:10:0::10\" = \"fd00::10\" }\n"
                  "[sites.nyc]\naddresses = [\"198.51.100.10\"]\n"
                  "probe = { type = \"tcp\", port = 443 }\nprobe_targets = {}\n");
    INFO(r.messages().size());
    REQUIRE(r.messages().empty());
    const Site& ams = r.config.sites[0];
    REQUIRE(ams.probe_targets.size() == 2);
    CHECK(ams.probe_target(*Address::parse("192.0.2.10")) == *Address::parse("10.1.0.10"));
    CHECK(ams.probe_target(*Address::parse("2001:db8:10::10")) == *Address::parse("fd00::10"));
    // Addresses without an entry are probed themselves.
    CHECK(ams.probe_target(*Address::parse("192.0.2.11")) == *Address::parse("192.0.2.11"));
    CHECK(r.config.sites[1].probe_targets.empty());
}

TEST_CASE("config: probe_targets, every error with file, line and key") {
    auto r = read(
        "[probes.web]\ntype = \"tcp\"\nport = 80\n"                           // 1-3
        "[sites.ams]\n"                                                       // 4
        "addresses = [\"192.0.2.10\", \"2001:db8:10::10\"]\n"                 // 5
        "probe = \"web\"\n"                                                   // 6
        "probe_targets = { \"192.0.2.99\" = \"10.1.0.1\", \"192.0.2.10\" = "  // 7
        "\"2001:db8::1\", \"x\" = 3 }\n"                                      // 7
        "[sites.nyc]\n"                                                       // 8
        "addresses = [\"198.51.100.10\", \"2001:db8:20::1\"]\n"               // 9
        "probe = \"web\"\n"                                                   // 10
        "probe_targets = { \"2001:db8:20::1\" = \"fd00::1\", \"2001:DB8:20:0::1\" = "
        "\"fd00::2\", \"198.51.100.10\" = \"no-address\" }\n"   // 11
        "[sites.sin]\n"                                         // 12
        "addresses = [\"203.0.113.1\"]\n"                       // 13
        "probe_targets = { \"203.0.113.1\" = \"10.3.0.1\" }\n"  // 14
        "[sites.cdn]\n"                                         // 15
        "cname = \"cdn.example.net.\"\n"                        // 16
        "probe_targets = { \"192.0.2.1\" = \"10.0.0.1\" }\n"    // 17
        "[sites.lon]\n"                                         // 18
        "addresses = [\"192.0.2.30\"]\n"                        // 19
        "probe = \"web\"\n"                                     // 20
        "probe_targets = \"10.0.0.1\"\n" +                      // 21
            kZone,
        "p.toml");
    CHECK(
        r.messages() ==
        std::vector<std::string>{
            "p.toml:7: sites.ams.probe_targets: '192.0.2.99' is not an address of site ams",
            "p.toml:7: sites.ams.probe_targets: '2001:db8::1' (the probe target of 192.0.2.10) is not an "
            "IPv4 "
            "address; a probe target has the family of the address it stands for",
            "p.toml:7: sites.ams.probe_targets: expected a string for 'x'",
            "p.toml:11: sites.nyc.probe_targets: '2001:DB8:20:0::1' is listed twice",
            "p.toml:11: sites.nyc.probe_targets: 'no-address' (the probe target of 198.51.100.10) is not an "
            "IP address",
            "p.toml:14: sites.sin.probe_targets: site sin has no probe, so nothing would probe these targets "
            "(add a probe or remove probe_targets)",
            "p.toml:17: sites.cdn.probe_targets: a cname site has no addresses to probe",
            "p.toml:21: sites.lon.probe_targets: expected a table of strings ({ \"KEY\" = \"VALUE\" })",
        });
}

TEST_CASE("config: [[alert]] webhooks and commands with their defaults") {
    auto r = read(kZone +
                  "[[alert]]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9000/dnsd-events\"\n"  // 4
                  "[[alert]]\ntype = \"exec\"\ncommand = \"logger -t dnsd \\\"$DNSD_MESSAGE\\\"\"\n"
                  "timeout = \"500ms\"\nretries = 0\n"
                  "[[alert]]\ntype = \"exec\"\ncommand = [\"/usr/local/bin/page\", \"--team\", \"dns\"]\n"
                  "[[alert]]\ntype = \"webhook\"\nurl = \"HTTPS://hooks.example.com/x?y=1\"\nretries = 10\n");
    INFO(r.messages().size());
    REQUIRE(r.messages().empty());
    const auto& a = r.config.alerts;
    REQUIRE(a.size() == 4);
    CHECK(a[0].kind == Alert::Kind::webhook);
    CHECK(a[0].url == "http://127.0.0.1:9000/dnsd-events");
    CHECK(a[0].timeout == Duration{5000});
    CHECK(a[0].retries == 3);
    CHECK(a[0].line == 4);
    CHECK(a[1].kind == Alert::Kind::exec);
    CHECK(a[1].command == std::vector<std::string>{"/bin/sh", "-c", "logger -t dnsd \"$DNSD_MESSAGE\""});
    CHECK(a[1].timeout == Duration{500});
    CHECK(a[1].retries == 0);
    CHECK(a[2].command == std::vector<std::string>{"/usr/local/bin/page", "--team", "dns"});
    CHECK(a[3].url == "HTTPS://hooks.example.com/x?y=1");
    CHECK(a[3].retries == 10);

    CHECK(read(kZone).config.alerts.empty());
}

TEST_CASE("config: every [[alert]] error with file, line and key") {
    auto r = read(kZone +                               // 1-3
                      "[[alert]]\n"                     // 4
                      "url = \"http://127.0.0.1/\"\n"   // 5
                      "[[alert]]\n"                     // 6
                      "type = \"email\"\n"              // 7
                      "[[alert]]\n"                     // 8
                      "type = \"webhook\"\n"            // 9
                      "[[alert]]\n"                     // 10
                      "type = \"webhook\"\n"            // 11
                      "url = \"ftp://example.com/\"\n"  // 12
                      "command = \"true\"\n"            // 13
                      "timeout = \"soon\"\n"            // 14
                      "retries = 11\n"                  // 15
                      "header = \"X-Token: 1\"\n"       // 16
                      "[[alert]]\n"                     // 17
                      "type = \"exec\"\n"               // 18
                      "url = \"http://127.0.0.1/\"\n"   // 19
                      "[[alert]]\n"                     // 20
                      "type = \"exec\"\n"               // 21
                      "command = []\n"                  // 22
                      "timeout = \"5ms\"\n"             // 23
                      "retries = -1\n"                  // 24
                      "[[alert]]\n"                     // 25
                      "type = 1\n",                     // 26
                  "a.toml");
    const std::vector<std::string> expected = {
        "a.toml:4: alert.type: missing (webhook or exec)",
        "a.toml:7: alert.type: 'email' is not an alert type (webhook or exec)",
        "a.toml:8: alert.url: missing (where events are POSTed, e.g. "
        "\"http://127.0.0.1:9000/dnsd-events\")",
        "a.toml:12: alert.url: 'ftp://example.com/' is not an http:// or https:// URL "
        "(\"http://host[:port][/path]\")",
        "a.toml:13: alert.command: only for exec alerts",
        "a.toml:14: alert.timeout: expected a duration such as \"500ms\", \"2s\" or \"1m\"",
        "a.toml:15: alert.retries: expected an integer from 0 to 10",
        "a.toml:16: alert.header: unknown key",
        "a.toml:17: alert.command: missing (the command an exec alert runs)",
        "a.toml:19: alert.url: only for webhook alerts",
        "a.toml:22: alert.command: expected a command line or a non-empty list (argv)",
        "a.toml:23: alert.timeout: must be at least 10ms",
        "a.toml:24: alert.retries: expected an integer from 0 to 10",
        "a.toml:26: alert.type: expected a string",
    };
    CHECK(r.messages() == expected);
    CHECK(r.config.alerts.empty());

    auto table = read(kZone + "[alert]\ntype = \"webhook\"\n", "t.toml");
    CHECK(table.messages() == std::vector<std::string>{"t.toml:4: alert: expected [[alert]] entries"});
    auto empty = read(kZone + "[[alert]]\ntype = \"exec\"\ncommand = \"\"\n", "e.toml");
    CHECK(empty.messages() ==
          std::vector<std::string>{
              "e.toml:6: alert.command: expected a command line or a non-empty list (argv)"});
}

TEST_CASE("config: webhook URLs") {
    auto url = [](std::string_view text) { return parse_url(text); };
    const auto plain = url("http://127.0.0.1:9000/dnsd-events");
    REQUIRE(plain);
    CHECK_FALSE(plain->tls);
    CHECK(plain->host == "127.0.0.1");
    CHECK(plain->port == 9000);
    CHECK_FALSE(plain->default_port);
    CHECK(plain->target == "/dnsd-events");

    const auto tls = url("HTTPS://Hooks.Example.com.");
    REQUIRE(tls);
    CHECK(tls->tls);
    CHECK(tls->host == "Hooks.Example.com.");
    CHECK(tls->port == 443);
    CHECK(tls->default_port);
    CHECK(tls->target == "/");

    const auto v6 = url("http://[2001:db8::1]:8080?a=b#frag");
    REQUIRE(v6);
    CHECK(v6->host == "2001:db8::1");
    CHECK(v6->port == 8080);
    CHECK(v6->target == "/?a=b");

    const auto v6_default = url("https://[::1]/p/q?x=1");
    REQUIRE(v6_default);
    CHECK(v6_default->host == "::1");
    CHECK(v6_default->port == 443);
    CHECK(v6_default->target == "/p/q?x=1");

    CHECK(url("http://alert_sink.internal/")->host == "alert_sink.internal");
    CHECK(url("http://localhost")->port == 80);

    const std::vector<std::string> bad_urls = {
        "",
        "127.0.0.1:9000",
        "ftp://example.com/",
        "http://",
        "http:///path",
        "http://:80/",
        "http://user:pw@example.com/",
        "http://example.com:0/",
        "http://example.com:65536/",
        "http://example.com:/",
        "http://example.com:80x/",
        "http://ex ample.com/",
        "http://example.com/a b",
        "http://[::1/",
        "http://[::1]x/",
        "http://[192.0.2.1]/",
        "http://::1/",
        "http://999.1.1.1/",
        "http://a..b/",
        "http://exa\nmple.com/",
        "http://exa$mple.com/",
    };
    for (const auto& bad : bad_urls) {
        INFO(bad);
        CHECK_FALSE(url(bad));
    }
}

TEST_CASE("config: examples/full.toml reads cleanly") {
    Diagnostics diags;
    const Config c = read_config(DNSD_SOURCE_DIR "/examples/full.toml", diags);
    CHECK(test::messages(diags).empty());
    REQUIRE(c.alerts.size() == 2);
    CHECK(c.alerts[0].kind == Alert::Kind::webhook);
    CHECK(c.alerts[1].kind == Alert::Kind::exec);
    CHECK(c.alerts[1].timeout == Duration{10000});
    REQUIRE(c.services.size() == 1);
    CHECK(c.services[0].stickiness == Service::Stickiness::client);
}

TEST_CASE("config: server.notify and server.query_log") {
    auto r = read(
        "[server]\nnotify = [\"192.0.2.53\", \"[2001:db8::53]:5300\", \"127.0.0.1:5300\"]\nquery_log = "
        "100\n" +
        kZone);
    INFO(r.messages().size());
    REQUIRE(r.messages().empty());
    REQUIRE(r.config.server.notify.size() == 3);
    CHECK(r.config.server.notify[0].str() == "192.0.2.53:53");  // the DNS port when none is given
    CHECK(r.config.server.notify[1].str() == "[2001:db8::53]:5300");
    CHECK(r.config.server.notify[2].str() == "127.0.0.1:5300");
    CHECK(r.config.server.query_log == 100);
    CHECK(read(kZone).config.server.query_log == 0);

    auto bad = read("[server]\nnotify = [\"ns2.example.test\", 5]\nquery_log = -1\n" + kZone, "d.toml");
    const auto m = bad.messages();
    REQUIRE(m.size() == 3);
    CHECK(m[1] ==
          "d.toml:2: server.notify: 'ns2.example.test' is not an address, with or without a port "
          "(\"192.0.2.53\", \"[::1]:5300\")");
    CHECK(m[0] == "d.toml:2: server.notify: expected a string");  // sorted by line, then message
    CHECK(m[2].rfind("d.toml:3: server.query_log: ", 0) == 0);
}

TEST_CASE("config: [cluster], and what check warns about") {
    const std::string control = "[control]\nlisten = \"127.0.0.1:8053\"\n";
    auto r =
        read(control + "[cluster]\npeers = [\"http://192.0.2.2:8053\", \"http://ns3.example.test:8053/\"]\n" +
             kZone);
    REQUIRE(r.config.cluster.enabled);
    CHECK(r.config.cluster.peers.size() == 2);
    CHECK(r.config.cluster.quorum == 2);  // a majority of three by default
    CHECK(r.config.cluster.interval == Duration{1000});
    const auto m = r.messages();
    REQUIRE(m.size() == 1);  // no token: a warning, not an error
    CHECK(m[0].find("warning: cluster: no token_file") != std::string::npos);
    CHECK_FALSE(r.diags.has_errors());

    auto bad = read(
        "[cluster]\npeers = [\"ftp://192.0.2.2:8053\", \"192.0.2.3\"]\nquorum = 4\ninterval = \"10ms\"\n"
        "token_file = \"/nonexistent/token\"\n" +
            kZone,
        "c.toml");
    const auto e = bad.messages();
    REQUIRE(e.size() == 6);
    CHECK(e[0] == "c.toml:1: cluster.peers: expected at least one peer's control URL");
    CHECK(e[1] ==
          "c.toml:1: cluster: needs [control]: peers read each other's verdicts from the control endpoint");
    CHECK(e[2] ==
          "c.toml:2: cluster.peers: 'ftp://192.0.2.2:8053' is not a peer's control URL "
          "(\"http://192.0.2.53:8053\", \"https://ns2.example.net:8053\")");
    CHECK(e[3] ==
          "c.toml:2: cluster.peers: '192.0.2.3' is not a peer's control URL (\"http://192.0.2.53:8053\", "
          "\"https://ns2.example.net:8053\")");
    CHECK(e[4] == "c.toml:4: cluster.interval: must be at least 100ms");
    CHECK(e[5] == "c.toml:5: cluster.token_file: cannot read /nonexistent/token");

    // A long TTL beside quick probes.
    auto ttl = read(
        "[sites.a]\naddresses = [\"192.0.2.1\"]\nprobe = { type = \"tcp\", port = 80 }\n"
        "[[service]]\nname = \"www.example.test.\"\nsites = [\"a\"]\nttl = 300\n" +
            kZone,
        "t.toml");
    const auto w = ttl.messages();
    REQUIRE(w.size() == 1);
    CHECK(w[0] ==
          "t.toml:4: warning: service.ttl: 300s is long beside a worst-case failover of 7s: resolvers may "
          "keep a "
          "failed site's addresses for up to 307s; a TTL of 60s or less (or twice the failover time) keeps "
          "failover "
          "quick");
}

TEST_CASE("config: a token_file that is not a regular file is refused") {
    // A FIFO would block the reader until something wrote to it, /dev/zero
    // would be read until memory ran out.
    const test::Fifo token("dnsd-config-test", "token");
    const auto& dir = token.dir();
    const std::string& fifo = token.path();
    auto r = read("[control]\ntoken_file = \"token\"\n" + kZone, (dir / "c.toml").string());
    CHECK(r.messages() ==
          std::vector<std::string>{(dir / "c.toml").string() + ":2: control.token_file: cannot read " + fifo +
                                   ": not a regular file"});

    auto d = read("[cluster]\npeers = [\"http://192.0.2.2:8053\"]\ntoken_file = \"/\"\n[control]\n" + kZone,
                  "c.toml");
    CHECK(d.messages() ==
          std::vector<std::string>{"c.toml:3: cluster.token_file: cannot read /: not a regular file"});
    if (std::filesystem::exists("/dev/zero")) {
        auto zero = read("[control]\ntoken_file = \"/dev/zero\"\n" + kZone, "c.toml");
        CHECK(zero.messages() ==
              std::vector<std::string>{
                  "c.toml:2: control.token_file: cannot read /dev/zero: not a regular file"});
    }
}

TEST_CASE("config: stickiness is \"client\" or absent") {
    // Lines 1-3 the zone, 4-7 the sites, 8-11 the service, 12 stickiness.
    auto service = [](const std::string& stickiness) {
        return read(kZone +
                        "[sites.a]\naddresses = [\"192.0.2.1\"]\n[sites.b]\naddresses = [\"192.0.2.2\"]\n"
                        "[[service]]\nname = \"www.example.test.\"\nsites = [\"a\", \"b\"]\n"
                        "policy = \"weighted\"\nstickiness = " +
                        stickiness + "\n",
                    "s.toml");
    };
    auto good = service("\"client\"");
    INFO(good.messages().size());
    REQUIRE(good.messages().empty());
    REQUIRE(good.config.services.size() == 1);
    CHECK(good.config.services[0].stickiness == Service::Stickiness::client);

    const std::pair<const char*, const char*> bad[] = {
        {"\"none\"", "s.toml:12: service.stickiness: 'none' is not a stickiness mode (client)"},
        {"\"Client\"", "s.toml:12: service.stickiness: 'Client' is not a stickiness mode (client)"},
        {"\"source\"", "s.toml:12: service.stickiness: 'source' is not a stickiness mode (client)"},
        {"true", "s.toml:12: service.stickiness: expected a string"},
    };
    for (const auto& [value, message] : bad) {
        auto r = service(value);
        CHECK(r.messages() == std::vector<std::string>{message});
        CHECK(r.config.services.empty());
    }

    // Nothing for it to key: a warning.
    auto idle =
        read(kZone +
                 "[sites.a]\naddresses = [\"192.0.2.1\"]\n"
                 "[[service]]\nname = \"www.example.test.\"\nsites = [\"a\"]\nstickiness = \"client\"\n",
             "s.toml");
    CHECK(idle.messages() ==
          std::vector<std::string>{"s.toml:6: warning: service.stickiness: has no effect: "
                                   "policy failover draws no site and there is no max_answers"});
    CHECK(idle.config.services.size() == 1);
}

TEST_CASE("config: findings on one line come in the order the values are read") {
    // Inline tables put many values on one line, where the checks that a
    // later step makes (the sites a service names, nearest's locations,
    // the fallback, duplicate names) must still read in place, and unknown
    // keys first.
    auto r = read(
        "service = [{ name = \"www.example.test.\", sites = [\"a\", \"nope\", \"b\", \"a\"], policy = "
        "\"nearest\", ttl = -1, fallback = \"x\", extra = 1 }, { name = \"WWW.example.test\", sites = \"b\", "
        "fallback = \"b\", policy = \"nearest\" }]\n"
        "[sites.a]\n"
        "addresses = [\"192.0.2.1\"]\n"
        "probe = { type = \"tcp\", port = 80, typo = 1, timeout = \"3s\" }\n"
        "[sites.b]\n"
        "location = { lat = 1, lon = 2 }\n"
        "cname = \"x.example.\"\n" +
            kZone,
        "o.toml");
    CHECK(r.messages() ==
          std::vector<std::string>{
              "o.toml:1: service.extra: unknown key",
              "o.toml:1: service.sites: no site named 'nope' ([sites.nope])",
              "o.toml:1: service.sites: 'a' is listed twice",
              "o.toml:1: service.policy: nearest needs a location for every site; sites.a has none",
              "o.toml:1: service.ttl: expected an integer from 0 to 86400",
              "o.toml:1: service.fallback: 'x' is neither \"all\", \"none\" nor one of the service's sites",
              "o.toml:1: service.name: service WWW.example.test. is already defined at line 1",
              "o.toml:4: sites.a.probe.typo: unknown key",
              "o.toml:4: sites.a.probe.timeout: must be below the interval (3000ms is not below 2000ms)",
          });
}

TEST_CASE("config: capacity and min_sites_up (SPEC 10)") {
    auto ok = read(
        "[[service]]\nname = \"www.example.test.\"\nsites = [\"a\", \"b\"]\nmin_sites_up = 2\n"
        "[sites.a]\naddresses = [\"192.0.2.1\"]\ncapacity = 5000\n"
        "[sites.b]\naddresses = [\"192.0.2.2\"]\n" +
            kZone,
        "g.toml");
    REQUIRE(ok.messages().empty());
    CHECK(ok.config.services[0].min_sites_up == 2);
    CHECK(ok.config.sites[0].capacity == 5000);
    CHECK(ok.config.sites[1].capacity == 0);
    auto bad = read(
        "[[service]]\nname = \"www.example.test.\"\nsites = [\"a\", \"b\"]\nmin_sites_up = 3\n"
        "[[service]]\nname = \"x.example.test.\"\nsites = [\"a\"]\nmin_sites_up = -1\n"
        "[sites.a]\naddresses = [\"192.0.2.1\"]\ncapacity = -5\n"
        "[sites.b]\naddresses = [\"192.0.2.2\"]\ncapacity = \"lots\"\n" +
            kZone,
        "g.toml");
    CHECK(bad.messages() == std::vector<std::string>{
                                "g.toml:4: service.min_sites_up: the service has only 2 sites",
                                "g.toml:8: service.min_sites_up: expected an integer from 0 to 32",
                                "g.toml:11: sites.a.capacity: expected an integer from 0 to 1000000000",
                                "g.toml:14: sites.b.capacity: expected an integer",
                            });
}

TEST_CASE("config: an address in two sites of one service is an error") {
    const std::string sites =
        "[sites.a]\naddresses = [\"192.0.2.1\", \"2001:db8::1\"]\n"    // 1-2
        "[sites.b]\naddresses = [\"192.0.2.2\", \"2001:DB8:0::1\"]\n"  // 3-4
        "[sites.c]\naddresses = [\"192.0.2.1\", \"192.0.2.2\"]\n";     // 5-6
    const std::string kWhy =
        "; an address belongs to one site of a service (\"all\" would answer it twice, and failing over "
        "between the two changes nothing)";
    // "all" answers a shared address twice; for failover it is the same
    // address either side: an error whatever the policy, at the later site.
    auto r = read(sites +
                      "[[service]]\nname = \"www.example.test.\"\npolicy = \"failover\"\n"
                      "sites = [\n  \"a\",\n  \"b\",\n  \"c\",\n]\n" +
                      kZone,
                  "s.toml");
    CHECK(r.messages() ==
          std::vector<std::string>{
              "s.toml:12: service.sites: '2001:db8::1' is in both sites.a and sites.b of service "
              "www.example.test." +
                  kWhy,
              "s.toml:13: service.sites: '192.0.2.1' is in both sites.a and sites.c of service "
              "www.example.test." +
                  kWhy,
              "s.toml:13: service.sites: '192.0.2.2' is in both sites.b and sites.c of service "
              "www.example.test." +
                  kWhy,
          });
    CHECK(r.config.services.empty());

    // Sites that share an address but no service are fine.
    auto apart = read(sites +
                      "[[service]]\nname = \"a.example.test.\"\nsites = [\"a\"]\npolicy = \"all\"\n"
                      "[[service]]\nname = \"b.example.test.\"\nsites = [\"b\"]\npolicy = \"all\"\n"
                      "[[service]]\nname = \"c.example.test.\"\nsites = [\"c\"]\n" +
                      kZone);
    CHECK(apart.messages().empty());
    CHECK(apart.config.services.size() == 3);

    // Within one site, an address listed twice is the list's own error.
    auto twice = read("[sites.a]\naddresses = [\"192.0.2.1\", \"192.0.2.1\"]\n" + kZone, "t.toml");
    CHECK(twice.messages() ==
          std::vector<std::string>{"t.toml:2: sites.a.addresses: '192.0.2.1' is listed twice"});
}

TEST_CASE("config: [control] on a unix: socket or with TLS; [cluster] ca_file and https:// peers") {
    auto r = read("[control]\nlisten = \"unix:run/control.sock\"\n" + kZone, "/etc/dnsd/dnsd.toml");
    REQUIRE(r.messages().empty());
    CHECK(r.config.control.unix_path == "/etc/dnsd/run/control.sock");  // relative to the config file
    CHECK(r.config.control.where() == "unix:/etc/dnsd/run/control.sock");

    auto peers = read(
        "[control]\nlisten = \"unix:/run/c.sock\"\n[cluster]\npeers = [\"https://192.0.2.2:8053\"]\n"
        "token_file = \"/nonexistent\"\nca_file = \"/nonexistent-ca\"\n" +
            kZone,
        "p.toml");
    const auto pm = peers.messages();
    REQUIRE(pm.size() == 3);
    CHECK(
        pm[0] ==
        "p.toml:3: warning: cluster: the control endpoint listens on a unix: socket: peers cannot read this "
        "instance's verdicts (they ask over TCP)");
    CHECK(pm[1] == "p.toml:5: cluster.token_file: cannot read /nonexistent");
    CHECK(pm[2] == "p.toml:6: cluster.ca_file: cannot read /nonexistent-ca");

    auto bad = read("[control]\nlisten = \"unix:\"\ntls_cert = \"c.pem\"\n" + kZone, "c.toml");
    const auto m = bad.messages();
    REQUIRE(m.size() == 2);
    CHECK(m[0] ==
          "c.toml:2: control.listen: 'unix:' is not an address with a port (\"127.0.0.1:8053\", "
          "\"[::1]:8053\") "
          "or \"unix:PATH\"");
    CHECK(m[1] == "c.toml:3: control.tls_cert: tls_cert and tls_key go together");

    auto unix_tls = read(
        "[control]\nlisten = \"unix:/run/c.sock\"\ntls_cert = \"/nonexistent.crt\"\n"
        "tls_key = \"/nonexistent.key\"\n" +
            kZone,
        "t.toml");
    const auto t = unix_tls.messages();
    REQUIRE(t.size() == 3);
    CHECK(
        t[0] ==
        "t.toml:3: control.tls_cert: TLS is for a TCP listener; a unix: socket is guarded by its file mode");
    CHECK(t[1] == "t.toml:3: control.tls_cert: cannot read /nonexistent.crt");
    CHECK(t[2] == "t.toml:3: control.tls_key: cannot read /nonexistent.key");
}

TEST_CASE("config: staying put (failback, damping, ttl_degraded) and its errors") {
    const std::string sites =
        "[probes.web]\ntype = \"http\"\ndamping = { half_life = \"10s\" }\n"  // 4-6
        "[sites.a]\naddresses = [\"192.0.2.1\"]\nprobe = \"web\"\n"           // 7-9
        "[sites.b]\naddresses = [\"192.0.2.2\"]\n";                           // 10-11
    auto r = read(kZone + sites +
                  "[[service]]\nname = \"www.example.test\"\nsites = [\"a\", \"b\"]\n"    // 12-14
                  "failback = \"30s\"\ndamping = true\nttl_degraded = 5\n"                // 15-17
                  "[[service]]\nname = \"api.example.test\"\nsites = [\"a\", \"b\"]\n"    // 18-20
                  "failback = \"manual\"\ndamping = { suppress = 3000, reuse = 1000 }\n"  // 21-22
                  "[[service]]\nname = \"ftp.example.test\"\nsites = [\"a\", \"b\"]\n");
    INFO(r.messages().size());
    REQUIRE(r.messages().empty());
    const auto& www = r.config.services[0];
    CHECK(www.failback == Duration{30000});
    CHECK_FALSE(www.failback_manual);
    CHECK(www.damping);
    CHECK_FALSE(www.damping_figures);
    CHECK(www.ttl_degraded == 5u);
    CHECK(www.stays_put());
    const auto& api = r.config.services[1];
    CHECK(api.failback_manual);
    REQUIRE(api.damping_figures);
    CHECK(api.damping_figures->suppress == 3000);
    CHECK(api.damping_figures->reuse == 1000);
    CHECK(api.damping_figures->penalty == 1000);  // the rest as RFC 2439
    CHECK(api.damping_figures->half_life == Duration{60000});
    REQUIRE(r.config.sites[0].probe->damping);
    CHECK(r.config.sites[0].probe->damping->half_life == Duration{10000});
    CHECK_FALSE(r.config.services[2].stays_put());
    CHECK(r.config.services[2].failback == Duration{0});

    auto bad = read(kZone + sites +
                    "[[service]]\nname = \"www.example.test\"\nsites = [\"a\", \"b\"]\n"  // 12-14
                    "failback = \"soon\"\n"                                               // 15
                    "damping = { reuse = 3000, half_life = \"1s\", typo = 1 }\n"          // 16
                    "ttl_degraded = -1\n"                                                 // 17
                    "[[service]]\nname = \"api.example.test\"\nsites = [\"a\", \"b\"]\n"  // 18-20
                    "damping = \"yes\"\n");                                               // 21
    const auto m = bad.messages();
    INFO(Catch::Detail::stringify(m));
    auto has = [&](const std::string& text) {
        return std::any_of(m.begin(), m.end(),
                           [&](const std::string& s) { return s.find(text) != std::string::npos; });
    };
    CHECK(
        has("/etc/dnsd/dnsd.toml:15: service.failback: expected a duration such as \"30s\", or \"manual\""));
    CHECK(has(
        "/etc/dnsd/dnsd.toml:16: service.damping.reuse: must be below suppress (3000 is not below 2000)"));
    CHECK(has("/etc/dnsd/dnsd.toml:16: service.damping.typo: unknown key"));
    CHECK(has("/etc/dnsd/dnsd.toml:17: service.ttl_degraded: expected an integer from 0 to 86400"));
    CHECK(has("/etc/dnsd/dnsd.toml:21: service.damping: expected true or false"));
}
