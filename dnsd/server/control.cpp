#include "dnsd/server/control.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "dnsd/net/address.hpp"
#include "dnsd/server/worker.hpp"

namespace dnsd::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;

struct ControlEndpoint::Shared {
    ControlHooks hooks;
    ControlSettings settings;
    unsigned connections = 0;  ///< sessions in flight
    // The listener: one of the two acceptors, and the TLS context (HTTPS)
    // that the next accepted connection uses.
    std::shared_ptr<tcp::acceptor> tcp_acceptor;
    std::shared_ptr<local::acceptor> unix_acceptor;
    std::shared_ptr<ssl::context> tls;
    std::string where;  ///< what the listener is bound to, as configured

    void close_listener() {
        boost::system::error_code ignored;
        if (tcp_acceptor) tcp_acceptor->close(ignored);
        if (unix_acceptor) {
            const auto path = unix_acceptor->local_endpoint(ignored).path();
            unix_acceptor->close(ignored);
            if (!path.empty()) ::unlink(path.c_str());
        }
        tcp_acceptor.reset();
        unix_acceptor.reset();
        where.clear();
    }
};

namespace {

using Shared = ControlEndpoint::Shared;

/// Who sent a request: a TCP client's address, or a unix: socket's peer
/// (whom the socket's file mode let in).
struct Peer {
    bool local = false;
    Address address;
};

/// Constant-time comparison of digests: how long it takes says nothing
/// about how much of a guessed token was right, nor about its length.
bool same_secret(std::string_view a, std::string_view b) noexcept {
    unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
    unsigned na = 0, nb = 0;
    if (EVP_Digest(a.data(), a.size(), da, &na, EVP_sha256(), nullptr) != 1 ||
        EVP_Digest(b.data(), b.size(), db, &nb, EVP_sha256(), nullptr) != 1 || na != nb)
        return false;
    return CRYPTO_memcmp(da, db, na) == 0;
}

http::response<http::string_body> reply(const http::request<http::string_body>& req, http::status status,
                                        std::string body, const char* type = "application/json") {
    http::response<http::string_body> res{status, req.version()};
    res.set(http::field::server, "dnsd");
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

std::string error_body(std::string_view message) {
    return json::serialize(json::object{{"error", message}}) + "\n";
}

/// A query string value with %XX escapes and '+' decoded.
std::string percent_decoded(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '+') {
            out += ' ';
        } else if (in[i] == '%' && i + 2 < in.size() &&
                   std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += in[i];
        }
    }
    return out;
}

/// The pairs of a query string (after the '?'), values decoded.
std::vector<std::pair<std::string, std::string>> query_params(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos)
            out.emplace_back(std::string(pair.substr(0, eq)), percent_decoded(pair.substr(eq + 1)));
        else if (!pair.empty())
            out.emplace_back(std::string(pair), std::string());
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    }
    return out;
}

/// 0 when the request may change state, else the status to refuse it with.
http::status authorize(const std::string& token, const http::request<http::string_body>& req) {
    const auto header = req[http::field::authorization];
    if (header.empty() || !header.starts_with("Bearer ")) return http::status::unauthorized;
    if (token.empty() || !same_secret(header.substr(7), token)) return http::status::forbidden;
    return http::status::ok;
}

http::response<http::string_body> refuse(const http::request<http::string_body>& req, http::status a) {
    return reply(
        req, a,
        error_body(a == http::status::unauthorized ? "Authorization: Bearer TOKEN required" : "wrong token"));
}

