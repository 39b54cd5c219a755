#include <catch2/catch.hpp>

#include <cstring>

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

TEST_CASE("lower8 lower-cases the letters of a word and nothing else") {
    // Every byte value in every position, beside neighbours that are
    // letters, non-letters and bytes with the top bit set.
    for (unsigned b = 0; b < 256; ++b)
        for (unsigned pos = 0; pos < 8; ++pos)
            for (std::uint8_t fill : {std::uint8_t{'Q'}, std::uint8_t{'q'}, std::uint8_t{0x40},
                                      std::uint8_t{0x5B}, std::uint8_t{0xC1}, std::uint8_t{0xFF}}) {
                std::uint8_t in[8], want[8];
                for (unsigned i = 0; i < 8; ++i) in[i] = i == pos ? static_cast<std::uint8_t>(b) : fill;
                for (unsigned i = 0; i < 8; ++i) want[i] = lower(in[i]);
                std::uint64_t w;
                std::memcpy(&w, in, 8);
                w = lower8(w);
                std::uint8_t got[8];
                std::memcpy(got, &w, 8);
                INFO("byte " << b << " at " << pos << " beside " << int(fill));
                REQUIRE(std::memcmp(got, want, 8) == 0);
            }
}
