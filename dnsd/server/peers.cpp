#include "dnsd/server/peers.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <variant>

#include "dnsd/net/deadline.hpp"
#include "dnsd/net/http_client.hpp"

namespace dnsd::server {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

struct Peers::Shared {
    explicit Shared(const config::Cluster& c) : cluster(c), tls(c.ca_file) {}
    config::Cluster cluster;
    net::TlsContext tls;  ///< for https:// peers
    std::function<void()> changed;
    std::vector<PeerState> states;
    bool stopped = false;
};

namespace {

constexpr std::size_t kVerdictsLimit = 4 << 20;  // bytes of a verdicts document

/// One GET of the peer's verdicts; fills `into` or returns the error.
asio::awaitable<std::string> fetch(Peers::Shared& shared, const std::string& url_text, PeerState& into) {
    const config::Cluster& cluster = shared.cluster;
    const auto url = config::parse_url(url_text);
    if (!url) co_return "not an http:// or https:// URL";
    // Bounded as a whole: a peer that accepts and stalls costs one timeout.
    const auto timeout = std::min<std::chrono::milliseconds>(cluster.interval * 2, std::chrono::seconds(2));
    std::string target = url->target;
    if (target.empty() || target == "/") target.clear();
    while (!target.empty() && target.back() == '/') target.pop_back();
    net::Request request;
    request.target = target + "/cluster/verdicts";
    request.host = url->host;
    request.fields = {{http::field::user_agent, "dnsd"}};
    if (!cluster.token.empty())
        request.fields.emplace_back(http::field::authorization, "Bearer " + cluster.token);
    net::Reading reading;
    reading.body_limit = kVerdictsLimit;
    net::Origin origin{url->host, url->port, url->tls ? &shared.tls : nullptr};
    const net::Deadline deadline{Clock::now() + timeout, timeout};
    auto result = co_await net::exchange(std::move(origin), std::move(request), std::move(reading), deadline);
    if (auto* error = std::get_if<std::string>(&result)) co_return std::move(*error);
    const auto& res = std::get<net::Response>(result);
    if (!res.complete) co_return "read: body limit exceeded";
    if (res.status != 200) co_return "HTTP " + std::to_string(res.status);
    boost::system::error_code ec;
    const auto doc = boost::json::parse(res.body, ec);
    const auto* root = ec ? nullptr : doc.if_object();
    const auto* verdicts = root ? root->if_contains("verdicts") : nullptr;
    if (!verdicts || !verdicts->is_object()) co_return "not a verdicts document";
    into.verdicts.clear();
    for (const auto& [key, v] : verdicts->get_object())
        if (v.is_string()) into.verdicts[std::string(key)] = v.get_string() == "up";
    into.loads.clear();
    if (const auto* loads = root->if_contains("loads"); loads && loads->is_object())
        for (const auto& [site, l] : loads->get_object()) {
            const auto* o = l.if_object();
            const auto* value = o ? o->if_contains("value") : nullptr;
            const auto* age = o ? o->if_contains("age_ms") : nullptr;
            if (!value || !value->is_number() || !age || !age->is_int64()) continue;
            const double v = value->to_number<double>();
            if (v >= 0 && v <= 1 && age->get_int64() >= 0)
                into.loads[std::string(site)] = {v, age->get_int64()};
        }
    if (const auto* inst = root->if_contains("instance"); inst && inst->is_string())
        into.instance = std::string(inst->get_string());
    co_return std::string();
}

asio::awaitable<void> poll(std::shared_ptr<Peers::Shared> shared, std::size_t index) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex);
    unsigned failures = 0;
    while (!shared->stopped) {
        PeerState fetched;
        const std::string url = shared->states[index].url;
        std::string error;
        try {
            error = co_await fetch(*shared, url, fetched);
        } catch (const std::exception& e) {
            error = e.what();
        }
        if (shared->stopped) co_return;
        auto& state = shared->states[index];
        const bool was = state.reachable || !state.tried;
        state.tried = true;
        state.reachable = error.empty();
        state.error = error;
        if (error.empty()) {
            state.verdicts = std::move(fetched.verdicts);
            state.loads = std::move(fetched.loads);
            state.instance = std::move(fetched.instance);
            state.fetched = Clock::now();
            failures = 0;
        } else {
            ++failures;
        }
        if (error.empty() || was) shared->changed();
        // A peer that does not answer is asked less often, up to 10 s apart.
        auto wait = shared->cluster.interval;
        for (unsigned i = 1; i < failures && wait < std::chrono::seconds(10); ++i) wait *= 2;
        timer.expires_after(std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(10)));
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

}  // namespace

Peers::Peers(asio::io_context& io, const config::Cluster& cluster, std::function<void()> changed)
    : shared_(std::make_shared<Shared>(cluster)) {
    shared_->changed = std::move(changed);
    for (const auto& url : cluster.peers) {
        PeerState p;
        p.url = url;
        shared_->states.push_back(std::move(p));
    }
    for (std::size_t i = 0; i < shared_->states.size(); ++i)
        asio::co_spawn(io, poll(shared_, i), asio::detached);
}

Peers::~Peers() {
    shared_->stopped = true;
    shared_->changed = nullptr;
}

const std::vector<PeerState>& Peers::states() const noexcept {
    return shared_->states;
}

bool Peers::fresh(const PeerState& p) const noexcept {
    const auto window =
        std::max<std::chrono::milliseconds>(shared_->cluster.interval * 3, std::chrono::seconds(3));
    return p.fetched != Clock::time_point{} && Clock::now() - p.fetched <= window;
}

}  // namespace dnsd::server
