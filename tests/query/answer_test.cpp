// Golden answers: answer() with no sockets, decoded by ldns.

#include <catch2/catch.hpp>

#include "dnsd/query/transfer.hpp"
#include "tests/query/fixture.hpp"

using namespace dnsd;
using namespace dnsd::test;
using S = std::multiset<std::string>;

namespace {
const query::View& view() {
    static auto v = [] {
        config::Server s;
        s.identity = "ns1.test";
        s.transfer_allow.prefixes.push_back(*Prefix::parse("127.0.0.1"));
        return load_view("tests/query/data/example.test.zone", "example.test.", s);
    }();
    return *v;
}
Reply q(const std::string& name, std::uint16_t type, bool edns = false, std::uint16_t payload = 1232) {
    return ask(view(), make_query(name, type, 1, edns, payload));
}
const std::string kSoa =
    "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2026112301 7200 900 1209600 300";
const std::string kNegSoa =
    "example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 2026112301 7200 900 1209600 300";
}  // namespace

TEST_CASE("a present name and type: AA, the RRset, the question's case kept") {
    auto r = q("wWw.example.TEST.", 1);
    CHECK(r.rcode() == LDNS_RCODE_NOERROR);
    CHECK(r.aa());
    CHECK(r.rd());
    CHECK_FALSE(r.ra());
    CHECK(r.answer() == S{"wWw.example.TEST. 3600 IN A 192.0.2.80"});
    CHECK(r.authority().empty());
}

