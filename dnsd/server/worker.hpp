#pragma once
/// A worker: its own UDP sockets and TCP acceptors (SO_REUSEPORT: the
/// kernel spreads clients over workers). Each UDP socket has a receiver
/// thread blocking in recvmmsg; the TCP side runs on the worker's
/// io_context(1) in one more thread. Every thread keeps its own cached view
/// of the snapshots, random source and buffers; nothing is shared with
/// another thread except the SnapshotSlots they read.

#include <boost/asio.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/core/snapshot.hpp"
#include "dnsd/geo/locator.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/server/server.hpp"
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
    asio::io_context& io() noexcept { return io_; }
    const SnapshotSlot<query::View>& view_slot() const noexcept { return view_slot_; }
    const SnapshotSlot<health::Snapshot>& health_slot() const noexcept { return health_slot_; }
    bool stopping() const noexcept { return stopping_.load(std::memory_order_relaxed); }
    /// The TCP thread's cached views (the UDP receivers keep their own).
    const query::View& view() noexcept { return view_.get(); }
    const health::Snapshot& health() noexcept { return health_.get(); }
    steer::Random& random() noexcept { return random_; }
    geo::Cache& geo_cache() noexcept { return geo_cache_; }
    /// The view with a reference count, for work that outlives one query (AXFR).
    std::shared_ptr<const query::View> view_ref() noexcept { return view_.shared(); }
    const TcpLimits& tcp_limits() const noexcept { return limits_; }
    unsigned& tcp_connections() noexcept { return tcp_connections_; }

private:
    unsigned index_;
    const SnapshotSlot<query::View>& view_slot_;
    const SnapshotSlot<health::Snapshot>& health_slot_;
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> udp_threads_;
    asio::io_context io_{1};
    SnapshotSlot<query::View>::Local view_;
    SnapshotSlot<health::Snapshot>::Local health_;
    steer::Random random_;
    geo::Cache geo_cache_;
    TcpLimits limits_;
    unsigned tcp_connections_ = 0;
    std::vector<std::unique_ptr<asio::ip::udp::socket>> udp_;
    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> tcp_;
    std::thread thread_;
};

/// A UDP receiver thread's body: answers datagrams on `fd` until the worker stops.
void udp_receive(Worker& w, int fd);
/// Runs on a worker's io_context.
asio::awaitable<void> tcp_accept_loop(Worker& w, asio::ip::tcp::acceptor& acceptor);

UdpBatchPtr make_udp_batch();
/// Enables receiving the destination address when bound to a wildcard.
void enable_pktinfo(asio::ip::udp::socket& socket, bool v6);
}  // namespace dnsd::server
