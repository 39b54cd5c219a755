#pragma once
/// The process shell around the query engine: worker threads with their
/// sockets, the state thread, and signal handling. With `health` and `net`,
/// the only module that knows Asio; the only one that logs (with `alert`).
///
/// Threads: the workers (UDP: one blocking socket each; TCP: an
/// io_context(1) each), which only read published snapshots; the state
/// thread (state.hpp), the one owner of everything that changes, which
/// alone publishes them; a loader thread while a reload builds; and the
/// main thread, which only handles signals and posts to the state thread.

#include <memory>
#include <string>

#include "dnsd/config/config.hpp"
#include "dnsd/core/snapshot.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/server/state_file.hpp"

namespace dnsd::server {

/// Limits of the TCP transport (RFC 7766 6.2.3), from [server] tcp_*.
struct TcpLimits {
    unsigned max_connections_per_worker = 256;
    unsigned max_per_client = 16;       ///< per worker, per client address
    unsigned idle_timeout_ms = 10'000;  ///< between queries
    unsigned lifetime_ms = 120'000;     ///< of a connection, however busy
    unsigned message_ms = 30'000;       ///< for one message to arrive or leave (slow readers and writers)
};

class Server {
public:
    /// Binds every listen address for every worker and the control
    /// endpoint; throws std::runtime_error when a socket cannot be bound
    /// (the caller reports it and exits). `saved`: the state file as read
    /// at start (overrides and last health).
    Server(config::Config cfg, std::shared_ptr<const query::View> view, const StateFile& saved);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Runs until SIGTERM or SIGINT; SIGHUP reloads. Returns the exit code.
    int run();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dnsd::server
