// TCP probes in batches against real loopback listeners: refused, accepted,
// a connect that never completes (a listener whose accept queue is full),
// sockets reused from one probe to the next, IPv6, and the source address.

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "health/tcp_batch.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using dnsd::Address;
using dnsd::health::ProbeResult;
using dnsd::health::TcpBatch;
using namespace std::chrono_literals;

namespace {

struct Batch {
    asio::io_context io;
    std::map<std::uint32_t, ProbeResult> results;
    TcpBatch batch{io, [this](std::uint32_t tag, ProbeResult r) { results[tag] = std::move(r); }};

    /// Runs until `n` verdicts are in (at most 3 s).
    void wait(std::size_t n) {
        batch.flush();
        const auto limit = std::chrono::steady_clock::now() + 3s;
        while (results.size() < n && std::chrono::steady_clock::now() < limit) {
            io.restart();
            io.run_one_until(limit);
        }
        REQUIRE(results.size() == n);
    }
};

std::uint16_t port_of(const tcp::acceptor& a) {
    return a.local_endpoint().port();
}

const Address kV4 = *Address::parse("127.0.0.1");

}  // namespace

TEST_CASE("tcp batch: accepted passes, refused fails, both settled by one flush", "[health][tcp]") {
    Batch b;
    tcp::acceptor open(b.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::acceptor closed(b.io);  // bound (so that nobody takes the port), not listening
    closed.open(tcp::v4());
    closed.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    b.batch.start(1, kV4, port_of(open), std::nullopt, 1000ms);
    b.batch.start(2, kV4, port_of(closed), std::nullopt, 1000ms);
    CHECK(b.results.empty());  // never from start()
    b.wait(2);
    CHECK(b.results[1].ok);
    CHECK(b.results[1].message == "connected");
    CHECK_FALSE(b.results[2].ok);
    CHECK(b.results[2].message == "connect: Connection refused");
    CHECK(b.results[2].latency < 1000ms);

    // The sockets go back to a pool and serve the next probes: a socket that
    // was refused connects, one that connected is refused, many times over.
    for (std::uint32_t round = 0; round < 50; ++round) {
        b.batch.start(100 + 2 * round, kV4, port_of(closed), std::nullopt, 1000ms);
        b.batch.start(101 + 2 * round, kV4, port_of(open), std::nullopt, 1000ms);
        b.wait(4 + 2 * round);
        REQUIRE_FALSE(b.results[100 + 2 * round].ok);
        REQUIRE(b.results[101 + 2 * round].ok);
        // What the listener accepted was reset at once (AF_UNSPEC), so the
        // accept queue never fills.
        boost::system::error_code ec;
        tcp::socket peer(b.io);
        open.accept(peer, ec);
        REQUIRE_FALSE(ec);
    }
}

TEST_CASE("tcp batch: a connect that never completes fails at its timeout", "[health][tcp]") {
    Batch b;
    // Backlog 0 holds one connection; the next SYNs are dropped.
    tcp::acceptor full(b.io);
    full.open(tcp::v4());
    full.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    full.listen(0);
    // Two connects fill it (non-blocking: the second may never complete).
    std::vector<int> fillers;
    for (int i = 0; i < 2; ++i) {
        fillers.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
        const auto to = full.local_endpoint();
        ::connect(fillers.back(), to.data(), static_cast<socklen_t>(to.size()));
    }
    std::this_thread::sleep_for(50ms);
    const auto start = std::chrono::steady_clock::now();
    b.batch.start(7, kV4, port_of(full), std::nullopt, 300ms);
    b.batch.flush();
    CHECK(b.batch.waiting() == 1);
    b.wait(1);
    CHECK_FALSE(b.results[7].ok);
    CHECK(b.results[7].message == "timeout after 300ms");
    CHECK(b.results[7].latency >= 300ms);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK(b.batch.waiting() == 0);
    for (const int fd : fillers) ::close(fd);
}

TEST_CASE("tcp batch: IPv6, and the source address", "[health][tcp]") {
    Batch b;
    boost::system::error_code ec;
    tcp::acceptor v6(b.io);
    v6.open(tcp::v6(), ec);
    if (!ec) v6.bind(tcp::endpoint(asio::ip::make_address("::1"), 0), ec);
    if (!ec) v6.listen(16, ec);
    if (ec) {
        WARN("no IPv6 loopback here: " << ec.message());
    } else {
        b.batch.start(1, *Address::parse("::1"), port_of(v6), std::nullopt, 1000ms);
        b.wait(1);
        CHECK(b.results[1].ok);
    }

    tcp::acceptor v4(b.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    b.batch.start(2, kV4, port_of(v4), *Address::parse("127.0.0.2"), 1000ms);
    b.wait(ec ? 1 : 2);
    CHECK(b.results[2].ok);
    tcp::socket peer(b.io);
    v4.accept(peer);
    CHECK(peer.remote_endpoint().address().to_string() == "127.0.0.2");

    // A source of the other family is a clear failure.
    b.batch.start(3, kV4, port_of(v4), *Address::parse("::1"), 1000ms);
    b.wait(ec ? 2 : 3);
    CHECK_FALSE(b.results[3].ok);
    CHECK(b.results[3].message == "source ::1 is not an IPv4 address");
}
