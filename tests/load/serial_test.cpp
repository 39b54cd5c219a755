#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <tuple>

#include "dnsd/core/name.hpp"
#include "dnsd/load/runtime.hpp"
#include "dnsd/load/serial.hpp"
#include "dnsd/wire/types.hpp"
#include "tests/temp_dir.hpp"

using namespace dnsd;
using load::check_serial;
using query::ServedSerial;
using test::TempDir;

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

zones::Records pack(const std::vector<zones::Record>& records) {
    zones::Records out;
    for (const auto& r : records) out.add(r);
    return out;
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

TEST_CASE("serial rule: the verdict on a serial, against what secondaries may hold") {
    using load::SerialCheck;
    auto verdict = [](std::uint32_t serial, std::uint64_t digest, std::optional<ServedSerial> last) {
        const auto v = check_serial(serial, digest, last);
        return std::make_tuple(v.check, v.remembered.serial, v.remembered.digest);
    };
    // New to this instance: nothing to compare with.
    CHECK(verdict(10, 0xabc, std::nullopt) == std::make_tuple(SerialCheck::fine, 10u, 0xabcull));
    // The serial moved ahead: secondaries follow, whatever the content.
    CHECK(verdict(11, 0xabc, ServedSerial{10, 0xdef}) == std::make_tuple(SerialCheck::fine, 11u, 0xabcull));
    // Same serial, same content.
    CHECK(verdict(10, 0xabc, ServedSerial{10, 0xabc}) == std::make_tuple(SerialCheck::fine, 10u, 0xabcull));
    // Same serial, other content (a service's addresses): secondaries that
    // have serial 10 keep the old data. The digest first served under 10 is
    // kept, so the verdict stands at every load until the serial moves...
    CHECK(verdict(10, 0xdef, ServedSerial{10, 0xabc}) ==
          std::make_tuple(SerialCheck::unbumped, 10u, 0xabcull));
    CHECK(verdict(10, 0x123, ServedSerial{10, 0xabc}) ==
          std::make_tuple(SerialCheck::unbumped, 10u, 0xabcull));
    // ... or the content is what it was.
    CHECK(verdict(10, 0xabc, ServedSerial{10, 0xabc}) == std::make_tuple(SerialCheck::fine, 10u, 0xabcull));
    // A serial behind one served before: secondaries that have 11 ignore it;
    // 11 is remembered until a serial passes it.
    CHECK(verdict(5, 0xabc, ServedSerial{11, 0xabc}) == std::make_tuple(SerialCheck::behind, 11u, 0xabcull));
    CHECK(verdict(12, 0xabc, ServedSerial{11, 0xabc}) == std::make_tuple(SerialCheck::fine, 12u, 0xabcull));
    // Across the wrap (RFC 1982).
    CHECK(verdict(10, 0x1, ServedSerial{0xffffffffu, 0x2}) ==
          std::make_tuple(SerialCheck::fine, 10u, 0x1ull));
    CHECK(verdict(0xfffffff0u, 0x1, ServedSerial{0xffffffffu, 0x2}) ==
          std::make_tuple(SerialCheck::behind, 0xffffffffu, 0x2ull));
}

TEST_CASE("serial rule: the digest ignores order and the SOA serial, not content") {
    const std::vector<zones::Record> one = {soa(1), a("www.example.test.", 1), a("ftp.example.test.", 2)};
    const std::vector<zones::Record> reordered = {a("ftp.example.test.", 2), soa(7),
                                                  a("WWW.example.test.", 1)};
    std::vector<zones::Record> changed = one;
    changed[1].rdata[3] = 9;
    CHECK(load::content_digest(pack(one)) == load::content_digest(pack(reordered)));
    CHECK(load::content_digest(pack(one)) != load::content_digest(pack(changed)));
}

TEST_CASE("serial rule: soa_serial reads the first SOA") {
    const std::vector<zones::Record> records = {a("www.example.test.", 1), soa(2026120701), soa(7)};
    CHECK(load::soa_serial(pack(records)) == 2026120701u);
    const std::vector<zones::Record> no_soa = {a("www.example.test.", 1)};
    CHECK_FALSE(load::soa_serial(pack(no_soa)));
    std::vector<zones::Record> short_soa = {soa(1)};
    short_soa[0].rdata.resize(short_soa[0].rdata.size() - 1);
    CHECK_FALSE(load::soa_serial(pack(short_soa)));
}

namespace {

/// A temporary directory with a zone file and a config whose service `www`
/// has the addresses given, as an operator would edit them.
struct Files {
    TempDir dir{"dnsd-serial-test"};
    std::string config;
    void write(std::uint32_t serial, const std::string& addresses) {
        std::ofstream(dir.path / "example.test.zone")
            << "$TTL 300\n@ SOA ns1 admin " << serial << " 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.53\n";
        config =
            "[[zone]]\norigin = \"example.test.\"\nfile = \"example.test.zone\"\n"
            "[sites.one]\naddresses = [" +
            addresses + "]\n[[service]]\nname = \"www.example.test.\"\nsites = [\"one\"]\n";
    }
    /// Loads the files as an instance that remembers `previous` would.
    std::shared_ptr<const query::View> load(const query::ServedSerials* previous, Diagnostics& diags) const {
        const auto cfg = config::read_config_text(config, (dir.path / "dnsd.toml").string(), diags);
        return load::runtime(cfg, diags, previous);
    }
};

std::uint32_t served_serial(const query::View& v) {
    REQUIRE(v.zones().size() == 1);
    return v.zones()[0]->serial();
}

std::vector<std::string> warnings(const Diagnostics& diags) {
    std::vector<std::string> out;
    for (const auto& d : diags) out.push_back(d.str());
    return out;
}

}  // namespace

TEST_CASE("serial rule: instances given the same files serve the same serial, whatever their history") {
    Files files;
    // Instance A served the zone with one address, then was reloaded after
    // the operator changed the address and forgot the serial.
    files.write(2026120701, "\"192.0.2.1\"");
    Diagnostics a1_diags;
    const auto a1 = files.load(nullptr, a1_diags);
    REQUIRE(a1);
    CHECK(warnings(a1_diags).empty());
    files.write(2026120701, "\"192.0.2.9\"");
    Diagnostics a2_diags;
    const auto a2 = files.load(&a1->served_serials(), a2_diags);
    REQUIRE(a2);
    // Instance B starts with the same files and no history.
    Diagnostics b_diags;
    const auto b = files.load(nullptr, b_diags);
    REQUIRE(b);
    CHECK(warnings(b_diags).empty());
    // The same serial for the same data: the file's.
    CHECK(served_serial(*a1) == 2026120701);
    CHECK(served_serial(*a2) == 2026120701);
    CHECK(served_serial(*b) == 2026120701);
    // A, which served other data under that serial, says a bump is needed, at the SOA.
    const std::string zone_file = (files.dir.path / "example.test.zone").string();
    CHECK(warnings(a2_diags) ==
          std::vector<std::string>{
              zone_file +
              ":2: warning: zone example.test.: the data changed since serial 2026120701 was first served (a "
              "service's addresses, or the zone file's records), but the SOA serial did not: bump it, or "
              "secondaries that have serial 2026120701 keep the old data"});
    CHECK_FALSE(a2_diags.has_errors());
    // It says so again at the next load (and after a restart: the state
    // file keeps the same record) until the serial moves ahead.
    Diagnostics a3_diags;
    const auto a3 = files.load(&a2->served_serials(), a3_diags);
    REQUIRE(a3);
    CHECK(warnings(a3_diags).size() == 1);
    files.write(2026120702, "\"192.0.2.9\"");
    Diagnostics a4_diags;
    const auto a4 = files.load(&a3->served_serials(), a4_diags);
    REQUIRE(a4);
    CHECK(warnings(a4_diags).empty());
    CHECK(served_serial(*a4) == 2026120702);
    // A serial set back behind one served: served as written, with a warning.
    files.write(2026120700, "\"192.0.2.9\"");
    Diagnostics a5_diags;
    const auto a5 = files.load(&a4->served_serials(), a5_diags);
    REQUIRE(a5);
    CHECK(served_serial(*a5) == 2026120700);
    CHECK(warnings(a5_diags) ==
          std::vector<std::string>{zone_file +
                                   ":2: warning: zone example.test.: SOA serial 2026120700 is behind serial "
                                   "2026120702, which was served before: secondaries that have 2026120702 "
                                   "ignore it; set a serial ahead of 2026120702"});
}
