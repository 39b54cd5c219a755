// The probes. Each takes one deadline at its start and enforces it with the
// mechanism its I/O offers: Beast's stream expiry for http, https and tcp
// (it closes the socket, so every pending operation ends, TLS included), and
// a steady_timer raced with `||` for dns and exec. Failures are values:
// errors come back through as_tuple, and run() turns anything thrown into a
// failed result.

#include "health/probe.hpp"

#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
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

namespace dnsd::health {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::ip::tcp;
using asio::ip::udp;
using Clock = std::chrono::steady_clock;
using Kind = config::Probe::Kind;
using net::Deadline;
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

/// Opens `socket` for `peer`'s protocol and, when the probe has a source,
/// binds it there. The error text, or nullopt.
template <class Socket>
std::optional<std::string> open_from(Socket& socket, const typename Socket::endpoint_type& peer,
                                     const std::optional<Address>& source) {
    boost::system::error_code ec;
    socket.open(peer.protocol(), ec);
    if (ec) return "socket: " + ec.message();
    if (source) {
        const bool v4 = peer.address().is_v4();
        if ((source->family == Family::v4) != v4)
            return "source " + source->str() + " is not an " + (v4 ? "IPv4" : "IPv6") + " address";
        socket.bind({net::to_asio(*source), 0}, ec);
        if (ec) return "bind " + source->str() + ": " + ec.message();
    }
    return std::nullopt;
}

/// Connects `stream` and arms its expiry at the deadline; the expiry then
/// also bounds every later read and write on the stream.
awaitable<std::optional<std::string>> connect(beast::tcp_stream& stream, const config::Probe& probe,
                                              const Address& target, const Deadline& deadline) {
    const std::uint16_t port = probe.effective_port();
    if (port == 0) co_return "no port to connect to";
    const tcp::endpoint peer(net::to_asio(target), port);
    if (auto error = open_from(stream.socket(), peer, probe.source)) co_return error;
    stream.expires_at(deadline.at);
    auto [ec] = co_await stream.async_connect(peer, kTuple);
    if (ec) co_return deadline.describe("connect", ec);
    co_return std::nullopt;
}

// ---- http, https, tcp ----

std::string status_text(unsigned status) {
    return std::to_string(status);
}

/// One GET on a connected (and for https, handshaken) stream.
template <class Stream>
awaitable<Verdict> http_exchange(Stream& stream, const config::Probe& probe, const Address& target,
                                 const Deadline& deadline) {
    http::request<http::empty_body> request{http::verb::get, probe.path.empty() ? "/" : probe.path, 11};
    if (!probe.host.empty())
        request.set(http::field::host, probe.host);
    else if (target.family == Family::v6)
        request.set(http::field::host, "[" + target.str() + "]");
    else
        request.set(http::field::host, target.str());
    request.set(http::field::user_agent, "dnsd-probe");
    request.set(http::field::connection, "close");
    if (auto [ec, n] = co_await http::async_write(stream, request, kTuple); ec)
        co_return fail(deadline.describe("write", ec));

    beast::flat_buffer buffer;
    // buffer_body: the body is read in pieces into our own buffer, so that we
    // can stop at kBodyLimit instead of failing on a large page.
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kTuple); ec)
        co_return fail(deadline.describe("read", ec));
    const unsigned status = parser.get().result_int();
    const std::string got = "HTTP " + std::to_string(status);
    if (!contains(probe.expect_status, status))
        co_return fail(got + " (expected " + join(probe.expect_status, status_text) + ")");
    if (probe.expect_body.empty()) co_return pass(got);

    std::string body;
    std::array<char, 8192> chunk;
    while (!parser.is_done() && body.size() < kBodyLimit) {
        const std::size_t room = std::min(chunk.size(), kBodyLimit - body.size());
        parser.get().body().data = chunk.data();
        parser.get().body().size = room;
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
        body.append(chunk.data(), room - parser.get().body().size);
        if (body.find(probe.expect_body) != std::string::npos) co_return pass(got);
        if (ec == http::error::need_buffer) continue;  // the chunk is full; not an error
        // A TLS peer that closes without close_notify ends a body that runs
        // to the end of the connection: that is the end of the page here.
        if (ec == ssl::error::stream_truncated) break;
        if (ec) co_return fail(deadline.describe("read", ec));
    }
    if (body.find(probe.expect_body) != std::string::npos) co_return pass(got);
    co_return fail("body does not contain \"" + probe.expect_body + "\"");
}

awaitable<Verdict> http_probe(const config::Probe& probe, const Address& target, const Deadline& deadline) {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    if (auto error = co_await connect(stream, probe, target, deadline)) co_return fail(*error);
    co_return co_await http_exchange(stream, probe, target, deadline);
}

