#include <catch2/catch.hpp>

#include "dnsd/core/name.hpp"

using namespace dnsd;

TEST_CASE("names convert between text and wire") {
    const std::string com(
        "\x07"
        "example\x03"
        "com\x00",
        13);
    CHECK(*name_from_text("example.com.") == com);
    CHECK(*name_from_text("example", std::string_view("\x03"
                                                      "com\x00",
                                                      5)) == com);
    CHECK(*name_from_text("@", com) == com);
    CHECK(name_to_text(com) == "example.com.");
    CHECK(name_to_text(*name_from_text("a\\.b.c.")) == "a\\.b.c.");
    CHECK(name_to_text(*name_from_text("\\065.")) == "A.");
    CHECK_FALSE(name_from_text("a..b."));
    CHECK_FALSE(name_from_text("relative"));
    CHECK_FALSE(name_from_text(std::string(64, 'a') + "."));
    CHECK_FALSE(name_from_text("\\25"));
}

TEST_CASE("subdomain tests respect label boundaries and case") {
    const auto com = *name_from_text("Example.COM.");
    CHECK(name_is_subdomain(*name_from_text("www.example.com."), com));
    CHECK(name_is_subdomain(com, *name_from_text("example.com.")));
    CHECK_FALSE(name_is_subdomain(*name_from_text("xexample.com."), *name_from_text("example.com.")));
    CHECK(name_label_count(com) == 2);
    CHECK(name_lower(com) == *name_from_text("example.com."));
}
