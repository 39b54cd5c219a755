#include "dnsd/net/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>

#include "dnsd/net/socket.hpp"

namespace dnsd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kLookupPoll = std::chrono::milliseconds(5);

/// A name lookup running on a thread of its own, shared with that thread.
struct Lookup {
    std::mutex mutex;
    bool done = false;
    Endpoints endpoints;
    std::string error;
};

/// Sets up SNI, verification and resumption on `stream` and handshakes.
/// The error text, or nullopt. `session_key` must outlive the stream: the
/// sessions the peer sends later (TLS 1.3 tickets come with the response)
/// are kept under it.
awaitable<std::optional<std::string>> handshake(beast::ssl_stream<beast::tcp_stream>& stream,
                                                const Destination& to, std::string& session_key,
                                                const Deadline& deadline) {
    const bool address = Address::parse(to.tls_name).has_value();
    if (!to.tls_name.empty() && !address &&
        SSL_set_tlsext_host_name(stream.native_handle(), to.tls_name.c_str()) != 1)
        co_return "tls: cannot send server name \"" + to.tls_name + "\"";
    if (to.verify) {
        stream.set_verify_mode(ssl::verify_peer);
        // host_name_verification checks an address against the IP SANs. On
        // a mismatch it only says no; the error set here lets the message
        // say why.
        stream.set_verify_callback([check = ssl::host_name_verification(to.tls_name), address](
                                       bool preverified, ssl::verify_context& ctx) {
            if (check(preverified, ctx)) return true;
            if (preverified)
                X509_STORE_CTX_set_error(ctx.native_handle(), address ? X509_V_ERR_IP_ADDRESS_MISMATCH
                                                                      : X509_V_ERR_HOSTNAME_MISMATCH);
            return false;
        });
    } else {
        stream.set_verify_mode(ssl::verify_none);
    }
    // Resumed only where the same name was (or was not) verified before.
    boost::system::error_code ignored;
    const auto peer = stream.next_layer().socket().remote_endpoint(ignored);
    session_key = peer.address().to_string() + " " + std::to_string(peer.port()) + " " + to.tls_name +
                  (to.verify ? " verified" : " unverified");
    to.tls->resume(stream.native_handle(), session_key);
    if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, kTuple); ec) {
        const long verify = SSL_get_verify_result(stream.native_handle());
        if (Clock::now() < deadline.at && to.verify && verify != X509_V_OK)
            co_return std::string("tls: certificate verify failed: ") + X509_verify_cert_error_string(verify);
        co_return deadline.describe("tls", ec);
    }
    co_return std::nullopt;
}

/// Writes `message` on a connected (for https, handshaken) stream and reads
/// the response as `reading` says.
template <class Stream>
awaitable<Result> request_response(Stream& stream, http::request<http::string_body>& message,
                                   const Reading& reading, const Deadline& deadline) {
    if (auto [ec, n] = co_await http::async_write(stream, message, kTuple); ec)
        co_return deadline.describe("write", ec);

    beast::flat_buffer buffer;
    // buffer_body: the body is read in pieces into our own buffer, so that
    // reading can stop at the limit instead of failing on a large body.
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kTuple); ec)
        co_return deadline.describe("read", ec);
    Response response;
    response.status = parser.get().result_int();
    response.reason = std::string(parser.get().reason());
    const auto enough = [&reading, &response] { return reading.enough && reading.enough(response); };
    if (reading.body_limit == 0 || enough()) {
        response.complete = parser.is_done();
        co_return response;
    }

    std::array<char, 8192> chunk;
    while (!parser.is_done() && response.body.size() < reading.body_limit) {
        const std::size_t room = std::min(chunk.size(), reading.body_limit - response.body.size());
        parser.get().body().data = chunk.data();
        parser.get().body().size = room;
        // read_some: each piece as it arrives, so that `enough` can end the
        // reading without waiting for the rest (or for the deadline).
        auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, kTuple);
        response.body.append(chunk.data(), room - parser.get().body().size);
        if (enough()) co_return response;
        if (ec == http::error::need_buffer) continue;  // the chunk is full; not an error
        if (ec == ssl::error::stream_truncated) {
            // A TLS peer that closes without close_notify ends a body that
            // runs to the end of the connection: that is its end here (one
            // with a length is cut short, and stays incomplete).
            boost::system::error_code eof;
            parser.put_eof(eof);
            break;
        }
        if (ec) co_return deadline.describe("read", ec);
    }
    response.complete = parser.is_done();
    co_return response;
}

}  // namespace

