#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "dnsd/server/state_file.hpp"

using namespace dnsd;
using server::StateFile;

namespace {

std::string temp_path(const char* name) {
    return std::string("/tmp/dnsd-state-file-test-") + std::to_string(::getpid()) + "-" + name;
}

void write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("state file: what is written is read back") {
    StateFile s;
    s.health.overrides["ams"] = {health::Override::drain, 1'900'000'000};
    s.health.overrides["nyc"] = {health::Override::down, 0};
    s.health.addresses["ams/192.0.2.10"] = {false, 1'700'000'000};
    s.health.addresses["nyc/2001:db8::1"] = {true, 1'700'000'100};
    s.serials["gslb.example.com."] = {2026120701, 0x0123456789abcdefull};
    const std::string path = temp_path("round-trip");
    std::string error;
    REQUIRE(server::write_state_file(path, s, error));
    Diagnostics diags;
    const StateFile back = server::read_state_file(path, diags);
    std::remove(path.c_str());
    CHECK(diags.size() == 0);
    REQUIRE(back.health.overrides.size() == 2);
    CHECK(back.health.overrides.at("ams").state == health::Override::drain);
    CHECK(back.health.overrides.at("ams").until == 1'900'000'000);
    CHECK(back.health.overrides.at("nyc").state == health::Override::down);
    CHECK(back.health.overrides.at("nyc").until == 0);
    REQUIRE(back.health.addresses.size() == 2);
    CHECK_FALSE(back.health.addresses.at("ams/192.0.2.10").up);
    CHECK(back.health.addresses.at("ams/192.0.2.10").since == 1'700'000'000);
    CHECK(back.health.addresses.at("nyc/2001:db8::1").up);
    REQUIRE(back.serials.size() == 1);
    CHECK(back.serials.at("gslb.example.com.").serial == 2026120701);
    CHECK(back.serials.at("gslb.example.com.").digest == 0x0123456789abcdefull);
    // A plain override is written as its name alone, as earlier versions did.
    CHECK(server::state_file_text(s).find(R"("nyc":"down")") != std::string::npos);
}

TEST_CASE("state file: missing, broken and stale files are warnings, never errors") {
    Diagnostics diags;
    const auto missing = server::read_state_file(temp_path("missing"), diags);
    CHECK(diags.size() == 0);
    CHECK(missing.health.overrides.empty());

    const std::string path = temp_path("broken");
    write(path, "{not json");
    const auto broken = server::read_state_file(path, diags);
    REQUIRE(diags.size() == 1);
    CHECK(diags.items()[0].str().starts_with(path + ": warning: state file is not valid JSON"));
    CHECK(broken.serials.empty());

    write(path, R"({"overrides": {"a": "sideways", "b": {"state": "up", "until": 5}, "c": "auto"},
                    "addresses": {"a/192.0.2.1": {"up": "yes"}, "b/192.0.2.2": {"up": false}},
                    "serials": {"x.": {"serial": "1"}}})");
    Diagnostics stale;
    const auto partly = server::read_state_file(path, stale);
    std::remove(path.c_str());
    REQUIRE(stale.size() == 1);
    CHECK(stale.items()[0].str() == path + ": warning: override 'sideways' for site a ignored");
    CHECK_FALSE(stale.has_errors());
    REQUIRE(partly.health.overrides.size() == 1);  // "auto" is no override
    CHECK(partly.health.overrides.at("b").until == 5);
    REQUIRE(partly.health.addresses.size() == 1);
    CHECK_FALSE(partly.health.addresses.at("b/192.0.2.2").up);
    CHECK(partly.serials.empty());
}

TEST_CASE("state file: a write that cannot be done says why and leaves nothing behind") {
    StateFile s;
    std::string error;
    CHECK_FALSE(server::write_state_file("/nonexistent-dir/state.json", s, error));
    CHECK(error == "No such file or directory");
}
