#include <catch2/catch.hpp>

#include "dnsd/core/name.hpp"
#include "dnsd/load/serial.hpp"
#include "dnsd/wire/types.hpp"

using namespace dnsd;
using load::serial_to_serve;
using query::ServedSerial;

namespace {

zones::Record soa(std::uint32_t serial) {
    zones::Record r;
    r.owner = *name_from_text("example.test.");
    r.type = wire::type::SOA;
    r.ttl = 3600;
    const std::string mname = *name_from_text("ns1.example.test."),
                      rname = *name_from_text("admin.example.test.");
    r.rdata = mname + rname;
    for (std::uint32_t v : {serial, 3600u, 600u, 86400u, 300u})
        for (int shift = 24; shift >= 0; shift -= 8)
            r.rdata.push_back(static_cast<char>((v >> shift) & 0xff));
    return r;
}

zones::Record a(const char* owner, unsigned char last) {
    zones::Record r;
    r.owner = *name_from_text(owner);
    r.type = wire::type::A;
    r.ttl = 30;
    r.rdata = std::string{'\xc0', '\x00', '\x02', static_cast<char>(last)};
    return r;
}

}  // namespace

TEST_CASE("serial rule: RFC 1982 comparison, across the wrap") {
    CHECK(load::serial_ahead(2, 1));
    CHECK_FALSE(load::serial_ahead(1, 1));
    CHECK_FALSE(load::serial_ahead(1, 2));
    CHECK(load::serial_ahead(0, 0xffffffffu));  // wrapped: 0 follows 2^32-1
    CHECK_FALSE(load::serial_ahead(0xffffffffu, 0));
    CHECK(load::serial_ahead(0x7fffffffu, 0));        // just under half the space ahead
    CHECK_FALSE(load::serial_ahead(0x80000000u, 0));  // exactly half: undefined, not ahead
}

TEST_CASE("serial rule: which serial is served") {
    // New to this instance: the file's serial.
    CHECK(serial_to_serve(10, 0xabc, std::nullopt) == 10);
    // The file's serial moved ahead: it wins, whatever the content.
    CHECK(serial_to_serve(11, 0xabc, ServedSerial{10, 0xdef}) == 11);
    // Same serial, same content: unchanged.
    CHECK(serial_to_serve(10, 0xabc, ServedSerial{10, 0xabc}) == 10);
    // Same serial in the file, content changed (a service's addresses):
    // the last served serial plus one, so secondaries notice.
    CHECK(serial_to_serve(10, 0xabc, ServedSerial{10, 0xdef}) == 11);
    // Already bumped before, unchanged since: stays where it was served.
    CHECK(serial_to_serve(10, 0xabc, ServedSerial{11, 0xabc}) == 11);
    // Changed again: one more.
    CHECK(serial_to_serve(10, 0x123, ServedSerial{11, 0xabc}) == 12);
    // A file serial behind what was served never takes a secondary back.
    CHECK(serial_to_serve(5, 0xabc, ServedSerial{11, 0xabc}) == 11);
    // Across the wrap.
    CHECK(serial_to_serve(10, 0x1, ServedSerial{0xffffffffu, 0x2}) == 10);
    CHECK(serial_to_serve(0xfffffff0u, 0x1, ServedSerial{0xffffffffu, 0x2}) == 0);
}

TEST_CASE("serial rule: the digest ignores order and the SOA serial, not content") {
    const std::vector<zones::Record> one = {soa(1), a("www.example.test.", 1), a("ftp.example.test.", 2)};
    const std::vector<zones::Record> reordered = {a("ftp.example.test.", 2), soa(7),
                                                  a("WWW.example.test.", 1)};
    std::vector<zones::Record> changed = one;
    changed[1].rdata[3] = 9;
    CHECK(load::content_digest(one) == load::content_digest(reordered));
    CHECK(load::content_digest(one) != load::content_digest(changed));
}

TEST_CASE("serial rule: settle_serial rewrites the SOA only when it must") {
    std::vector<zones::Record> records = {soa(2026120701), a("www.example.test.", 1)};
    const auto digest = load::content_digest(records);
    auto served = load::settle_serial(records, std::nullopt);
    CHECK(served.serial == 2026120701);
    CHECK(served.digest == digest);
    CHECK(load::soa_serial(records) == 2026120701u);

    records[1].rdata[3] = 2;  // the service's address changed, the file's serial did not
    served = load::settle_serial(records, ServedSerial{2026120701, digest});
    CHECK(served.serial == 2026120702);
    CHECK(load::soa_serial(records) == 2026120702u);  // what secondaries will see

    std::vector<zones::Record> no_soa = {a("www.example.test.", 1)};
    CHECK(load::settle_serial(no_soa, std::nullopt).serial == 0);
    CHECK_FALSE(load::soa_serial(no_soa));
}
