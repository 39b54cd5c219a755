// The HTTP(S) client against real listeners: small Asio servers on
// 127.0.0.1 that read a request and write a scripted reply byte for byte,
// on ports the kernel picks, on the same io_context as the client. No
// mocks. Every exchange has a deadline of at most 1 s, and every run of
// the io_context is bounded; the listeners go with the io_context at the
// end of each test.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>
#include "tests/temp_dir.hpp"
#include "tests/tls_identity.hpp"

#include "dnsd/net/http_client.hpp"
#include "dnsd/net/tls_context.hpp"

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using asio::awaitable;
using asio::ip::tcp;
using dnsd::Address;
using dnsd::net::Deadline;
using dnsd::net::Destination;
using dnsd::net::Endpoints;
using dnsd::net::exchange;
using dnsd::net::Origin;
using dnsd::net::Reading;
using dnsd::net::Request;
using dnsd::net::Response;
using dnsd::net::Result;
using dnsd::net::TlsContext;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string lowered(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string reply(unsigned status, std::string_view reason, std::string_view body) {
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           std::string(body);
}

/// What a listener does with each connection: read one request, write
/// `reply`, then close (or, with `hold`, keep the connection open).
struct Script {
    std::string reply;
    bool hold = false;
    bool answer = true;  ///< false: read nothing, write nothing (a server that never answers)
};

/// What a listener saw.
struct Seen {
    std::string head;  ///< the last request's head
    std::string body;  ///< and its body (by its Content-Length)
    std::string peer;  ///< the last client's address
    std::string sni;   ///< TLS: the last server name sent
    int connections = 0;
    int handshake_failures = 0;
};

std::size_t content_length(const std::string& head) {
    const std::string lower = lowered(head);
    const auto at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return std::stoul(lower.substr(at + 17));
}

template <class Stream>
awaitable<void> answer(Stream& stream, const Script& script, Seen& seen) {
    std::string data;
    auto [ec, n] = co_await asio::async_read_until(stream, asio::dynamic_buffer(data), "\r\n\r\n", kTuple);
    if (ec) co_return;
    seen.head = data.substr(0, n);
    const std::size_t length = content_length(seen.head);
    if (data.size() - n < length) {
        auto [rec, m] = co_await asio::async_read(stream, asio::dynamic_buffer(data),
                                                  asio::transfer_exactly(length - (data.size() - n)), kTuple);
        if (rec) co_return;
    }
    seen.body = data.substr(n, length);
    co_await asio::async_write(stream, asio::buffer(script.reply), kTuple);
}

awaitable<void> serve(tcp::acceptor acceptor, std::shared_ptr<ssl::context> tls, Script script,
                      std::shared_ptr<Seen> seen) {
    std::vector<tcp::socket> held;
    std::vector<ssl::stream<tcp::socket>> held_tls;
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(kTuple);
        if (ec) co_return;
        ++seen->connections;
        boost::system::error_code peer_ec;
        seen->peer = socket.remote_endpoint(peer_ec).address().to_string();
        if (!script.answer) {
            held.push_back(std::move(socket));
            continue;
        }
        if (!tls) {
            co_await answer(socket, script, *seen);
            if (script.hold) held.push_back(std::move(socket));
            continue;  // otherwise closed here: that ends a body without a length
        }
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
        co_await answer(stream, script, *seen);
        // No close_notify: the TCP connection just closes (unless held).
        if (script.hold) held_tls.push_back(std::move(stream));
    }
}

/// One io_context per test, with its listeners; destroying it closes them.
class Net {
public:
    asio::io_context io;

