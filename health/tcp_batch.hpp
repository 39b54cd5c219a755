#pragma once
/// TCP probes in batches (SPEC 2 `type = "tcp"`), for many addresses at a
/// low cost: the monitor starts every connect due in one loop turn, then
/// `flush()` settles with one poll(2) those that completed at once (on a
/// local network, and always on loopback, most do) and hands the rest to
/// the reactor, raced against their timeout.
///
/// Written by hand rather than with one Asio coroutine and socket per probe
/// (as the other kinds are) because at ten thousand probes a second that
/// path costs 40 µs of CPU per probe, most of it in the kernel: a socket
/// created, registered with epoll, deregistered and destroyed per probe,
/// and a timer per probe. Here a socket is reused: after its verdict it is
/// disconnected (connect with AF_UNSPEC: a reset if it had connected, so
/// the target keeps no TIME_WAIT either) and pooled for the next probe of
/// its family. bench/probes measures both.
///
/// Thread safety: one io_context thread (the state thread), like Prober.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "dnsd/core/address.hpp"
#include "health/probe.hpp"

namespace dnsd::health {

class TcpBatch {
public:
    using Clock = std::chrono::steady_clock;
    /// Receives every verdict, with the `tag` given to start(); called from
    /// flush() or later from the io_context, never from start().
    using Done = std::function<void(std::uint32_t tag, ProbeResult result)>;

    TcpBatch(boost::asio::io_context& io, Done done);
    ~TcpBatch();  ///< closes every socket; connects in flight end without a verdict
    TcpBatch(const TcpBatch&) = delete;
    TcpBatch& operator=(const TcpBatch&) = delete;

    /// Starts connecting to `target`:`port` (from `source` when given),
    /// bounded by `timeout`.
    void start(std::uint32_t tag, const Address& target, std::uint16_t port,
               const std::optional<Address>& source, std::chrono::milliseconds timeout);
    /// Settles what start() began since the last flush.
    void flush();

    /// Connects waiting on the reactor now (for tests).
    std::size_t waiting() const noexcept;

    struct Shared;  ///< what the waiting connects share with the batch (tcp_batch.cpp)

private:
    std::shared_ptr<Shared> shared_;
};

}  // namespace dnsd::health
