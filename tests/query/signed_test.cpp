#include "dnsd/query/signed.hpp"

#include <catch2/catch.hpp>
#include <fstream>

#include "dnsd/config/config.hpp"
#include "dnsd/load/runtime.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/query/signatures.hpp"
#include "tests/dnssec/keygen.hpp"
#include "tests/wire/packet.hpp"

using namespace dnsd;
using namespace dnsd::query;

namespace {

using Bytes = std::vector<std::uint8_t>;

const Bytes kOwner = {3, 'f', 'o', 'o', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0};

std::uint32_t u32_at(std::span<const std::uint8_t> b, std::size_t at) {
    return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 | std::uint32_t{b[at + 2]} << 8 |
           b[at + 3];
}

/// A key pair made by dnssec-keygen with `args`, read.
dnssec::Key made_key(const test::TempDir& dir, const std::string& args) {
    Diagnostics diags;
    auto key = dnssec::read_key(test::dnssec_keygen(dir, args, "example.test"), diags);
    REQUIRE(key);
    return std::move(*key);
}

}  // namespace

TEST_CASE("compact_nsec: next name \\000.owner and the type bitmap by windows (RFC 9824, RFC 4034 4.1.2)") {
    std::uint8_t out[512];
    const std::uint16_t nx[] = {128, 46, 47, 47};  // any order, duplicates allowed
    const std::size_t n = compact_nsec(kOwner, nx, out);
    // Window 0, 17 bytes (type 128 is bit 0 of byte 16); RRSIG 46 and NSEC 47
    // are bits 6 and 7 of byte 5.
    const Bytes bits = {0, 17, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
    Bytes want;
    want.push_back(1);
    want.push_back(0);
    for (const auto b : kOwner) want.push_back(b);
    for (const auto b : bits) want.push_back(b);
    CHECK(Bytes(out, out + n) == want);

    const std::uint16_t nodata[] = {257, 1, 46, 47};  // CAA is in window 1
    const std::size_t m = compact_nsec(kOwner, nodata, out);
    const Bytes bitmap(out + 2 + kOwner.size(), out + m);
    CHECK(bitmap == Bytes{0, 6, 0x40, 0, 0, 0, 0, 0x03, 1, 1, 0x40});

    CHECK(compact_nsec(kOwner, nx, std::span<std::uint8_t>(out, 30)) == 0);  // too small
}

TEST_CASE("SignatureCache: a hit for the same RRset, a new signature for another, renewal at half-life") {
    const test::TempDir dir("dnsd-sigcache");
    const auto key = made_key(dir, "-a 13");
    const Bytes a = {192, 0, 2, 1}, b = {192, 0, 2, 2};
    const dnssec::Rdata one[] = {a}, other[] = {b};
    const dnssec::Rrset set{kOwner, 1, 300, one}, changed{kOwner, 1, 300, other};
    const std::int64_t now = 1'800'000'000;

    SignatureCache cache(8);
    const auto first = cache.sign(key, set, now);
    REQUIRE(first.size() > 18);
    const Bytes made(first.begin(), first.end());
    // Expiration and inception (RFC 4034 3.1.5): a week ahead, an hour back.
    CHECK(u32_at(made, 8) == now + 7 * 86400);
    CHECK(u32_at(made, 12) == now - 3600);
    CHECK(cache.stats().made == 1);

    const auto again = cache.sign(key, set, now + 100);
    CHECK(Bytes(again.begin(), again.end()) == made);
    CHECK(cache.stats().hits == 1);

    // The owner's case does not matter; the content does.
    Bytes upper = kOwner;
    upper[1] = 'F';
    CHECK(!cache.sign(key, {upper, 1, 300, one}, now).empty());
    CHECK(cache.stats().made == 1);
    cache.sign(key, changed, now);
    CHECK(cache.stats().made == 2);
    cache.sign(key, {kOwner, 1, 60, one}, now);  // another TTL: another RRSIG
    CHECK(cache.stats().made == 3);

    // Half of the 7 days and 1 hour: renewed, with the new validity.
    const std::int64_t half = now + (7 * 86400 - 3600) / 2;
    cache.sign(key, set, half - 1);
    CHECK(cache.stats().made == 3);
    const auto renewed = cache.sign(key, set, half);
    CHECK(cache.stats().made == 4);
    CHECK(u32_at(renewed, 12) == half - 3600);
}

TEST_CASE("SignatureCache: bounded; the least recently used RRset of a full set is made again") {
    const test::TempDir dir("dnsd-sigcache");
    const auto key = made_key(dir, "-a 15");
    SignatureCache cache(4);  // one set of four ways
    std::vector<Bytes> addresses;
    for (std::uint8_t i = 0; i < 5; ++i) addresses.push_back({192, 0, 2, i});
    const std::int64_t now = 1'800'000'000;
    auto sign = [&](std::size_t i) {
        const dnssec::Rdata r[] = {addresses[i]};
        return cache.sign(key, {kOwner, 1, 300, r}, now).size();
    };
    for (std::size_t i = 0; i < 4; ++i) CHECK(sign(i) > 0);
    CHECK(cache.stats().made == 4);
    for (std::size_t i = 0; i < 4; ++i) sign(i);
    CHECK(cache.stats().hits == 4);
    sign(4);  // takes the slot of 0, the least recently used
    CHECK(cache.stats().made == 5);
    sign(1);
    CHECK(cache.stats().hits == 5);
    sign(0);
    CHECK(cache.stats().made == 6);
}

TEST_CASE("answer() of a signed zone: RRSIGs with DO, compact NXDOMAIN, unchanged without DO") {
    const test::TempDir dir("dnsd-signed");
    std::filesystem::create_directory(dir.path / "keys");
    test::dnssec_keygen(dir, "-a 13 -K " + (dir / "keys") + " -f KSK", "example.test");
    test::dnssec_keygen(dir, "-a 13 -K " + (dir / "keys"), "example.test");
    {
        std::ofstream zone(dir / "example.test.zone");
        zone << "$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A 127.0.0.1\n"
                "www A 192.0.2.1\n";
    }
    Diagnostics diags;
    const auto cfg = config::read_config_text(
        "[[zone]]\norigin = \"example.test.\"\nfile = \"example.test.zone\"\ndnssec = \"keys\"\n",
        dir / "dnsd.toml", diags);
    const auto view = load::runtime(cfg, diags);
    for (const auto& d : diags) INFO(d.str());
    REQUIRE(view);
    SignatureCache cache;
    std::vector<std::uint8_t> out(4096);
    const Address client = *Address::parse("127.0.0.1");
    Client c{client};
    c.signatures = &cache;
    auto ask = [&](const char* name, std::uint16_t type, bool edns_do) {
        test::Packet p;
        p.header(1, 0x0100, 1, 0, 0, 1).name(name).u16(type).u16(1).opt(1232, 0, edns_do);
        const auto r = answer({p.bytes.data(), p.bytes.size()}, out, *view, c);
        return Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.size));
    };
    const auto plain = ask("www.example.test.", 1, false);
    const auto signed_reply = ask("www.example.test.", 1, true);
    CHECK(plain[7] == 1);         // one answer
    CHECK(signed_reply[7] == 2);  // the A and its RRSIG (ZSK only)
    CHECK(cache.stats().made == 1);
    ask("www.example.test.", 1, true);
    CHECK(cache.stats().hits == 1);

    const auto nx_plain = ask("nope.example.test.", 1, false);
    CHECK((nx_plain[3] & 0xF) == 3);  // NXDOMAIN
    const auto nx = ask("nope.example.test.", 1, true);
    CHECK((nx[3] & 0xF) == 0);  // compact: NOERROR
    CHECK(nx[9] == 4);          // SOA, its RRSIG, NSEC, its RRSIG

    const auto keys = ask("example.test.", 48, true);
    CHECK(keys[7] == 3);  // two DNSKEYs, one RRSIG by the KSK
}