    /// A listener on 127.0.0.1 (or `address`) following `script`.
    std::uint16_t listen(Script script, std::shared_ptr<Seen> seen,
                         std::shared_ptr<ssl::context> tls = nullptr, const char* address = "127.0.0.1") {
        tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address(address), 0));
        const auto port = acceptor.local_endpoint().port();
        asio::co_spawn(io, serve(std::move(acceptor), std::move(tls), std::move(script), std::move(seen)),
                       asio::detached);
        return port;
    }

    /// A port that refuses connections: bound, so that nobody else takes it
    /// during the test, but not listening.
    std::uint16_t closed() {
        closed_.emplace_back(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        return closed_.back().local_endpoint().port();
    }

    /// Runs `op` to its end (listeners keep running beside it), at most 5 s.
    template <class T>
    T run(awaitable<T> op) {
        std::optional<T> result;
        bool threw = false;
        asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T r) {
            threw = e != nullptr;
            result = std::move(r);
        });
        const auto limit = Clock::now() + 5s;
        io.restart();
        while (!result && Clock::now() < limit) io.run_one_until(limit);
        REQUIRE(result);
        CHECK_FALSE(threw);
        return std::move(*result);
    }

    /// Runs the listeners until `done` (at most 2 s): they may still be busy
    /// with a connection the client has given up on.
    template <class Pred>
    bool run_until(Pred done) {
        const auto limit = Clock::now() + 2s;
        io.restart();
        while (!done() && Clock::now() < limit) io.run_one_until(limit);
        return done();
    }

private:
    std::vector<tcp::socket> closed_;
};

Deadline deadline_in(std::chrono::milliseconds timeout) {
    return Deadline{Clock::now() + timeout, timeout};
}

tcp::endpoint loopback(std::uint16_t port, const char* address = "127.0.0.1") {
    return {asio::ip::make_address(address), port};
}

Destination plain(Endpoints endpoints) {
    Destination to;
    to.endpoints = std::move(endpoints);
    return to;
}

Request get(std::string target = "/", std::string host = "127.0.0.1") {
    Request r;
    r.target = std::move(target);
    r.host = std::move(host);
    return r;
}

Reading up_to(std::size_t limit) {
    Reading r;
    r.body_limit = limit;
    return r;
}

const Response& response_of(const Result& r) {
    if (const auto* error = std::get_if<std::string>(&r)) FAIL("no response: " << *error);
    return std::get<Response>(r);
}

std::string error_of(const Result& r) {
    REQUIRE(std::holds_alternative<std::string>(r));
    return std::get<std::string>(r);
}

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

/// Makes `tls` trust `cert` alone: its trust store is read at its first
/// use, from SSL_CERT_FILE while that is set.
void trust_only(TlsContext& tls, X509* cert, const TempDir& dir) {
    const auto file = dir.path / "trusted.pem";
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f);
    const int written = PEM_write_X509(f, cert);
    std::fclose(f);
    REQUIRE(written == 1);
    std::optional<std::string> saved;
    if (const char* old = std::getenv("SSL_CERT_FILE")) saved = old;
    ::setenv("SSL_CERT_FILE", file.c_str(), 1);
    tls.get();
    if (saved)
        ::setenv("SSL_CERT_FILE", saved->c_str(), 1);
    else
        ::unsetenv("SSL_CERT_FILE");
}

Destination over_tls(TlsContext& tls, std::uint16_t port, std::string name, bool verify = true) {
    Destination to;
    to.endpoints = {loopback(port)};
    to.tls = &tls;
    to.tls_name = std::move(name);
    to.verify = verify;
    return to;
}

}  // namespace

// ---- http ----

TEST_CASE("http client: a GET sends Host and the fields in order; the response is read whole",
          "[net][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    const auto port = net.listen({reply(200, "OK", "all fine")}, seen);
    Request request = get("/healthz?x=1", "www.example.test");
    request.fields = {{http::field::user_agent, "dnsd-test"}, {http::field::authorization, "Bearer s3cret"}};
    const auto r = net.run(exchange(plain({loopback(port)}), request, up_to(1024), deadline_in(5000ms)));
    const auto& response = response_of(r);
    CHECK(response.status == 200);
    CHECK(response.reason == "OK");
    CHECK(response.body == "all fine");
    CHECK(response.complete);
    CHECK(seen->head ==
          "GET /healthz?x=1 HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: dnsd-test\r\n"
          "Authorization: Bearer s3cret\r\n\r\n");
}

