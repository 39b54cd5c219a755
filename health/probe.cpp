// The probes. Each takes one deadline at its start and enforces it with the
// mechanism its I/O offers: Beast's stream expiry for http, https and tcp
// (through net::exchange and net::connect: it closes the socket, so every
// pending operation ends, TLS included), a steady_timer raced with `||` for
// dns, and net::Child::wait_until for exec. Failures are values: errors come
// back through as_tuple, and run() turns anything thrown into a failed
// result.

#include "health/probe.hpp"

#include <openssl/rand.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <optional>
#include <random>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "dnsd/core/duration.hpp"
#include "dnsd/core/name.hpp"
#include "dnsd/net/address.hpp"
#include "dnsd/net/child.hpp"
#include "dnsd/net/deadline.hpp"
#include "dnsd/net/http_client.hpp"
#include "dnsd/net/socket.hpp"
#include "dnsd/wire/message.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::health {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;
using asio::ip::udp;
using Clock = std::chrono::steady_clock;
using Kind = config::Probe::Kind;
using net::Deadline;
using net::open_from;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kBodyLimit = 64 * 1024;  // a health page; more is not read
constexpr std::size_t kOutputLimit = 200;      // of an exec probe's stdout, kept as the message

struct Verdict {
    bool ok = false;
    std::string message;
};

Verdict pass(std::string message) {
    return {true, std::move(message)};
}
Verdict fail(std::string message) {
    return {false, std::move(message)};
}

/// Runs `op` until `deadline`. nullopt when the deadline came first; `op`
/// has then been cancelled and has finished. `op` must not throw before
/// it is cancelled: `||` would then wait for the timer.
template <class T>
awaitable<std::optional<T>> within(awaitable<T> op, Clock::time_point deadline) {
    asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
    auto first = co_await (std::move(op) || timer.async_wait(asio::use_awaitable));
    if (first.index() == 0) co_return std::get<0>(std::move(first));
    co_return std::nullopt;
}

std::string join(const std::vector<unsigned>& values, std::string (*name)(unsigned)) {
    std::string out;
    for (const unsigned v : values) {
        if (!out.empty()) out += ", ";
        out += name(v);
    }
    return out;
}

bool contains(const std::vector<unsigned>& values, unsigned v) {
    return std::find(values.begin(), values.end(), v) != values.end();
}

/// The target's endpoint at the probe's port; nullopt when the kind has no
/// default port and the probe none.
std::optional<tcp::endpoint> peer_of(const config::Probe& probe, const Address& target) {
    const std::uint16_t port = probe.effective_port();
    if (port == 0) return std::nullopt;
    return tcp::endpoint(net::to_asio(target), port);
}

// ---- http, https, tcp ----

std::string status_text(unsigned status) {
    return std::to_string(status);
}

/// One GET; with `tls`, over TLS verified as the probe says.
awaitable<Verdict> http_probe(net::TlsContext* tls, const config::Probe& probe, const Address& target,
                              const Deadline& deadline) {
    const auto peer = peer_of(probe, target);
    if (!peer) co_return fail("no port to connect to");
    net::Destination to;
    to.endpoints = {*peer};
    to.source = probe.source;
    to.tls = tls;
    to.tls_name = probe.host.empty() ? target.str() : probe.host;
    to.verify = !probe.insecure;

    net::Request request;
    request.target = probe.path.empty() ? "/" : probe.path;
    request.host = probe.host.empty() ? net::host_field(target.str()) : probe.host;
    request.fields = {{http::field::user_agent, "dnsd-probe"}, {http::field::connection, "close"}};

    const auto found = [&probe](const std::string& body) {
        return body.find(probe.expect_body) != std::string::npos;
    };
    net::Reading reading;
    reading.body_limit = kBodyLimit;
    // The verdict is known from the status alone, or as soon as the body
    // has shown what is expected: nothing more is read.
    reading.enough = [&probe, &found](const net::Response& r) {
        return !contains(probe.expect_status, r.status) || probe.expect_body.empty() || found(r.body);
    };

    auto result = co_await net::exchange(std::move(to), std::move(request), std::move(reading), deadline);
    if (auto* error = std::get_if<std::string>(&result)) co_return fail(std::move(*error));
    const auto& response = std::get<net::Response>(result);
    const std::string got = "HTTP " + std::to_string(response.status);
    if (!contains(probe.expect_status, response.status))
        co_return fail(got + " (expected " + join(probe.expect_status, status_text) + ")");
    if (probe.expect_body.empty() || found(response.body)) co_return pass(got);
    co_return fail("body does not contain \"" + probe.expect_body + "\"");
}

awaitable<Verdict> tcp_probe(const config::Probe& probe, const Address& target, const Deadline& deadline) {
    const auto peer = peer_of(probe, target);
    if (!peer) co_return fail("no port to connect to");
    const net::Endpoints endpoints{*peer};
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    if (auto error = co_await net::connect(stream, endpoints, probe.source, deadline)) co_return fail(*error);
    co_return pass("connected");
}

// ---- dns ----

std::string rcode_text(unsigned rcode) {
    const char* name = wire::rcode_name(rcode);
    return name ? std::string(name) : "RCODE" + std::to_string(rcode);
}

