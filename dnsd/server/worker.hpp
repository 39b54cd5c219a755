#pragma once
/// A worker: one thread, one io_context(1), its own UDP sockets and TCP
/// acceptors (SO_REUSEPORT: the kernel spreads clients over workers), its
/// own buffers and its own cached view of the current snapshot. Nothing in a
/// worker is shared with another thread except the SnapshotSlot it reads.

#include <boost/asio.hpp>

#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/core/snapshot.hpp"
#include "dnsd/geo/locator.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/server/rate_limit.hpp"
#include "dnsd/server/server.hpp"
#include "dnsd/server/stats.hpp"
#include "dnsd/steer/decide.hpp"
#include "health/snapshot.hpp"

namespace dnsd::server {

namespace asio = boost::asio;

struct UdpBatch;  // udp.cpp
void delete_udp_batch(UdpBatch* b) noexcept;
struct UdpBatchDeleter {
    void operator()(UdpBatch* b) const noexcept { delete_udp_batch(b); }
};
using UdpBatchPtr = std::unique_ptr<UdpBatch, UdpBatchDeleter>;

class Worker {
public:
    /// `shared`: other workers bind the same addresses (SO_REUSEPORT). A
    /// lone worker does not set it, so that a second server started by
    /// mistake on the same port fails to bind instead of taking half the
    /// queries.
    Worker(unsigned index, const SnapshotSlot<query::View>& slot,
           const SnapshotSlot<health::Snapshot>& health, const std::vector<Endpoint>& listen,
           const TcpLimits& limits, bool shared);
    ~Worker();

    void start();  ///< spawns the thread
    void stop();   ///< asks the loop to stop and joins

    unsigned index() const noexcept { return index_; }
    /// Response rate limiting of this worker's UDP answers.
    RateLimiter& rate_limiter() noexcept { return rate_limiter_; }
    unsigned workers() const noexcept { return workers_; }
    void set_workers(unsigned n) noexcept { workers_ = n; }
    asio::io_context& io() noexcept { return io_; }
    const query::View& view() noexcept { return view_.get(); }
    const health::Snapshot& health() noexcept { return health_.get(); }
    steer::Random& random() noexcept { return random_; }
    Stats& stats() noexcept { return stats_; }
    /// Counts one answered query: by transport, type and rcode here, by zone
    /// and steering decision in the view it was answered from.
    void count(const query::View& v, const query::Result& r, bool tcp, std::span<const std::uint8_t> request,
               const Address& client) noexcept {
        stats_.count(tcp, r.qtype, r.rcode);
        if (v.query_log() && ++logged_ % v.query_log() == 0) log_query(v, r, tcp, request, client);
        if (r.zone >= 0) v.counters().count_zone(index_, static_cast<std::size_t>(r.zone));
        if (r.service >= 0)
            v.counters().count_decision(index_, static_cast<std::size_t>(r.service), r.decision);
    }
    const Stats& stats() const noexcept { return stats_; }
    geo::Cache& geo_cache() noexcept { return geo_cache_; }
    /// The view with a reference count, for work that outlives one query (AXFR).
    std::shared_ptr<const query::View> view_ref() noexcept { return view_.shared(); }
    const TcpLimits& tcp_limits() const noexcept { return limits_; }
    unsigned tcp_connections() const noexcept { return tcp_connections_; }
    /// Open connections from `client` on this worker (a short list: the
    /// worker holds at most max_connections_per_worker).
    unsigned tcp_connections_of(const Address& client) const noexcept {
        for (const auto& [a, n] : tcp_clients_)
            if (a == client) return n;
        return 0;
    }
    void tcp_opened(const Address& client) {
        ++tcp_connections_;
        for (auto& [a, n] : tcp_clients_)
            if (a == client) {
                ++n;
                return;
            }
        tcp_clients_.emplace_back(client, 1u);
    }
    void tcp_closed(const Address& client) noexcept {
        --tcp_connections_;
        for (std::size_t i = 0; i < tcp_clients_.size(); ++i)
            if (tcp_clients_[i].first == client && --tcp_clients_[i].second == 0) {
                tcp_clients_[i] = tcp_clients_.back();
                tcp_clients_.pop_back();
                return;
            }
    }

private:
    unsigned index_;
    asio::io_context io_{1};
    SnapshotSlot<query::View>::Local view_;
    SnapshotSlot<health::Snapshot>::Local health_;
    steer::Random random_;
    Stats stats_;
    geo::Cache geo_cache_;
    TcpLimits limits_;
    unsigned tcp_connections_ = 0;
    std::vector<std::pair<Address, unsigned>> tcp_clients_;
    RateLimiter rate_limiter_;
    unsigned workers_ = 1;
    std::uint64_t logged_ = 0;  ///< queries seen by the sampled query log
    /// One line for the sampled query log (server.query_log): off the
    /// hot path's budget, it may allocate.
    void log_query(const query::View& v, const query::Result& r, bool tcp,
                   std::span<const std::uint8_t> request, const Address& client) noexcept;
    std::vector<std::unique_ptr<asio::ip::udp::socket>> udp_;
    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> tcp_;
    UdpBatchPtr batch_;
    std::thread thread_;
};

/// Coroutines run on a worker's io_context.
asio::awaitable<void> udp_loop(Worker& w, asio::ip::udp::socket& socket, UdpBatch& batch);
asio::awaitable<void> tcp_accept_loop(Worker& w, asio::ip::tcp::acceptor& acceptor);

UdpBatchPtr make_udp_batch();
/// Our Address as Asio's.
asio::ip::address to_asio(const Address& a);
/// Enables receiving the destination address when bound to a wildcard.
void enable_pktinfo(asio::ip::udp::socket& socket, bool v6);
}  // namespace dnsd::server
