// Probes against real listeners: small Asio servers started by each test on
// 127.0.0.1 or ::1, on ports the kernel picks (so that parallel runs do not
// collide), all on the same io_context as the probe. No mocks. Timeouts are
// 300 ms where a probe must wait for one, to keep the file fast.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include "tests/temp_dir.hpp"
#include "tests/tls_identity.hpp"

#include "health/probe.hpp"

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::ip::tcp;
using asio::ip::udp;
using Catch::Matchers::Contains;
using dnsd::Address;
using dnsd::config::Probe;
using dnsd::health::Prober;
using dnsd::health::ProbeResult;
using namespace std::chrono_literals;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
const Address kV4 = *Address::parse("127.0.0.1");
const Address kV6 = *Address::parse("::1");

Probe make_probe(Probe::Kind kind, std::uint16_t port, std::chrono::milliseconds timeout = 5000ms) {
    Probe p;
    p.kind = kind;
    p.port = port;
    p.timeout = timeout;
    return p;
}

std::string lowered(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string response(unsigned status, std::string_view reason, std::string_view body) {
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           std::string(body);
}

/// What a test server saw.
struct Seen {
    std::string request;  ///< the last request's head
    std::string peer;     ///< the last client's address
    std::string sni;      ///< TLS: the last server name sent
    int handshake_failures = 0;
    int resumed = 0;  ///< TLS: handshakes that resumed a session
};

/// Reads one request head and writes `reply`, on any stream.
template <class Stream>
awaitable<void> answer(Stream& stream, const std::string& reply, Seen& seen) {
    std::string request;
    auto [ec, n] = co_await asio::async_read_until(stream, asio::dynamic_buffer(request), "\r\n\r\n", kTuple);
    if (ec) co_return;
    seen.request = request.substr(0, n);
    co_await asio::async_write(stream, asio::buffer(reply), kTuple);
}

awaitable<void> serve_http(tcp::acceptor acceptor, std::string reply, std::shared_ptr<Seen> seen) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(kTuple);
        if (ec) co_return;
        boost::system::error_code peer_ec;
        seen->peer = socket.remote_endpoint(peer_ec).address().to_string();
        co_await answer(socket, reply, *seen);
        // The socket closes here: that ends bodies without a length.
    }
}

awaitable<void> serve_https(tcp::acceptor acceptor, std::shared_ptr<ssl::context> tls, std::string reply,
                            std::shared_ptr<Seen> seen) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(kTuple);
        if (ec) co_return;
        ssl::stream<tcp::socket> stream(std::move(socket), *tls);
        auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
        // Known once the client's hello is read, even when the client then
        // rejects our certificate.
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        seen->sni = sni ? sni : "";
        if (hec) {
            ++seen->handshake_failures;
            continue;
        }
        if (SSL_session_reused(stream.native_handle())) ++seen->resumed;
        co_await answer(stream, reply, *seen);
    }
}

/// Accepts connections and keeps them, never reading or writing.
awaitable<void> accept_and_hold(tcp::acceptor acceptor) {
    std::vector<tcp::socket> held;
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(kTuple);
        if (ec) co_return;
        held.push_back(std::move(socket));
    }
}

struct DnsSeen {
    std::string query;
    int queries = 0;
};

/// Answers every query with its own header and question, QR and AA set and
/// `rcode`; with `decoy`, first sends the same reply under another ID.
awaitable<void> serve_dns(udp::socket socket, std::uint8_t rcode, bool decoy, std::shared_ptr<DnsSeen> seen) {
    std::array<char, 512> buf;
    udp::endpoint from;
    for (;;) {
        auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buf), from, kTuple);
        if (ec) co_return;
        if (n < 12) continue;
        seen->query.assign(buf.data(), n);
        ++seen->queries;
        std::string reply = seen->query;
        reply[2] = static_cast<char>(0x84 | (reply[2] & 0x78));
        reply[3] = static_cast<char>(rcode);
        if (decoy) {
            std::string other = reply;
            other[1] = static_cast<char>(other[1] ^ 0x5a);
            co_await socket.async_send_to(asio::buffer(other), from, kTuple);
        }
        co_await socket.async_send_to(asio::buffer(reply), from, kTuple);
    }
}

/// One io_context per test, with its servers; destroying it closes them.
class Net {
public:
    asio::io_context io;
    Prober prober;

    /// Runs one probe to its verdict (servers keep running beside it).
    ProbeResult probe(const Probe& p, Address target) { return probe(prober, p, target); }

