// TSIG against an independent implementation: dnspython (dns.tsig) signs
// requests that check_tsig() must accept, and verifies the replies and the
// chained transfer messages that append_tsig() and TsigChain sign. The
// vectors are made at test time with random secrets, not hard-coded.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/temp_dir.hpp"

#include "dnsd/query/tsig.hpp"
#include "dnsd/wire/parser.hpp"
#include "dnsd/wire/types.hpp"

using namespace dnsd;
using namespace dnsd::query;

namespace {

constexpr std::uint64_t kTime = 1'700'000'000;

// Given: algorithm, base64 secret, time, then commands on stdin lines:
//   query             -> prints the hex of an AXFR query signed at the time, then its MAC
//   reply HEX MAC     -> verifies a reply to a request with that MAC; prints ok or the error
//   chain MAC HEX...  -> verifies messages of one transfer in turn; prints ok or the error
const char* kScript = R"(
import base64, binascii, sys
from unittest import mock
import dns.message, dns.name, dns.tsig
alg, secret, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
ring = {dns.name.from_text("xfr."): dns.tsig.Key("xfr.", secret, alg)}
with mock.patch("time.time", return_value=now):
    for line in sys.stdin:
        words = line.split()
        try:
            if words[0] == "query":
                q = dns.message.make_query("Example.Test.", "AXFR")
                q.use_tsig(ring, keyname="xfr.", algorithm=alg)
                w = q.to_wire()
                print(w.hex(), q.mac.hex())
            elif words[0] == "reply":
                m = dns.message.from_wire(bytes.fromhex(words[1]), keyring=ring, request_mac=bytes.fromhex(words[2]))
                print("ok" if m.had_tsig else "unsigned")
            elif words[0] == "chain":
                mac, ctx = bytes.fromhex(words[1]), None
                for h in words[2:]:
                    m = dns.message.from_wire(bytes.fromhex(h), keyring=ring, request_mac=mac, xfr=True,
                                              origin=dns.name.from_text("example.test."), tsig_ctx=ctx, multi=True)
                    ctx = m.tsig_ctx
                print("ok")
        except Exception as e:
            print(type(e).__name__)
        sys.stdout.flush()
)";

std::string hex(std::span<const std::uint8_t> b) {
    std::string s;
    char two[3];
    for (auto c : b) {
        std::snprintf(two, sizeof two, "%02x", c);
        s += two;
    }
    return s;
}

std::vector<std::uint8_t> unhex(const std::string& s) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < s.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
    return out;
}

/// Runs the script with `input`; its output lines, or nothing when
/// dnspython cannot be run here.
std::vector<std::string> dnspython(const test::TempDir& dir, const std::string& alg,
                                   const std::string& secret, const std::string& input) {
    const auto script = dir / "tsig.py";
    std::ofstream(script) << kScript;
    const auto in = dir / "in.txt";
    std::ofstream(in) << input;
    const std::string cmd = "/usr/bin/python3 " + script + " " + alg + " " + secret + " " +
                            std::to_string(kTime) + " < " + in + " 2>&1";
    std::vector<std::string> lines;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return lines;
    std::string line;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) {
        line += buf;
        if (!line.empty() && line.back() == '\n') {
            line.pop_back();
            lines.push_back(line);
            line.clear();
        }
    }
    ::pclose(p);
    return lines;
}

config::TsigKey make_key(config::TsigKey::Algorithm alg, std::size_t size) {
    config::TsigKey k;
    k.name = "xfr";
    k.wire = std::string("\3xfr\0", 5);
    k.algorithm = alg;
    std::mt19937 rng(static_cast<unsigned>(size));
    for (std::size_t i = 0; i < size; ++i) k.secret.push_back(static_cast<std::uint8_t>(rng()));
    return k;
}

std::string base64(const std::vector<std::uint8_t>& b) {
    static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string s;
    for (std::size_t i = 0; i < b.size(); i += 3) {
        const std::uint32_t w = std::uint32_t{b[i]} << 16 | (i + 1 < b.size() ? b[i + 1] << 8 : 0) |
                                (i + 2 < b.size() ? b[i + 2] : 0);
        s += digits[w >> 18 & 63];
        s += digits[w >> 12 & 63];
        s += i + 1 < b.size() ? digits[w >> 6 & 63] : '=';
        s += i + 2 < b.size() ? digits[w & 63] : '=';
    }
    return s;
}

}  // namespace

