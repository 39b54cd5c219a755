#pragma once
/// Demand (SPEC 10): the steered queries per service and client prefix
/// over the last hour, decayed, in fixed memory.
///
/// Two parts:
/// - `DemandTable`, one per worker: the queries of one epoch, counted on
///   the query path without lock or allocation, in a fixed set-associative
///   table (`kBuckets` buckets of `kWays` slots). A bucket is a
///   Misra-Gries summary of the prefixes that hash to it: a prefix not in
///   a full bucket lowers every slot of it by one and is dropped, so a
///   count is never above the truth and at most the bucket's decrements
///   below it. The queries dropped so are counted per service, so that
///   totals stay exact.
///   Two buffers, handed over without a lock: the worker writes the one of
///   the epoch it acknowledged; the state thread reads (and clears) the
///   other only once the worker has acknowledged the epoch it asked for,
///   and only then asks for the next one. The acquire/release pairs on
///   `want_` and `ack_` order every write of a buffer before its read.
/// - `Demand`, on the state thread: the epochs of every worker merged per
///   service into a Misra-Gries summary of `kTop` prefixes (merge, then
///   lower every count by the (kTop+1)th largest and drop those at or
///   below zero), every count decayed by exp(-dt / tau) as time passes.
///   Heavy prefixes are kept exactly up to the error bound each service
///   carries (`Service::error`): the decayed sum of the worker buckets'
///   largest decrements and the summary's own reductions. No prefix's
///   count is above its true decayed count, nor below it by more than
///   that bound; a priori, the bound is at most total / (kWays + 1) per
///   bucket's share plus total / (kTop + 1).
///
/// A client prefix is one word (`demand_word`): IPv4 up to /32 and IPv6
/// up to /56 (the query path counts /24 and /56 at most).

#include <endian.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dnsd/core/address.hpp"

namespace dnsd::steer {

/// A client prefix as one word: the first `length` bits of `bytes` (an
/// address of `family`, 16 bytes, zero-padded), IPv4 at most /32 and IPv6
/// at most /56. IPv4: the address in the high 32 bits, the length below;
/// IPv6: the first 56 bits, then 128 + the length. A few instructions:
/// the query path calls it for every steered answer.
inline std::uint64_t demand_word(Family family, const std::uint8_t* bytes, unsigned length) noexcept {
    std::uint64_t w;
    std::memcpy(&w, bytes, sizeof w);
    w = be64toh(w);
    const unsigned most = family == Family::v4 ? 32 : 56;
    const unsigned len = length < most ? length : most;
    const std::uint64_t kept = len ? w & (~std::uint64_t{0} << (64 - len)) : 0;
    return family == Family::v4 ? (kept & 0xffffffff00000000ull) | len : kept | (128u + len);
}

/// `p` as one word (demand_word above).
inline std::uint64_t demand_word(const Prefix& p) noexcept {
    return demand_word(p.address.family, p.address.bytes.data(), p.length);
}

/// The prefix of a demand_word().
Prefix demand_prefix(std::uint64_t word) noexcept;

class DemandTable {
public:
    static constexpr unsigned kWays = 4;
    static constexpr unsigned kBuckets = 1024;
    /// Services whose dropped queries are counted apart; more than this
    /// many services with dropped queries in one epoch lose the excess
    /// from their totals.
    static constexpr unsigned kLostSlots = 256;

    struct Slot {
        std::uint64_t prefix = 0;
        std::uint32_t service = 0;
        std::uint32_t count = 0;  ///< 0: empty
    };

    DemandTable();

    /// The worker: one steered query of `service` (its demand key) from
    /// `prefix` (a demand_word). No lock, no allocation.
    void record(std::uint32_t service, std::uint64_t prefix) noexcept {
        const std::uint32_t want = want_.load(std::memory_order_acquire);
        if (want != mine_) [[unlikely]]
            switch_to(want);
        const unsigned at = bucket_of(service, prefix);
        Slot* s = &current_->slots[at * kWays];
        // A slot emptied by a drop keeps its key: counting it again is
        // right. No key is 0 with prefix 0 (no prefix word is 0), so a
        // cleared slot matches nothing.
        for (unsigned i = 0; i < kWays; ++i)
            if (s[i].prefix == prefix && s[i].service == service) {
                ++s[i].count;
                return;
            }
        insert(at, service, prefix);
    }

    /// The worker, when idle: takes up the epoch asked for, so that the
    /// state thread can read the last one.
    void sync() noexcept {
        const std::uint32_t want = want_.load(std::memory_order_acquire);
        if (want != mine_) switch_to(want);
    }

