#pragma once
/// Query counters of one worker, for /metrics: by transport, query type and
/// rcode. Incremented by the worker's own thread (the one writer) with relaxed atomics
/// (no lock, no allocation), read by the state thread when scraped.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace dnsd::server {

class Stats {
public:
    /// Query types with their own counter; the rest count as "other".
    static constexpr std::array<std::uint16_t, 11> kTypes = {1, 28, 5, 15, 2, 6, 16, 33, 12, 255, 252};
    static constexpr const char* kTypeNames[] = {"A",   "AAAA", "CNAME", "MX",  "NS",   "SOA",
                                                 "TXT", "SRV",  "PTR",   "ANY", "AXFR", "other"};
    static constexpr std::size_t kTypeSlots = kTypes.size() + 1;

    /// Counts one answered query (from query::Result's qtype and rcode).
    void count(bool tcp, std::uint16_t qtype, unsigned rcode) noexcept {
        // One writer (the worker's thread): a plain load and store, no
        // locked read-modify-write; the scraper still reads whole values.
        auto& c = by_[tcp ? 1 : 0][type_slot(qtype)][rcode & 0xF];
        c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    /// Answers held back by rate limiting: 0 dropped, 1 sent truncated.
    void count_limited(bool truncated) noexcept {
        limited_[truncated ? 1 : 0].fetch_add(1, std::memory_order_relaxed);
    }
    std::uint64_t limited(bool truncated) const noexcept {
        return limited_[truncated ? 1 : 0].load(std::memory_order_relaxed);
    }

    /// TCP connections closed at accept: over a connection cap.
    void count_tcp_refused() noexcept { tcp_refused_.fetch_add(1, std::memory_order_relaxed); }
    std::uint64_t tcp_refused() const noexcept { return tcp_refused_.load(std::memory_order_relaxed); }

    std::uint64_t get(int transport, std::size_t type_slot, unsigned rcode) const noexcept {
        return by_[transport][type_slot][rcode].load(std::memory_order_relaxed);
    }

private:
    static std::size_t type_slot(std::uint16_t t) noexcept {
        for (std::size_t i = 0; i < kTypes.size(); ++i)
            if (kTypes[i] == t) return i;
        return kTypes.size();
    }

    std::atomic<std::uint64_t> by_[2][kTypeSlots][16] = {};
    std::atomic<std::uint64_t> limited_[2] = {};
    std::atomic<std::uint64_t> tcp_refused_{0};
};

}  // namespace dnsd::server