awaitable<std::optional<std::string>> connect(beast::tcp_stream& stream, const Endpoints& endpoints,
                                              const std::optional<Address>& source,
                                              const Deadline& deadline) {
    if (endpoints.empty()) co_return "connect: no address to connect to";
    stream.expires_at(deadline.at);
    boost::system::error_code ec;
    for (const auto& peer : endpoints) {
        boost::system::error_code ignored;
        stream.socket().close(ignored);
        if (auto error = open_from(stream.socket(), peer, source)) co_return error;
        std::tie(ec) = co_await stream.async_connect(peer, kTuple);
        if (!ec) co_return std::nullopt;
        // After the expiry the stream is closed for good.
        if (ec == beast::error::timeout || Clock::now() >= deadline.at) break;
    }
    co_return deadline.describe("connect", ec);
}

awaitable<Result> exchange(Destination to, Request request, Reading reading, Deadline deadline) {
    http::request<http::string_body> message{request.method, request.target, 11};
    if (!request.host.empty()) message.set(http::field::host, request.host);
    for (const auto& [field, value] : request.fields) message.set(field, value);
    message.body() = std::move(request.body);
    message.prepare_payload();

    const auto ex = co_await asio::this_coro::executor;
    if (!to.tls) {
        beast::tcp_stream stream(ex);
        if (auto error = co_await connect(stream, to.endpoints, to.source, deadline))
            co_return std::move(*error);
        co_return co_await request_response(stream, message, reading, deadline);
    }
    std::string session_key;  // before the stream: it outlives it
    beast::ssl_stream<beast::tcp_stream> stream(ex, to.tls->get());
    if (auto error = co_await connect(beast::get_lowest_layer(stream), to.endpoints, to.source, deadline))
        co_return std::move(*error);
    if (auto error = co_await handshake(stream, to, session_key, deadline)) co_return std::move(*error);
    auto result = co_await request_response(stream, message, reading, deadline);
    // Done with the connection: without this, OpenSSL takes the connection
    // for one that failed and marks its session not resumable. No
    // close_notify is sent: the peer is closing or will be closed.
    if (std::holds_alternative<Response>(result))
        SSL_set_shutdown(stream.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    co_return result;
}

awaitable<Result> exchange(Origin to, Request request, Reading reading, Deadline deadline) {
    auto found = co_await resolve(to.host, to.port, deadline);
    if (auto* error = std::get_if<std::string>(&found)) co_return std::move(*error);
    Destination destination;
    destination.endpoints = std::move(std::get<Endpoints>(found));
    destination.tls = to.tls;
    destination.tls_name = std::move(to.host);
    co_return co_await exchange(std::move(destination), std::move(request), std::move(reading), deadline);
}

awaitable<std::variant<Endpoints, std::string>> resolve(std::string host, std::uint16_t port,
                                                        Deadline deadline) {
    boost::system::error_code ec;
    const auto literal = asio::ip::make_address(host, ec);
    if (!ec) co_return Endpoints{tcp::endpoint(literal, port)};

    auto lookup = std::make_shared<Lookup>();
    std::thread([lookup, host, port = std::to_string(port)] {
        asio::io_context local;
        tcp::resolver resolver(local);
        boost::system::error_code rec;
        const auto results = resolver.resolve(host, port, rec);
        std::lock_guard lock(lookup->mutex);
        if (rec) lookup->error = rec.message();
        for (const auto& r : results) lookup->endpoints.push_back(r.endpoint());
        lookup->done = true;
    }).detach();

    asio::steady_timer poll(co_await asio::this_coro::executor);
    for (;;) {
        {
            std::lock_guard lock(lookup->mutex);
            if (lookup->done) {
                if (!lookup->error.empty()) co_return "resolve " + host + ": " + lookup->error;
                if (lookup->endpoints.empty()) co_return "resolve " + host + ": no addresses";
                co_return std::move(lookup->endpoints);
            }
        }
        const auto now = Clock::now();
        if (now >= deadline.at) co_return "resolve " + host + ": " + deadline.timed_out();
        poll.expires_at(std::min(deadline.at, now + kLookupPoll));
        co_await poll.async_wait(kTuple);
    }
}

std::string host_field(std::string_view host, std::optional<std::uint16_t> port) {
    const auto address = Address::parse(host);
    std::string field =
        address && address->family == Family::v6 ? "[" + std::string(host) + "]" : std::string(host);
    if (port) field += ":" + std::to_string(*port);
    return field;
}

}  // namespace dnsd::net
