#include "dnsd/query/tsig.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>
#include <ctime>

#include "dnsd/wire/types.hpp"

namespace dnsd::query {

namespace {

using Algorithm = config::TsigKey::Algorithm;

struct AlgorithmInfo {
    const char* digest;     ///< OpenSSL's name
    std::size_t size;       ///< MAC bytes
    std::string_view wire;  ///< the algorithm's name in TSIG records (RFC 8945 6)
};

AlgorithmInfo info(Algorithm a) noexcept {
    using namespace std::string_view_literals;
    switch (a) {
        case Algorithm::hmac_sha256:
            return {"SHA256", 32, "\x0bhmac-sha256\x00"sv};
        case Algorithm::hmac_sha384:
            return {"SHA384", 48, "\x0bhmac-sha384\x00"sv};
        case Algorithm::hmac_sha512:
            return {"SHA512", 64, "\x0bhmac-sha512\x00"sv};
    }
    return {"SHA256", 32, "\x0bhmac-sha256\x00"sv};
}

std::span<const std::uint8_t> bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

/// One HMAC computation (OpenSSL EVP_MAC), fed piece by piece.
class Hmac {
public:
    explicit Hmac(const config::TsigKey& key) noexcept {
        mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        ctx_ = mac_ ? EVP_MAC_CTX_new(mac_) : nullptr;
        char digest[16];
        std::strncpy(digest, info(key.algorithm).digest, sizeof digest - 1);
        digest[sizeof digest - 1] = 0;
        const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                     OSSL_PARAM_construct_end()};
        ok_ = ctx_ && !key.secret.empty() &&
              EVP_MAC_init(ctx_, key.secret.data(), key.secret.size(), params) == 1;
    }
    ~Hmac() {
        EVP_MAC_CTX_free(ctx_);
        EVP_MAC_free(mac_);
    }
    Hmac(const Hmac&) = delete;
    Hmac& operator=(const Hmac&) = delete;

    void update(std::span<const std::uint8_t> data) noexcept {
        if (ok_ && !data.empty()) ok_ = EVP_MAC_update(ctx_, data.data(), data.size()) == 1;
    }
    /// The MAC into `out` (kMaxMac bytes); its size, 0 on failure.
    std::size_t final(std::uint8_t* out) noexcept {
        std::size_t n = 0;
        if (!ok_ || EVP_MAC_final(ctx_, out, &n, kMaxMac) != 1) return 0;
        return n;
    }

private:
    EVP_MAC* mac_ = nullptr;
    EVP_MAC_CTX* ctx_ = nullptr;
    bool ok_ = false;
};

/// The TSIG variables a MAC covers after the message (RFC 8945 4.3.3).
struct Variables {
    std::span<const std::uint8_t> name;  ///< canonical: lower-case, uncompressed
    std::span<const std::uint8_t> algorithm;
    std::uint64_t time_signed = 0;
    std::uint16_t fudge = 0;
    std::uint16_t error = 0;
    std::span<const std::uint8_t> other;
};

/// The MAC of prior MAC, message (header given apart) and variables.
std::size_t compute_mac(const config::TsigKey& key, std::span<const std::uint8_t> prior,
                        const std::uint8_t* header, std::span<const std::uint8_t> body, const Variables& v,
                        bool timers_only, std::uint8_t* out) noexcept {
    Hmac h(key);
    if (!prior.empty()) {
        std::uint8_t size[2];
        wire::put16(size, static_cast<std::uint16_t>(prior.size()));
        h.update(size);
        h.update(prior);
    }
    h.update({header, wire::kHeaderSize});
    h.update(body);
    std::uint8_t fixed[6];
    if (!timers_only) {
        h.update(v.name);
        wire::put16(fixed, wire::klass::ANY);
        wire::put32(fixed + 2, 0);  // TTL
        h.update(fixed);
        h.update(v.algorithm);
    }
    std::uint8_t timers[8];
    wire::put16(timers, static_cast<std::uint16_t>(v.time_signed >> 32));
    wire::put32(timers + 2, static_cast<std::uint32_t>(v.time_signed));
    wire::put16(timers + 6, v.fudge);
    h.update(timers);
    if (!timers_only) {
        wire::put16(fixed, v.error);
        wire::put16(fixed + 2, static_cast<std::uint16_t>(v.other.size()));
        h.update({fixed, 4});
        h.update(v.other);
    }
    return h.final(out);
}

/// Reads a name at `pos`, following compression pointers (backwards only,
/// so a loop is impossible), lower-cased into `out`. Returns the offset
/// after the name where it was found, or 0 when malformed.
std::size_t read_name(std::span<const std::uint8_t> p, std::size_t pos, std::uint8_t* out,
                      std::size_t& out_size) noexcept {
    std::size_t end = 0, n = 0;
    while (pos < p.size()) {
        const std::uint8_t len = p[pos];
        if ((len & 0xC0) == 0xC0) {
            if (pos + 1 >= p.size()) return 0;
            if (end == 0) end = pos + 2;
            const std::size_t target = static_cast<std::size_t>(len & 0x3F) << 8 | p[pos + 1];
            if (target >= pos) return 0;
            pos = target;
            continue;
        }
        if (len > kMaxLabelLength) return 0;
        if (n + 1u + len > kMaxNameLength || pos + 1u + len > p.size()) return 0;
        out[n++] = len;
        for (std::size_t i = 0; i < len; ++i) out[n++] = lower(p[pos + 1 + i]);
        pos += 1u + len;
        if (len == 0) {
            out_size = n;
            return end ? end : pos;
        }
    }
    return 0;
}

/// The MAC a received message's TSIG `r` should carry: over the message as
/// it was before the TSIG was added (the original ID, an ARCOUNT without
/// the TSIG). 0 when the message cannot have been signed so.
std::size_t received_mac(std::span<const std::uint8_t> message, const TsigRecord& r,
                         const config::TsigKey& key, std::span<const std::uint8_t> prior, bool timers_only,
                         std::uint8_t* out) noexcept {
    if (r.start < wire::kHeaderSize || r.start > message.size()) return 0;
    std::uint8_t header[wire::kHeaderSize];
    std::memcpy(header, message.data(), sizeof header);
    const std::uint16_t arcount = wire::get16(header + 10);
    if (arcount == 0) return 0;
    wire::put16(header, r.original_id);
    wire::put16(header + 10, static_cast<std::uint16_t>(arcount - 1));
    const Variables v{
        {r.name, r.name_size}, {r.algorithm, r.algorithm_size}, r.time_signed, r.fudge, r.error, r.other};
    return compute_mac(key, prior, header, message.subspan(wire::kHeaderSize, r.start - wire::kHeaderSize), v,
                       timers_only, out);
}

}  // namespace