    ProbeResult probe(Prober& with, const Probe& p, Address target) {
        std::optional<ProbeResult> result;
        bool threw = false;
        asio::co_spawn(io, with.run(p, target), [&](std::exception_ptr e, ProbeResult r) {
            if (e) threw = true;
            result = std::move(r);
        });
        const auto limit = std::chrono::steady_clock::now() + 5s;
        io.restart();
        while (!result && std::chrono::steady_clock::now() < limit) io.run_one_until(limit);
        REQUIRE(result);
        CHECK_FALSE(threw);
        return *result;
    }

    /// Runs the servers until `done` (at most 2 s): they may still be busy
    /// with a connection the probe has given up on.
    template <class Pred>
    bool run_until(Pred done) {
        const auto limit = std::chrono::steady_clock::now() + 2s;
        io.restart();
        while (!done() && std::chrono::steady_clock::now() < limit) io.run_one_until(limit);
        return done();
    }

    /// Runs what is left (background reaping), when no server is running.
    void settle() {
        io.restart();
        io.run_for(2s);
    }

    tcp::acceptor listener(const char* address) {
        return tcp::acceptor(io, tcp::endpoint(asio::ip::make_address(address), 0));
    }

    std::uint16_t http(std::string reply, std::shared_ptr<Seen> seen, const char* address = "127.0.0.1") {
        auto acceptor = listener(address);
        const auto port = acceptor.local_endpoint().port();
        asio::co_spawn(io, serve_http(std::move(acceptor), std::move(reply), std::move(seen)),
                       asio::detached);
        return port;
    }

    std::uint16_t https(std::shared_ptr<ssl::context> tls, std::string reply, std::shared_ptr<Seen> seen) {
        auto acceptor = listener("127.0.0.1");
        const auto port = acceptor.local_endpoint().port();
        asio::co_spawn(io,
                       serve_https(std::move(acceptor), std::move(tls), std::move(reply), std::move(seen)),
                       asio::detached);
        return port;
    }

    std::uint16_t silent_tcp() {
        auto acceptor = listener("127.0.0.1");
        const auto port = acceptor.local_endpoint().port();
        asio::co_spawn(io, accept_and_hold(std::move(acceptor)), asio::detached);
        return port;
    }

    /// A port that refuses connections: bound, so that nobody else takes it
    /// during the test, but not listening.
    std::uint16_t closed_tcp() {
        closed_.emplace_back(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        return closed_.back().local_endpoint().port();
    }

    std::uint16_t dns(std::uint8_t rcode, std::shared_ptr<DnsSeen> seen, bool decoy = false) {
        udp::socket socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        const auto port = socket.local_endpoint().port();
        asio::co_spawn(io, serve_dns(std::move(socket), rcode, decoy, std::move(seen)), asio::detached);
        return port;
    }

    /// A UDP port that takes queries and never answers.
    std::uint16_t silent_udp() {
        silent_.emplace_back(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        return silent_.back().local_endpoint().port();
    }

private:
    std::vector<tcp::socket> closed_;
    std::vector<udp::socket> silent_;
};

bool ipv6_loopback() {
    asio::io_context io;
    tcp::acceptor a(io);
    boost::system::error_code ec;
    a.open(tcp::v6(), ec);
    if (!ec) a.bind({asio::ip::make_address("::1"), 0}, ec);
    return !ec;
}

// ---- TLS material ----

using dnsd::test::Identity;
using dnsd::test::self_signed;
using dnsd::test::server_tls;
using dnsd::test::TempDir;

/// A Prober whose trust store is `cert` alone: OpenSSL's default verify
/// paths honour SSL_CERT_FILE, read when the Prober is constructed.
/// A Prober that trusts `cert` (through SSL_CERT_FILE, which the Prober
/// reads at its first https probe): the variable stays set while it lives.
struct TrustingProber {
    std::unique_ptr<Prober> prober;
    std::optional<std::string> saved;
    TrustingProber(X509* cert, const TempDir& dir) {
        const auto file = dir.path / "trusted.pem";
        FILE* f = std::fopen(file.c_str(), "w");
        REQUIRE(f);
        const int written = PEM_write_X509(f, cert);
        std::fclose(f);
        REQUIRE(written == 1);
        if (const char* old = std::getenv("SSL_CERT_FILE")) saved = old;
        ::setenv("SSL_CERT_FILE", file.c_str(), 1);
        prober = std::make_unique<Prober>();
    }
    ~TrustingProber() {
        if (saved)
            ::setenv("SSL_CERT_FILE", saved->c_str(), 1);
        else
            ::unsetenv("SSL_CERT_FILE");
    }
};

std::unique_ptr<TrustingProber> prober_trusting(X509* cert, const TempDir& dir) {
    return std::make_unique<TrustingProber>(cert, dir);
}

/// True once `pid` is gone or a zombie (killed, waiting for its reaper).
bool stopped(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const auto paren = line.rfind(") ");
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

}  // namespace

// ---- http ----

TEST_CASE("http: 200 passes; the request has the path, Host, User-Agent, Connection: close",
          "[health][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    Probe p = make_probe(Probe::Kind::http, net.http(response(200, "OK", "fine"), seen));
    p.path = "/healthz";
    const auto r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == "HTTP 200");
    CHECK(r.latency > 0us);
    const std::string head = lowered(seen->request);
    CHECK(head.starts_with("get /healthz http/1.1\r\n"));
    CHECK(head.find("\r\nhost: 127.0.0.1\r\n") != std::string::npos);
    CHECK(head.find("\r\nuser-agent: dnsd-probe\r\n") != std::string::npos);
    CHECK(head.find("\r\nconnection: close\r\n") != std::string::npos);
}

TEST_CASE("http: a status not in expect_status fails", "[health][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    Probe p = make_probe(Probe::Kind::http, net.http(response(503, "Service Unavailable", "down"), seen));
    auto r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "HTTP 503 (expected 200)");