asio::awaitable<http::response<http::string_body>> handle(Shared& ctx,
                                                          const http::request<http::string_body>& req,
                                                          const Peer& peer) {
    const std::string_view target = req.target();
    const std::string& token = ctx.settings.control.token;
    const std::string& peer_token = ctx.settings.peer_token;
    if (req.method() == http::verb::get && (target == "/" || target == "/index.html"))
        co_return reply(req, http::status::ok, ctx.hooks.page(), "text/html; charset=utf-8");
    if (req.method() == http::verb::get && target == "/metrics")
        co_return reply(req, http::status::ok, ctx.hooks.metrics(), "text/plain; version=0.0.4");
    if (req.method() == http::verb::get && (target == "/status" || target.starts_with("/status?")))
        co_return reply(req, http::status::ok, ctx.hooks.status());
    if (req.method() == http::verb::get && target == "/demand")
        co_return reply(req, http::status::ok, ctx.hooks.demand());
    if (req.method() == http::verb::get && (target == "/simulate" || target.starts_with("/simulate?"))) {
        // down=SITE&drain=SITE&up=SITE (each repeatable, or comma-separated)&service=NAME
        std::string body;
        const int status = ctx.hooks.simulate(
            query_params(target.size() > 10 ? target.substr(10) : std::string_view{}), body);
        co_return reply(req, static_cast<http::status>(status), body);
    }
    if (req.method() == http::verb::get && target == "/cluster/verdicts") {
        // Peers ask with the cluster token (when one is configured).
        if (!peer_token.empty())
            if (const auto a = authorize(peer_token, req); a != http::status::ok) co_return refuse(req, a);
        if (auto verdicts = ctx.hooks.verdicts())
            co_return reply(req, http::status::ok, std::move(*verdicts));
        co_return reply(req, http::status::not_found, error_body("no [cluster] configured"));
    }
    if (req.method() == http::verb::get && target.starts_with("/explain?")) {
        // As CH TXT explanations (SPEC 4): from explain_allow, or with the token.
        if (!peer.local && !ctx.settings.explain_allow.contains(peer.address))
            if (const auto a = authorize(token, req); a != http::status::ok) co_return refuse(req, a);
        // name=...&client=...&type=A|AAAA, percent-encoded or not.
        std::string name, client, type;
        for (const auto& [key, value] : query_params(target.substr(9))) {
            if (key == "name") name = value;
            if (key == "client") client = value;
            if (key == "type") type = value;
        }
        if (!type.empty() && type != "A" && type != "AAAA")
            co_return reply(req, http::status::bad_request, error_body("type= must be A or AAAA"));
        std::string body;
        const int status = ctx.hooks.explain(name, client, type, body);
        co_return reply(req, static_cast<http::status>(status), body);
    }
    if (req.method() != http::verb::post) {
        co_return reply(req, http::status::not_found,
                        error_body("no such resource (GET /status, GET /demand, GET /simulate, POST "
                                   "/sites/NAME/override, POST /services/NAME/resume, POST /reload)"));
    }
    if (const auto a = authorize(token, req); a != http::status::ok) co_return refuse(req, a);
    constexpr std::string_view kSites = "/sites/", kOverride = "/override";
    if (target.starts_with(kSites) && target.ends_with(kOverride) &&
        target.size() > kSites.size() + kOverride.size()) {
        const std::string site(
            target.substr(kSites.size(), target.size() - kSites.size() - kOverride.size()));
        boost::system::error_code ec;
        const json::value body = json::parse(req.body(), ec);
        const json::value* state = !ec && body.is_object() ? body.as_object().if_contains("state") : nullptr;
        if (!state || !state->is_string())
            co_return reply(req, http::status::bad_request,
                            error_body("expected a JSON body {\"state\": \"up|down|drain|auto\"}"));
        // "until": Unix seconds, or "YYYY-MM-DDTHH:MM:SSZ" (UTC).
        std::int64_t until = 0;
        if (const auto* u = body.as_object().if_contains("until")) {
            if (u->is_int64() && u->as_int64() > 0) {
                until = u->as_int64();
            } else if (u->is_string()) {
                int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
                char z = 0;
                const std::string text(u->as_string());
                if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d%c", &y, &mo, &d, &h, &mi, &sec, &z) == 7 &&
                    z == 'Z') {
                    using namespace std::chrono;
                    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                                             day{static_cast<unsigned>(d)}};
                    if (ymd.ok() && h < 24 && mi < 60 && sec < 61)
                        until = sys_days{ymd}.time_since_epoch() / seconds{1} + h * 3600 + mi * 60 + sec;
                }
            }
            if (until == 0)
                co_return reply(req, http::status::bad_request,
                                error_body("until must be Unix seconds or \"YYYY-MM-DDTHH:MM:SSZ\""));
        }
        // "force": true overrides the guards (SPEC 10: min_sites_up, capacity).
        bool force = false;
        if (const auto* f = body.as_object().if_contains("force")) {
            if (!f->is_bool())
                co_return reply(req, http::status::bad_request, error_body("force must be true or false"));
            force = f->as_bool();
        }
        std::string out;
        const int status = ctx.hooks.set_override(site, std::string(state->as_string()), until, force, out);
        co_return reply(req, static_cast<http::status>(status), out);
    }
    constexpr std::string_view kServices = "/services/", kResume = "/resume";
    if (target.starts_with(kServices) && target.ends_with(kResume) &&
        target.size() > kServices.size() + kResume.size()) {
        const std::string service = percent_decoded(
            target.substr(kServices.size(), target.size() - kServices.size() - kResume.size()));
        // {"site": "ams"}, or no body (or {}): every held site.
        std::string site;
        if (!req.body().empty()) {
            boost::system::error_code ec;
            const json::value body = json::parse(req.body(), ec);
            const json::value* s = !ec && body.is_object() ? body.as_object().if_contains("site") : nullptr;
            if (ec || !body.is_object() || (s && !s->is_string()))
                co_return reply(req, http::status::bad_request,
                                error_body("expected no body, or a JSON body {\"site\": \"NAME\"}"));
            if (s) site = std::string(s->as_string());
        }
        std::string out;
        const int status = ctx.hooks.resume(service, site, out);
        co_return reply(req, static_cast<http::status>(status), out);
    }
    if (target == "/reload") {
        // The reload runs on the loader thread; this coroutine waits for
        // its result on a timer that the completion cancels.
        auto executor = co_await asio::this_coro::executor;
        auto timer = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
        auto result = std::make_shared<std::pair<bool, std::string>>(false, "reload did not finish");
        ctx.hooks.reload([timer, result, executor](bool ok, std::string message) {
            asio::post(executor, [timer, result, ok, message = std::move(message)]() mutable {
                *result = {ok, std::move(message)};
                timer->cancel();
            });
        });
        boost::system::error_code ec;
        timer->expires_after(std::chrono::seconds(60));
        co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        json::object body{{"ok", result->first}, {"message", result->second}};
        co_return reply(req, result->first ? http::status::ok : http::status::unprocessable_entity,
                        json::serialize(body) + "\n");
    }
    co_return reply(req, http::status::not_found, error_body("no such resource"));
}

