#pragma once
/// A worker's RRSIGs (SPEC 11): the signatures it made, kept per RRset
/// content and key, so that an answer that did not change costs a lookup,
/// not a signature; and the Signer of each key it signed with.
///
/// One per worker thread (no locks): answer() takes it through
/// Client::signatures. Memory is fixed at the first signature: `slots` entries of
/// about 380 bytes (the default, 16384, is 6 MiB; sized so that the
/// 2,300 RRsets of bench/callgrind's mix leave next to no set of four
/// overfull: at 4096 one in twelve was, and a cyclic scan then misses
/// every time), four-way set
/// associative by a 128-bit hash of the RRset (owner lower-cased, type,
/// TTL, rdatas as given) and the key (algorithm, tag, public key); a new
/// RRset takes the least recently used slot of its set. A hit allocates nothing; a miss signs, and
/// OpenSSL allocates inside signing (dnsd/dnssec/README.md).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dnsd/dnssec/key.hpp"
#include "dnsd/dnssec/signer.hpp"

namespace dnsd::query {

/// Validity of the signatures made (SPEC 11): from an hour back to seven
/// days ahead, made again once half of that has passed.
inline constexpr std::int64_t kSignatureBackdate = 3600;
inline constexpr std::int64_t kSignatureLifetime = 7 * 86400;

class SignatureCache {
public:
    struct Stats {
        std::uint64_t hits = 0;      ///< signatures taken from the cache
        std::uint64_t made = 0;      ///< signatures made
        std::uint64_t failures = 0;  ///< RRsets that could not be signed (OpenSSL, malformed)
    };

    explicit SignatureCache(std::size_t slots = 16384);
    ~SignatureCache();
    SignatureCache(const SignatureCache&) = delete;
    SignatureCache& operator=(const SignatureCache&) = delete;

    /// The RRSIG rdata over `rrset` by `key`, valid at `now` (seconds since
    /// the epoch) for at least half its lifetime: from the cache, or made
    /// and kept. Empty when it cannot be made. The span stays valid until
    /// the next call.
    std::span<const std::uint8_t> sign(const dnssec::Key& key, const dnssec::Rrset& rrset,
                                       std::int64_t now) noexcept;

    /// Counts so far; any thread (relaxed atomics: the state thread reads
    /// them for /metrics while the worker counts).
    Stats stats() const noexcept {
        return {hits_.load(std::memory_order_relaxed), made_.load(std::memory_order_relaxed),
                failures_.load(std::memory_order_relaxed)};
    }

    /// Scratch for the signed encoder: the rdatas of the RRset being
    /// signed. Grown (allocating) only for an RRset larger than any before
    /// (256 fit from the first signature on).
    std::vector<dnssec::Rdata>& rdatas() noexcept { return rdatas_; }

private:
    static constexpr std::size_t kWays = 4;
    struct Slot {
        std::uint64_t h1 = 0, h2 = 0;
        std::uint64_t used = 0;  ///< clock_ when last found or made
        std::int64_t renew = 0;  ///< made again from this time on
        std::uint16_t size = 0;  ///< 0: empty
        std::uint8_t rdata[dnssec::Signer::kMaxRrsigRdata];
    };
    dnssec::Signer* signer(const dnssec::Key& key) noexcept;

    std::size_t capacity_;
    std::vector<Slot> slots_;  ///< capacity_ of them from the first signature on
    std::vector<std::unique_ptr<dnssec::Signer>> signers_;
    std::uint64_t clock_ = 0;
    std::size_t next_signer_ = 0;  ///< the one replaced when all are taken
    std::vector<dnssec::Rdata> rdatas_;
    std::atomic<std::uint64_t> hits_{0}, made_{0}, failures_{0};
};

}  // namespace dnsd::query