    p.expect_status = {200, 503};
    r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == "HTTP 503");
}

TEST_CASE("http: expect_body must be in the body", "[health][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    Probe p = make_probe(Probe::Kind::http, net.http(response(200, "OK", "status: all ok\n"), seen));
    p.expect_body = "all ok";
    auto r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == "HTTP 200");

    p.expect_body = "ok";
    p.port = net.http(response(200, "OK", "status: degraded\n"), seen);
    r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "body does not contain \"ok\"");

    p.port = net.http(response(200, "OK", ""), seen);
    r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "body does not contain \"ok\"");
}

TEST_CASE("http: only the first 64 KiB of the body are searched", "[health][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    const std::string filler(100 * 1024, 'x');
    Probe p = make_probe(Probe::Kind::http, net.http(response(200, "OK", "ok" + filler), seen));
    p.expect_body = "ok";
    auto r = net.probe(p, kV4);
    CHECK(r.ok);

    p.port = net.http(response(200, "OK", filler + "ok"), seen);
    r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "body does not contain \"ok\"");
}

TEST_CASE("http: a body that runs to the end of the connection is read", "[health][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    Probe p = make_probe(Probe::Kind::http,
                         net.http("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall is ok here", seen));
    p.expect_body = "is ok";
    const auto r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == "HTTP 200");
}

TEST_CASE("http: a server that accepts and never answers fails at the timeout", "[health][http]") {
    Net net;
    Probe p = make_probe(Probe::Kind::http, net.silent_tcp(), 300ms);
    const auto start = std::chrono::steady_clock::now();
    const auto r = net.probe(p, kV4);
    const auto wall = std::chrono::steady_clock::now() - start;
    CHECK_FALSE(r.ok);
    CHECK(r.message == "timeout after 300ms");
    CHECK(r.latency >= 300ms);
    CHECK(r.latency < 2300ms);
    CHECK(wall < 3s);
}

TEST_CASE("http: a refused connection fails at once", "[health][http]") {
    Net net;
    Probe p = make_probe(Probe::Kind::http, net.closed_tcp());
    const auto r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "connect: Connection refused");
    CHECK(r.latency < 2500ms);
}

TEST_CASE("http: Host is the configured host, or the address (IPv6 in brackets)", "[health][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    Probe p = make_probe(Probe::Kind::http, net.http(response(200, "OK", "ok"), seen));
    p.host = "www.example.test";
    CHECK(net.probe(p, kV4).ok);
    CHECK(lowered(seen->request).find("\r\nhost: www.example.test\r\n") != std::string::npos);

    if (!ipv6_loopback()) {
        WARN("no IPv6 loopback: the [::1] case is not run");
        return;
    }
    auto seen6 = std::make_shared<Seen>();
    Probe p6 = make_probe(Probe::Kind::http, net.http(response(200, "OK", "ok"), seen6, "::1"));
    const auto r = net.probe(p6, kV6);
    CHECK(r.ok);
    CHECK(lowered(seen6->request).find("\r\nhost: [::1]\r\n") != std::string::npos);
}

TEST_CASE("http: source sets the local address", "[health][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    Probe p = make_probe(Probe::Kind::http, net.http(response(200, "OK", "ok"), seen));
    p.source = kV4;
    CHECK(net.probe(p, kV4).ok);
    CHECK(seen->peer == "127.0.0.1");

    p.source = kV6;
    const auto r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "source ::1 is not an IPv4 address");
}