TEST_CASE("http client: a POST sends its body with a Content-Length", "[net][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    const auto port = net.listen({reply(503, "Service Unavailable", "")}, seen);
    Request request = get("/hook");
    request.method = http::verb::post;
    request.fields = {{http::field::content_type, "application/json"}};
    request.body = R"({"event":"address"})";
    const auto r = net.run(exchange(plain({loopback(port)}), request, Reading{}, deadline_in(5000ms)));
    const auto& response = response_of(r);
    CHECK(response.status == 503);
    CHECK(response.reason == "Service Unavailable");
    const std::string head = lowered(seen->head);
    CHECK(head.starts_with("post /hook http/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"));
    CHECK(head.find("\r\ncontent-length: 19\r\n") != std::string::npos);
    CHECK(seen->body == R"({"event":"address"})");
}

TEST_CASE("http client: with no body limit only the header is read", "[net][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    // The body is announced and never sent: the reply must not wait for it.
    Script script{"HTTP/1.1 204 No Content\r\n\r\n", true};
    auto port = net.listen(script, seen);
    auto r = net.run(exchange(plain({loopback(port)}), get(), Reading{}, deadline_in(5000ms)));
    CHECK(response_of(r).status == 204);
    CHECK(response_of(r).complete);  // a 204 has no body

    script.reply = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart";
    port = net.listen(script, seen);
    const auto start = Clock::now();
    r = net.run(exchange(plain({loopback(port)}), get(), Reading{}, deadline_in(5000ms)));
    CHECK(Clock::now() - start < 2500ms);
    CHECK(response_of(r).status == 200);
    CHECK(response_of(r).body.empty());
    CHECK_FALSE(response_of(r).complete);
}

TEST_CASE("http client: the body is cut at the limit; one to the end of the connection is read",
          "[net][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    const std::string big(100 * 1024, 'x');
    auto port = net.listen({reply(200, "OK", big)}, seen);
    auto r = net.run(exchange(plain({loopback(port)}), get(), up_to(64 * 1024), deadline_in(5000ms)));
    CHECK(response_of(r).body == std::string(64 * 1024, 'x'));
    CHECK_FALSE(response_of(r).complete);

    port = net.listen({"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"}, seen);
    r = net.run(exchange(plain({loopback(port)}), get(), up_to(1024), deadline_in(5000ms)));
    CHECK(response_of(r).body == "until the end");
    CHECK(response_of(r).complete);
}

TEST_CASE("http client: `enough` ends the reading early", "[net][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    // 1000 bytes announced, a few sent, then nothing: only `enough` can end
    // this before the deadline.
    const auto port = net.listen({"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nstatus: ok", true}, seen);
    Reading reading = up_to(64 * 1024);
    int asked = 0;
    reading.enough = [&asked](const Response& r) {
        ++asked;
        return r.body.find("ok") != std::string::npos;
    };
    const auto start = Clock::now();
    const auto r = net.run(exchange(plain({loopback(port)}), get(), reading, deadline_in(5000ms)));
    CHECK(Clock::now() - start < 2500ms);
    CHECK(response_of(r).body == "status: ok");
    CHECK_FALSE(response_of(r).complete);
    CHECK(asked >= 2);  // after the header, and after the body's piece
}

TEST_CASE("http client: a server that never answers fails at the deadline", "[net][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    Script silent;
    silent.answer = false;
    const auto port = net.listen(silent, seen);
    const auto start = Clock::now();
    const auto r = net.run(exchange(plain({loopback(port)}), get(), up_to(1024), deadline_in(300ms)));
    const auto took = Clock::now() - start;
    CHECK(error_of(r) == "timeout after 300ms");
    CHECK(took >= 300ms);
    CHECK(took < 2300ms);
}

TEST_CASE("http client: endpoints are tried in order; refused everywhere is the last error", "[net][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    const auto refused = net.closed();
    auto r = net.run(exchange(plain({loopback(refused)}), get(), Reading{}, deadline_in(5000ms)));
    CHECK(error_of(r) == "connect: Connection refused");

    const auto port = net.listen({reply(200, "OK", "")}, seen);
    r = net.run(exchange(plain({loopback(refused), loopback(port)}), get(), Reading{}, deadline_in(5000ms)));
    CHECK(response_of(r).status == 200);
    CHECK(seen->connections == 1);

    r = net.run(exchange(plain({}), get(), Reading{}, deadline_in(5000ms)));
    CHECK(error_of(r) == "connect: no address to connect to");
}