    /// What one epoch of one worker counted.
    struct Epoch {
        std::vector<Slot> slots;                                    ///< the counted slots
        std::vector<std::pair<std::uint32_t, std::uint64_t>> lost;  ///< service, dropped queries
        std::uint32_t max_decrements = 0;                           ///< of any bucket
    };
    /// The state thread: when the worker has taken up the epoch asked for,
    /// fills `out` with the one before (cleared for reuse), asks for the
    /// next and returns true; otherwise false (ask again later).
    bool harvest(Epoch& out);

    static unsigned bucket_of(std::uint32_t service, std::uint64_t prefix) noexcept {
        return static_cast<unsigned>(((prefix ^ (std::uint64_t{service} << 7)) * 0x9E3779B97F4A7C15ull) >>
                                     54);
    }
    /// The table's memory: fixed at construction.
    static constexpr std::size_t memory_bytes() noexcept { return 2 * sizeof(Buffer); }

private:
    static_assert(kBuckets == 1024, "bucket_of() keeps the top 10 bits");
    struct Buffer {
        std::array<Slot, kBuckets * kWays> slots{};
        std::array<std::uint32_t, kBuckets> decrements{};
        std::array<std::pair<std::uint32_t, std::uint32_t>, kLostSlots> lost{};  ///< service, count
        /// The buckets used in this epoch, so that a harvest costs what
        /// was counted, not the table's size.
        std::array<std::uint16_t, kBuckets> touched{};
        std::uint32_t touched_count = 0;
        bool any_lost = false;
    };
    void switch_to(std::uint32_t want) noexcept {
        mine_ = want;
        current_ = &buffers_[want & 1];
        ack_.store(want, std::memory_order_release);
    }
    /// A prefix not in its bucket: into an empty slot, or when there is
    /// none, every slot one lower and the query dropped (Misra-Gries).
    void insert(unsigned at, std::uint32_t service, std::uint64_t prefix) noexcept;

    std::unique_ptr<Buffer[]> buffers_;
    std::uint32_t mine_ = 0;     ///< the worker's: the epoch it writes
    Buffer* current_ = nullptr;  ///< the worker's: its buffer
    alignas(64) std::atomic<std::uint32_t> want_{0};
    alignas(64) std::atomic<std::uint32_t> ack_{0};
};

class Demand {
public:
    static constexpr std::size_t kTop = 512;  ///< prefixes kept per service
    static constexpr double kTau = 3600;      ///< seconds: the decay's time constant

    explicit Demand(double tau = kTau) : tau_(tau) {}

    struct Entry {
        std::uint64_t prefix = 0;  ///< a demand_word
        double count = 0;          ///< decayed queries
    };
    struct Service {
        std::vector<Entry> top;  ///< at most kTop, by count, largest first (after settle())
        double total = 0;        ///< decayed queries, exact
        double error = 0;        ///< no count in `top` is lower than the truth by more
        double reduced = 0;      ///< decayed: this summary's own reductions (part of `error`)
    };

    /// Decays everything to `now` (seconds on a steady clock).
    void advance(double now);
    /// Adds one epoch of one worker, for the services in `keep` only
    /// (their demand keys; others are dropped).
    void add(const DemandTable::Epoch& e);
    /// Merges what was added since the last settle() and cuts each service
    /// back to kTop prefixes; forgets services not in `keep`.
    void settle(const std::vector<std::uint32_t>& keep);

    const Service* service(std::uint32_t key) const noexcept {
        const auto it = services_.find(key);
        return it == services_.end() ? nullptr : &it->second;
    }
    /// Queries per second from a decayed count: the count over the decay's
    /// effective window so far (tau once counting has run long enough).
    double rate(double count) const noexcept;
    /// The memory the summaries hold (their entries); at most
    /// services * kTop entries, whatever the number of prefixes seen.
    std::size_t memory_bytes() const noexcept {
        std::size_t n = 0;
        for (const auto& [key, svc] : services_) n += svc.top.capacity() * sizeof(Entry);
        return n;
    }
    /// Seconds counted (since the first advance()).
    double counted() const noexcept { return started_ ? now_ - start_ : 0; }

private:
    struct Pending {
        std::unordered_map<std::uint64_t, double> counts;
        double total = 0;
    };
    double tau_;
    bool started_ = false;
    double start_ = 0, now_ = 0;
    double worker_error_ = 0;  ///< decayed: the worker buckets' largest decrements
    std::unordered_map<std::uint32_t, Service> services_;
    std::unordered_map<std::uint32_t, Pending> pending_;
};

}  // namespace dnsd::steer
