#include "dnsd/query/signatures.hpp"

#include <cstring>

namespace dnsd::query {

namespace {

/// Signers a worker keeps: the keys of every signed zone it answers for,
/// with room for a rollover. More are made again as they are needed.
constexpr std::size_t kMaxSigners = 16;

/// Two 64-bit FNV-1a-style hashes with different bases and multipliers:
/// 128 bits, so that two RRsets that differ do not share a slot's
/// signature by chance.
struct Hash {
    std::uint64_t h1 = 0xcbf29ce484222325ull;
    std::uint64_t h2 = 0x84222325cbf29ce4ull;
    void byte(std::uint8_t b) noexcept {
        h1 = (h1 ^ b) * 0x100000001b3ull;
        h2 = (h2 ^ b) * 0x9E3779B97F4A7C15ull;
        h2 ^= h2 >> 29;
    }
    void bytes(std::span<const std::uint8_t> s) noexcept {
        for (const auto b : s) byte(b);
    }
    void u32(std::uint32_t v) noexcept {
        for (int i = 0; i < 4; ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
    }
};

}  // namespace

SignatureCache::SignatureCache(std::size_t slots) : capacity_(slots < kWays ? kWays : slots / kWays * kWays) {
    // Here, not at the first signature: the encoder holds spans into it
    // while it signs.
    rdatas_.reserve(256);
}

SignatureCache::~SignatureCache() = default;

dnssec::Signer* SignatureCache::signer(const dnssec::Key& key) noexcept {
    for (auto& s : signers_)
        if (s->key().pkey() == key.pkey()) return s.get();
    try {
        auto made = std::make_unique<dnssec::Signer>(key);
        if (signers_.size() < kMaxSigners) {
            signers_.push_back(std::move(made));
            return signers_.back().get();
        }
        auto& slot = signers_[next_signer_];
        next_signer_ = (next_signer_ + 1) % kMaxSigners;
        slot = std::move(made);
        return slot.get();
    } catch (...) {
        return nullptr;
    }
}

std::span<const std::uint8_t> SignatureCache::sign(const dnssec::Key& key, const dnssec::Rrset& rrset,
                                                   std::int64_t now) noexcept {
    if (slots_.empty()) {
        // Made at the first signature: a server without signed zones
        // spends no memory on them.
        try {
            slots_.resize(capacity_);
            signers_.reserve(kMaxSigners);
        } catch (...) {
            failures_.fetch_add(1, std::memory_order_relaxed);
            return {};
        }
    }
    Hash h;
    h.byte(static_cast<std::uint8_t>(key.algorithm()));
    h.u32(key.tag());
    h.bytes(key.public_key());
    for (const auto b : rrset.owner) h.byte(b >= 'A' && b <= 'Z' ? static_cast<std::uint8_t>(b + 32) : b);
    h.u32(rrset.type);
    h.u32(rrset.ttl);
    for (const auto& d : rrset.rdatas) {
        h.u32(static_cast<std::uint32_t>(d.size()));
        h.bytes(d);
    }
    // Four ways per set: RRsets that share a set take turns only when
    // five of them are in use at once; the least recently used one goes.
    const std::size_t set = (h.h1 % (slots_.size() / kWays)) * kWays;
    ++clock_;
    Slot* victim = &slots_[set];
    for (std::size_t i = set; i < set + kWays; ++i) {
        Slot& c = slots_[i];
        if (c.size && c.h1 == h.h1 && c.h2 == h.h2) {
            c.used = clock_;
            if (now < c.renew) {
                hits_.fetch_add(1, std::memory_order_relaxed);
                return {c.rdata, c.size};
            }
            victim = &c;  // due for renewal: made again in its place
            break;
        }
        if (c.used < victim->used) victim = &c;
    }
    Slot& s = *victim;
    s.used = clock_;
    dnssec::Signer* signer = this->signer(key);
    const dnssec::Validity validity{static_cast<std::uint32_t>(now - kSignatureBackdate),
                                    static_cast<std::uint32_t>(now + kSignatureLifetime)};
    const std::size_t n = signer ? signer->sign(rrset, validity, s.rdata) : 0;
    if (n == 0) {
        s.size = 0;
        failures_.fetch_add(1, std::memory_order_relaxed);
        return {};
    }
    s.h1 = h.h1;
    s.h2 = h.h2;
    s.size = static_cast<std::uint16_t>(n);
    s.renew = now + (kSignatureLifetime - kSignatureBackdate) / 2;
    made_.fetch_add(1, std::memory_order_relaxed);
    return {s.rdata, s.size};
}

}  // namespace dnsd::query