/// Counts a session in flight for the connection cap.
struct InFlight {
    explicit InFlight(Shared& s) : shared(s) { ++shared.connections; }
    ~InFlight() { --shared.connections; }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    Shared& shared;
};

/// Reads one request within the deadline armed on the stream, answers it,
/// and writes the response within kWriteTime.
template <class Stream>
asio::awaitable<void> exchange(std::shared_ptr<Shared> ctx, Stream& stream, const Peer& peer) {
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.header_limit(ControlEndpoint::kHeaderLimit);
    parser.body_limit(ControlEndpoint::kBodyLimit);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    http::response<http::string_body> res;
    if (ec == http::error::header_limit || ec == http::error::body_limit) {
        // Said once, then the connection closes: what is left unread is
        // not read.
        http::request<http::string_body> req;
        res = reply(req,
                    ec == http::error::header_limit ? http::status::request_header_fields_too_large
                                                    : http::status::payload_too_large,
                    error_body(ec == http::error::header_limit ? "request header too large"
                                                               : "request body too large"));
    } else if (ec) {
        co_return;
    } else {
        res = co_await handle(*ctx, parser.get(), peer);
    }
    beast::get_lowest_layer(stream).expires_after(ControlEndpoint::kWriteTime);
    co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> tcp_session(std::shared_ptr<Shared> ctx, std::shared_ptr<ssl::context> tls,
                                  tcp::socket socket) {
    InFlight counted(*ctx);
    Peer peer;
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) co_return;
    if (const auto a = Address::from_sockaddr(remote.data())) peer.address = *a;
    beast::tcp_stream stream(std::move(socket));
    // One deadline for the TLS handshake and the whole request.
    stream.expires_after(ControlEndpoint::kReadTime);
    if (tls) {
        beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
        auto [hs] =
            co_await secure.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
        if (hs) co_return;
        co_await exchange(ctx, secure, peer);
        // A close_notify, waited for briefly: the response is written.
        beast::get_lowest_layer(secure).expires_after(std::chrono::seconds(1));
        co_await secure.async_shutdown(asio::as_tuple(asio::use_awaitable));
        co_return;
    }
    co_await exchange(ctx, stream, peer);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> unix_session(std::shared_ptr<Shared> ctx, local::socket socket) {
    InFlight counted(*ctx);
    beast::basic_stream<local> stream(std::move(socket));
    stream.expires_after(ControlEndpoint::kReadTime);
    co_await exchange(ctx, stream, Peer{true, {}});
    beast::error_code ignored;
    stream.socket().shutdown(local::socket::shutdown_send, ignored);
}

/// Accepts until the acceptor is closed (a new listener, or the end).
template <class Acceptor, class Session>
asio::awaitable<void> accept_loop(std::shared_ptr<Shared> ctx, std::shared_ptr<Acceptor> acceptor,
                                  Session session) {
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
            continue;
        }
        if (ctx->connections >= ControlEndpoint::kMaxConnections) {
            boost::system::error_code ignored;
            socket.close(ignored);  // over the cap: closed at once, as the DNS TCP path does
            continue;
        }
        asio::co_spawn(acceptor->get_executor(), session(ctx, std::move(socket)), asio::detached);
    }
}

