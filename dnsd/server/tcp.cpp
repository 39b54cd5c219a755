// DNS over TCP (RFC 7766): length-prefixed messages, several per
// connection, answered in order; an idle timeout between queries, a time
// limit per message and per connection, and caps on connections per worker
// and per client. Each connection is a coroutine that owns its
// socket and its two buffers, allocated once when the connection opens.

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "dnsd/net/address.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/query/transfer.hpp"
#include "dnsd/query/tsig.hpp"
#include "dnsd/server/worker.hpp"
#include "dnsd/wire/parser.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::server {

using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

/// Reads exactly buffer.size() bytes unless the deadline passes first.
/// Returns false on timeout, error or end of stream.
asio::awaitable<bool> read_within(tcp::socket& socket, asio::mutable_buffer buffer,
                                  std::chrono::milliseconds timeout) {
    asio::steady_timer timer(socket.get_executor());
    timer.expires_after(timeout);
    auto result = co_await (asio::async_read(socket, buffer, asio::as_tuple(asio::use_awaitable)) ||
                            timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (result.index() != 0) co_return false;  // the timer won
    auto [ec, n] = std::get<0>(result);
    co_return !ec && n == buffer.size();
}

asio::awaitable<bool> write_within(tcp::socket& socket, asio::const_buffer buffer,
                                   std::chrono::milliseconds timeout) {
    asio::steady_timer timer(socket.get_executor());
    timer.expires_after(timeout);
    auto result = co_await (asio::async_write(socket, buffer, asio::as_tuple(asio::use_awaitable)) ||
                            timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (result.index() != 0) co_return false;
    auto [ec, n] = std::get<0>(result);
    co_return !ec;
}

/// Holds a connection's place in the worker's counts while it lives.
struct ConnectionSlot {
    TcpWorker& w;
    Address client;
    ConnectionSlot(TcpWorker& worker, const Address& a) : w(worker), client(a) { w.tcp_opened(client); }
    ~ConnectionSlot() { w.tcp_closed(client); }
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;
};

asio::awaitable<void> tcp_session(TcpWorker& w, tcp::socket socket, Address client) {
    ConnectionSlot slot(w, client);
    const auto& limits = w.tcp_limits();
    const auto idle = std::chrono::milliseconds(limits.idle_timeout_ms);
    // A whole message must arrive and leave within this, whatever the idle
    // timeout: a reader that trickles bytes does not hold a slot for long.
    const auto transfer = std::chrono::milliseconds(limits.message_ms);
    // And no connection lives forever, however busy: a slot comes back.
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(limits.lifetime_ms);
    auto left = [&](std::chrono::milliseconds most) {
        const auto remaining =
            std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        return remaining < most ? remaining : most;
    };
    std::vector<std::uint8_t> in(wire::kMaxMessage);
    std::vector<std::uint8_t> out(2 + wire::kMaxMessage);
    for (;;) {
        std::uint8_t len_bytes[2];
        if (left(idle).count() <= 0) break;
        if (!co_await read_within(socket, asio::buffer(len_bytes), left(idle))) break;
        const std::size_t len = wire::get16(len_bytes);
        if (len < wire::kHeaderSize) break;  // nothing sensible to answer: close
        if (!co_await read_within(socket, asio::buffer(in.data(), len), left(transfer))) break;

        // The view and its health of one publication, kept for the
        // transfer's duration.
        const auto serving = w.serving_ref();
        const auto& view = serving->view;
        const auto r = query::answer({in.data(), len}, {out.data() + 2, wire::kMaxMessage}, *view,
                                     query::Client{client, query::Transport::tcp, serving->health.get(),
                                                   &w.random(), &w.geo_cache(), false, 0, &w.signatures()});
        if (r.size || r.transfer) w.count(*view, r, true, {in.data(), len}, client);
        if (r.transfer) {
            wire::Query q;
            wire::parse_query({in.data(), len}, q);
            query::TransferStream stream({in.data(), len}, q, *view, r);
            // A signed request: every message signed, each after the MAC
            // of the one before (RFC 8945 5.3.1).
            std::optional<query::TsigChain> chain;
            std::size_t reserve = 0;
            if (r.tsig) {
                query::TsigRecord record;
                if (q.tsig_at && query::read_tsig({in.data(), len}, q.tsig_at, record)) {
                    chain.emplace(*r.tsig, record.mac);
                    reserve = chain->reserve();
                }
            }
            bool ok = true;
            while (ok) {
                std::size_t n = stream.next({out.data() + 2, wire::kMaxMessage - reserve});
                if (n == 0) break;
                if (chain) {
                    n = chain->sign({out.data() + 2, wire::kMaxMessage}, n, query::tsig_now());
                    if (n == 0) break;
                }
                wire::put16(out.data(), static_cast<std::uint16_t>(n));
                ok = co_await write_within(socket, asio::buffer(out.data(), n + 2), left(transfer));
            }
            if (!ok) break;
            continue;
        }
        if (r.size == 0) break;
        wire::put16(out.data(), static_cast<std::uint16_t>(r.size));
        if (!co_await write_within(socket, asio::buffer(out.data(), r.size + 2), left(transfer))) break;
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
}

}  // namespace

asio::awaitable<void> tcp_accept_loop(TcpWorker& w, tcp::acceptor& acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {
            // E.g. EMFILE: the error repeats at once until a descriptor is
            // free, so wait a little instead of spinning; UDP goes on.
            asio::steady_timer pause(w.io(), std::chrono::milliseconds(50));
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        boost::system::error_code pe;
        const auto peer = socket.remote_endpoint(pe);
        if (pe) continue;
        const auto client = Address::from_sockaddr(peer.data());
        if (!client) continue;
        // Over a cap, closed at once: the client sees a reset and retries
        // elsewhere or later; nothing is queued.
        if (w.tcp_connections() >= w.tcp_limits().max_connections_per_worker ||
            w.tcp_connections_of(*client) >= w.tcp_limits().max_per_client) {
            w.stats().count_tcp_refused();
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        socket.set_option(tcp::no_delay(true), pe);
        asio::co_spawn(w.io(), tcp_session(w, std::move(socket), *client), asio::detached);
    }
}

asio::awaitable<void> tcp_refresh_loop(TcpWorker& w) {
    // Once a second, even without connections: let go of a view or health
    // snapshot that a reload or a probe has replaced.
    asio::steady_timer timer(w.io());
    for (;;) {
        timer.expires_after(std::chrono::seconds(1));
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        w.serving();
        w.demand().sync();
    }
}

TcpWorker::TcpWorker(unsigned index, unsigned ordinal, const ServingSlot& slot,
                     const std::vector<Endpoint>& listen, const TcpLimits& limits, bool shared)
    : Worker(index, slot), ordinal_(ordinal), limits_(limits) {
    for (const auto& ep : listen) {
        const bool v6 = ep.address.family == Family::v6;
        auto t = std::make_unique<tcp::acceptor>(io_);
        t->open(v6 ? tcp::v6() : tcp::v4());
        t->set_option(asio::socket_base::reuse_address(true));
        if (shared) {
            const int on = 1;
            if (::setsockopt(t->native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
                throw std::system_error(errno, std::generic_category(), "SO_REUSEPORT");
        }
        if (v6) t->set_option(asio::ip::v6_only(true));
        boost::system::error_code ec;
        t->bind(net::tcp_endpoint(ep), ec);
        if (ec) throw std::runtime_error("cannot listen on " + ep.str() + " (TCP): " + ec.message());
        t->listen(asio::socket_base::max_listen_connections);
        tcp_.push_back(std::move(t));
    }
}

void TcpWorker::start() {
    for (auto& t : tcp_) asio::co_spawn(io_, tcp_accept_loop(*this, *t), asio::detached);
    asio::co_spawn(io_, tcp_refresh_loop(*this), asio::detached);
    thread_ = std::thread([this] {
        name_thread("dnsd-tcp", ordinal_);
        io_.run();
    });
}

void TcpWorker::stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace dnsd::server