const char* to_string(TsigFault fault) noexcept {
    switch (fault) {
        case TsigFault::none:
            return "none";
        case TsigFault::missing:
            return "no TSIG";
        case TsigFault::other_key:
            return "signed with another key than server.transfer_key";
        case TsigFault::malformed:
            return "a malformed TSIG";
        case TsigFault::badkey:
            return "BADKEY (a key we do not have)";
        case TsigFault::badsig:
            return "BADSIG (a wrong MAC)";
        case TsigFault::badtrunc:
            return "BADTRUNC (a truncated MAC)";
        case TsigFault::badtime:
            return "BADTIME (a clock off by more than the fudge)";
    }
    return "?";
}

bool read_tsig(std::span<const std::uint8_t> m, std::size_t start, TsigRecord& r) noexcept {
    r = TsigRecord{};
    r.start = start;
    std::size_t pos = read_name(m, start, r.name, r.name_size);
    if (pos == 0 || pos + 10 > m.size()) return false;
    if (wire::get16(&m[pos]) != wire::type::TSIG || wire::get16(&m[pos + 2]) != wire::klass::ANY ||
        wire::get32(&m[pos + 4]) != 0)
        return false;
    const std::size_t rdlen = wire::get16(&m[pos + 8]);
    pos += 10;
    const std::size_t end = pos + rdlen;
    if (end != m.size()) return false;  // the last record, and nothing after it
    pos = read_name(m, pos, r.algorithm, r.algorithm_size);
    if (pos == 0 || pos + 10 > end) return false;
    r.time_signed = std::uint64_t{wire::get16(&m[pos])} << 32 | wire::get32(&m[pos + 2]);
    r.fudge = wire::get16(&m[pos + 6]);
    const std::size_t mac_size = wire::get16(&m[pos + 8]);
    pos += 10;
    if (pos + mac_size + 6 > end) return false;
    r.mac = m.subspan(pos, mac_size);
    pos += mac_size;
    r.original_id = wire::get16(&m[pos]);
    r.error = wire::get16(&m[pos + 2]);
    const std::size_t other_size = wire::get16(&m[pos + 4]);
    pos += 6;
    if (pos + other_size != end) return false;
    r.other = m.subspan(pos, other_size);
    return true;
}

bool tsig_mac_ok(std::span<const std::uint8_t> message, const TsigRecord& r, const config::TsigKey& key,
                 std::span<const std::uint8_t> prior, bool timers_only) noexcept {
    std::uint8_t mac[kMaxMac];
    const std::size_t n = received_mac(message, r, key, prior, timers_only, mac);
    if (n == 0 || r.mac.size() != n) return false;
    return CRYPTO_memcmp(mac, r.mac.data(), n) == 0;
}

