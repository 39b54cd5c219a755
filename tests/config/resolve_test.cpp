#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "tests/messages.hpp"

#include "dnsd/config/draft.hpp"

using namespace dnsd;
using namespace dnsd::config;

TEST_CASE("config resolve: paths are relative to the config file's directory") {
    CHECK(resolve_path("/etc/dnsd/dnsd.toml", "zones/a.zone") == "/etc/dnsd/zones/a.zone");
    CHECK(resolve_path("/etc/dnsd/dnsd.toml", "/srv/a.zone") == "/srv/a.zone");
    CHECK(resolve_path("/etc/dnsd/dnsd.toml", "../lib/./x/../geo.mmdb") == "/etc/lib/geo.mmdb");
    CHECK(resolve_path("/srv//a/../dnsd.toml", "/var//x") == "/var/x");  // normal, even when absolute
    CHECK(resolve_path("conf/dnsd.toml", "token") == "conf/token");
    CHECK(resolve_path("dnsd.toml", "token") == "token");  // in the working directory
}

TEST_CASE("config resolve: token files") {
    const auto dir =
        std::filesystem::temp_directory_path() / ("dnsd-resolve-test-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto write = [&](const char* name, const char* text) {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    };
    const auto good = read_token(write("good", "0123456789abcdef \r\nsecond line\n"));
    CHECK(good.error.empty());
    CHECK(good.token == "0123456789abcdef");  // the first line, trailing blanks and CR off
    const auto short_file = write("short", "0123456789\n");
    CHECK(read_token(short_file).error == "the token in " + short_file + " is shorter than 16 characters");
    const auto empty_file = write("empty", "");
    CHECK(read_token(empty_file).error == "cannot read " + empty_file);
    CHECK(read_token((dir / "missing").string()).error == "cannot read " + (dir / "missing").string());
    CHECK(read_token(dir.string()).error == "cannot read " + dir.string() + ": not a regular file");
    std::filesystem::remove_all(dir);
}

TEST_CASE("config resolve: a draft's paths, tokens and user") {
    Report report("/etc/dnsd/dnsd.toml");
    Draft d;
    d.config.server.state_file = "state.json";
    d.config.geo.databases = {"geo/a.mmdb", "/srv/b.mmdb"};
    d.zones.push_back({});
    d.zones[0].zone.file = "zones/x.zone";
    d.zones.push_back({});  // a zone whose file was refused stays without one
    d.config.cluster.token_file = "missing-token";
    d.cluster_token_file = report.spot(4);
    d.config.server.user = "no-such-user-dnsd-test";
    d.user = report.spot(2);
    resolve(d, report);
    CHECK(d.config.server.state_file == "/etc/dnsd/state.json");
    CHECK(d.config.geo.databases == std::vector<std::string>{"/etc/dnsd/geo/a.mmdb", "/srv/b.mmdb"});
    CHECK(d.zones[0].zone.file == "/etc/dnsd/zones/x.zone");
    CHECK(d.zones[1].zone.file.empty());
    CHECK(d.config.cluster.token_file == "/etc/dnsd/missing-token");
    CHECK(d.config.cluster.token.empty());
    // Kept, with a warning: `check` may run on another machine than `run`.
    CHECK(d.config.server.user == "no-such-user-dnsd-test");
    CHECK_FALSE(d.config.server.user_known);
    CHECK(d.config.server.user_line == 2);
    CHECK(test::messages(report.diagnostics()) ==
          std::vector<std::string>{
              "/etc/dnsd/dnsd.toml:2: warning: server.user: no user named 'no-such-user-dnsd-test' on this "
              "machine (dnsd run will not start on a machine without it)",
              "/etc/dnsd/dnsd.toml:4: cluster.token_file: cannot read /etc/dnsd/missing-token"});

    Report quiet("/etc/dnsd/dnsd.toml");
    Draft none;  // nothing given: nothing resolved, nothing read
    none.config.control.token_file = "";
    resolve(none, quiet);
    CHECK(none.config.server.state_file.empty());
    CHECK(quiet.diagnostics().size() == 0);
}
