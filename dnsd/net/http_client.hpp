#pragma once
/// One HTTP/1.1 request and its response, over TCP or TLS, as a coroutine
/// bounded by one deadline: http and https probes, webhook alerts, and the
/// requests to cluster peers.
///
/// Every step ends by the deadline: name lookups are polled for until then,
/// and Beast's stream expiry, armed once at connect, bounds connect, TLS
/// handshake, write and read (it closes the socket, so every pending
/// operation ends, TLS included). Failures are values, never exceptions
/// (only running out of memory or being cancelled throws). There is no TLS
/// shutdown: the response is in, and waiting for the peer's close_notify
/// could only turn a result into a timeout.
///
/// Threads: the coroutines run on the caller's executor and own their
/// sockets. A TlsContext given to them belongs to the thread running them
/// and must outlive them; so must everything passed by reference.
///
/// Called from a coroutine, pass named values (std::move them), not braced
/// temporaries: g++ 12 destroys an aggregate built in the arguments of a
/// co_await'ed call twice.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/net/deadline.hpp"
#include "dnsd/net/tls_context.hpp"

namespace dnsd::net {

using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;

struct Request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string target = "/";
    std::string host;  ///< the Host field as sent (see host_field); empty: none
    /// More fields (User-Agent, Authorization, Content-Type, Connection ...),
    /// sent after Host in this order.
    std::vector<std::pair<boost::beast::http::field, std::string>> fields;
    std::string body;  ///< sent with a Content-Length when not empty, and always for POST and PUT
};

struct Response {
    unsigned status = 0;
    std::string reason;
    std::string body;       ///< at most Reading::body_limit bytes
    bool complete = false;  ///< the whole body was read (false: stopped at the limit or by `enough`)
};

/// How much of a response is read.
struct Reading {
    std::size_t body_limit = 0;  ///< 0: the status line and header only
    /// Optional: asked after the header and after every piece of the body;
    /// true ends the reading there (a probe that has seen what it looks for).
    std::function<bool(const Response&)> enough;
};

/// Where a request goes, its addresses known.
struct Destination {
    Endpoints endpoints;            ///< tried in order until one accepts
    std::optional<Address> source;  ///< the local address to connect from; none: the kernel's choice
    TlsContext* tls = nullptr;      ///< https when set
    /// Checked against the certificate: a host name against its DNS names,
    /// an address against its IP addresses. A host name is also sent as SNI
    /// (never an address: RFC 6066).
    std::string tls_name;
    bool verify = true;  ///< false: neither the chain nor the name is checked (probes' `insecure`)
};

/// The response, or why there is none ("connect: Connection refused",
/// "tls: certificate verify failed: hostname mismatch", "timeout after 300ms").
using Result = std::variant<Response, std::string>;

/// Connects, handshakes (https), writes `request`, and reads the response
/// as `reading` says. A verification failure reads "tls: certificate verify
/// failed: " and OpenSSL's reason.
boost::asio::awaitable<Result> exchange(Destination to, Request request, Reading reading, Deadline deadline);

/// An http:// or https:// server as a URL names it.
struct Origin {
    std::string host;  ///< a name or an address, without brackets
    std::uint16_t port = 0;
    TlsContext* tls = nullptr;  ///< https when set, verified against `host`
};

/// resolve(), then exchange() with the addresses found, in order.
boost::asio::awaitable<Result> exchange(Origin to, Request request, Reading reading, Deadline deadline);

/// The addresses of `host` at `port`, or the error text ("resolve HOST:
/// ..."), by the deadline. An address is taken as it is. A name is looked
/// up on a thread of its own: getaddrinfo cannot be interrupted, and Asio's
/// resolver joins its lookup thread when its io_context is destroyed, so a
/// lookup that hangs would hold up the owner's shutdown. Detached, it holds
/// up nothing; its result is polled for until the deadline.
boost::asio::awaitable<std::variant<Endpoints, std::string>> resolve(std::string host, std::uint16_t port,
                                                                     Deadline deadline);

/// Connects `stream` (not open) to the first of `endpoints` that accepts,
/// from `source` when set, and arms the stream's expiry at the deadline:
/// it then bounds every later operation on the stream too. The error text
/// ("connect: ...", or open_from's), or nullopt.
boost::asio::awaitable<std::optional<std::string>> connect(boost::beast::tcp_stream& stream,
                                                           const Endpoints& endpoints,
                                                           const std::optional<Address>& source,
                                                           const Deadline& deadline);

/// `host` (a name or an address) as a Host field: an IPv6 address in
/// brackets, ":port" appended when given.
std::string host_field(std::string_view host, std::optional<std::uint16_t> port = std::nullopt);

}  // namespace dnsd::net
