#include "dnsd/dnssec/signer.hpp"

#include <ldns/ldns.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <optional>
#include <thread>

#include "dnsd/dnssec/canonical.hpp"
#include "tests/dnssec/keygen.hpp"
#include "tests/messages.hpp"

using namespace dnsd;
using namespace dnsd::dnssec;

namespace {

using Bytes = std::vector<std::uint8_t>;

/// RRs parsed by ldns from presentation text, and each one's owner and
/// rdata in uncompressed wire form (case as written), as ldns encodes them.
struct LdnsRrset {
    ldns_rr_list* list = ldns_rr_list_new();
    Bytes owner;
    std::uint16_t type = 0;
    std::uint32_t ttl = 0;
    std::vector<Bytes> rdatas;

    explicit LdnsRrset(std::initializer_list<const char*> records) {
        for (const char* text : records) {
            ldns_rr* rr = nullptr;
            INFO(text);
            REQUIRE(ldns_rr_new_frm_str(&rr, text, 3600, nullptr, nullptr) == LDNS_STATUS_OK);
            std::uint8_t* wire = nullptr;
            std::size_t size = 0;
            REQUIRE(ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &size) == LDNS_STATUS_OK);
            const std::size_t owner_size = ldns_rdf_size(ldns_rr_owner(rr));
            owner.assign(wire, wire + owner_size);
            type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
            ttl = ldns_rr_ttl(rr);
            rdatas.emplace_back(wire + owner_size + 10, wire + size);
            LDNS_FREE(wire);
            ldns_rr_list_push_rr(list, rr);
        }
    }
    ~LdnsRrset() { ldns_rr_list_deep_free(list); }
    LdnsRrset(const LdnsRrset&) = delete;
    LdnsRrset& operator=(const LdnsRrset&) = delete;
};

/// An RRSIG record (owner, type 46, class IN, TTL, rdata) read by ldns.
ldns_rr* rrsig_rr(const Bytes& owner, std::uint32_t ttl, std::span<const std::uint8_t> rdata) {
    Bytes wire = owner;
    const std::uint8_t fixed[10] = {0,
                                    46,
                                    0,
                                    1,
                                    static_cast<std::uint8_t>(ttl >> 24),
                                    static_cast<std::uint8_t>(ttl >> 16),
                                    static_cast<std::uint8_t>(ttl >> 8),
                                    static_cast<std::uint8_t>(ttl),
                                    static_cast<std::uint8_t>(rdata.size() >> 8),
                                    static_cast<std::uint8_t>(rdata.size())};
    wire.insert(wire.end(), fixed, fixed + 10);
    wire.insert(wire.end(), rdata.begin(), rdata.end());
    ldns_rr* rr = nullptr;
    std::size_t pos = 0;
    REQUIRE(ldns_wire2rr(&rr, wire.data(), wire.size(), &pos, LDNS_SECTION_ANSWER) == LDNS_STATUS_OK);
    return rr;
}

/// ldns's verdict on `rrset` with the RRSIG `rdata`, by the DNSKEY that
/// ldns reads from the key's own .key file.
ldns_status ldns_verify(const LdnsRrset& rrset, std::span<const std::uint8_t> rdata, const Key& key) {
    ldns_rr* dnskey = ldns_read_anchor_file(key.key_file().c_str());
    REQUIRE(dnskey);
    ldns_rr* rrsig = rrsig_rr(rrset.owner, rrset.ttl, rdata);
    const ldns_status status = ldns_verify_rrsig(rrset.list, rrsig, dnskey);
    ldns_rr_free(rrsig);
    ldns_rr_free(dnskey);
    return status;
}

Validity around_now() {
    const auto now = static_cast<std::uint32_t>(std::time(nullptr));
    return {now - 3600, now + 7 * 86400};
}

/// Our RRSIG over `rrset`'s records as ldns encoded them.
std::vector<std::uint8_t> sign(Signer& signer, const LdnsRrset& rrset, Validity validity = around_now(),
                               const Bytes* owner = nullptr) {
    std::vector<Rdata> rdatas(rrset.rdatas.begin(), rrset.rdatas.end());
    std::uint8_t out[Signer::kMaxRrsigRdata];
    const std::size_t n =
        signer.sign({owner ? *owner : rrset.owner, rrset.type, rrset.ttl, rdatas}, validity, out);
    REQUIRE(n > 0);
    return {out, out + n};
}

