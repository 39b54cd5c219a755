// toml++ as dnsd_config builds it (pkg-config's flags, which the test
// target is not given): the shared library, not a header-only copy of it.
#define TOML_HEADER_ONLY 0
#define TOML_SHARED_LIB 1

#include <catch2/catch.hpp>

#include "tests/messages.hpp"

#include "dnsd/config/table_reader.hpp"
#include "dnsd/core/name.hpp"

using namespace dnsd;
using namespace dnsd::config;

namespace {
// A parsed table and the report its readers write to; readers are made in
// a scope of their own, so that they have reported their unknown keys when
// the test reads the messages.
struct Table {
    explicit Table(std::string_view text) : root(toml::parse(text, std::string_view("t.toml"))) {}
    std::vector<std::string> messages() const { return test::messages(report.diagnostics()); }
    toml::table root;
    Report report{"t.toml"};
};
using Messages = std::vector<std::string>;
}  // namespace

TEST_CASE("config table reader: the keys no getter asked for are unknown keys") {
    Table t("a = 1\nb = \"x\"\nzz = 2\nc = true\n");
    {
        TableReader r(t.root, "server", t.report);
        unsigned a = 0;
        std::string b;
        bool c = false;
        CHECK(r.integer("a", 0, 10, a) == Got::value);
        CHECK(r.string("b", b) == Got::value);
        CHECK(r.boolean("c", c) == Got::value);
        CHECK(r.string("absent", b) == Got::absent);
        CHECK((a == 1 && b == "x" && c));
    }
    CHECK(t.messages() == Messages{"t.toml:3: server.zz: unknown key"});
}

TEST_CASE("config table reader: a key asked for is known, refused or only looked at") {
    Table t("[s]\na = -1\nb = 5\nc = 1\nd = 2\ne = 3\n");
    {
        TableReader r(*t.root["s"].as_table(), "s", t.report);
        unsigned a = 7;
        std::string b = "kept";
        CHECK(r.integer("a", 0, 10, a) == Got::bad_value);
        CHECK(r.string("b", b) == Got::wrong_type);
        CHECK((a == 7 && b == "kept"));  // refused values leave the field alone
        CHECK(r.get("c"));
        CHECK(r.has("d"));  // has() is no asking
        CHECK(r.require("e", "what e is"));
        CHECK_FALSE(r.require("f", "what f is"));
    }
    CHECK(t.messages() == Messages{"t.toml:1: s.f: missing (what f is)",
                                   "t.toml:2: s.a: expected an integer from 0 to 10",
                                   "t.toml:3: s.b: expected a string", "t.toml:5: s.d: unknown key",
                                   "t.toml:6: s.e: unknown key"});
}

TEST_CASE("config table reader: unknown keys come first among the findings of their line") {
    // An inline table has all its keys on one line: the unknown keys are
    // found last but read first, as the operator has always seen them.
    Table t("p = { timeout = \"5ms\", typo = 1, another = 2 }\n");
    {
        TableReader outer(t.root, "sites.a", t.report);
        const auto* table = outer.table("p", "expected a table");
        REQUIRE(table);
        TableReader inner(*table, outer.key("p"), t.report);
        Duration d{};
        CHECK(inner.duration("timeout", Duration{10}, d) == Got::bad_value);
    }
    CHECK(t.messages() == Messages{"t.toml:1: sites.a.p.another: unknown key",
                                   "t.toml:1: sites.a.p.typo: unknown key",
                                   "t.toml:1: sites.a.p.timeout: must be at least 10ms"});
}

TEST_CASE("config table reader: quiet drops what is wrong with values, not unknown keys") {
    Table t("type = \"nope\"\nport = \"x\"\ntypo = 1\n");
    {
        TableReader r(t.root, "probes.web", t.report);
        Probe::Kind kind = Probe::Kind::tcp;
        CHECK(r.enum_value("type", kProbeKinds, kind) == Got::bad_value);
        r.quiet();
        unsigned port = 0;
        CHECK(r.integer("port", 1, 65535, port) == Got::wrong_type);
        CHECK_FALSE(r.require("path", "a path"));
    }
    CHECK(t.messages() ==
          Messages{"t.toml:1: probes.web.type: 'nope' is not a probe type (http, https, tcp, dns or exec)",
                   "t.toml:3: probes.web.typo: unknown key"});
}

