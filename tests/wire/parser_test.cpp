#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "dnsd/wire/parser.hpp"
#include "packet.hpp"

using namespace dnsd;
using namespace dnsd::wire;
using dnsd::test::Packet;

namespace {
Verdict parse(const Packet& p, Query& q) {
    return parse_query({p.bytes.data(), p.bytes.size()}, q);
}
}  // namespace

TEST_CASE("a plain query parses with its name lower-cased beside the original") {
    Query q;
    REQUIRE(parse(test::make_query("WwW.Example.COM.", 1), q) == Verdict::ok);
    CHECK(q.id == 0x1234);
    CHECK(q.qtype == 1);
    CHECK(q.qclass == 1);
    CHECK(q.qname_labels == 3);
    CHECK(q.qname_size == 17);
    CHECK(std::string(reinterpret_cast<char*>(q.qname_lower), q.qname_size) ==
          *name_from_text("www.example.com."));
    CHECK(q.qname_offsets[1] == 4);
    CHECK(q.qname_offsets[3] == 16);
    CHECK_FALSE(q.has_edns);
}

TEST_CASE("EDNS fields and options are read") {
    Query q;
    std::string opts = std::string("\x00\x03\x00\x00", 4)                                  // NSID
                       + std::string("\x00\x08\x00\x07\x00\x01\x18\x00\xc0\x00\x02", 11);  // ECS 192.0.2/24
    auto p = test::make_query("example.com.", 28, 1, true, 4096, opts);
    REQUIRE(parse(p, q) == Verdict::ok);
    CHECK(q.has_edns);
    CHECK(q.edns_payload == 4096);
    CHECK(q.nsid);
    CHECK(q.has_ecs);
    CHECK(q.ecs_length == 7);
}

TEST_CASE("packets too broken to answer are dropped") {
    Query q;
    Packet empty;
    CHECK(parse(empty, q) == Verdict::drop);
    Packet short_header;
    short_header.u16(1).u16(0).u16(1);
    CHECK(parse(short_header, q) == Verdict::drop);
    Packet response;
    response.header(1, 0x8000, 1, 0, 0, 0).name("example.com.").u16(1).u16(1);
    CHECK(parse(response, q) == Verdict::drop);
}

TEST_CASE("hostile or malformed questions get FORMERR") {
    Query q;
    SECTION("QDCOUNT 0 and 2") {
        Packet none;
        none.header(1, 0, 0, 0, 0, 0);
        CHECK(parse(none, q) == Verdict::formerr);
        Packet two;
        two.header(1, 0, 2, 0, 0, 0).name("a.").u16(1).u16(1).name("b.").u16(1).u16(1);
        CHECK(parse(two, q) == Verdict::formerr);
    }
    SECTION("a label length past the end") {
        Packet p;
        p.header(1, 0, 1, 0, 0, 0).u8(10).raw("abc");
        CHECK(parse(p, q) == Verdict::formerr);
        CHECK_FALSE(q.has_question);
    }
    SECTION("a question cut before its type") {
        Packet p;
        p.header(1, 0, 1, 0, 0, 0).name("example.com.").u8(0);
        CHECK(parse(p, q) == Verdict::formerr);
    }
    SECTION("compression pointers, including a loop onto itself") {
        Packet p;
        p.header(1, 0, 1, 0, 0, 0).u8(0xC0).u8(12).u16(1).u16(1);
        CHECK(parse(p, q) == Verdict::formerr);
    }
    SECTION("reserved label types 0x40 and 0x80") {
        Packet p;
        p.header(1, 0, 1, 0, 0, 0).u8(0x41).raw(std::string(65, 'a')).u8(0).u16(1).u16(1);
        CHECK(parse(p, q) == Verdict::formerr);
        Packet p2;
        p2.header(1, 0, 1, 0, 0, 0).u8(0x80).u8(0).u16(1).u16(1);
        CHECK(parse(p2, q) == Verdict::formerr);
    }
    SECTION("a name longer than 255 bytes") {
        Packet p;
        p.header(1, 0, 1, 0, 0, 0);
        for (int i = 0; i < 5; ++i) p.u8(63).raw(std::string(63, 'x'));
        p.u8(0).u16(1).u16(1);
        CHECK(parse(p, q) == Verdict::formerr);
    }
    SECTION("answer or authority records in a query") {
        Packet p;
        p.header(1, 0, 1, 1, 0, 0).name("a.").u16(1).u16(1).name("a.").u16(1).u16(1).u32(0).u16(0);
        CHECK(parse(p, q) == Verdict::formerr);
    }
    SECTION("an additional record whose length runs past the end") {
        Packet p = test::make_query("a.", 1);
        p.bytes[11] = 1;
        p.u8(0).u16(41).u16(512).u32(0).u16(20).u16(3);
        CHECK(parse(p, q) == Verdict::formerr);
    }
    SECTION("an EDNS option whose length runs past the OPT rdata") {
        auto p = test::make_query("a.", 1, 1, true, 1232, std::string("\x00\x03\x00\x09", 4));
        CHECK(parse(p, q) == Verdict::formerr);
    }
    SECTION("two OPT records") {
        Packet p = test::make_query("a.", 1);
        p.bytes[11] = 2;
        p.opt(1232).opt(1232);
        CHECK(parse(p, q) == Verdict::formerr);
    }
    SECTION("an OPT whose owner is not the root") {
        Packet p = test::make_query("a.", 1);
        p.bytes[11] = 1;
        p.name("a.").u16(41).u16(512).u32(0).u16(0);
        CHECK(parse(p, q) == Verdict::formerr);
    }
    SECTION("additional records that are not there") {
        Packet p = test::make_query("a.", 1);
        p.bytes[11] = 3;
        CHECK(parse(p, q) == Verdict::formerr);
    }
}