/// Both algorithms' keys for example.com, made by dnssec-keygen.
std::vector<Key> both_keys(const test::TempDir& dir) {
    std::vector<Key> keys;
    for (const char* args : {"-a ECDSAP256SHA256", "-a ED25519 -f KSK"}) {
        Diagnostics diags;
        auto key = read_key(test::dnssec_keygen(dir, args, "example.com"), diags);
        INFO(Catch::Detail::stringify(test::messages(diags)));
        REQUIRE(key);
        keys.push_back(std::move(*key));
    }
    return keys;
}

Bytes wire_name(const char* text) {
    const auto n = name_from_text(text);
    REQUIRE(n);
    return {n->begin(), n->end()};
}

}  // namespace

TEST_CASE("dnssec signer: RRSIGs that ldns verifies, both algorithms, the usual types, mixed case") {
    test::TempDir dir("dnsd-dnssec-sign");
    REQUIRE(ldns_key_algo_supported(LDNS_ECDSAP256SHA256));
    REQUIRE(ldns_key_algo_supported(LDNS_ED25519));
    for (Key& key : both_keys(dir)) {
        INFO(to_string(key.algorithm()));
        Signer signer(key);
        const LdnsRrset sets[] = {
            LdnsRrset{"WwW.Example.COM. 300 IN A 192.0.2.7", "www.example.com. 300 IN A 192.0.2.1",
                      "www.example.com. 300 IN A 198.51.100.20"},
            LdnsRrset{"www.EXAMPLE.com. 60 IN AAAA 2001:db8::2", "www.example.com. 60 IN AAAA 2001:db8::1"},
            LdnsRrset{"Example.com. 3600 IN MX 20 Mail2.Example.COM.",
                      "example.com. 3600 IN MX 10 MAIL.example.com.",
                      "example.com. 3600 IN MX 10 backup.OTHER.net."},
            LdnsRrset{"example.com. 86400 IN NS NS1.example.com.",
                      "example.com. 86400 IN NS ns2.Example.NET.",
                      "example.com. 86400 IN NS a.b.c.d.example.ORG."},
            LdnsRrset{
                "EXAMPLE.COM. 3600 IN SOA NS1.Example.COM. HostMaster.EXAMPLE.com. 2026120701 7200 3600 "
                "1209600 300"},
            LdnsRrset{"txt.example.com. 300 IN TXT \"Hello World\" \"second string\"",
                      "TXT.example.com. 300 IN TXT \"v=spf1 -all\"", "txt.example.com. 300 IN TXT \"\""},
            LdnsRrset{"a.very.deep.name.below.example.com. 5 IN A 203.0.113.9"},
            LdnsRrset{"example.com. 300 IN CNAME Target.Example.NET."},
            LdnsRrset{"_sip._tcp.example.com. 300 IN SRV 10 60 5060 SIP.Example.com."},
        };
        for (const LdnsRrset& set : sets) {
            const auto rrsig = sign(signer, set);
            INFO("type " << set.type);
            CHECK(ldns_verify(set, rrsig, key) == LDNS_STATUS_OK);
            // Tampered: one bit of the signature, or of a record.
            auto bad = rrsig;
            bad.back() ^= 1;
            CHECK(ldns_verify(set, bad, key) != LDNS_STATUS_OK);
        }
        // Tampered data: ldns verifies a changed record against our RRSIG.
        const LdnsRrset original{"www.example.com. 300 IN A 192.0.2.1"};
        const LdnsRrset changed{"www.example.com. 300 IN A 192.0.2.2"};
        const auto rrsig = sign(signer, original);
        CHECK(ldns_verify(original, rrsig, key) == LDNS_STATUS_OK);
        CHECK(ldns_verify(changed, rrsig, key) != LDNS_STATUS_OK);
    }
}

