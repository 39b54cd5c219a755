#include "dnsd/server/control.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>

#include "dnsd/net/address.hpp"
#include "dnsd/server/worker.hpp"

namespace dnsd::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

struct Context {
    std::string token;
    std::string peer_token;
    ControlHooks hooks;
};

/// Constant-time comparison: how long it takes says nothing about how much
/// of a guessed token was right.
bool same_secret(std::string_view a, std::string_view b) noexcept {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
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

asio::awaitable<http::response<http::string_body>> handle(Context& ctx,
                                                          const http::request<http::string_body>& req) {
    const std::string_view target = req.target();
    if (req.method() == http::verb::get && (target == "/" || target == "/index.html"))
        co_return reply(req, http::status::ok, ctx.hooks.page(), "text/html; charset=utf-8");
    if (req.method() == http::verb::get && target == "/metrics")
        co_return reply(req, http::status::ok, ctx.hooks.metrics(), "text/plain; version=0.0.4");
    if (req.method() == http::verb::get && (target == "/status" || target.starts_with("/status?")))
        co_return reply(req, http::status::ok, ctx.hooks.status());
    if (req.method() == http::verb::get && target == "/cluster/verdicts" && ctx.hooks.verdicts) {
        // Peers ask with the cluster token (when one is configured).
        if (!ctx.peer_token.empty())
            if (const auto a = authorize(ctx.peer_token, req); a != http::status::ok)
                co_return refuse(req, a);
        co_return reply(req, http::status::ok, ctx.hooks.verdicts());
    }
    if (req.method() == http::verb::get && target.starts_with("/explain?")) {
        // name=...&client=...&type=A|AAAA, percent-encoded or not.
        std::string name, client, type;
        std::string_view query = target.substr(9);
        while (!query.empty()) {
            const auto amp = query.find('&');
            const std::string_view pair = query.substr(0, amp);
            const auto eq = pair.find('=');
            if (eq != std::string_view::npos) {
                const auto key = pair.substr(0, eq);
                const std::string value = percent_decoded(pair.substr(eq + 1));
                if (key == "name") name = value;
                if (key == "client") client = value;
                if (key == "type") type = value;
            }
            query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        }
        if (!type.empty() && type != "A" && type != "AAAA")
            co_return reply(req, http::status::bad_request, error_body("type= must be A or AAAA"));
        std::string body;
        const int status = ctx.hooks.explain(name, client, type, body);
        co_return reply(req, static_cast<http::status>(status), body);
    }
    if (req.method() != http::verb::post) {
        co_return reply(req, http::status::not_found,
                        error_body("no such resource (GET /status, POST "
                                   "/sites/NAME/override, POST /reload)"));
    }
    if (const auto a = authorize(ctx.token, req); a != http::status::ok) co_return refuse(req, a);
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
        std::string out;
        const int status = ctx.hooks.set_override(site, std::string(state->as_string()), until, out);
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

asio::awaitable<void> session(std::shared_ptr<Context> ctx, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    stream.expires_after(std::chrono::seconds(10));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    auto res = co_await handle(*ctx, parser.get());
    stream.expires_after(std::chrono::seconds(10));
    co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<Context> ctx, std::shared_ptr<tcp::acceptor> acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
            continue;
        }
        asio::co_spawn(acceptor->get_executor(), session(ctx, std::move(socket)), asio::detached);
    }
}

}  // namespace

void start_control(asio::io_context& io, const Endpoint& endpoint, std::string token, std::string peer_token,
                   ControlHooks hooks) {
    auto ctx = std::make_shared<Context>(Context{std::move(token), std::move(peer_token), std::move(hooks)});
    auto acceptor = std::make_shared<tcp::acceptor>(io);
    const tcp::endpoint ep = net::tcp_endpoint(endpoint);
    boost::system::error_code ec;
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + endpoint.str() + " (control): " + ec.message());
    asio::co_spawn(io, accept_loop(ctx, acceptor), asio::detached);
}

}  // namespace dnsd::server
