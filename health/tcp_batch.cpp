#include "health/tcp_batch.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <string>

#include "dnsd/net/deadline.hpp"

namespace dnsd::health {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

/// Free sockets kept per family: enough for the connects of a busy loop
/// turn; more are closed.
constexpr std::size_t kPoolMax = 512;

struct Started {
    int fd;
    std::uint32_t tag;
    bool v6;
    bool pooled;  ///< may go back to the pool (not bound to a source)
    TcpBatch::Clock::time_point start;
    std::chrono::milliseconds timeout;
};

std::string connect_error(int err) {
    return std::string("connect: ") + std::strerror(err);
}

}  // namespace

struct TcpBatch::Shared {
    asio::io_context& io;
    Done done;
    std::vector<int> pool[2];  ///< by family: IPv4, IPv6
    std::vector<Started> started;
    std::vector<std::pair<std::uint32_t, ProbeResult>> settled;  ///< results known at start()
    std::vector<pollfd> polls;
    std::size_t waiting = 0;
    bool closed = false;

    Shared(asio::io_context& i, Done d) : io(i), done(std::move(d)) {}

    /// Disconnects a socket whose connect has ended (AF_UNSPEC: a reset if
    /// it had connected) and keeps it for the next probe of its family, or
    /// closes it.
    void recycle(int fd, bool v6, bool pooled) {
        if (pooled && !closed && pool[v6].size() < kPoolMax) {
            sockaddr unspec{};
            unspec.sa_family = AF_UNSPEC;
            if (::connect(fd, &unspec, sizeof unspec) == 0) {
                pool[v6].push_back(fd);
                return;
            }
        }
        ::close(fd);
    }

    void finish(std::uint32_t tag, bool ok, std::string message, Clock::time_point start) {
        if (closed) return;
        done(tag, ProbeResult{ok, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start),
                              std::move(message)});
    }
};

namespace {

/// The verdict of a connect that has ended (the socket polled writable).
std::pair<bool, std::string> outcome(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0) return {true, "connected"};
    return {false, connect_error(err)};
}

/// A connect still in progress after the batch's poll: the reactor waits
/// for it, raced with its timeout.
asio::awaitable<void> wait_for(std::shared_ptr<TcpBatch::Shared> s, Started c) {
    const auto protocol = c.v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
    asio::ip::tcp::socket socket(s->io);
    boost::system::error_code ec;
    socket.assign(protocol, c.fd, ec);
    if (ec) {
        ::close(c.fd);
        --s->waiting;
        s->finish(c.tag, false, "socket: " + ec.message(), c.start);
        co_return;
    }
    asio::steady_timer timer(s->io, c.start + c.timeout);
    const auto first = co_await (socket.async_wait(asio::socket_base::wait_write, asio::use_awaitable) ||
                                 timer.async_wait(asio::use_awaitable));
    --s->waiting;
    if (first.index() == 1) {
        socket.close(ec);  // mid-handshake: not worth keeping
        s->finish(c.tag, false, net::Deadline{c.start + c.timeout, c.timeout}.timed_out(), c.start);
        co_return;
    }
    auto [ok, message] = outcome(socket.native_handle());
    const int fd = socket.release(ec);
    if (ec)
        socket.close(ec);
    else
        s->recycle(fd, c.v6, c.pooled);
    s->finish(c.tag, ok, std::move(message), c.start);
}

}  // namespace

TcpBatch::TcpBatch(asio::io_context& io, Done done)
    : shared_(std::make_shared<Shared>(io, std::move(done))) {}

TcpBatch::~TcpBatch() {
    shared_->closed = true;
    for (auto& pool : shared_->pool)
        for (const int fd : pool) ::close(fd);
    for (const auto& c : shared_->started) ::close(c.fd);
}

std::size_t TcpBatch::waiting() const noexcept {
    return shared_->waiting;
}

void TcpBatch::start(std::uint32_t tag, const Address& target, std::uint16_t port,
                     const std::optional<Address>& source, std::chrono::milliseconds timeout) {
    auto& s = *shared_;
    const auto now = Clock::now();
    const bool v6 = target.family == Family::v6;
    const auto settle = [&](std::string message) {
        s.settled.push_back({tag, ProbeResult{false, {}, std::move(message)}});
    };
    if (source && (source->family == Family::v6) != v6)
        return settle("source " + source->str() + " is not an " + (v6 ? "IPv6" : "IPv4") + " address");

    int fd = -1;
    const bool pooled = !source;
    if (pooled && !s.pool[v6].empty()) {
        fd = s.pool[v6].back();
        s.pool[v6].pop_back();
    } else {
        fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return settle(std::string("socket: ") + std::strerror(errno));
        if (source) {
            sockaddr_storage from{};
            const unsigned len = Endpoint{*source, 0}.to_sockaddr(from);
            if (::bind(fd, reinterpret_cast<const sockaddr*>(&from), len) != 0) {
                const int err = errno;
                ::close(fd);
                return settle("bind " + source->str() + ": " + std::strerror(err));
            }
        }
    }
    sockaddr_storage to{};
    const unsigned len = Endpoint{target, port}.to_sockaddr(to);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), len) == 0 || errno == EINPROGRESS) {
        s.started.push_back({fd, tag, v6, pooled, now, timeout});
        return;
    }
    const int err = errno;
    s.recycle(fd, v6, pooled);
    settle(connect_error(err));
}

void TcpBatch::flush() {
    auto& s = *shared_;
    // What start() knew at once, then one poll for everything it began.
    auto settled = std::move(s.settled);
    s.settled.clear();
    for (auto& [tag, result] : settled)
        if (!s.closed) s.done(tag, std::move(result));
    if (s.started.empty()) return;
    s.polls.resize(s.started.size());
    for (std::size_t i = 0; i < s.started.size(); ++i) s.polls[i] = {s.started[i].fd, POLLOUT, 0};
    if (::poll(s.polls.data(), s.polls.size(), 0) < 0)
        for (auto& p : s.polls) p.revents = 0;  // all of them to the reactor
    auto started = std::move(s.started);
    s.started.clear();
    for (std::size_t i = 0; i < started.size(); ++i) {
        const Started& c = started[i];
        if (s.polls[i].revents == 0) {
            ++s.waiting;
            asio::co_spawn(s.io, wait_for(shared_, c), asio::detached);
            continue;
        }
        auto [ok, message] = outcome(c.fd);
        s.recycle(c.fd, c.v6, c.pooled);
        s.finish(c.tag, ok, std::move(message), c.start);
    }
}

}  // namespace dnsd::health
