#pragma once
/// Counters of one worker that belong to no view, for /metrics: answers
/// held back by rate limiting, TCP connections refused. Incremented by the
/// worker's own thread with relaxed atomics, read by the state thread when
/// scraped. (Queries are counted in their view: query::Counters.)

#include <atomic>
#include <cstdint>

namespace dnsd::server {

class Stats {
public:
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

private:
    std::atomic<std::uint64_t> limited_[2] = {};
    std::atomic<std::uint64_t> tcp_refused_{0};
};

}  // namespace dnsd::server