// ---- https ----

TEST_CASE("https: a self-signed certificate fails unless insecure", "[health][https]") {
    Net net;
    const Identity id = self_signed();
    auto seen = std::make_shared<Seen>();
    Probe p = make_probe(Probe::Kind::https, net.https(server_tls(id), response(200, "OK", "ok"), seen));
    p.expect_body = "ok";
    auto r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "tls: certificate verify failed: self-signed certificate");
    CHECK(seen->request.empty());

    p.insecure = true;
    r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == "HTTP 200");
    CHECK(lowered(seen->request).find("\r\nhost: 127.0.0.1\r\n") != std::string::npos);
    CHECK(seen->sni.empty());  // never an address as SNI
}

TEST_CASE("https: a trusted certificate passes only for its names; host is sent as SNI", "[health][https]") {
    Net net;
    const Identity id = self_signed();
    const TempDir dir("dnsd-probe-test");
    const auto trusting = prober_trusting(id.cert.get(), dir);
    auto seen = std::make_shared<Seen>();
    Probe p = make_probe(Probe::Kind::https, net.https(server_tls(id), response(200, "OK", "ok"), seen));

    auto r = net.probe(*trusting->prober, p, kV4);  // checked against IP:127.0.0.1
    CHECK(r.ok);
    CHECK(r.message == "HTTP 200");

    p.host = "localhost";
    r = net.probe(*trusting->prober, p, kV4);
    CHECK(r.ok);
    CHECK(seen->sni == "localhost");
    CHECK(lowered(seen->request).find("\r\nhost: localhost\r\n") != std::string::npos);

    p.host = "www.example.test";
    r = net.probe(*trusting->prober, p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "tls: certificate verify failed: hostname mismatch");
    CHECK(net.run_until([&] { return seen->handshake_failures == 1; }));
    CHECK(seen->sni == "www.example.test");

    p.host = "::1";  // a name only: the connection still goes to 127.0.0.1
    r = net.probe(*trusting->prober, p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "tls: certificate verify failed: IP address mismatch");

    p.insecure = true;  // no name check either
    CHECK(net.probe(*trusting->prober, p, kV4).ok);
}

TEST_CASE("https: the next probe of a destination resumes its session, never across verification",
          "[health][https]") {
    Net net;
    const Identity id = self_signed();
    const TempDir dir("dnsd-probe-test");
    const auto trusting = prober_trusting(id.cert.get(), dir);
    auto seen = std::make_shared<Seen>();
    Probe p = make_probe(Probe::Kind::https, net.https(server_tls(id), response(200, "OK", "ok"), seen));
    p.insecure = true;
    CHECK(net.probe(*trusting->prober, p, kV4).ok);
    CHECK(seen->resumed == 0);  // a full handshake the first time
    CHECK(net.probe(*trusting->prober, p, kV4).ok);
    CHECK(seen->resumed == 1);
    // Verified, the destination is another: the unverified session is not
    // offered (it would skip the certificate check).
    p.insecure = false;
    CHECK(net.probe(*trusting->prober, p, kV4).ok);
    CHECK(seen->resumed == 1);
    CHECK(net.probe(*trusting->prober, p, kV4).ok);
    CHECK(seen->resumed == 2);
}

TEST_CASE("https: a server that never answers the handshake fails at the timeout", "[health][https]") {
    Net net;
    Probe p = make_probe(Probe::Kind::https, net.silent_tcp(), 300ms);
    const auto r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "timeout after 300ms");
    CHECK(r.latency < 2300ms);
}

// ---- tcp ----

TEST_CASE("tcp: passes when the connection is accepted, fails when refused", "[health][tcp]") {
    Net net;
    auto r = net.probe(make_probe(Probe::Kind::tcp, net.silent_tcp()), kV4);
    CHECK(r.ok);
    CHECK(r.message == "connected");

    r = net.probe(make_probe(Probe::Kind::tcp, net.closed_tcp()), kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "connect: Connection refused");

    r = net.probe(make_probe(Probe::Kind::tcp, 0), kV4);
    CHECK_FALSE(r.ok);
}

// ---- dns ----

TEST_CASE("dns: NOERROR passes; the query is a plain one with RD clear", "[health][dns]") {
    Net net;
    auto seen = std::make_shared<DnsSeen>();
    Probe p = make_probe(Probe::Kind::dns, net.dns(0, seen));
    p.query_name = "www.Example.com";
    p.query_type = 1;
    const auto r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == "rcode NOERROR");
    using namespace std::string_literals;
    const std::string question = "\3www\7Example\3com\0\0\1\0\1"s;
    REQUIRE(seen->query.size() == 12 + question.size());
    CHECK(seen->query.substr(2, 10) == "\0\0\0\1\0\0\0\0\0\0"s);  // flags 0: RD clear; one question
    CHECK(seen->query.substr(12) == question);
}

