#include <catch2/catch.hpp>

#include "tests/messages.hpp"

#include "dnsd/config/report.hpp"

using namespace dnsd;
using namespace dnsd::config;

namespace {
std::vector<std::string> messages(const Report& report) {
    return test::messages(report.diagnostics());
}
}  // namespace

TEST_CASE("config report: a finding at a spot reads as if made when the spot was taken") {
    Report report("r.toml");
    report.error(3, "a", "first");
    const Spot spot = report.spot(3);
    report.error(3, "c", "third");
    report.error(spot, "b", "second, made last");
    CHECK(messages(report) == std::vector<std::string>{"r.toml:3: a: first", "r.toml:3: b: second, made last",
                                                       "r.toml:3: c: third"});
}

TEST_CASE("config report: spots keep their order whatever order they are filled in") {
    // As a table reader inside another fills its spot before the outer one.
    Report report("r.toml");
    const Spot outer = report.spot(7);
    report.error(7, "x", "between");
    const Spot inner = report.spot(7);
    report.error(7, "y", "after");
    report.error(inner, "inner", "one");
    report.error(inner, "inner", "two");
    report.error(outer, "outer", "one");
    CHECK(messages(report) == std::vector<std::string>{"r.toml:7: outer: one", "r.toml:7: x: between",
                                                       "r.toml:7: inner: one", "r.toml:7: inner: two",
                                                       "r.toml:7: y: after"});
}

TEST_CASE("config report: lines come first, whole-file findings last") {
    Report report("r.toml");
    const Spot late = report.spot(9);
    report.error(0, "zone", "whole file");
    report.warning(5, "service.ttl", "long");
    report.error(2, "server.threads", "bad");
    report.error(late, "cluster.quorum", "too many");
    CHECK(messages(report) ==
          std::vector<std::string>{"r.toml:2: server.threads: bad", "r.toml:5: warning: service.ttl: long",
                                   "r.toml:9: cluster.quorum: too many", "r.toml: zone: whole file"});
    CHECK(report.diagnostics().has_errors());
    CHECK(Report("e.toml").diagnostics().size() == 0);
}