awaitable<Verdict> https_probe(ssl::context& tls, const config::Probe& probe, const Address& target,
                               const Deadline& deadline) {
    beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, tls);
    if (auto error = co_await connect(beast::get_lowest_layer(stream), probe, target, deadline))
        co_return fail(*error);
    // SNI carries host names only (RFC 6066), never an address.
    if (!probe.host.empty() && !Address::parse(probe.host) &&
        SSL_set_tlsext_host_name(stream.native_handle(), probe.host.c_str()) != 1)
        co_return fail("tls: cannot send server name \"" + probe.host + "\"");
    if (probe.insecure) {
        stream.set_verify_mode(ssl::verify_none);
    } else {
        stream.set_verify_mode(ssl::verify_peer);
        const std::string name = probe.host.empty() ? target.str() : probe.host;
        const bool address = Address::parse(name).has_value();
        // An address is checked against the certificate's IP SANs. On a
        // mismatch host_name_verification only says no; the error set here
        // lets the failure message say why.
        stream.set_verify_callback(
            [check = ssl::host_name_verification(name), address](bool preverified, ssl::verify_context& ctx) {
                if (check(preverified, ctx)) return true;
                if (preverified)
                    X509_STORE_CTX_set_error(ctx.native_handle(), address ? X509_V_ERR_IP_ADDRESS_MISMATCH
                                                                          : X509_V_ERR_HOSTNAME_MISMATCH);
                return false;
            });
    }
    if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, kTuple); ec) {
        const long verify = SSL_get_verify_result(stream.native_handle());
        if (Clock::now() < deadline.at && !probe.insecure && verify != X509_V_OK)
            co_return fail(std::string("tls: certificate verify failed: ") +
                           X509_verify_cert_error_string(verify));
        co_return fail(deadline.describe("tls", ec));
    }
    // No TLS shutdown afterwards: the verdict is in, and waiting for the
    // peer's close_notify could only turn a pass into a timeout.
    co_return co_await http_exchange(stream, probe, target, deadline);
}

awaitable<Verdict> tcp_probe(const config::Probe& probe, const Address& target, const Deadline& deadline) {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    if (auto error = co_await connect(stream, probe, target, deadline)) co_return fail(*error);
    co_return pass("connected");
}

// ---- dns ----

std::string rcode_text(unsigned rcode) {
    static constexpr std::array<const char*, 11> kNames = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                           "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                           "NXRRSET", "NOTAUTH", "NOTZONE"};
    if (rcode < kNames.size()) return kNames[rcode];
    return "RCODE" + std::to_string(rcode);
}

std::uint16_t random_id() {
    std::array<unsigned char, 2> b{};
    // RAND_bytes does not fail once OpenSSL is seeded; random_device is the
    // fallback should it ever be unseeded.
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1)
        return static_cast<std::uint16_t>(std::random_device{}());
    return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
}

/// A plain query: no EDNS, RD clear (an authoritative server is asked).
std::string build_query(std::uint16_t id, std::string_view qname, std::uint16_t qtype) {
    std::string q;
    q.reserve(12 + qname.size() + 4);
    const auto put16 = [&q](unsigned v) {
        q += static_cast<char>((v >> 8) & 0xff);
        q += static_cast<char>(v & 0xff);
    };
    put16(id);
    put16(0);  // QR=0, opcode QUERY, RD=0
    put16(1);  // QDCOUNT
    put16(0);
    put16(0);
    put16(0);
    q += qname;
    put16(qtype);
    put16(1);  // class IN
    return q;
}

/// Sends `query` and waits for its reply on a connected socket. Runs until
/// cancelled when no reply with our ID comes.
awaitable<Verdict> dns_exchange(udp::socket& socket, const std::string& query, std::uint16_t id,
                                const std::vector<unsigned>& expect) {
    if (auto [ec, n] = co_await socket.async_send(asio::buffer(query), kTuple); ec)
        co_return fail("send: " + ec.message());
    std::array<std::uint8_t, 4096> reply;
    for (;;) {
        auto [ec, n] = co_await socket.async_receive(asio::buffer(reply), kTuple);
        if (ec) co_return fail("receive: " + ec.message());
        // Anything else (a late reply to an earlier probe, a query) is not
        // the answer: keep waiting.
        if (n < 12 || (reply[0] << 8 | reply[1]) != id || !(reply[2] & 0x80)) continue;
        const unsigned rcode = reply[3] & 0x0fu;
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
    const std::string query = build_query(id, *qname, probe.query_type);

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

Prober::Prober() : tls_(ssl::context::tls_client) {
    boost::system::error_code ec;
    tls_.set_verify_mode(ssl::verify_peer, ec);
    SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
}

ssl::context& Prober::tls() {
    // The system's trust store is read at the first https probe, not at
    // start: parsing every CA certificate costs tens of milliseconds, which
    // a server without https probes (and every reload) need not pay.
    if (!trust_loaded_) {
        boost::system::error_code ec;
        // Without a trust store every verified https probe fails: the safe
        // way to fail, so an error here is not fatal.
        tls_.set_default_verify_paths(ec);
        trust_loaded_ = true;
    }
    return tls_;
}

awaitable<ProbeResult> Prober::run(const config::Probe& probe, Address target) {
    const auto start = Clock::now();
    const Deadline deadline{start + probe.timeout, probe.timeout};
    Verdict verdict;
    try {
        switch (probe.kind) {
            case Kind::http:
                verdict = co_await http_probe(probe, target, deadline);
                break;
            case Kind::https:
                verdict = co_await https_probe(tls(), probe, target, deadline);
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
