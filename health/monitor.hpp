#pragma once
/// Runs the probes of a Board on the state thread's io_context: one
/// coroutine per probed address, the first probe at start (spread over a
/// short random delay so that probes do not fire together), then every
/// interval with a little jitter. When a result changes the board, the
/// `changed` callback runs once per loop turn (changes coalesced), where the
/// owner publishes a snapshot; results that change no state (message,
/// latency) trigger it at most once a second.
///
/// Thread safety: construct, start and stop on the io_context's thread.

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>

#include "health/board.hpp"
#include "health/probe.hpp"

namespace dnsd::health {

class Monitor {
public:
    Monitor(boost::asio::io_context& io, std::shared_ptr<Board> board, std::function<void()> changed);
    ~Monitor();

    void start();
    /// Stops the probe loops; probes in flight finish (bounded by their
    /// timeout) without touching the board's owner again.
    void stop();

    Board& board() noexcept { return *board_; }
    /// Runs `changed` at the end of this loop turn (once, however many
    /// changes happen meanwhile). For overrides set by the owner.
    void notify();

    struct Shared;  ///< state shared with the probe coroutines (defined in monitor.cpp)

private:
    boost::asio::io_context& io_;
    std::shared_ptr<Board> board_;
    std::shared_ptr<Shared> shared_;
};

}  // namespace dnsd::health