TEST_CASE("dns: an unexpected rcode fails; expect_rcode lists the good ones", "[health][dns]") {
    Net net;
    auto seen = std::make_shared<DnsSeen>();
    Probe p = make_probe(Probe::Kind::dns, net.dns(5, seen));
    auto r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "rcode REFUSED (expected NOERROR)");

    p.port = net.dns(3, seen);
    p.expect_rcode = {0, 3};
    r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == "rcode NXDOMAIN");
}

TEST_CASE("dns: the default question is the root SOA; replies under another ID are ignored",
          "[health][dns]") {
    Net net;
    auto seen = std::make_shared<DnsSeen>();
    Probe p = make_probe(Probe::Kind::dns, net.dns(0, seen, true));
    const auto r = net.probe(p, kV4);
    CHECK(r.ok);
    using namespace std::string_literals;
    CHECK(seen->query.substr(12) == "\0\0\6\0\1"s);
}

TEST_CASE("dns: no answer fails at the timeout", "[health][dns]") {
    Net net;
    Probe p = make_probe(Probe::Kind::dns, net.silent_udp(), 300ms);
    const auto r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "timeout after 300ms");
    CHECK(r.latency >= 300ms);
    CHECK(r.latency < 2300ms);

    p.query_name = "bad..name";
    CHECK_FALSE(net.probe(p, kV4).ok);
}

// ---- exec ----

TEST_CASE("exec: exit status 0 passes, anything else fails", "[health][exec]") {
    Net net;
    Probe p = make_probe(Probe::Kind::exec, 0);
    p.command = {"/bin/true"};
    auto r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == "exit 0");

    p.command = {"/bin/false"};
    r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "exit 1");

    p.command = {"/bin/sh", "-c", "echo 'disk full'; exit 2"};
    r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "exit 2: disk full");

    p.command = {"/nonexistent/probe"};
    r = net.probe(p, kV4);
    CHECK_FALSE(r.ok);
    CHECK(r.message == "spawn /nonexistent/probe: No such file or directory");
}

TEST_CASE("exec: stdout, trimmed and cut at 200 bytes, is the message", "[health][exec]") {
    Net net;
    Probe p = make_probe(Probe::Kind::exec, 0);
    p.command = {"/bin/sh", "-c", "echo hello; exit 0"};
    auto r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == "hello");

    // Far more than a pipe holds: the child must not block on it.
    p.command = {"/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\000' x"};
    r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == std::string(200, 'x'));
}

TEST_CASE("exec: the address and port are in the environment", "[health][exec]") {
    Net net;
    Probe p = make_probe(Probe::Kind::exec, 0);
    p.command = {"/bin/sh", "-c", "echo \"$DNSD_ADDRESS port=${DNSD_PORT-unset}\""};
    auto r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.message == "127.0.0.1 port=unset");

    p.port = 8080;
    r = net.probe(p, kV6);
    CHECK(r.message == "::1 port=8080");

    p.command = {"/bin/sh", "-c", "echo $DNSD_ADDRESS"};
    r = net.probe(p, kV4);
    CHECK(r.message == "127.0.0.1");
}

TEST_CASE("exec: a command past the timeout is killed and reaped", "[health][exec]") {
    Net net;
    Probe p = make_probe(Probe::Kind::exec, 0, 300ms);
    p.command = {"sleep", "5"};
    const auto start = std::chrono::steady_clock::now();
    const auto r = net.probe(p, kV4);
    CHECK(std::chrono::steady_clock::now() - start < 3s);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.message, Contains("killed after timeout"));
    CHECK(r.latency >= 300ms);
    CHECK(r.latency < 2300ms);
    net.settle();
    errno = 0;
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
    CHECK(errno == ECHILD);  // no child left, not even a zombie
}

TEST_CASE("exec: what the command leaves running in the background is killed", "[health][exec]") {
    Net net;
    Probe p = make_probe(Probe::Kind::exec, 0, 2000ms);
    // The background sleep keeps stdout open: the probe must not wait for it.
    p.command = {"/bin/sh", "-c", "sleep 5 & echo $!"};
    const auto r = net.probe(p, kV4);
    CHECK(r.ok);
    CHECK(r.latency < 3s);
    const pid_t pid = static_cast<pid_t>(std::stol(r.message));
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
        gone = stopped(pid);
        if (!gone) std::this_thread::sleep_for(10ms);
    }
    CHECK(gone);
}
