#include <catch2/catch.hpp>

#include "dnsd/core/address.hpp"

using dnsd::Address;
using dnsd::Endpoint;
using dnsd::Prefix;

TEST_CASE("addresses parse and print") {
    REQUIRE(Address::parse("192.0.2.1")->str() == "192.0.2.1");
    REQUIRE(Address::parse("2001:db8::1")->str() == "2001:db8::1");
    CHECK_FALSE(Address::parse("192.0.2"));
    CHECK_FALSE(Address::parse("localhost"));
    CHECK_FALSE(Address::parse(""));
}

TEST_CASE("prefixes match by their bits and refuse host bits") {
    const auto p = Prefix::parse("10.20.0.0/16");
    REQUIRE(p);
    CHECK(p->contains(*Address::parse("10.20.255.1")));
    CHECK_FALSE(p->contains(*Address::parse("10.21.0.1")));
    CHECK_FALSE(p->contains(*Address::parse("::1")));
    CHECK(Prefix::parse("10.20.0.0/12") == std::nullopt);  // host bits set
    CHECK(Prefix::parse("10.0.0.0/33") == std::nullopt);
    CHECK(Prefix::parse("::1")->length == 128);
    CHECK(Prefix::parse("2001:db8::/20") == std::nullopt);  // 0x0db8 has bits past 20 set
    CHECK(Prefix::parse("2001:db8::/32")->contains(*Address::parse("2001:db8:ffff::1")));
    CHECK(Prefix::parse("0.0.0.0/0")->contains(*Address::parse("203.0.113.9")));
}

TEST_CASE("the prefix of an address clears the bits past its length") {
    CHECK(Prefix::of(*Address::parse("198.51.100.77"), 24) == Prefix::parse("198.51.100.0/24"));
    CHECK(Prefix::of(*Address::parse("198.51.100.77"), 20) == Prefix::parse("198.51.96.0/20"));
    CHECK(Prefix::of(*Address::parse("2001:db8:aaaa:bbcc::1"), 56) ==
          Prefix::parse("2001:db8:aaaa:bb00::/56"));
    CHECK(Prefix::of(*Address::parse("192.0.2.1"), 0) == Prefix::parse("0.0.0.0/0"));
    CHECK(Prefix::of(*Address::parse("192.0.2.1"), 40) == Prefix::parse("192.0.2.1/32"));  // at most 32
}

TEST_CASE("endpoints need a port and brackets for IPv6") {
    CHECK(Endpoint::parse("127.0.0.1:5353")->port == 5353);
    CHECK(Endpoint::parse("[::1]:53")->str() == "[::1]:53");
    CHECK_FALSE(Endpoint::parse("::1:53"));
    CHECK_FALSE(Endpoint::parse("127.0.0.1"));
    CHECK_FALSE(Endpoint::parse("127.0.0.1:65536"));
    CHECK_FALSE(Endpoint::parse("127.0.0.1:"));
}
