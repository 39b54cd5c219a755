// What a site's load URL may answer (SPEC 10): a number or
// {"utilization": x} in 0..1; anything else is unreadable.

#include <catch2/catch.hpp>

#include "dnsd/server/loads.hpp"

using dnsd::server::parse_load;

TEST_CASE("loads: a plain number or {\"utilization\": x}, in 0..1") {
    double v = -1;
    std::string error;
    CHECK(parse_load("0.91", v, error));
    CHECK(v == Approx(0.91));
    CHECK(parse_load(" 1\n", v, error));
    CHECK(v == 1);
    CHECK(parse_load("0", v, error));
    CHECK(v == 0);
    CHECK(parse_load(R"({"utilization": 0.5, "other": "x"})", v, error));
    CHECK(v == Approx(0.5));
    CHECK(parse_load(R"({"utilization": 1})", v, error));
    CHECK(v == 1);
}

TEST_CASE("loads: anything else is unreadable, and says why") {
    double v = 0.25;
    std::string error;
    for (const char* body : {"", "high", "0.5x", "{}", R"({"utilization": "0.5"})", "{not json", "[0.5]"}) {
        CHECK_FALSE(parse_load(body, v, error));
        CHECK(error.find("not a load") != std::string::npos);
    }
    for (const char* body : {"1.01", "-0.1", R"({"utilization": 7})", "nan", "inf"}) {
        error.clear();
        CHECK_FALSE(parse_load(body, v, error));
        CHECK_FALSE(error.empty());
    }
    CHECK(v == 0.25);  // untouched
}