TEST_CASE("other opcodes are NOTIMP with the question kept when intact") {
    Query q;
    Packet p;
    p.header(7, 0x3100, 1, 0, 0, 0).name("example.com.").u16(1).u16(1);  // opcode 6, RD
    CHECK(parse(p, q) == Verdict::notimp);
    CHECK(q.has_question);
    CHECK(q.opcode == 6);
}

TEST_CASE("other opcodes: the OPT is found after whatever sections they have") {
    Query q;
    Packet p;
    p.header(7, 5 << 11, 1, 1, 0, 2).name("example.com.").u16(6).u16(1);  // UPDATE
    p.name("www.example.com.").u16(1).u16(255).u32(0).u16(0);
    p.raw(std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\xc0\x00\x02\x01", 16));
    p.opt(4096, 0, true, std::string("\x00\x03\x00\x00", 4));
    CHECK(parse(p, q) == Verdict::notimp);
    CHECK(q.has_edns);
    CHECK(q.edns_do);
    CHECK(q.nsid);
    // QDCOUNT 0 (genreport's header-only probes)
    Packet h;
    h.header(8, 15 << 11, 0, 0, 0, 1).opt(1232);
    CHECK(parse(h, q) == Verdict::notimp);
    CHECK(q.has_edns);
    // every truncation: NOTIMP, EDNS only when the OPT is whole
    for (std::size_t n = 12; n < p.bytes.size(); ++n) {
        Packet cut;
        cut.bytes.assign(p.bytes.begin(), p.bytes.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK(parse(cut, q) == Verdict::notimp);
        CHECK_FALSE(q.has_edns);
    }
}

TEST_CASE("every truncation of a valid query is handled") {
    auto p = test::make_query("www.example.com.", 1, 1, true, 1232, std::string("\x00\x03\x00\x00", 4));
    Query q;
    REQUIRE(parse(p, q) == Verdict::ok);
    for (std::size_t n = 0; n < p.bytes.size(); ++n) {
        const auto v = parse_query({p.bytes.data(), n}, q);
        CHECK(v != Verdict::ok);
    }
}

TEST_CASE("skip_name walks compressed names and stops at the end") {
    Packet p;
    p.name("a.b.").u8(1).raw("c").u8(0xC0).u8(0);
    const std::span<const std::uint8_t> s(p.bytes.data(), p.bytes.size());
    CHECK(skip_name(s, 0) == 5);
    CHECK(skip_name(s, 5) == 9);
    CHECK(skip_name(s.first(8), 5) == 0);
}

namespace {
/// An IXFR query for example.com. whose authority section holds `soa`
/// (the whole record: owner, type, class, TTL, rdlength, rdata).
Packet ixfr(const std::function<void(Packet&)>& soa, std::uint16_t nscount = 1) {
    Packet p;
    p.header(7, 0, 1, 0, nscount, 0).name("Example.COM.").u16(251).u16(1);
    soa(p);
    return p;
}
/// SOA rdata with names as given (raw bytes), then the five numbers.
void soa_rdata(Packet& p, const std::string& names, std::uint32_t serial) {
    p.u16(static_cast<std::uint16_t>(names.size() + 20)).raw(names).u32(serial).u32(1).u32(2).u32(3).u32(4);
}
}  // namespace

TEST_CASE("IXFR: the serial of the SOA in the authority section") {
    Query q;
    // The owner compressed to the question's name, as most clients send it.
    auto compressed = ixfr([](Packet& p) {
        p.u16(0xC00C).u16(6).u16(1).u32(0);
        soa_rdata(p, std::string("\xC0\x0C\xC0\x0C", 4), 2024061101);
    });
    REQUIRE(parse(compressed, q) == Verdict::ok);
    CHECK(q.qtype == 251);
    CHECK(q.ixfr_serial == 2024061101);
    // Written out, in another case.
    auto plain = ixfr([](Packet& p) {
        p.name("example.com.").u16(6).u16(1).u32(3600);
        soa_rdata(p, *name_from_text("ns.example.com.") + *name_from_text("h.example.com."), 7);
    });
    REQUIRE(parse(plain, q) == Verdict::ok);
    CHECK(q.ixfr_serial == 7);
    // With an OPT after it.
    auto edns = plain;
    edns.bytes[11] = 1;
    edns.opt(1232);
    REQUIRE(parse(edns, q) == Verdict::ok);
    CHECK(q.has_edns);
    CHECK(q.ixfr_serial == 7);
}

TEST_CASE("IXFR without its SOA, or with a malformed one, is FORMERR; so is an authority section elsewhere") {
    Query q;
    const std::string names = std::string("\xC0\x0C\xC0\x0C", 4);
    CHECK(parse(test::make_query("example.com.", 251), q) == Verdict::formerr);  // no SOA
    CHECK(q.has_question);
    // Another owner.
    CHECK(parse(ixfr([&](Packet& p) {
                    p.name("other.com.").u16(6).u16(1).u32(0);
                    soa_rdata(p, names, 1);
                }),
                q) == Verdict::formerr);
    CHECK(parse(ixfr([&](Packet& p) {
                    p.name("www.example.com.").u16(6).u16(1).u32(0);
                    soa_rdata(p, names, 1);
                }),
                q) == Verdict::formerr);
    // Not a SOA.
    CHECK(parse(ixfr([](Packet& p) { p.u16(0xC00C).u16(1).u16(1).u32(0).u16(4).u32(0x7F000001); }), q) ==
          Verdict::formerr);
    // Rdata too short, too long, or running past the packet.
    CHECK(parse(ixfr([&](Packet& p) {
                    p.u16(0xC00C).u16(6).u16(1).u32(0).u16(23).raw(names).u32(1).u32(2).u32(3).u32(4).u16(5);
                }),
                q) == Verdict::formerr);
    CHECK(
        parse(ixfr([&](Packet& p) {
                  p.u16(0xC00C).u16(6).u16(1).u32(0).u16(25).raw(names).u32(1).u32(2).u32(3).u32(4).u32(5).u8(
                      0);
              }),
              q) == Verdict::formerr);
    CHECK(parse(ixfr([&](Packet& p) { p.u16(0xC00C).u16(6).u16(1).u32(0).u16(24).raw(names).u32(1); }), q) ==
          Verdict::formerr);
    // A pointer loop as the owner.
    CHECK(parse(ixfr([&](Packet& p) {
                    const auto at = static_cast<std::uint16_t>(p.bytes.size());
                    p.u16(static_cast<std::uint16_t>(0xC000 | at)).u16(6).u16(1).u32(0);
                    soa_rdata(p, names, 1);
                }),
                q) == Verdict::formerr);
    // Two SOAs.
    CHECK(parse(ixfr(
                    [&](Packet& p) {
                        for (int i = 0; i < 2; ++i) {
                            p.u16(0xC00C).u16(6).u16(1).u32(0);
                            soa_rdata(p, names, 1);
                        }
                    },
                    2),
                q) == Verdict::formerr);
    // Every truncation of a good one.
    auto good = ixfr([&](Packet& p) {
        p.u16(0xC00C).u16(6).u16(1).u32(0);
        soa_rdata(p, names, 1);
    });
    for (std::size_t n = 0; n < good.bytes.size(); ++n) {
        Packet cut;
        cut.bytes.assign(good.bytes.begin(), good.bytes.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK(parse(cut, q) != Verdict::ok);
    }
    // An authority section in a query of another type, as before.
    auto axfr = good;
    axfr.bytes[12 + 13 + 1] = 252;  // the question's type, after "Example.COM."
    CHECK(parse(axfr, q) == Verdict::formerr);
}