std::shared_ptr<ssl::context> server_tls(const std::string& cert, const std::string& key) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);
    ctx->use_certificate_chain_file(cert, ec);
    if (ec) throw std::runtime_error("control.tls_cert: cannot use " + cert + ": " + ec.message());
    ctx->use_private_key_file(key, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("control.tls_key: cannot use " + key + ": " + ec.message());
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
        throw std::runtime_error("control.tls_key: " + key + " does not match the certificate in " + cert);
    return ctx;
}

}  // namespace

ControlEndpoint::ControlEndpoint(asio::io_context& io, ControlHooks hooks)
    : io_(io), shared_(std::make_shared<Shared>()) {
    shared_->hooks = std::move(hooks);
}

ControlEndpoint::~ControlEndpoint() {
    shared_->close_listener();
}

std::string ControlEndpoint::where() const {
    return shared_->where;
}

void ControlEndpoint::configure(const ControlSettings& settings) {
    Shared& sh = *shared_;
    // Tokens and explain_allow first: they apply whatever happens to the
    // listener.
    const std::string bound = sh.where;
    sh.settings = settings;
    const config::Control& c = settings.control;
    std::shared_ptr<ssl::context> tls = sh.tls;
    // Files named again are read again: a renewed certificate is taken at
    // the reload, like a rotated token.
    if (c.tls_cert.empty())
        tls.reset();
    else
        tls = server_tls(c.tls_cert, c.tls_key);
    const std::string where = c.where();
    if (where != bound) {
        std::shared_ptr<tcp::acceptor> next_tcp;
        std::shared_ptr<local::acceptor> next_unix;
        boost::system::error_code ec;
        if (c.unix_path.empty()) {
            next_tcp = std::make_shared<tcp::acceptor>(io_);
            const tcp::endpoint ep = net::tcp_endpoint(c.listen);
            next_tcp->open(ep.protocol(), ec);
            if (!ec) next_tcp->set_option(asio::socket_base::reuse_address(true), ec);
            if (!ec) next_tcp->bind(ep, ec);
            if (!ec) next_tcp->listen(asio::socket_base::max_listen_connections, ec);
        } else {
            // A socket file left by a dnsd that did not stop cleanly is
            // replaced; any other file is not.
            struct stat st {};
            if (::lstat(c.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(c.unix_path.c_str());
            next_unix = std::make_shared<local::acceptor>(io_);
            next_unix->open(local(), ec);
            // Created with no access for others; 0660 once bound (the
            // group is how operators are let in).
            const mode_t before = ::umask(0117);
            if (!ec) next_unix->bind(local::endpoint(c.unix_path), ec);
            ::umask(before);
            if (!ec && ::chmod(c.unix_path.c_str(), 0660) != 0)
                ec.assign(errno, boost::system::system_category());
            if (!ec) next_unix->listen(asio::socket_base::max_listen_connections, ec);
        }
        if (ec)
            throw std::runtime_error("cannot listen on " + where + " (control): " + ec.message() +
                                     (bound.empty() ? std::string() : "; still on " + bound));
        sh.close_listener();
        sh.where = where;
        if (next_tcp) {
            sh.tcp_acceptor = next_tcp;
            asio::co_spawn(io_,
                           accept_loop(shared_, next_tcp,
                                       [](std::shared_ptr<Shared> ctx, tcp::socket socket) {
                                           auto context = ctx->tls;
                                           return tcp_session(std::move(ctx), std::move(context),
                                                              std::move(socket));
                                       }),
                           asio::detached);
        } else {
            sh.unix_acceptor = next_unix;
            asio::co_spawn(io_, accept_loop(shared_, next_unix, unix_session), asio::detached);
        }
    }
    sh.tls = std::move(tls);
}

}  // namespace dnsd::server
