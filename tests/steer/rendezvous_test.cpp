#include <catch2/catch.hpp>

#include <cstdint>

#include "dnsd/steer/rendezvous.hpp"

using namespace dnsd;
using namespace dnsd::steer;

TEST_CASE("rendezvous: keys are fixed functions of what they key") {
    // Pinned: every instance, and every version of dnsd in one rolling
    // upgrade, must rank a client's sites alike. A change here moves
    // clients (SPEC 9). The values were worked out apart, in Python.
    CHECK(key_of("ams") == 0x3b46f34e2ba7605bull);
    CHECK(key_of(*Address::parse("192.0.2.1")) == 0x5a9150d9dddab8ccull);
    CHECK(key_of(*Prefix::parse("198.51.100.0/24")) == 0x21a316628e9d0695ull);
    CHECK(key_of(*Prefix::parse("2001:db8:1:200::/56")) == 0xa83d41674d2bb47eull);
    CHECK(rank(1, 2) == 0x0b5181c509f8d8ceull);
}

TEST_CASE("rendezvous: a prefix's key depends on its family, length and bits") {
    const auto a = key_of(*Prefix::parse("10.1.2.0/24"));
    CHECK(a == key_of(Prefix::of(*Address::parse("10.1.2.200"), 24)));
    CHECK(a != key_of(*Prefix::parse("10.1.3.0/24")));
    CHECK(a != key_of(*Prefix::parse("10.1.2.0/25")));
    CHECK(key_of(*Prefix::parse("0.0.0.0/0")) != key_of(*Prefix::parse("::/0")));
    CHECK(key_of("ams") != key_of("AMS"));
    CHECK(key_of(*Address::parse("::")) != key_of(*Address::parse("0.0.0.0")));
}

TEST_CASE("rendezvous: weighted scores order as the weights") {
    // the same rank: the heavier wins; u in (0, 1): finite and positive
    for (std::uint64_t r : {0ull, 1ull, 0x8000000000000000ull, ~0ull}) {
        INFO(r);
        CHECK(weighted_score(r, 200) > weighted_score(r, 100));
        CHECK(weighted_score(r, 1) > 0);
        CHECK(weighted_score(r, 1) < 1e300);
    }
}