TEST_CASE("NODATA and NXDOMAIN carry the SOA with the negative TTL (RFC 2308)") {
    auto nodata = q("mail.example.test.", 28);
    CHECK(nodata.rcode() == LDNS_RCODE_NOERROR);
    CHECK(nodata.aa());
    CHECK(nodata.answer().empty());
    CHECK(nodata.authority() == S{kNegSoa});

    auto nx = q("nope.example.test.", 1);
    CHECK(nx.rcode() == LDNS_RCODE_NXDOMAIN);
    CHECK(nx.aa());
    CHECK(nx.authority() == S{kNegSoa});

    auto below = q("x.www.example.test.", 1);
    CHECK(below.rcode() == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE("an empty non-terminal is NODATA, not NXDOMAIN") {
    auto r = q("b.c.example.test.", 1);
    CHECK(r.rcode() == LDNS_RCODE_NOERROR);
    CHECK(r.answer().empty());
    CHECK(r.authority() == S{kNegSoa});
    CHECK(q("c.example.test.", 16).rcode() == LDNS_RCODE_NOERROR);
    CHECK(q("a.b.c.example.test.", 1).answer() == S{"a.b.c.example.test. 3600 IN A 192.0.2.3"});
}

TEST_CASE("outside our zones: REFUSED, no recursion") {
    auto r = q("www.example.org.", 1);
    CHECK(r.rcode() == LDNS_RCODE_REFUSED);
    CHECK_FALSE(r.aa());
    CHECK_FALSE(r.ra());
}

TEST_CASE("wildcards follow RFC 4592") {
    SECTION("synthesised with the query name as owner") {
        auto r = q("Foo.wild.example.test.", 1);
        CHECK(r.aa());
        CHECK(r.answer() == S{"Foo.wild.example.test. 3600 IN A 192.0.2.4"});
    }
    SECTION("deeper names match too") {
        CHECK(q("a.b.wild.example.test.", 16).answer() == S{"a.b.wild.example.test. 3600 IN TXT \"wild\""});
    }
    SECTION("an existing name blocks the wildcard") {
        CHECK(q("host.wild.example.test.", 1).answer() == S{"host.wild.example.test. 3600 IN A 192.0.2.5"});
        auto r = q("host.wild.example.test.", 16);
        CHECK(r.answer().empty());
        CHECK(r.rcode() == LDNS_RCODE_NOERROR);
        // below an existing name, the closest encloser is that name: no wildcard there
        CHECK(q("x.host.wild.example.test.", 1).rcode() == LDNS_RCODE_NXDOMAIN);
    }
    SECTION("no data of the type at the wildcard is NODATA") {
        auto r = q("zz.wild.example.test.", 28);
        CHECK(r.rcode() == LDNS_RCODE_NOERROR);
        CHECK(r.authority() == S{kNegSoa});
    }
    SECTION("the wildcard's own name is an ordinary name") {
        CHECK(q("*.wild.example.test.", 1).answer() == S{"*.wild.example.test. 3600 IN A 192.0.2.4"});
    }
    SECTION("the wildcard does not cover its parent") {
        CHECK(q("wild.example.test.", 1).answer().empty());
        CHECK(q("wild.example.test.", 1).rcode() == LDNS_RCODE_NOERROR);
    }
    SECTION("a wildcard CNAME is followed") {
        auto r = q("any.wcname.example.test.", 1);
        CHECK(r.answer() == S{"any.wcname.example.test. 3600 IN CNAME www.example.test.",
                              "www.example.test. 3600 IN A 192.0.2.80"});
    }
}

TEST_CASE("CNAME chains inside the zone are followed, with loop protection") {
    auto r = q("chain1.example.test.", 1);
    CHECK(r.rcode() == LDNS_RCODE_NOERROR);
    CHECK(r.aa());
    CHECK(r.answer() == S{"chain1.example.test. 3600 IN CNAME chain2.example.test.",
                          "chain2.example.test. 3600 IN CNAME alias.example.test.",
                          "alias.example.test. 3600 IN CNAME www.example.test.",
                          "www.example.test. 3600 IN A 192.0.2.80"});  // owner as the CNAME names it
    auto cname = q("alias.example.test.", 5);
    CHECK(cname.answer() == S{"alias.example.test. 3600 IN CNAME www.example.test."});

    auto dangling = q("dangling.example.test.", 1);
    CHECK(dangling.rcode() == LDNS_RCODE_NXDOMAIN);  // RFC 6604: the rcode of the last name
    CHECK(dangling.answer().size() == 1);
    CHECK(dangling.authority() == S{kNegSoa});

    auto out = q("outside.example.test.", 1);
    CHECK(out.rcode() == LDNS_RCODE_NOERROR);
    CHECK(out.answer() == S{"outside.example.test. 3600 IN CNAME www.example.org."});
    CHECK(out.authority().empty());

    auto loop = q("loop1.example.test.", 1);
    CHECK(loop.rcode() == LDNS_RCODE_NOERROR);
    CHECK(loop.answer().size() == 2);  // loop1 -> loop2, then back to loop1: stop

    auto nodata = q("alias.example.test.", 15);
    CHECK(nodata.answer().size() == 1);
    CHECK(nodata.authority() == S{kNegSoa});
}

TEST_CASE("referrals: AA clear, NS of the child, glue in additional") {
    for (const char* name : {"sub.example.test.", "deep.below.sub.example.test.", "ns.sub.example.test."}) {
        auto r = q(name, 1);
        CHECK(r.rcode() == LDNS_RCODE_NOERROR);
        CHECK_FALSE(r.aa());
        CHECK(r.answer().empty());
        CHECK(r.authority() == S{"sub.example.test. 3600 IN NS ns.sub.example.test.",
                                 "sub.example.test. 3600 IN NS ns.elsewhere.example."});
        CHECK(r.additional() == S{"ns.sub.example.test. 3600 IN A 192.0.2.53",
                                  "ns.sub.example.test. 3600 IN AAAA 2001:db8::53"});
    }
    SECTION("DS is answered from the parent side") {
        auto r = q("sub.example.test.", 43);
        CHECK(r.aa());
        CHECK(r.answer().size() == 1);
        auto none = q("sibling.example.test.", 43);
        CHECK(none.aa());
        CHECK(none.answer().empty());
        CHECK(none.authority() == S{kNegSoa});
    }
    SECTION("glue elsewhere in the zone is added") {
        auto r = q("sibling.example.test.", 1);
        CHECK_FALSE(r.aa());
        CHECK(r.additional() == S{"ns1.example.test. 3600 IN A 192.0.2.1"});
    }
}

TEST_CASE("additional section processing for MX, NS and SRV") {
    CHECK(q("example.test.", 15).additional() == S{"mail.example.test. 3600 IN A 192.0.2.25"});
    CHECK(q("example.test.", 2).additional() == S{"ns1.example.test. 3600 IN A 192.0.2.1",
                                                  "ns2.example.test. 3600 IN A 192.0.2.2",
                                                  "ns2.example.test. 3600 IN AAAA 2001:db8::2"});
    CHECK(q("srv.example.test.", 33).additional() == S{"mail.example.test. 3600 IN A 192.0.2.25"});
}

TEST_CASE("ANY gets one RRset (RFC 8482)") {
    auto r = q("example.test.", 255);
    CHECK(r.rcode() == LDNS_RCODE_NOERROR);
    // the NS RRset, first in type order at the apex, and nothing else
    REQUIRE(!r.answer().empty());
    for (const auto& rr : r.answer()) CHECK(rr.find(" IN NS ") != std::string::npos);
    CHECK(q("alias.example.test.", 255).answer() == S{"alias.example.test. 3600 IN CNAME www.example.test."});
    CHECK(q("nope.example.test.", 255).rcode() == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE("EDNS: OPT echoed, payload limits, TC with the OPT still present") {
    auto r = q("big.example.test.", 16, true, 4096);
    REQUIRE(r.bytes.size() > 512);
    CHECK(ldns_pkt_edns(r.pkt));
    CHECK(ldns_pkt_edns_udp_size(r.pkt) == 1232);
    CHECK_FALSE(r.tc());
    CHECK(r.answer().size() == 8);

    auto plain = q("big.example.test.", 16);
    CHECK(plain.bytes.size() <= 512);
    CHECK(plain.tc());
    CHECK_FALSE(ldns_pkt_edns(plain.pkt));

    auto small = q("big.example.test.", 16, true, 512);
    CHECK(small.bytes.size() <= 512);
    CHECK(small.tc());
    CHECK(ldns_pkt_edns(small.pkt));  // still there after truncation

    auto tiny = q("big.example.test.", 16, true, 100);  // below 512 counts as 512
    CHECK(tiny.bytes.size() <= 512);
    CHECK(tiny.tc());
    auto fits = q("example.test.", 2, true, 100);  // about 150 bytes: fits in 512
    CHECK(fits.bytes.size() > 100);
    CHECK_FALSE(fits.tc());

    auto tcp = ask(view(), make_query("big.example.test.", 16), query::Transport::tcp);
    CHECK_FALSE(tcp.tc());
    CHECK(tcp.answer().size() == 8);
}

TEST_CASE("BADVERS for EDNS versions above 0") {
    Packet p = make_query("www.example.test.", 1);
    p.bytes[11] = 1;
    p.opt(1232, 1);
    auto r = ask(view(), p);
    CHECK(ldns_pkt_edns(r.pkt));
    CHECK(ldns_pkt_edns_extended_rcode(r.pkt) == 1);  // 16 >> 4
    CHECK(r.answer().empty());
    // options of a version we do not know are not answered (NSID), DO is
    // copied (RFC 3225 3; genreport's edns1do)
    Packet asks = make_query("www.example.test.", 1);
    asks.bytes[11] = 1;
    asks.opt(1232, 1, true, std::string("\x00\x03\x00\x00", 4));
    auto b = ask(view(), asks);
    CHECK(ldns_pkt_edns_extended_rcode(b.pkt) == 1);
    CHECK(ldns_pkt_edns_do(b.pkt));
    CHECK(std::string(b.bytes.begin(), b.bytes.end()).find("ns1.test") == std::string::npos);
}

TEST_CASE("NSID is returned when asked for and an identity is set") {
    auto r =
        ask(view(), make_query("www.example.test.", 1, 1, true, 1232, std::string("\x00\x03\x00\x00", 4)));
    const std::string needle = std::string("\x00\x03\x00\x08", 4) + "ns1.test";
    const std::string bytes(r.bytes.begin(), r.bytes.end());
    CHECK(bytes.find(needle) != std::string::npos);
    auto without = q("www.example.test.", 1, true);
    const std::string b2(without.bytes.begin(), without.bytes.end());
    CHECK(b2.find("ns1.test") == std::string::npos);
}

TEST_CASE("opcodes other than QUERY get NOTIMP without RD or TC echoed") {
    for (auto t : {query::Transport::udp, query::Transport::tcp}) {
        Packet p;
        p.header(9, 0x2000 | 0x0100 | 0x0200, 1, 0, 0, 0)
            .name("www.example.test.")
            .u16(1)
            .u16(1);  // opcode 4
        auto r = ask(view(), p, t);
        CHECK(r.rcode() == LDNS_RCODE_NOTIMPL);
        CHECK_FALSE(r.rd());
        CHECK_FALSE(r.tc());
        CHECK(ldns_pkt_get_opcode(r.pkt) == LDNS_PACKET_NOTIFY);
    }
}

TEST_CASE("NOTIMP carries our OPT when the query had one, and copies no flag of the opcode it rejects") {
    // ISC genreport's opcodeflg: opcode 15 with every flag set (AA TC RD RA
    // Z AD CD), here with an OPT asking for NSID
    const std::uint16_t all_flags = 0x0400 | 0x0200 | 0x0100 | 0x0080 | 0x0040 | 0x0020 | 0x0010;
    for (auto t : {query::Transport::udp, query::Transport::tcp}) {
        Packet p;
        p.header(9, static_cast<std::uint16_t>((15 << 11) | all_flags), 1, 0, 0, 1)
            .name("www.example.test.")
            .u16(1)
            .u16(1)
            .opt(4096, 0, true, std::string("\x00\x03\x00\x00", 4));
        auto r = ask(view(), p, t);
        REQUIRE(r.bytes.size() >= 12);
        CHECK(r.rcode() == LDNS_RCODE_NOTIMPL);
        CHECK(((r.bytes[2] >> 3) & 0xF) == 15);                           // the opcode
        CHECK((r.bytes[2] & 0x87) == 0x80);                               // QR; no AA, TC, RD
        CHECK(r.bytes[3] == LDNS_RCODE_NOTIMPL);                          // no RA, Z, AD, CD
        CHECK(std::string(r.bytes.begin() + 12, r.bytes.begin() + 35) ==  // the question
              std::string(p.bytes.begin() + 12, p.bytes.begin() + 35));
        REQUIRE(ldns_pkt_edns(r.pkt));
        CHECK(ldns_pkt_edns_version(r.pkt) == 0);
        CHECK(ldns_pkt_edns_udp_size(r.pkt) == 1232);
        CHECK(ldns_pkt_edns_do(r.pkt));
        const std::string bytes(r.bytes.begin(), r.bytes.end());
        CHECK(bytes.find(std::string("\x00\x03\x00\x08", 4) + "ns1.test") != std::string::npos);
    }
    // UPDATE: zone, prerequisite and update sections before the OPT
    Packet update;
    update.header(10, 5 << 11, 1, 1, 1, 1).name("example.test.").u16(6).u16(1);
    update.name("www.example.test.").u16(1).u16(255).u32(0).u16(0);  // prerequisite: name in use
    update.name("new.example.test.").u16(1).u16(1).u32(300).u16(4).u32(0xC0000201);
    update.opt(1232);
    auto u = ask(view(), update);
    CHECK(u.rcode() == LDNS_RCODE_NOTIMPL);
    CHECK(ldns_pkt_get_opcode(u.pkt) == LDNS_PACKET_UPDATE);
    CHECK(ldns_pkt_edns(u.pkt));
    // without OPT none comes back; a broken one is not looked into
    Packet plain;
    plain.header(11, 2 << 11, 0, 0, 0, 0);
    auto n = ask(view(), plain);
    CHECK(n.rcode() == LDNS_RCODE_NOTIMPL);
    CHECK_FALSE(ldns_pkt_edns(n.pkt));
    Packet broken = update;
    broken.bytes[11] = 2;  // a second additional record that is not there
    auto b = ask(view(), broken);
    CHECK(b.rcode() == LDNS_RCODE_NOTIMPL);
    CHECK_FALSE(ldns_pkt_edns(b.pkt));
    // an EDNS version we do not know: BADVERS (RFC 6891 6.1.3), flags as for NOTIMP
    Packet v1;
    v1.header(12, static_cast<std::uint16_t>((15 << 11) | 0x0100 | 0x0010), 1, 0, 0, 1)
        .name("www.example.test.")
        .u16(1)
        .u16(1)
        .opt(1232, 1);
    auto bv = ask(view(), v1);
    REQUIRE(ldns_pkt_edns(bv.pkt));
    CHECK(ldns_pkt_edns_extended_rcode(bv.pkt) == 1);  // BADVERS = 16
    CHECK(ldns_pkt_edns_version(bv.pkt) == 0);
    CHECK((bv.bytes[2] & 0x87) == 0x80);
    CHECK((bv.bytes[3] & 0xF0) == 0);
}

TEST_CASE("malformed queries get FORMERR; responses are dropped") {
    Packet two;
    two.header(1, 0x0100, 2, 0, 0, 0)
        .name("a.example.test.")
        .u16(1)
        .u16(1)
        .name("b.example.test.")
        .u16(1)
        .u16(1);
    CHECK(ask(view(), two).rcode() == LDNS_RCODE_FORMERR);
    Packet resp;
    resp.header(1, 0x8000, 1, 0, 0, 0).name("a.example.test.").u16(1).u16(1);
    CHECK(ask(view(), resp).dropped());
    Packet opt_query = make_query("www.example.test.", 41);
    CHECK(ask(view(), opt_query).rcode() == LDNS_RCODE_FORMERR);
}

TEST_CASE("CH TXT identity and version queries") {
    auto id = ask(view(), make_query("id.server.", 16, 3));
    CHECK(id.rcode() == LDNS_RCODE_NOERROR);
    CHECK(id.answer() == S{"id.server. 0 CH TXT \"ns1.test\""});
    CHECK(ask(view(), make_query("HOSTNAME.BIND.", 16, 3)).answer() ==
          S{"HOSTNAME.BIND. 0 CH TXT \"ns1.test\""});
    auto ver = ask(view(), make_query("version.bind.", 16, 3));
    REQUIRE(ver.answer().size() == 1);
    CHECK(ver.answer().begin()->find("\"dnsd ") != std::string::npos);
    CHECK(ask(view(), make_query("other.bind.", 16, 3)).rcode() == LDNS_RCODE_REFUSED);
    CHECK(ask(view(), make_query("www.example.test.", 1, 4)).rcode() == LDNS_RCODE_REFUSED);  // class HS
}

TEST_CASE("AXFR: TCP only, to transfer_allow only") {
    CHECK(ask(view(), make_query("example.test.", 252), query::Transport::udp).rcode() == LDNS_RCODE_FORMERR);
    CHECK(ask(view(), make_query("example.test.", 252), query::Transport::tcp, "127.0.0.2").rcode() ==
          LDNS_RCODE_REFUSED);
    auto ok = ask(view(), make_query("example.test.", 252), query::Transport::tcp);
    REQUIRE(ok.transfer != nullptr);

    // Stream the transfer and decode every message with ldns.
    const auto p = make_query("example.test.", 252);
    wire::Query parsed;
    REQUIRE(wire::parse_query({p.bytes.data(), p.bytes.size()}, parsed) == wire::Verdict::ok);
    query::AxfrStream stream({p.bytes.data(), p.bytes.size()}, parsed, *ok.transfer);
    std::vector<std::uint8_t> buf(65535);
    std::size_t records = 0, soas = 0, messages = 0;
    for (std::size_t n; (n = stream.next(buf)) != 0;) {
        ++messages;
        ldns_pkt* pkt = nullptr;
        REQUIRE(ldns_wire2pkt(&pkt, buf.data(), n) == LDNS_STATUS_OK);
        for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(pkt)); ++i) {
            ++records;
            if (ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(pkt), i)) == LDNS_RR_TYPE_SOA) ++soas;
        }
        ldns_pkt_free(pkt);
    }
    CHECK(messages == 1);
    CHECK(soas == 2);
    CHECK(records == 39);  // 38 records in the file plus the closing SOA
}