TEST_CASE("tsig: requests signed by dnspython, replies and transfers verified by it") {
    test::TempDir dir("dnsd-tsig-test");
    const std::pair<config::TsigKey::Algorithm, const char*> algorithms[] = {
        {config::TsigKey::Algorithm::hmac_sha256, "hmac-sha256"},
        {config::TsigKey::Algorithm::hmac_sha384, "hmac-sha384"},
        {config::TsigKey::Algorithm::hmac_sha512, "hmac-sha512"}};
    for (const auto& [alg, alg_name] : algorithms) {
        INFO(alg_name);
        const auto key = make_key(alg, 40);
        const auto secret = base64(key.secret);
        const auto signed_query = dnspython(dir, alg_name, secret, "query\n");
        if (signed_query.size() != 1 || signed_query[0].find(' ') == std::string::npos) {
            WARN("dnspython could not be run: " << (signed_query.empty() ? "" : signed_query[0]));
            return;
        }
        const auto space = signed_query[0].find(' ');
        const auto request = unhex(signed_query[0].substr(0, space));
        const auto request_mac = unhex(signed_query[0].substr(space + 1));

        // The request: found by the parser, accepted by check_tsig().
        wire::Query q;
        REQUIRE(wire::parse_query(request, q) == wire::Verdict::ok);
        REQUIRE(q.tsig_at > 0);
        TsigRecord r;
        REQUIRE(read_tsig(request, q.tsig_at, r));
        CHECK(r.time_signed == kTime);
        CHECK(r.fudge == 300);
        CHECK(std::vector<std::uint8_t>(r.mac.begin(), r.mac.end()) == request_mac);
        const config::TsigKey* found = nullptr;
        const std::vector<config::TsigKey> keys{key};
        CHECK(check_tsig(request, r, keys, kTime, found) == TsigCheck::ok);
        CHECK(found == &keys[0]);
        CHECK(check_tsig(request, r, keys, kTime + 300, found) == TsigCheck::ok);
        CHECK(check_tsig(request, r, keys, kTime + 301, found) == TsigCheck::badtime);
        CHECK(check_tsig(request, r, keys, kTime - 301, found) == TsigCheck::badtime);
        auto other = key;
        other.secret[0] ^= 1;
        CHECK(check_tsig(request, r, std::vector<config::TsigKey>{other}, kTime, found) == TsigCheck::badsig);
        other = key;
        other.wire = std::string("\5other\0", 7);
        CHECK(check_tsig(request, r, std::vector<config::TsigKey>{other}, kTime, found) == TsigCheck::badkey);
        other = key;
        other.algorithm = alg == config::TsigKey::Algorithm::hmac_sha256
                              ? config::TsigKey::Algorithm::hmac_sha512
                              : config::TsigKey::Algorithm::hmac_sha256;
        CHECK(check_tsig(request, r, std::vector<config::TsigKey>{other}, kTime, found) == TsigCheck::badkey);
        // A changed byte of the message (its question's case).
        auto tampered = request;
        tampered[13] ^= 0x20;
        TsigRecord tr;
        REQUIRE(read_tsig(tampered, q.tsig_at, tr));
        CHECK(check_tsig(tampered, tr, keys, kTime, found) == TsigCheck::badsig);
        // A TSIG that is not the last record is FORMERR (RFC 8945 5.1).
        auto twice = request;
        twice.insert(twice.end(), request.begin() + q.tsig_at, request.end());
        wire::put16(&twice[10], static_cast<std::uint16_t>(wire::get16(&twice[10]) + 1));
        CHECK(wire::parse_query(twice, q) == wire::Verdict::formerr);

        // A reply signed after the request's MAC.
        const std::size_t unsigned_size = q.tsig_at;
        std::vector<std::uint8_t> reply(unsigned_size + tsig_size(key));
        std::copy(request.begin(), request.begin() + q.tsig_at, reply.begin());
        wire::put16(&reply[2], static_cast<std::uint16_t>(wire::get16(&reply[2]) | wire::flag::QR));
        wire::put16(&reply[10], static_cast<std::uint16_t>(wire::get16(&reply[10]) - 1));
        TsigSigning s;
        s.key = &key;
        s.prior = r.mac;
        s.time_signed = kTime;
        std::uint8_t mac[kMaxMac];
        std::size_t mac_size = 0;
        const std::size_t n = append_tsig(reply, unsigned_size, s, mac, mac_size);
        CHECK(n == reply.size());  // tsig_size() is exact

        // The messages of a transfer: copies of the reply without its
        // question, each signed after the one before.
        TsigChain chain(key, r.mac);
        std::string chain_line = "chain " + hex(r.mac);
        for (int i = 0; i < 3; ++i) {
            std::vector<std::uint8_t> m(unsigned_size + chain.reserve());
            std::copy(request.begin(), request.begin() + q.tsig_at, m.begin());
            wire::put16(&m[2], static_cast<std::uint16_t>(wire::get16(&m[2]) | wire::flag::QR));
            wire::put16(&m[10], 0);
            const std::size_t k = chain.sign(m, unsigned_size, kTime + static_cast<std::uint64_t>(i));
            REQUIRE(k == m.size());
            chain_line += " " + hex(m);
        }
        // A chain with a message changed on the way fails.
        auto broken_line = chain_line;
        broken_line[broken_line.size() - 80] = broken_line[broken_line.size() - 80] == '0' ? '1' : '0';
        const auto verdicts = dnspython(
            dir, alg_name, secret,
            "reply " + hex(reply) + " " + hex(r.mac) + "\n" + chain_line + "\n" + broken_line + "\n");
        REQUIRE(verdicts.size() == 3);
        CHECK(verdicts[0] == "ok");
        CHECK(verdicts[1] == "ok");
        CHECK(verdicts[2] != "ok");
        // Ours agrees: the reply's MAC verifies after the request's.
        TsigRecord rr;
        REQUIRE(read_tsig(reply, unsigned_size, rr));
        CHECK(tsig_mac_ok(reply, rr, key, r.mac, false));
        CHECK_FALSE(tsig_mac_ok(reply, rr, key, {}, false));
    }
}

