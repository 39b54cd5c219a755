#pragma once
/// Response rate limiting (SPEC [rate_limit]): a token bucket per client
/// network, the packet's source /24 (IPv4) or /56 (IPv6), never ECS, which
/// the sender chooses. UDP only: TCP cannot be spoofed, so it is the way out
/// for real clients, and every `slip`th limited answer is sent truncated to
/// send them there.
///
/// One table per worker, fixed in size and allocated once: no lock, no
/// allocation on the query path. Written by hand because it sits on that
/// path; buckets are found by hashing the network into a small open
/// addressed table, and when the table is full the stalest bucket of the
/// probe window is reused (a flood of distinct networks then loses its
/// oldest entries first, as in NSD and BIND).

#include <array>
#include <cstdint>
#include <memory>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"

namespace dnsd::server {

class RateLimiter {
public:
    enum class Action : std::uint8_t { answer, truncate, drop };

    static constexpr std::size_t kBuckets = 1 << 14;
    static constexpr std::size_t kProbe = 8;

    RateLimiter() : buckets_(std::make_unique<Bucket[]>(kBuckets)) {}

    /// What to do with the answer to `client` at `now_ms` (a monotonic clock).
    Action check(const Address& client, std::uint64_t now_ms, const config::RateLimit& s) noexcept {
        if (s.per_second == 0) return Action::answer;
        const Key key = key_of(client);
        bool created = false;
        Bucket& b = find(key, now_ms, created);
        const std::uint64_t burst_milli = std::uint64_t{s.burst ? s.burst : s.per_second} * 1000;
        if (created) b.milli = burst_milli;  // a new network starts with a full bucket
        // Tokens in thousandths, refilled at per_second per second.
        if (now_ms > b.last_ms) {
            const std::uint64_t refill = (now_ms - b.last_ms) * s.per_second;
            b.milli = b.milli + refill > burst_milli ? burst_milli : b.milli + refill;
            b.last_ms = now_ms;
        }
        if (b.milli >= 1000) {
            b.milli -= 1000;
            return Action::answer;
        }
        if (s.slip == 0) return Action::drop;
        return ++b.limited % s.slip == 0 ? Action::truncate : Action::drop;
    }

private:
    struct Key {
        std::uint64_t hi = 0, lo = 0;  ///< the network's bytes, family in the low bits of lo
        bool operator==(const Key&) const = default;
    };
    struct Bucket {
        Key key;
        std::uint64_t last_ms = 0;
        std::uint64_t milli = 0;  ///< tokens x 1000
        std::uint32_t limited = 0;
        bool used = false;
    };

    static Key key_of(const Address& a) noexcept {
        Key k;
        const auto bytes = a.view();
        const std::size_t n = a.family == Family::v4 ? 3 : 7;  // /24, /56
        for (std::size_t i = 0; i < n && i < 8; ++i) k.hi = (k.hi << 8) | bytes[i];
        k.lo = a.family == Family::v4 ? 4 : 6;
        return k;
    }

    Bucket& find(const Key& key, std::uint64_t now_ms, bool& created) noexcept {
        std::uint64_t h = (key.hi ^ (key.lo << 56)) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
        Bucket* stalest = nullptr;
        for (std::size_t i = 0; i < kProbe; ++i) {
            Bucket& b = buckets_[(h + i) & (kBuckets - 1)];
            if (b.used && b.key == key) return b;
            if (!b.used) {
                stalest = &b;
                break;
            }
            if (!stalest || b.last_ms < stalest->last_ms) stalest = &b;
        }
        *stalest = Bucket{key, now_ms, 0, 0, true};
        created = true;
        return *stalest;
    }

    std::unique_ptr<Bucket[]> buckets_;
};

}  // namespace dnsd::server