std::uint16_t random_id() {
    std::array<unsigned char, 2> b{};
    // RAND_bytes does not fail once OpenSSL is seeded; random_device is the
    // fallback should it ever be unseeded.
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1)
        return static_cast<std::uint16_t>(std::random_device{}());
    return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
}

/// Sends `query` and waits for its reply on a connected socket. Runs until
/// cancelled when no reply with our ID comes.
awaitable<Verdict> dns_exchange(udp::socket& socket, const std::vector<std::uint8_t>& query, std::uint16_t id,
                                const std::vector<unsigned>& expect) {
    if (auto [ec, n] = co_await socket.async_send(asio::buffer(query), kTuple); ec)
        co_return fail("send: " + ec.message());
    std::array<std::uint8_t, 4096> reply;
    for (;;) {
        auto [ec, n] = co_await socket.async_receive(asio::buffer(reply), kTuple);
        if (ec) co_return fail("receive: " + ec.message());
        // Anything else (a late reply to an earlier probe, a query) is not
        // the answer: keep waiting.
        const auto header = wire::reply_header({reply.data(), n});
        if (!header || header->id != id) continue;
        const unsigned rcode = header->rcode;
        const std::string got = "rcode " + rcode_text(rcode);
        if (contains(expect, rcode)) co_return pass(got);
        co_return fail(got + " (expected " + join(expect, rcode_text) + ")");
    }
}

awaitable<Verdict> dns_probe(const config::Probe& probe, const Address& target, const Deadline& deadline) {
    const std::string text = probe.query_name.empty() ? "." : probe.query_name;
    // Relative to the root: "example.com" means "example.com.".
    const auto qname = name_from_text(text, std::string_view("\0", 1));
    if (!qname) co_return fail("bad query name \"" + text + "\"");
    const std::uint16_t id = random_id();
    // A plain query: no EDNS, RD clear (an authoritative server is asked).
    std::vector<std::uint8_t> query(wire::kHeaderSize + qname->size() + 4);
    query.resize(wire::build_question(query, id, 0, *qname, probe.query_type, wire::klass::IN));
    if (query.empty()) co_return fail("bad query name \"" + text + "\"");

    udp::socket socket(co_await asio::this_coro::executor);
    const udp::endpoint peer(net::to_asio(target), probe.effective_port());
    if (auto error = open_from(socket, peer, probe.source)) co_return fail(*error);
    // Connected, the socket only receives the target's datagrams, and an
    // ICMP port unreachable fails the probe at once instead of at the
    // timeout. A UDP connect only records the peer: it does not block.
    boost::system::error_code ec;
    socket.connect(peer, ec);
    if (ec) co_return fail("connect: " + ec.message());
    auto verdict = co_await within(dns_exchange(socket, query, id, probe.expect_rcode), deadline.at);
    if (!verdict) co_return fail(deadline.timed_out());
    co_return std::move(*verdict);
}

// ---- exec ----

/// The output on one line, trimmed.
std::string tidy(std::string text) {
    for (char& c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    const auto first = text.find_first_not_of(' ');
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

awaitable<Verdict> exec_probe(const config::Probe& probe, const Address& target, const Deadline& deadline) {
    if (probe.command.empty()) co_return fail("no command");
    net::Command command;
    command.argv = probe.command;
    command.env = net::environment_without({"DNSD_ADDRESS", "DNSD_PORT"});
    command.env.push_back("DNSD_ADDRESS=" + target.str());
    if (probe.port) command.env.push_back("DNSD_PORT=" + std::to_string(probe.port));
    command.stdout_limit = kOutputLimit;
    command.stderr_to = net::Stderr::null;
    command.at_exit = net::AtExit::kill_group;
    auto started = net::spawn(co_await asio::this_coro::executor, command);
    if (auto* error = std::get_if<std::string>(&started)) co_return fail(std::move(*error));
    auto& child = std::get<net::Child>(started);

    const auto status = co_await child.wait_until(deadline.at);
    if (!status) {
        net::reap_detached(std::move(child));
        co_return fail("killed after timeout (" + std::to_string(probe.timeout.count()) + "ms)");
    }
    const std::string text = tidy(child.output());
    const auto with_text = [&text](std::string what) { return text.empty() ? what : what + ": " + text; };
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) co_return pass(text.empty() ? "exit 0" : text);
    co_return fail(with_text(net::describe_exit(*status)));
}

}  // namespace

awaitable<ProbeResult> Prober::run(const config::Probe& probe, Address target) {
    const auto start = Clock::now();
    const Deadline deadline{start + probe.timeout, probe.timeout};
    Verdict verdict;
    try {
        switch (probe.kind) {
            case Kind::http:
                verdict = co_await http_probe(nullptr, probe, target, deadline);
                break;
            case Kind::https:
                verdict = co_await http_probe(&tls_, probe, target, deadline);
                break;
            case Kind::tcp:
                verdict = co_await tcp_probe(probe, target, deadline);
                break;
            case Kind::dns:
                verdict = co_await dns_probe(probe, target, deadline);
                break;
            case Kind::exec:
                verdict = co_await exec_probe(probe, target, deadline);
                break;
        }
    } catch (const std::exception& e) {
        verdict = fail(std::string("error: ") + e.what());
    } catch (...) {
        verdict = fail("error: unknown exception");
    }
    co_return ProbeResult{verdict.ok,
                          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start),
                          std::move(verdict.message)};
}

}  // namespace dnsd::health
