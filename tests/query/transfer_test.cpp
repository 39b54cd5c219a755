// Zone transfers as the TCP worker streams them: AXFR, and IXFR from a
// zone's journal (RFC 1995), every message decoded by ldns.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dnsd/query/transfer.hpp"
#include "tests/query/fixture.hpp"
#include "zones/journal.hpp"

using namespace dnsd;
using namespace dnsd::test;
using V = std::vector<std::string>;

namespace {

std::shared_ptr<const zones::Zone> zone(unsigned serial, const std::string& body) {
    Diagnostics diags;
    const auto o = *name_from_text("example.test.");
    std::string text = "$TTL 300\n@ SOA ns hostmaster " + std::to_string(serial) +
                       " 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n";
    for (int i = 0; i < 40; ++i) text += "f" + std::to_string(i) + " TXT \"filler\"\n";
    auto records = zones::read_zone_text(text + body, "t.zone", o, diags);
    auto z = zones::Zone::build(o, std::move(records), "t.zone", diags);
    REQUIRE(z);
    return z;
}

/// Versions 1 to 4 of a zone; the view serves 4 with a journal from 2 on.
struct Versions {
    std::vector<std::shared_ptr<const zones::Zone>> zones;
    std::shared_ptr<const query::View> view;
    Versions() {
        zones = {zone(1, "www A 192.0.2.10\n"), zone(2, "www A 192.0.2.11\n"),
                 zone(3, "www A 192.0.2.11\nnew TXT \"three\"\n"),
                 zone(4, "www A 192.0.2.12\nnew TXT \"three\"\n")};
        zones::JournalLimits limits;
        limits.versions = 2;
        zones::Journal j;
        for (std::size_t i = 0; i + 1 < zones.size(); ++i)
            j = j.appended(zones::diff(*zones[i], *zones[i + 1]), limits,
                           zones::transfer_bytes(*zones[i + 1]));
        query::View::Parts parts;
        parts.zones = {zones.back()};
        parts.journals = {j};
        config::Server s;
        s.transfer_allow.prefixes.push_back(*Prefix::parse("127.0.0.1"));
        view = query::View::make(std::move(parts), s);
    }
};

Packet ixfr_query(std::uint32_t serial, const std::string& qname = "example.test.") {
    return make_ixfr(qname, serial);
}

/// The transfer's records, as "owner type [serial|rdata]" lines, and its messages.
struct Streamed {
    V records;
    std::size_t messages = 0;
    std::size_t questions = 0;
};

Streamed stream(const query::View& view, const Packet& p, const query::Result& r) {
    wire::Query parsed;
    REQUIRE(wire::parse_query({p.bytes.data(), p.bytes.size()}, parsed) == wire::Verdict::ok);
    query::TransferStream s({p.bytes.data(), p.bytes.size()}, parsed, view, r);
    std::vector<std::uint8_t> buf(65535);
    Streamed out;
    for (std::size_t n; (n = s.next(buf)) != 0;) {
        ++out.messages;
        ldns_pkt* pkt = nullptr;
        REQUIRE(ldns_wire2pkt(&pkt, buf.data(), n) == LDNS_STATUS_OK);
        CHECK(ldns_pkt_id(pkt) == 0x4242);
        CHECK(ldns_pkt_qr(pkt));
        CHECK(ldns_pkt_aa(pkt));
        CHECK(ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NOERROR);
        out.questions += ldns_pkt_qdcount(pkt);
        for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(pkt)); ++i) {
            const ldns_rr* rr = ldns_rr_list_rr(ldns_pkt_answer(pkt), i);
            char* owner = ldns_rdf2str(ldns_rr_owner(rr));
            std::string line = owner;
            free(owner);
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
                line += " SOA " + std::to_string(ldns_rdf2native_int32(ldns_rr_rdf(rr, 2)));
            } else {
                char* rd = ldns_rdf2str(ldns_rr_rdf(rr, 0));
                char* type = ldns_rr_type2str(ldns_rr_get_type(rr));
                line += std::string(" ") + type + " " + rd;
                free(rd);
                free(type);
            }
            out.records.push_back(line);
        }
        ldns_pkt_free(pkt);
    }
    return out;
}

query::Result ask_raw(const query::View& view, const Packet& p, query::Transport t,
                      const char* client = "127.0.0.1") {
    std::vector<std::uint8_t> buf(65535);
    return query::answer({p.bytes.data(), p.bytes.size()}, buf, view,
                         query::Client{*Address::parse(client), t});
}

}  // namespace

TEST_CASE("IXFR from the current serial or one ahead: the SOA alone, over TCP and UDP (RFC 1995 2)") {
    const Versions v;
    for (const auto t : {query::Transport::tcp, query::Transport::udp})
        for (const std::uint32_t serial : {4u, 5u, 0x80000003u}) {
            auto r = ask(*v.view, ixfr_query(serial), t);
            REQUIRE_FALSE(r.transfer);
            CHECK(r.rcode() == LDNS_RCODE_NOERROR);
            CHECK(r.aa());
            CHECK(r.answer() == std::multiset<std::string>{"example.test. 300 IN SOA ns.example.test. "
                                                           "hostmaster.example.test. 4 3600 600 86400 60"});
        }
}