TEST_CASE("config table reader: lists") {
    Table t(
        "l = [\"127.0.0.1:53\", 5, \"bad\", \"127.0.0.1:53\",\n"
        "     \"[::1]:53\"]\n"
        "s = \"192.0.2.1\"\n"
        "n = 5\n");
    {
        TableReader r(t.root, "", t.report);
        std::vector<Endpoint> endpoints;
        CHECK(r.list("l", endpoints, Endpoint::parse, is_not("an endpoint"), true) == Got::bad_value);
        REQUIRE(endpoints.size() == 2);  // what was taken, in order
        CHECK(endpoints[1].str() == "[::1]:53");
        std::vector<Address> one;
        CHECK(r.list("s", one, Address::parse, is_not("an address")) == Got::value);
        CHECK(one.size() == 1);
        std::vector<Address> none{*Address::parse("192.0.2.9")};
        CHECK(r.list("n", none, Address::parse, is_not("an address")) == Got::value);
        CHECK(none.empty());
    }
    CHECK(t.messages() == Messages{"t.toml:1: l: expected a string", "t.toml:1: l: 'bad' is not an endpoint",
                                   "t.toml:1: l: '127.0.0.1:53' is listed twice",
                                   "t.toml:4: n: expected a list of strings"});
}

TEST_CASE("config table reader: commands") {
    Table t("script = \"exit 0\"\nargv = [\"/bin/true\", \"-x\"]\nempty = \"\"\nnone = []\n");
    TableReader r(t.root, "", t.report);
    std::vector<std::string> argv;
    CHECK(r.command("script", false, argv) == Got::value);
    CHECK(argv == std::vector<std::string>{"/bin/sh", "-c", "exit 0"});
    CHECK(r.command("argv", false, argv) == Got::value);
    CHECK(argv == std::vector<std::string>{"/bin/true", "-x"});
    CHECK(r.command("empty", false, argv) == Got::bad_value);
    CHECK(r.command("empty", true, argv) == Got::value);
    CHECK(argv == std::vector<std::string>{"/bin/sh", "-c", ""});
    CHECK(r.command("none", true, argv) == Got::bad_value);
    CHECK(t.messages() == Messages{"t.toml:3: empty: expected a command line or a non-empty list (argv)",
                                   "t.toml:4: none: expected a command line or a non-empty list (argv)"});
}

TEST_CASE("config table reader: absolute names") {
    const auto www = name_from_text("www.example.test.");
    CHECK(absolute_name("www.example.test", false) == www);  // the final dot is implied
    CHECK(absolute_name("www.example.test.", false) == www);
    CHECK(absolute_name(".", true) == std::string(1, '\0'));
    CHECK_FALSE(absolute_name(".", false));
    CHECK_FALSE(absolute_name("", true));
    CHECK_FALSE(absolute_name("a..b", true));

    Table t("n = \"a..b\"\nm = \"Example.Test\"\n");
    TableReader r(t.root, "zone", t.report);
    std::string wire;
    CHECK(r.domain_name("n", true, wire) == Got::bad_value);
    CHECK(r.domain_name("m", false, wire) == Got::value);
    CHECK(name_to_text(wire) == "Example.Test.");
    CHECK(t.messages() == Messages{"t.toml:1: zone.n: 'a..b' is not a domain name"});
}

TEST_CASE("config table reader: numbers, durations, locations, tables") {
    Table t(
        "codes = [200, 700, \"x\"]\n"
        "bad = []\n"
        "d = \"2s\"\n"
        "e = 5\n"
        "loc = { lat = 52.5, lon = 13 }\n"
        "far = { lat = 91, lon = 0 }\n"
        "zone = 5\n"
        "[[service]]\n");
    {
        TableReader r(t.root, "", t.report);
        std::vector<unsigned> codes;
        CHECK(r.integers("codes", 100, 599, codes) == Got::value);
        CHECK(codes == std::vector<unsigned>{200});
        CHECK(r.integers("bad", 100, 599, codes) == Got::bad_value);
        Duration d{};
        CHECK(r.duration("d", Duration{100}, d) == Got::value);
        CHECK(d == Duration{2000});
        CHECK(r.duration("e", Duration{100}, d) == Got::wrong_type);
        std::optional<Location> loc;
        CHECK(r.location("loc", loc) == Got::value);
        CHECK((loc && loc->lat == 52.5 && loc->lon == 13));
        Location far;
        CHECK(r.location("far", far) == Got::bad_value);
        CHECK_FALSE(r.tables("zone"));
        REQUIRE(r.tables("service"));
        CHECK(r.tables("service")->size() == 1);
    }
    CHECK(t.messages() == Messages{"t.toml:1: codes: expected an integer from 100 to 599",
                                   "t.toml:1: codes: expected an integer",
                                   "t.toml:2: bad: expected an integer or a non-empty list of integers",
                                   "t.toml:4: e: expected a duration such as \"500ms\", \"2s\" or \"1m\"",
                                   "t.toml:6: far: lat must be within -90..90 and lon within -180..180",
                                   "t.toml:7: zone: expected [[zone]] entries"});
}
