#pragma once
/// Query counters of one worker, for /metrics: by transport, query type and
/// rcode. Incremented by the worker's own thread with relaxed atomic adds
/// (no lock, no allocation), read by the state thread when scraped.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace dnsd::server {

class Stats {
public:
    /// Query types with their own counter; the rest count as "other".
    static constexpr std::array<std::uint16_t, 11> kTypes = {1, 28, 5, 15, 2, 6, 16, 33, 12, 255, 252};
    static constexpr const char* kTypeNames[] = {"A",   "AAAA", "CNAME", "MX",  "NS",   "SOA",
                                                 "TXT", "SRV",  "PTR",   "ANY", "AXFR", "other"};
    static constexpr std::size_t kTypeSlots = kTypes.size() + 1;

    /// Counts one answered query from its request and response bytes.
    void count(bool tcp, std::span<const std::uint8_t> request,
               std::span<const std::uint8_t> response) noexcept {
        if (response.size() < 12) return;
        const unsigned rcode = response[3] & 0xF;
        by_[tcp ? 1 : 0][type_slot(request)][rcode].fetch_add(1, std::memory_order_relaxed);
    }

    std::uint64_t get(int transport, std::size_t type_slot, unsigned rcode) const noexcept {
        return by_[transport][type_slot][rcode].load(std::memory_order_relaxed);
    }

private:
    static std::size_t type_slot(std::span<const std::uint8_t> p) noexcept {
        std::size_t pos = 12;
        while (pos < p.size() && p[pos] != 0 && p[pos] < 64) pos += 1u + p[pos];
        if (pos + 3 > p.size() || p[pos] != 0) return kTypes.size();
        const std::uint16_t t = static_cast<std::uint16_t>((p[pos + 1] << 8) | p[pos + 2]);
        for (std::size_t i = 0; i < kTypes.size(); ++i)
            if (kTypes[i] == t) return i;
        return kTypes.size();
    }

    std::atomic<std::uint64_t> by_[2][kTypeSlots][16] = {};
};

}  // namespace dnsd::server