TEST_CASE("IXFR over UDP from an older serial: the SOA alone (RFC 1995 2)") {
    const Versions v;
    for (const std::uint32_t serial : {1u, 2u, 3u, 5u}) {
        auto r = ask(*v.view, ixfr_query(serial), query::Transport::udp);
        REQUIRE_FALSE(r.transfer);
        CHECK(r.answer().size() == 1);
        CHECK(r.answer().begin()->find(" SOA ") != std::string::npos);
    }
}

TEST_CASE("IXFR over TCP from a serial the journal holds: the differences, version by version") {
    const Versions v;
    const auto p = ixfr_query(2);
    const auto r = ask_raw(*v.view, p, query::Transport::tcp);
    REQUIRE(r.transfer == v.zones.back().get());
    CHECK(r.ixfr_from == 0);
    const auto s = stream(*v.view, p, r);
    CHECK(s.messages == 1);
    CHECK(s.questions == 1);
    CHECK(s.records == V{"example.test. SOA 4", "example.test. SOA 2", "example.test. SOA 3",
                         "new.example.test. TXT \"three\"", "example.test. SOA 3",
                         "www.example.test. A 192.0.2.11", "example.test. SOA 4",
                         "www.example.test. A 192.0.2.12", "example.test. SOA 4"});
    const auto from3 = ask_raw(*v.view, ixfr_query(3), query::Transport::tcp);
    CHECK(from3.ixfr_from == 1);
    CHECK(stream(*v.view, ixfr_query(3), from3).records.size() == 6);
}

TEST_CASE("IXFR from a serial the journal no longer holds, or never had: a full transfer") {
    const Versions v;
    // 0x80000004 is half the serial space from 4: neither ahead nor behind (RFC 1982).
    for (const std::uint32_t serial : {1u, 0u, 0x80000004u, 0x80000005u}) {
        const auto p = ixfr_query(serial);
        const auto r = ask_raw(*v.view, p, query::Transport::tcp);
        REQUIRE(r.transfer);
        CHECK(r.ixfr_from == -1);
        const auto s = stream(*v.view, p, r);
        REQUIRE(s.records.size() == 46);  // SOA, NS, ns A, 40 fillers, new TXT, www A, SOA
        CHECK(s.records.front() == "example.test. SOA 4");
        CHECK(s.records.back() == "example.test. SOA 4");
        CHECK(std::count(s.records.begin(), s.records.end(), "example.test. SOA 4") == 2);
    }
}

TEST_CASE("IXFR: the transfer ACL, the zone apex and malformed requests") {
    const Versions v;
    CHECK(ask(*v.view, ixfr_query(2), query::Transport::tcp, "127.0.0.2").rcode() == LDNS_RCODE_REFUSED);
    CHECK(ask(*v.view, ixfr_query(2), query::Transport::udp, "127.0.0.2").rcode() == LDNS_RCODE_REFUSED);
    CHECK(ask(*v.view, ixfr_query(2, "www.example.test."), query::Transport::tcp).rcode() ==
          LDNS_RCODE_NOTAUTH);
    CHECK(ask(*v.view, make_query("example.test.", 251), query::Transport::tcp).rcode() ==
          LDNS_RCODE_FORMERR);
    CHECK(ask(*v.view, ixfr_query(2, "other.test."), query::Transport::tcp).rcode() == LDNS_RCODE_REFUSED);
}

TEST_CASE("IXFR: a large difference spans several messages, the question in the first only") {
    std::string before, after;
    for (int i = 0; i < 3000; ++i) {
        const std::string same = "r" + std::to_string(i) + " TXT \"same " + std::string(40, 'x') + "\"\n";
        before += i % 3 ? same : "r" + std::to_string(i) + " TXT \"before " + std::string(40, 'x') + "\"\n";
        after += i % 3 ? same : "r" + std::to_string(i) + " TXT \"after " + std::string(40, 'y') + "\"\n";
    }
    const auto a = zone(10, before), b = zone(11, after);
    query::View::Parts parts;
    parts.zones = {b};
    parts.journals = {zones::Journal().appended(zones::diff(*a, *b), {}, zones::transfer_bytes(*b))};
    config::Server s;
    s.transfer_allow.prefixes.push_back(*Prefix::parse("127.0.0.1"));
    const auto view = query::View::make(std::move(parts), s);
    const auto p = ixfr_query(10);
    const auto r = ask_raw(*view, p, query::Transport::tcp);
    REQUIRE(r.ixfr_from == 0);
    const auto out = stream(*view, p, r);
    CHECK(out.messages > 1);
    CHECK(out.questions == 1);
    CHECK(out.records.size() == 2004);
    CHECK(out.records[1] == "example.test. SOA 10");
    CHECK(out.records[1002] == "example.test. SOA 11");
    CHECK(out.records.back() == "example.test. SOA 11");
}
