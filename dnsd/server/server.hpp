#pragma once
/// The process shell around the query engine: worker threads with their
/// sockets, signal handling and reload. Only this module knows Asio and logs.
///
/// Threads: one per worker (its own io_context(1), its own SO_REUSEPORT UDP
/// sockets and TCP acceptors, its own buffers), plus the main thread, which
/// runs signals and publishes new snapshots. Reloads run on a loader thread.

#include <memory>
#include <string>

#include "dnsd/config/config.hpp"
#include "dnsd/core/snapshot.hpp"
#include "dnsd/query/view.hpp"

namespace dnsd::server {

/// Limits of the TCP transport (RFC 7766 6.2.3), from [server] tcp_*.
struct TcpLimits {
    unsigned max_connections_per_worker = 256;
    unsigned max_per_client = 16;       ///< per worker, per client address
    unsigned idle_timeout_ms = 10'000;  ///< between queries
    unsigned lifetime_ms = 120'000;     ///< of a connection, however busy
    unsigned message_ms = 30'000;       ///< for one message to arrive or leave (slow readers and writers)
};

/// The zone serials last served, from the state file (its "serials"
/// member); empty when there is none. For the serial rule at start.
query::ServedSerials served_serials_from(const std::string& state_file);

class Server {
public:
    /// Binds every listen address for every worker; throws std::runtime_error
    /// when a socket cannot be bound (the caller reports it and exits).
    Server(config::Config cfg, std::shared_ptr<const query::View> view);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Runs until SIGTERM or SIGINT; SIGHUP reloads. Returns the exit code.
    int run();

private:
    void stop_state();         ///< stops the probes and joins the state thread
    void log_summary() const;  ///< the start-up summary: zones, sites, geo, control

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dnsd::server