TsigCheck check_tsig(std::span<const std::uint8_t> message, const TsigRecord& r,
                     std::span<const config::TsigKey> keys, std::uint64_t now,
                     const config::TsigKey*& key) noexcept {
    key = nullptr;
    const std::span<const std::uint8_t> name{r.name, r.name_size};
    const std::span<const std::uint8_t> algorithm{r.algorithm, r.algorithm_size};
    for (const auto& k : keys)
        if (same(bytes(k.wire), name) && same(bytes(info(k.algorithm).wire), algorithm)) key = &k;
    if (!key) return TsigCheck::badkey;
    // 5.2.2.1: a MAC longer than the hash, or shorter than half of it (and
    // than 10 bytes), is malformed; a shorter one than ours is refused
    // once it proves right.
    const std::size_t full = info(key->algorithm).size;
    const std::size_t least = full / 2 > 10 ? full / 2 : 10;
    if (r.mac.size() > full || r.mac.size() < least) return TsigCheck::formerr;
    std::uint8_t mac[kMaxMac];
    const std::size_t n = received_mac(message, r, *key, {}, false, mac);
    if (n == 0) return TsigCheck::formerr;
    if (n != full || CRYPTO_memcmp(mac, r.mac.data(), r.mac.size()) != 0) return TsigCheck::badsig;
    if (r.mac.size() < full) return TsigCheck::badtrunc;
    const std::uint64_t skew = now > r.time_signed ? now - r.time_signed : r.time_signed - now;
    if (skew > r.fudge) return TsigCheck::badtime;
    return TsigCheck::ok;
}

std::size_t tsig_size(const config::TsigKey& key, std::size_t other) noexcept {
    // owner, type/class/TTL/rdlength, algorithm, time and fudge, MAC size,
    // MAC, original ID, error, other length, other data.
    return key.wire.size() + 10 + info(key.algorithm).wire.size() + 8 + 2 + info(key.algorithm).size + 6 +
           other;
}

std::size_t append_tsig(std::span<std::uint8_t> buffer, std::size_t size, const TsigSigning& s,
                        std::uint8_t* mac, std::size_t& mac_size) noexcept {
    mac_size = 0;
    if (size < wire::kHeaderSize || size > buffer.size()) return 0;
    const auto name = !s.name.empty() || !s.key ? s.name : bytes(s.key->wire);
    const auto algorithm = !s.algorithm.empty() || !s.key ? s.algorithm : bytes(info(s.key->algorithm).wire);
    if (name.empty() || algorithm.empty()) return 0;
    if (s.key) {
        const Variables v{name, algorithm, s.time_signed, kTsigFudge, s.error, s.other};
        mac_size =
            compute_mac(*s.key, s.prior, buffer.data(),
                        buffer.subspan(wire::kHeaderSize, size - wire::kHeaderSize), v, s.timers_only, mac);
        if (mac_size == 0) return 0;
    }
    const std::size_t rdlen = algorithm.size() + 10 + mac_size + 6 + s.other.size();
    const std::size_t need = name.size() + 10 + rdlen;
    if (need > buffer.size() - size || rdlen > 0xFFFF) return 0;
    std::uint8_t* p = buffer.data() + size;
    auto put = [&](std::span<const std::uint8_t> b) {
        if (!b.empty()) std::memcpy(p, b.data(), b.size());
        p += b.size();
    };
    put(name);
    wire::put16(p, wire::type::TSIG);
    wire::put16(p + 2, wire::klass::ANY);
    wire::put32(p + 4, 0);
    wire::put16(p + 8, static_cast<std::uint16_t>(rdlen));
    p += 10;
    put(algorithm);
    wire::put16(p, static_cast<std::uint16_t>(s.time_signed >> 32));
    wire::put32(p + 2, static_cast<std::uint32_t>(s.time_signed));
    wire::put16(p + 6, kTsigFudge);
    wire::put16(p + 8, static_cast<std::uint16_t>(mac_size));
    p += 10;
    put({mac, mac_size});
    wire::put16(p, wire::get16(buffer.data()));  // the original ID: as sent
    wire::put16(p + 2, s.error);
    wire::put16(p + 4, static_cast<std::uint16_t>(s.other.size()));
    p += 6;
    put(s.other);
    wire::put16(&buffer[10], static_cast<std::uint16_t>(wire::get16(&buffer[10]) + 1));
    return size + need;
}

std::uint64_t tsig_now() noexcept {
    const std::time_t t = std::time(nullptr);
    return t > 0 ? static_cast<std::uint64_t>(t) : 0;
}

TsigChain::TsigChain(const config::TsigKey& key, std::span<const std::uint8_t> request_mac) noexcept
    : key_(key) {
    prior_size_ = request_mac.size() < kMaxMac ? request_mac.size() : kMaxMac;
    if (prior_size_) std::memcpy(prior_, request_mac.data(), prior_size_);
}

std::size_t TsigChain::sign(std::span<std::uint8_t> buffer, std::size_t size, std::uint64_t now) noexcept {
    TsigSigning s;
    s.key = &key_;
    s.prior = {prior_, prior_size_};
    s.timers_only = !first_;
    s.time_signed = now;
    std::uint8_t mac[kMaxMac];
    std::size_t mac_size = 0;
    const std::size_t n = append_tsig(buffer, size, s, mac, mac_size);
    if (n) {
        std::memcpy(prior_, mac, mac_size);
        prior_size_ = mac_size;
        first_ = false;
    }
    return n;
}

}  // namespace dnsd::query