TEST_CASE("tsig: unsigned errors and what does not fit") {
    const auto key = make_key(config::TsigKey::Algorithm::hmac_sha256, 32);
    std::vector<std::uint8_t> m(wire::kHeaderSize + tsig_size(key) - 1, 0);
    TsigSigning s;
    s.key = &key;
    std::uint8_t mac[kMaxMac];
    std::size_t mac_size = 0;
    CHECK(append_tsig(m, wire::kHeaderSize, s, mac, mac_size) == 0);  // one byte short
    CHECK(wire::get16(&m[10]) == 0);
    m.push_back(0);
    CHECK(append_tsig(m, wire::kHeaderSize, s, mac, mac_size) == m.size());
    CHECK(mac_size == 32);
    CHECK(wire::get16(&m[10]) == 1);

    // BADKEY: the request's names, MAC size 0.
    std::vector<std::uint8_t> e(200, 0);
    const std::uint8_t name[] = {5, 'o', 't', 'h', 'e', 'r', 0};
    const std::uint8_t alg[] = {11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0};
    TsigSigning u;
    u.name = name;
    u.algorithm = alg;
    u.error = tsig_error::BADKEY;
    u.time_signed = kTime;
    const std::size_t n = append_tsig(e, wire::kHeaderSize, u, mac, mac_size);
    REQUIRE(n > 0);
    CHECK(mac_size == 0);
    TsigRecord r;
    REQUIRE(read_tsig(std::span<const std::uint8_t>(e).first(n), wire::kHeaderSize, r));
    CHECK(r.error == tsig_error::BADKEY);
    CHECK(r.mac.empty());
    CHECK(r.time_signed == kTime);
    CHECK(std::string(reinterpret_cast<const char*>(r.name), r.name_size) == std::string("\5other\0", 7));
    // Truncated or trailing bytes: malformed.
    CHECK_FALSE(read_tsig(std::span<const std::uint8_t>(e).first(n - 1), wire::kHeaderSize, r));
    CHECK_FALSE(read_tsig(std::span<const std::uint8_t>(e).first(n + 1), wire::kHeaderSize, r));
}
