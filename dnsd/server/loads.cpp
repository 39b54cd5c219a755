#include "dnsd/server/loads.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <variant>

#include "dnsd/net/deadline.hpp"
#include "dnsd/net/http_client.hpp"
#include "dnsd/net/tls_context.hpp"

namespace dnsd::server {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

struct Loads::Shared {
    net::TlsContext tls;  ///< https:// load URLs: the system's trust store
    std::function<void(const LoadReading&)> changed;
    std::vector<LoadReading> readings;
    bool stopped = false;
};

bool parse_load(std::string_view body, double& value, std::string& error) {
    while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front()))) body.remove_prefix(1);
    while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.remove_suffix(1);
    double v = 0;
    if (!body.empty() && body.front() == '{') {
        boost::system::error_code ec;
        const auto doc = boost::json::parse(body, ec);
        const auto* root = ec ? nullptr : doc.if_object();
        const auto* u = root ? root->if_contains("utilization") : nullptr;
        if (!u || !u->is_number()) {
            error = "not a load: expected a number or {\"utilization\": x}";
            return false;
        }
        v = u->to_number<double>();
    } else {
        const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
        if (ec != std::errc() || end != body.data() + body.size() || body.empty()) {
            error = "not a load: expected a number or {\"utilization\": x}";
            return false;
        }
    }
    if (!std::isfinite(v) || v < 0 || v > 1) {
        error = "load out of range (0 to 1)";
        return false;
    }
    value = v;
    return true;
}

namespace {

constexpr std::size_t kBodyLimit = 4096;

asio::awaitable<std::string> fetch(Loads::Shared& shared, const LoadReading& of, double& value) {
    const auto url = config::parse_url(of.url);
    if (!url) co_return "not an http:// or https:// URL";
    const auto timeout = std::min<std::chrono::milliseconds>(of.interval, std::chrono::seconds(2));
    net::Request request;
    request.target = url->target.empty() ? "/" : url->target;
    request.host = url->host;
    request.fields = {{http::field::user_agent, "dnsd"}};
    net::Reading reading;
    reading.body_limit = kBodyLimit;
    net::Origin origin{url->host, url->port, url->tls ? &shared.tls : nullptr};
    const net::Deadline deadline{Clock::now() + timeout, timeout};
    auto result = co_await net::exchange(std::move(origin), std::move(request), std::move(reading), deadline);
    if (auto* error = std::get_if<std::string>(&result)) co_return std::move(*error);
    const auto& res = std::get<net::Response>(result);
    if (!res.complete) co_return "read: longer than " + std::to_string(kBodyLimit) + " bytes";
    if (res.status != 200) co_return "HTTP " + std::to_string(res.status);
    std::string error;
    if (!parse_load(res.body, value, error)) co_return error;
    co_return std::string();
}

asio::awaitable<void> poll(std::shared_ptr<Loads::Shared> shared, std::size_t index) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex);
    while (!shared->stopped) {
        double value = -1;
        std::string error;
        try {
            error = co_await fetch(*shared, shared->readings[index], value);
        } catch (const std::exception& e) {
            error = e.what();
        }
        if (shared->stopped) co_return;
        auto& r = shared->readings[index];
        const bool ok = error.empty();
        const bool changed = !r.tried || ok != r.ok || (ok && value != r.value);
        r.tried = true;
        r.ok = ok;
        r.error = error;
        if (ok) {
            r.value = value;
            r.fetched = Clock::now();
        }
        if (changed && shared->changed) shared->changed(r);
        timer.expires_after(r.interval);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

}  // namespace

Loads::Loads(asio::io_context& io, const std::vector<config::Site>& sites,
             const std::vector<LoadReading>& previous, std::function<void(const LoadReading&)> changed)
    : shared_(std::make_shared<Shared>()) {
    shared_->changed = std::move(changed);
    for (const auto& s : sites) {
        if (s.load.empty()) continue;
        LoadReading r;
        const auto same = std::find_if(previous.begin(), previous.end(), [&](const LoadReading& p) {
            return p.site == s.name && p.url == s.load;
        });
        if (same != previous.end()) r = *same;
        r.site = s.name;
        r.url = s.load;
        r.interval = s.probe ? s.probe->interval : config::Probe{}.interval;
        shared_->readings.push_back(std::move(r));
    }
    for (std::size_t i = 0; i < shared_->readings.size(); ++i)
        asio::co_spawn(io, poll(shared_, i), asio::detached);
}

Loads::~Loads() {
    shared_->stopped = true;
    shared_->changed = nullptr;
}

const std::vector<LoadReading>& Loads::readings() const noexcept {
    return shared_->readings;
}

}  // namespace dnsd::server
