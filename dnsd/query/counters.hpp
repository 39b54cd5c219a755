#pragma once
/// Counters that belong to one View: queries by zone, type, rcode and
/// transport, and steering decisions per service and outcome, for /metrics. They live beside the snapshot
/// because zone and service indices mean something only within it; the
/// server folds a retired view's counts into its totals by name.
///
/// Workers add with relaxed atomics into their own stripe, one per worker
/// thread (no lock, no allocation, no cache line shared between two
/// workers' stripes); the state thread sums the stripes when scraped.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace dnsd::query {

class Counters {
public:
    /// At most this many stripes: workers with an index beyond share them
    /// (still correct, only slower).
    static constexpr unsigned kMaxStripes = 256;

    /// The decision outcomes of a service with `n` sites: slots 0..n-1 are
    /// its sites (in its listed order), then these.
    /// `nodata`: no site has an address of the family asked (AAAA of an
    /// IPv4-only service); `fallback`: no site was up.
    enum Extra : unsigned { several = 0, nodata = 1, fallback = 2, kExtra = 3 };
    static const char* extra_name(std::size_t e) noexcept {
        return e == several ? "several" : e == nodata ? "nodata" : "fallback";
    }

    /// Query types with a counter of their own; the rest count as "other".
    static constexpr std::array<std::uint16_t, 12> kTypes = {1, 28, 5, 15, 2, 6, 16, 33, 12, 255, 252, 251};
    static constexpr const char* kTypeNames[] = {"A",   "AAAA", "CNAME", "MX",   "NS",   "SOA",  "TXT",
                                                 "SRV", "PTR",  "ANY",   "AXFR", "IXFR", "other"};
    static constexpr std::size_t kTypeSlots = kTypes.size() + 1;
    /// Rcodes with a counter of their own (0 to 5: NOERROR, FORMERR,
    /// SERVFAIL, NXDOMAIN, NOTIMP, REFUSED); the rest count as "other".
    static constexpr std::size_t kRcodeSlots = 7;
    /// Query counters per zone, the first for queries outside every zone.
    static constexpr std::size_t kQuerySlots = 2 * kTypeSlots * kRcodeSlots;

    static std::size_t type_slot(std::uint16_t t) noexcept {
        for (std::size_t i = 0; i < kTypes.size(); ++i)
            if (kTypes[i] == t) return i;
        return kTypes.size();
    }

    /// `workers`: one stripe each (config::Server::worker_count()).
    Counters(std::size_t zones, const std::vector<std::size_t>& sites_per_service, unsigned workers);

    /// One answered query: `zone` answered from (-1: none), `tcp` or UDP.
    void count_query(unsigned worker, std::int32_t zone, bool tcp, std::uint16_t qtype,
                     unsigned rcode) noexcept {
        at(worker,
           query_index(zone, tcp, type_slot(qtype), rcode < kRcodeSlots - 1 ? rcode : kRcodeSlots - 1))
            .fetch_add(1, relaxed);
    }
    void count_decision(unsigned worker, std::size_t service, std::size_t slot) noexcept {
        at(worker, decision_base_[service] + slot).fetch_add(1, relaxed);
    }

    /// `zone` -1: queries outside every zone; `rcode_slot` below kRcodeSlots.
    std::uint64_t query_total(std::int32_t zone, bool tcp, std::size_t type_slot,
                              std::size_t rcode_slot) const noexcept {
        return total(query_index(zone, tcp, type_slot, rcode_slot));
    }
    std::uint64_t decision_total(std::size_t service, std::size_t slot) const noexcept {
        return total(decision_base_[service] + slot);
    }

private:
    static constexpr auto relaxed = std::memory_order_relaxed;
    std::atomic<std::uint64_t>& at(unsigned worker, std::size_t i) noexcept {
        return cells_[(worker % stripes_) * stride_ + i];
    }
    std::uint64_t total(std::size_t i) const noexcept;
    static std::size_t query_index(std::int32_t zone, bool tcp, std::size_t type_slot,
                                   std::size_t rcode_slot) noexcept {
        return static_cast<std::size_t>(zone + 1) * kQuerySlots + (tcp ? kTypeSlots * kRcodeSlots : 0) +
               type_slot * kRcodeSlots + rcode_slot;
    }

    std::vector<std::size_t> decision_base_;  ///< per service: its first slot
    std::size_t stride_ = 0;                  ///< cells per stripe, padded to a cache line
    unsigned stripes_ = 1;
    std::unique_ptr<std::atomic<std::uint64_t>[]> cells_;
};

}  // namespace dnsd::query