TEST_CASE("dnssec signer: the RRSIG's fields; order, case and duplicates do not change what is signed") {
    test::TempDir dir("dnsd-dnssec-fields");
    for (Key& key : both_keys(dir)) {
        Signer signer(key);
        const LdnsRrset set{"Www.Example.COM. 300 IN MX 20 B.example.com.",
                            "www.example.com. 300 IN MX 10 A.Example.com.",
                            "www.example.com. 300 IN MX 20 b.EXAMPLE.com."};  // the same record as the first
        const Validity validity{1'800'000'000u, 1'800'600'000u};
        const auto rrsig = sign(signer, set, validity);
        REQUIRE(rrsig.size() == 18 + 13 + 64);
        CHECK(rrsig[0] == 0);
        CHECK(rrsig[1] == 15);  // MX
        CHECK(rrsig[2] == static_cast<std::uint8_t>(key.algorithm()));
        CHECK(rrsig[3] == 3);  // labels
        CHECK(Bytes(rrsig.begin() + 4, rrsig.begin() + 8) == Bytes{0, 0, 1, 44});
        CHECK(Bytes(rrsig.begin() + 8, rrsig.begin() + 12) ==
              Bytes{0x6B, 0x52, 0xF9, 0xC0});  // 1'800'600'000
        CHECK(Bytes(rrsig.begin() + 12, rrsig.begin() + 16) ==
              Bytes{0x6B, 0x49, 0xD2, 0x00});  // 1'800'000'000
        CHECK(rrsig[16] == key.tag() >> 8);
        CHECK(rrsig[17] == (key.tag() & 0xFF));
        CHECK(Bytes(rrsig.begin() + 18, rrsig.begin() + 31) == wire_name("example.com."));

        // ldns sees two records (it does not drop duplicates itself).
        const LdnsRrset deduplicated{"www.example.com. 300 IN MX 10 a.example.com.",
                                     "www.example.com. 300 IN MX 20 b.example.com."};
        ldns_rr* dnskey = ldns_read_anchor_file(key.key_file().c_str());
        ldns_rr* sig = rrsig_rr(deduplicated.owner, 300, rrsig);
        CHECK(ldns_verify_rrsig_time(deduplicated.list, sig, dnskey, 1'800'300'000) == LDNS_STATUS_OK);
        CHECK(ldns_verify_rrsig_time(deduplicated.list, sig, dnskey, 1'800'700'000) !=
              LDNS_STATUS_OK);  // expired
        ldns_rr_free(sig);
        ldns_rr_free(dnskey);

        // The same records in another order and case: the same signed data,
        // so the Ed25519 signature (deterministic) is the same.
        const LdnsRrset shuffled{"WWW.EXAMPLE.COM. 300 IN MX 20 B.EXAMPLE.COM.",
                                 "www.example.com. 300 IN MX 10 a.example.com."};
        const auto again = sign(signer, shuffled, validity);
        if (key.algorithm() == Algorithm::ed25519) CHECK(again == rrsig);
        CHECK(Bytes(again.begin(), again.begin() + 31) == Bytes(rrsig.begin(), rrsig.begin() + 31));
    }
}

TEST_CASE("dnssec signer: a wildcard's RRSIG answers for the names it expands to") {
    test::TempDir dir("dnsd-dnssec-wild");
    for (Key& key : both_keys(dir)) {
        Signer signer(key);
        const LdnsRrset wild{"*.Wild.example.com. 300 IN A 192.0.2.53",
                             "*.wild.example.com. 300 IN A 192.0.2.54"};
        const auto rrsig = sign(signer, wild);
        CHECK(rrsig[3] == 3);  // wild.example.com: the "*" does not count
        CHECK(ldns_verify(wild, rrsig, key) == LDNS_STATUS_OK);
        // As served for a.b.wild.example.com and for x.wild.example.com.
        for (auto* name : {"a.B.wild.example.com.", "x.wild.example.com."}) {
            INFO(name);
            const LdnsRrset expanded{(std::string(name) + " 300 IN A 192.0.2.53").c_str(),
                                     (std::string(name) + " 300 IN A 192.0.2.54").c_str()};
            CHECK(ldns_verify(expanded, rrsig, key) == LDNS_STATUS_OK);
        }
        // A name outside the wildcard's reach is not covered.
        const LdnsRrset elsewhere{"x.other.example.com. 300 IN A 192.0.2.53",
                                  "x.other.example.com. 300 IN A 192.0.2.54"};
        CHECK(ldns_verify(elsewhere, rrsig, key) != LDNS_STATUS_OK);
    }
}

TEST_CASE("dnssec signer: one Signer signs again and again (its contexts are reused)") {
    test::TempDir dir("dnsd-dnssec-reuse");
    for (Key& key : both_keys(dir)) {
        Signer signer(key);
        for (int i = 0; i < 40; ++i) {
            const std::string text =
                "s" + std::to_string(i) + ".example.com. 300 IN A 192.0.2." + std::to_string(i);
            // TXT records that grow (the scratch buffers grow with them).
            std::string text2 = "s" + std::to_string(i) + ".example.com. 300 IN TXT";
            for (int k = 0; k <= i; ++k)
                text2 += " \"" + std::string(200, static_cast<char>('a' + k % 26)) + "\"";
            const LdnsRrset a{text.c_str()};
            const LdnsRrset txt{text2.c_str()};
            CHECK(ldns_verify(a, sign(signer, a), key) == LDNS_STATUS_OK);
            CHECK(ldns_verify(txt, sign(signer, txt), key) == LDNS_STATUS_OK);
        }
        // A moved Signer still signs.
        Signer moved = std::move(signer);
        const LdnsRrset a{"m.example.com. 300 IN A 192.0.2.1"};
        CHECK(ldns_verify(a, sign(moved, a), key) == LDNS_STATUS_OK);
    }
}

TEST_CASE("dnssec signer: threads share a Key, each with its own Signer") {
    test::TempDir dir("dnsd-dnssec-threads");
    for (const Key& key : both_keys(dir)) {
        const LdnsRrset set{"www.example.com. 60 IN A 192.0.2.1", "www.example.com. 60 IN A 192.0.2.2"};
        const std::vector<Rdata> rdatas(set.rdatas.begin(), set.rdatas.end());
        const Validity validity = around_now();
        std::vector<Bytes> made[2];
        std::vector<std::thread> threads;
        for (auto& out : made)
            threads.emplace_back([&key, &set, &rdatas, validity, &out] {
                Signer signer(key);
                std::uint8_t rrsig[Signer::kMaxRrsigRdata];
                for (int i = 0; i < 200; ++i) {
                    const std::size_t n =
                        signer.sign({set.owner, set.type, set.ttl, rdatas}, validity, rrsig);
                    out.emplace_back(rrsig, rrsig + n);
                }
            });
        for (auto& t : threads) t.join();
        for (const auto& out : made) {
            REQUIRE(out.size() == 200);
            for (const Bytes& rrsig : {out.front(), out.back()})
                CHECK(ldns_verify(set, rrsig, key) == LDNS_STATUS_OK);
            for (const Bytes& rrsig : out) CHECK(rrsig.size() == 18 + 13 + 64);
        }
    }
}

TEST_CASE("dnssec signer: what it will not sign") {
    test::TempDir dir("dnsd-dnssec-refuse");
    auto keys = both_keys(dir);
    Signer signer(keys[0]);
    const Bytes owner = wire_name("www.example.com.");
    const Bytes a = {192, 0, 2, 1};
    const Rdata rdatas[] = {a};
    std::uint8_t out[Signer::kMaxRrsigRdata];
    const Validity v = around_now();
    CHECK(signer.sign({owner, 1, 300, rdatas}, v, out) == 18 + 13 + 64);
    // No records; an RRSIG RRset; an owner outside the zone or malformed.
    CHECK(signer.sign({owner, 1, 300, {}}, v, out) == 0);
    CHECK(signer.sign({owner, 46, 300, rdatas}, v, out) == 0);
    const Bytes outside = wire_name("www.example.net.");
    CHECK(signer.sign({outside, 1, 300, rdatas}, v, out) == 0);
    const Bytes cut(owner.begin(), owner.end() - 1);  // no root label
    CHECK(signer.sign({cut, 1, 300, rdatas}, v, out) == 0);
    const Bytes pointer = {3, 'w', 'w', 'w', 0xC0, 12};
    CHECK(signer.sign({pointer, 1, 300, rdatas}, v, out) == 0);
    // Too little room for the RRSIG.
    CHECK(signer.sign({owner, 1, 300, rdatas}, v, std::span(out, 18 + 13 + 63)) == 0);
    // An MX whose exchange is cut short, or compressed.
    const Bytes mx_cut = {0, 10, 4, 'm', 'a', 'i', 'l', 7, 'e', 'x'};
    const Bytes mx_pointer = {0, 10, 4, 'm', 'a', 'i', 'l', 0xC0, 12};
    for (const Bytes& bad : {mx_cut, mx_pointer}) {
        const Rdata mx[] = {bad};
        CHECK(signer.sign({owner, 15, 300, mx}, v, out) == 0);
    }
    // The root zone's key could sign anything; this one signs at its apex.
    CHECK(signer.sign({wire_name("example.com."), 1, 300, rdatas}, v, out) > 0);
}

TEST_CASE("dnssec canonical: names in rdata lower-cased for the listed types only") {
    // The rdata canonicalized; nothing when it is malformed.
    auto canon = [](std::uint16_t type, Bytes rdata) -> std::optional<Bytes> {
        if (!canonicalize_rdata(type, rdata)) return std::nullopt;
        return rdata;
    };
    const Bytes upper = {3, 'W', 'W', 'W', 2, 'E', 'x', 0};
    const Bytes lower = {3, 'w', 'w', 'w', 2, 'e', 'x', 0};
    CHECK(canon(2, upper) == lower);   // NS
    CHECK(canon(39, upper) == lower);  // DNAME
    // NSEC's next name keeps its case (RFC 6840 5.1), TXT is text.
    Bytes nsec = upper;
    nsec.insert(nsec.end(), {0, 1, 0x40});
    CHECK(canon(47, nsec) == nsec);
    CHECK(canon(16, upper) == upper);
    // SOA: two names and 20 bytes; one byte more or less is malformed.
    Bytes soa = upper;
    soa.insert(soa.end(), upper.begin(), upper.end());
    soa.resize(soa.size() + 20, 'A');
    Bytes soa_lower = lower;
    soa_lower.insert(soa_lower.end(), lower.begin(), lower.end());
    soa_lower.resize(soa_lower.size() + 20, 'A');  // the numbers are not text
    CHECK(canon(6, soa) == soa_lower);
    soa.push_back(0);
    CHECK_FALSE(canon(6, soa));
    // Two bytes off the end, one short (erase, not resize: g++ 12 with
    // -fsanitize=thread warns of a memset of a wrapped size on a shrink).
    soa.erase(soa.end() - 2, soa.end());
    CHECK_FALSE(canon(6, soa));
    // SRV: priority, weight, port, then the target.
    Bytes srv = {0, 1, 0, 2, 0x13, 0xC4};
    srv.insert(srv.end(), upper.begin(), upper.end());
    Bytes srv_lower = {0, 1, 0, 2, 0x13, 0xC4};
    srv_lower.insert(srv_lower.end(), lower.begin(), lower.end());
    CHECK(canon(33, srv) == srv_lower);
    // NAPTR: order, preference, three strings (case kept), the replacement.
    Bytes naptr = {0, 10, 0, 20, 1, 'U', 7, 'E', '2', 'U', '+', 'S', 'I', 'P', 0};
    naptr.insert(naptr.end(), upper.begin(), upper.end());
    Bytes naptr_lower = {0, 10, 0, 20, 1, 'U', 7, 'E', '2', 'U', '+', 'S', 'I', 'P', 0};
    naptr_lower.insert(naptr_lower.end(), lower.begin(), lower.end());
    CHECK(canon(35, naptr) == naptr_lower);
    // RRSIG: 18 bytes, the signer, the signature (its bytes untouched).
    Bytes rrsig(18, 'A');
    rrsig.insert(rrsig.end(), upper.begin(), upper.end());
    rrsig.insert(rrsig.end(), {'S', 'I', 'G'});
    Bytes rrsig_lower(18, 'A');
    rrsig_lower.insert(rrsig_lower.end(), lower.begin(), lower.end());
    rrsig_lower.insert(rrsig_lower.end(), {'S', 'I', 'G'});
    CHECK(canon(46, rrsig) == rrsig_lower);
    // A6 with a prefix: a prefix length of 64 leaves 8 address bytes.
    Bytes a6 = {64, 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'};
    a6.insert(a6.end(), upper.begin(), upper.end());
    Bytes a6_lower = {64, 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'};
    a6_lower.insert(a6_lower.end(), lower.begin(), lower.end());
    CHECK(canon(38, a6) == a6_lower);
    CHECK(canon(38, Bytes(17, 0)) == Bytes(17, 0));  // prefix 0: no name

    CHECK(compare_rdata(Bytes{1, 2}, Bytes{1, 2, 0}) < 0);  // shorter first
    CHECK(compare_rdata(Bytes{1, 3}, Bytes{1, 2, 0}) > 0);
    CHECK(compare_rdata(Bytes{}, Bytes{0}) < 0);
    CHECK(compare_rdata(Bytes{7}, Bytes{7}) == 0);

    CHECK(rrsig_labels(wire_name("*.wild.example.com.")) == 3);
    CHECK(rrsig_labels(wire_name("a.*.example.com.")) == 4);  // "*" inside is an ordinary label
    CHECK(rrsig_labels(wire_name("www.example.com.")) == 3);
    CHECK(rrsig_labels(wire_name(".")) == 0);
    CHECK(rrsig_labels(wire_name("*.")) == 0);
}
