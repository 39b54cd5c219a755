#include <catch2/catch.hpp>

#include "dnsd/config/names.hpp"

using namespace dnsd::config;

TEST_CASE("config names: every value prints as a name that reads back as it") {
    using K = Probe::Kind;
    for (const auto kind : {K::http, K::https, K::tcp, K::dns, K::exec}) {
        INFO(to_string(kind));
        CHECK(parse_probe_kind(to_string(kind)) == kind);
    }
    using P = Service::Policy;
    for (const auto policy : {P::nearest, P::failover, P::weighted, P::all}) {
        INFO(to_string(policy));
        CHECK(parse_policy(to_string(policy)) == policy);
    }
    for (const auto kind : {Alert::Kind::webhook, Alert::Kind::exec}) {
        INFO(to_string(kind));
        CHECK(parse_alert_kind(to_string(kind)) == kind);
    }
    CHECK(parse_fallback(to_string(Service::Fallback::all)) == Service::Fallback::all);
    CHECK(parse_fallback(to_string(Service::Fallback::none)) == Service::Fallback::none);
    CHECK(parse_stickiness(to_string(Service::Stickiness::client)) == Service::Stickiness::client);
    CHECK(std::string(to_string(Probe::Kind::https)) == "https");
    CHECK(std::string(to_string(Service::Policy::nearest)) == "nearest");
    CHECK(std::string(to_string(Alert::Kind::webhook)) == "webhook");
}

TEST_CASE("config names: a fallback site prints but is never read by that name") {
    // In the file a fallback site is written as the site's own name: a
    // site called "site" must not turn into something else.
    CHECK(std::string(to_string(Service::Fallback::site)) == "site");
    CHECK_FALSE(parse_fallback("site"));
    // No stickiness is no key, not a value of it.
    CHECK(std::string(to_string(Service::Stickiness::none)) == "none");
    CHECK_FALSE(parse_stickiness("none"));
}

TEST_CASE("config names: other text, and other case, is no name") {
    CHECK_FALSE(parse_probe_kind("HTTP"));
    CHECK_FALSE(parse_probe_kind(""));
    CHECK_FALSE(parse_policy("closest"));
    CHECK_FALSE(parse_alert_kind("email"));
    CHECK_FALSE(parse_fallback("All"));
}

TEST_CASE("config names: the tables' sizes match their enums") {
    // A new enumerator without a name would print as "?" and never read.
    STATIC_REQUIRE(kProbeKinds.entries.size() == 5);
    STATIC_REQUIRE(kPolicies.entries.size() == 4);
    STATIC_REQUIRE(kFallbacks.entries.size() == 3);
    STATIC_REQUIRE(kAlertKinds.entries.size() == 2);
    STATIC_REQUIRE(kStickiness.entries.size() == 2);
    for (const auto& e : kProbeKinds.entries) CHECK(kProbeKinds.name(e.value) == e.name);
}

TEST_CASE("config names: the messages list the names from the table") {
    CHECK(kProbeKinds.list(" or ") == "http, https, tcp, dns or exec");
    CHECK(kPolicies.list(" or ") == "nearest, failover, weighted or all");
    CHECK(kAlertKinds.list(" or ") == "webhook or exec");
    CHECK(kFallbacks.list(", ", true) == "\"all\", \"none\"");  // "site" is no keyword
    CHECK(kQueryTypes.list(", ") == "A, AAAA, NS, SOA, MX, TXT");
    using K = Probe::Kind;
    CHECK(kProbeKinds.list({K::dns, K::http, K::tcp, K::https}, " and ") == "http, https, tcp and dns");
    CHECK(kProbeKinds.list({K::https}, " and ") == "https");
    CHECK(kQueryTypes.parse("AAAA") == 28);
    CHECK(kRcodes.parse("NXDOMAIN") == 3u);
    CHECK_FALSE(kRcodes.parse("nxdomain"));
}

TEST_CASE("config names: join") {
    CHECK(join({}, " or ").empty());
    CHECK(join({"a"}, " or ") == "a");
    CHECK(join({"a", "b"}, " or ") == "a or b");
    CHECK(join({"a", "b", "c"}, " and ") == "a, b and c");
}
