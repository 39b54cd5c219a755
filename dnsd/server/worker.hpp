#pragma once
/// Workers: the threads that answer queries. Each has its own buffers, its
/// own cached view of the current snapshot and its own counters; nothing in
/// a worker is shared with another thread except the ServingSlot it reads,
/// the counters the state thread reads when scraped and the demand table
/// it harvests.
///
/// Two kinds (SO_REUSEPORT: the kernel spreads clients over them):
/// - UdpWorker, `threads` per listening address: one UDP socket, one thread
///   blocking in recvmmsg. No event loop: see udp.cpp for why.
/// - TcpWorker, `threads` in all: one io_context(1) with a TCP acceptor per
///   address and the connections it accepted, as coroutines.
///
/// Both let go of a replaced view within about a second even when idle, so
/// that a quiet thread does not keep old zones in memory.

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/core/fd.hpp"
#include "dnsd/core/snapshot.hpp"
#include "dnsd/geo/locator.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/server/rate_limit.hpp"
#include "dnsd/server/server.hpp"
#include "dnsd/server/serving.hpp"
#include "dnsd/server/stats.hpp"
#include "dnsd/steer/decide.hpp"
#include "dnsd/steer/demand.hpp"
#include "health/snapshot.hpp"

namespace dnsd::server {

namespace asio = boost::asio;

struct UdpBatch;  // udp.cpp
void delete_udp_batch(UdpBatch* b) noexcept;
struct UdpBatchDeleter {
    void operator()(UdpBatch* b) const noexcept { delete_udp_batch(b); }
};
using UdpBatchPtr = std::unique_ptr<UdpBatch, UdpBatchDeleter>;

/// What answering needs per thread. Only the owning thread calls the
/// non-const members; the state thread reads stats().
class Worker {
public:
    /// `index`: unique among all workers (it picks the counter stripe).
    Worker(unsigned index, const ServingSlot& slot);
    virtual ~Worker() = default;
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    virtual void start() = 0;  ///< spawns the thread
    virtual void stop() = 0;   ///< asks it to stop and joins

    unsigned index() const noexcept { return index_; }
    /// The view and its health, as published together: one atomic load
    /// when nothing changed. Valid until the next call.
    const Serving& serving() noexcept { return serving_.get(); }
    /// The same with a reference count, for work that outlives one query
    /// (a TCP connection's next read, AXFR).
    std::shared_ptr<const Serving> serving_ref() noexcept { return serving_.shared(); }
    steer::Random& random() noexcept { return random_; }
    geo::Cache& geo_cache() noexcept { return geo_cache_; }
    query::SignatureCache& signatures() noexcept { return signatures_; }
    Stats& stats() noexcept { return stats_; }
    const Stats& stats() const noexcept { return stats_; }
    /// Its steered queries by service and client prefix (SPEC 10): written
    /// by this worker only, harvested by the state thread (demand.hpp).
    steer::DemandTable& demand() noexcept { return demand_; }
    /// Counts one answered query, by zone, type, rcode and transport and by
    /// steering decision, in the view it was answered from.
    void count(const query::View& v, const query::Result& r, bool tcp, std::span<const std::uint8_t> request,
               const Address& client) noexcept {
        v.counters().count_query(index_, r.zone, tcp, r.qtype, r.rcode);
        if (v.query_log() && ++logged_ % v.query_log() == 0) log_query(v, r, tcp, request, client);
        if (r.service >= 0) {
            v.counters().count_decision(index_, static_cast<std::size_t>(r.service), r.decision);
            demand_.record(r.demand_service, r.demand_prefix);
        }
        if (r.tsig_fault != query::TsigFault::none) log_tsig_fault(r, tcp, client);
    }

private:
    /// One line for the sampled query log (server.query_log): off the
    /// hot path's budget, it may allocate.
    void log_query(const query::View& v, const query::Result& r, bool tcp,
                   std::span<const std::uint8_t> request, const Address& client) noexcept;

    /// A transfer refused for its TSIG, or a request whose TSIG failed:
    /// logged once a minute per client (per worker), not per packet.
    void log_tsig_fault(const query::Result& r, bool tcp, const Address& client) noexcept;

    unsigned index_;
    ServingSlot::Local serving_;
    steer::Random random_;
    Stats stats_;
    geo::Cache geo_cache_;
    steer::DemandTable demand_;
    query::SignatureCache signatures_;
    std::uint64_t logged_ = 0;  ///< queries seen by the sampled query log
    /// When each client's TSIG fault was last logged: a small table indexed
    /// by a hash of the address; a collision only costs an extra line.
    struct FaultLogged {
        Address client;
        std::int64_t at = 0;  ///< steady clock, seconds; 0: never
    };
    std::array<FaultLogged, 256> fault_logged_{};
    /// And at most kFaultLinesPerSecond lines a second in all: spoofed
    /// sources would each be a new client. What that holds back is counted
    /// and said in the next line.
    static constexpr unsigned kFaultLinesPerSecond = 10;
    std::int64_t fault_second_ = 0;
    unsigned fault_lines_ = 0;
    std::uint64_t fault_suppressed_ = 0;
};

/// Answers UDP on one socket. `shared`: other workers bind the same address
/// (SO_REUSEPORT). A lone worker does not set it, so that a second server
/// started by mistake on the same port fails to bind instead of taking
/// half the queries.
class UdpWorker final : public Worker {
public:
    UdpWorker(unsigned index, const ServingSlot& slot, const Endpoint& listen, bool shared,
              unsigned siblings);
    ~UdpWorker() override { stop(); }

    void start() override;
    void stop() override;

    /// Response rate limiting of this worker's answers.
    RateLimiter& rate_limiter() noexcept { return rate_limiter_; }
    /// UDP workers on the same address, this one included: each allows its
    /// share of a client network's rate.
    unsigned siblings() const noexcept { return siblings_; }
    bool stopping() const noexcept { return stopping_.load(std::memory_order_relaxed); }

private:
    Fd fd_;
    unsigned siblings_;
    RateLimiter rate_limiter_;
    UdpBatchPtr batch_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

/// Accepts TCP on every listening address and serves the connections.
class TcpWorker final : public Worker {
public:
    /// `ordinal`: this worker's number among the TCP workers (its thread's name).
    TcpWorker(unsigned index, unsigned ordinal, const ServingSlot& slot, const std::vector<Endpoint>& listen,
              const TcpLimits& limits, bool shared);
    ~TcpWorker() override { stop(); }

    void start() override;
    void stop() override;

    asio::io_context& io() noexcept { return io_; }
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
    // Declared before io_: destroying io_ destroys the sessions still
    // queued on it, and each of them signs off in tcp_clients_.
    unsigned ordinal_;
    TcpLimits limits_;
    unsigned tcp_connections_ = 0;
    std::vector<std::pair<Address, unsigned>> tcp_clients_;
    asio::io_context io_{1};
    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> tcp_;
    std::thread thread_;
};

/// The UDP worker's loop (udp.cpp): until stop.
void udp_serve(UdpWorker& w, int fd, UdpBatch& batch) noexcept;
/// Coroutines run on a TCP worker's io_context.
asio::awaitable<void> tcp_accept_loop(TcpWorker& w, asio::ip::tcp::acceptor& acceptor);
asio::awaitable<void> tcp_refresh_loop(TcpWorker& w);

UdpBatchPtr make_udp_batch();
/// Names the calling thread (as top -H and ps -L show it); at most 15 bytes.
void name_thread(const char* prefix, unsigned index) noexcept;
/// Gives memory freed inside the allocator back to the system (malloc_trim).
void release_free_memory() noexcept;
}  // namespace dnsd::server