TEST_CASE("http client: a source address is bound before connecting", "[net][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    const auto port = net.listen({reply(200, "OK", "")}, seen);
    Destination to = plain({loopback(port)});
    to.source = Address::parse("127.0.0.1");
    auto r = net.run(exchange(to, get(), Reading{}, deadline_in(5000ms)));
    CHECK(response_of(r).status == 200);
    CHECK(seen->peer == "127.0.0.1");

    to.source = Address::parse("::1");
    r = net.run(exchange(to, get(), Reading{}, deadline_in(5000ms)));
    CHECK(error_of(r) == "source ::1 is not an IPv4 address");
}

TEST_CASE("http client: an origin's name is resolved and its addresses tried in order", "[net][http]") {
    Net net;
    auto seen = std::make_shared<Seen>();
    // "localhost" may come first as ::1, where nothing listens: the next
    // address is tried.
    const auto port = net.listen({reply(200, "OK", "by name")}, seen);
    Origin origin{"localhost", port, nullptr};
    Request request = get("/", dnsd::net::host_field("localhost", port));
    const auto r = net.run(exchange(origin, request, up_to(100), deadline_in(5000ms)));
    CHECK(response_of(r).body == "by name");
    CHECK(lowered(seen->head).find("\r\nhost: localhost:" + std::to_string(port) + "\r\n") !=
          std::string::npos);
}

TEST_CASE("http client: resolve takes an address as it is", "[net][http]") {
    Net net;
    auto found = net.run(dnsd::net::resolve("192.0.2.7", 8053, deadline_in(100ms)));
    REQUIRE(std::holds_alternative<Endpoints>(found));
    CHECK(std::get<Endpoints>(found) == Endpoints{loopback(8053, "192.0.2.7")});
    found = net.run(dnsd::net::resolve("2001:db8::1", 443, deadline_in(100ms)));
    REQUIRE(std::holds_alternative<Endpoints>(found));
    CHECK(std::get<Endpoints>(found) == Endpoints{loopback(443, "2001:db8::1")});
}

TEST_CASE("http client: Host fields", "[net][http]") {
    CHECK(dnsd::net::host_field("127.0.0.1") == "127.0.0.1");
    CHECK(dnsd::net::host_field("::1") == "[::1]");
    CHECK(dnsd::net::host_field("::1", 8080) == "[::1]:8080");
    CHECK(dnsd::net::host_field("hooks.example.com", 443) == "hooks.example.com:443");
}

TEST_CASE("http client: an IPv6 endpoint", "[net][http]") {
    if (!ipv6_loopback()) {
        WARN("no IPv6 loopback: not run");
        return;
    }
    Net net;
    auto seen = std::make_shared<Seen>();
    const auto port = net.listen({reply(200, "OK", "six")}, seen, nullptr, "::1");
    const auto r = net.run(exchange(plain({loopback(port, "::1")}), get("/", dnsd::net::host_field("::1")),
                                    up_to(10), deadline_in(5000ms)));
    CHECK(response_of(r).body == "six");
    CHECK(seen->peer == "::1");
}

// ---- https ----

