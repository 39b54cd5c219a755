#include <catch2/catch.hpp>

#include <vector>

#include "dnsd/core/name.hpp"
#include "dnsd/wire/message.hpp"
#include "dnsd/wire/types.hpp"
#include "zones/ldns.hpp"

using namespace dnsd;

TEST_CASE("message: a question built here is what ldns reads") {
    std::vector<std::uint8_t> out(512);
    const auto name = *name_from_text("Example.TEST.");
    const auto flags = static_cast<std::uint16_t>(wire::opcode::NOTIFY << 11 | wire::flag::AA);
    const std::size_t n = wire::build_question(out, 0x1234, flags, name, wire::type::SOA, wire::klass::IN);
    REQUIRE(n == 12 + name.size() + 4);
    ldns_pkt* pkt = nullptr;
    REQUIRE(ldns_wire2pkt(&pkt, out.data(), n) == LDNS_STATUS_OK);
    CHECK(ldns_pkt_id(pkt) == 0x1234);
    CHECK(ldns_pkt_get_opcode(pkt) == LDNS_PACKET_NOTIFY);
    CHECK(ldns_pkt_aa(pkt));
    CHECK_FALSE(ldns_pkt_qr(pkt));
    CHECK_FALSE(ldns_pkt_rd(pkt));
    REQUIRE(ldns_pkt_qdcount(pkt) == 1);
    CHECK(ldns_pkt_ancount(pkt) + ldns_pkt_nscount(pkt) + ldns_pkt_arcount(pkt) == 0);
    const ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
    char* owner = ldns_rdf2str(ldns_rr_owner(q));
    CHECK(std::string(owner) == "Example.TEST.");  // case kept
    free(owner);
    CHECK(ldns_rr_get_type(q) == LDNS_RR_TYPE_SOA);
    ldns_pkt_free(pkt);
}

TEST_CASE("message: names that are not wire names, and buffers too small, give nothing") {
    std::vector<std::uint8_t> out(512);
    CHECK(wire::build_question(out, 1, 0,
                               std::string_view("\x03"
                                                "abc",
                                                4),
                               1, 1) == 0);  // no root label
    CHECK(wire::build_question(out, 1, 0,
                               std::string_view("\x40"
                                                "x\0",
                                                3),
                               1, 1) == 0);                                          // label over 63
    CHECK(wire::build_question(out, 1, 0, std::string_view("\0\0", 2), 1, 1) == 0);  // bytes after the root
    CHECK(wire::build_question(out, 1, 0, "", 1, 1) == 0);
    std::vector<std::uint8_t> tiny(16);
    CHECK(wire::build_question(tiny, 1, 0, std::string_view("\0", 1), 1, 1) == 0);
    std::vector<std::uint8_t> exact(17);
    CHECK(wire::build_question(exact, 1, 0, std::string_view("\0", 1), 1, 1) == 17);  // the root
}

TEST_CASE("message: reply headers, and rcode names both ways") {
    const std::uint8_t reply[12] = {0xab, 0xcd, 0x80 | (4 << 3), 0x05, 0, 1, 0, 0, 0, 0, 0, 0};
    const auto h = wire::reply_header(reply);
    REQUIRE(h);
    CHECK(h->id == 0xabcd);
    CHECK(h->opcode == 4);
    CHECK(h->rcode == 5);
    const std::uint8_t query[12] = {0xab, 0xcd, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    CHECK_FALSE(wire::reply_header(query).has_value());
    CHECK_FALSE(wire::reply_header(std::span<const std::uint8_t>(reply, 11)).has_value());
    for (unsigned r = 0; r <= 10; ++r) {
        REQUIRE(wire::rcode_name(r));
        const auto parsed = wire::parse_rcode(wire::rcode_name(r));
        REQUIRE(parsed.has_value());
        CHECK(*parsed == r);
    }
    CHECK(std::string(wire::rcode_name(3)) == "NXDOMAIN");
    CHECK(wire::rcode_name(11) == nullptr);
    CHECK_FALSE(wire::parse_rcode("nxdomain").has_value());
    CHECK_FALSE(wire::parse_rcode("BADVERS").has_value());
}
