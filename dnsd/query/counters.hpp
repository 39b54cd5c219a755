#pragma once
/// Counters that belong to one View: queries per zone and steering decisions
/// per service and outcome, for /metrics. They live beside the snapshot
/// because zone and service indices mean something only within it; the
/// server folds a retired view's counts into its totals by name.
///
/// Workers add with relaxed atomics into their own stripe, one per worker
/// thread (no lock, no allocation, no cache line shared between two
/// workers' stripes); the state thread sums the stripes when scraped.

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

    /// `workers`: one stripe each (config::Server::worker_count()).
    Counters(std::size_t zones, const std::vector<std::size_t>& sites_per_service, unsigned workers);

    void count_zone(unsigned worker, std::size_t zone) noexcept { at(worker, zone).fetch_add(1, relaxed); }
    void count_decision(unsigned worker, std::size_t service, std::size_t slot) noexcept {
        at(worker, decision_base_[service] + slot).fetch_add(1, relaxed);
    }

    std::uint64_t zone_total(std::size_t zone) const noexcept { return total(zone); }
    std::uint64_t decision_total(std::size_t service, std::size_t slot) const noexcept {
        return total(decision_base_[service] + slot);
    }

private:
    static constexpr auto relaxed = std::memory_order_relaxed;
    std::atomic<std::uint64_t>& at(unsigned worker, std::size_t i) noexcept {
        return cells_[(worker % stripes_) * stride_ + i];
    }
    std::uint64_t total(std::size_t i) const noexcept;

    std::vector<std::size_t> decision_base_;  ///< per service: its first slot
    std::size_t stride_ = 0;                  ///< cells per stripe, padded to a cache line
    unsigned stripes_ = 1;
    std::unique_ptr<std::atomic<std::uint64_t>[]> cells_;
};

}  // namespace dnsd::query