TEST_CASE("https client: the certificate is verified against the trust store, name or address",
          "[net][https]") {
    Net net;
    const Identity id = self_signed();
    const TempDir dir("dnsd-net-test");
    TlsContext tls;
    trust_only(tls, id.cert.get(), dir);
    auto seen = std::make_shared<Seen>();
    const auto port = net.listen({reply(200, "OK", "secure")}, seen, server_tls(id));

    // By name: sent as SNI.
    auto r = net.run(
        exchange(over_tls(tls, port, "localhost"), get("/", "localhost"), up_to(100), deadline_in(5000ms)));
    CHECK(response_of(r).body == "secure");
    CHECK(seen->sni == "localhost");

    // By address: checked against IP:127.0.0.1, never sent as SNI.
    r = net.run(exchange(over_tls(tls, port, "127.0.0.1"), get(), up_to(100), deadline_in(5000ms)));
    CHECK(response_of(r).body == "secure");
    CHECK(seen->sni.empty());

    r = net.run(exchange(over_tls(tls, port, "www.example.test"), get(), up_to(100), deadline_in(5000ms)));
    CHECK(error_of(r) == "tls: certificate verify failed: hostname mismatch");
    CHECK(net.run_until([&] { return seen->handshake_failures == 1; }));
    CHECK(seen->sni == "www.example.test");

    r = net.run(exchange(over_tls(tls, port, "::1"), get(), up_to(100), deadline_in(5000ms)));
    CHECK(error_of(r) == "tls: certificate verify failed: IP address mismatch");
}

TEST_CASE("https client: an untrusted certificate fails unless verification is off", "[net][https]") {
    Net net;
    const Identity id = self_signed();
    TlsContext tls;  // the system's trust store: it does not know our certificate
    auto seen = std::make_shared<Seen>();
    const auto port = net.listen({reply(200, "OK", "secure")}, seen, server_tls(id));
    auto r = net.run(exchange(over_tls(tls, port, "localhost"), get(), up_to(100), deadline_in(5000ms)));
    CHECK(error_of(r) == "tls: certificate verify failed: self-signed certificate");
    CHECK(seen->head.empty());

    r = net.run(
        exchange(over_tls(tls, port, "www.example.test", false), get(), up_to(100), deadline_in(5000ms)));
    CHECK(response_of(r).body == "secure");
    CHECK(seen->sni == "www.example.test");
}

TEST_CASE("https client: a body to the end of the connection, closed without close_notify", "[net][https]") {
    Net net;
    const Identity id = self_signed();
    TlsContext tls;
    auto seen = std::make_shared<Seen>();
    auto port = net.listen({"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end"}, seen, server_tls(id));
    auto r =
        net.run(exchange(over_tls(tls, port, "localhost", false), get(), up_to(100), deadline_in(5000ms)));
    CHECK(response_of(r).body == "to the end");
    CHECK(response_of(r).complete);

    // With a length, the same cut leaves the body incomplete.
    port = net.listen({"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\ncut short"}, seen, server_tls(id));
    r = net.run(exchange(over_tls(tls, port, "localhost", false), get(), up_to(100), deadline_in(5000ms)));
    CHECK(response_of(r).body == "cut short");
    CHECK_FALSE(response_of(r).complete);
}

TEST_CASE("https client: a server that never answers the handshake fails at the deadline", "[net][https]") {
    Net net;
    TlsContext tls;
    auto seen = std::make_shared<Seen>();
    Script silent;
    silent.answer = false;
    const auto port = net.listen(silent, seen);
    const auto start = Clock::now();
    const auto r = net.run(exchange(over_tls(tls, port, "localhost"), get(), up_to(100), deadline_in(300ms)));
    CHECK(error_of(r) == "timeout after 300ms");
    CHECK(Clock::now() - start < 2300ms);
}

TEST_CASE("tls context: TLS 1.2 at least; the trust store is loaded once", "[net][https]") {
    TlsContext tls;
    auto& first = tls.get();
    CHECK(&first == &tls.get());
    CHECK(SSL_CTX_get_min_proto_version(first.native_handle()) == TLS1_2_VERSION);
}

// Last in the file: the lookup may go on, on its detached thread, after the
// test, and no later test may change the environment it reads.
TEST_CASE("http client: a name that does not resolve fails by the deadline", "[net][http]") {
    Net net;
    Origin origin{"no-such-host.invalid", 80, nullptr};
    const auto start = Clock::now();
    const auto r = net.run(exchange(origin, get(), up_to(100), deadline_in(500ms)));
    CHECK(error_of(r).starts_with("resolve no-such-host.invalid: "));
    CHECK(Clock::now() - start < 2500ms);
}
