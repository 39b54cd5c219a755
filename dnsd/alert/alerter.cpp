// Delivery of alerts. One thread runs one io_context with a coroutine per
// target ("lane"); send() only appends to the lanes' queues under a mutex and
// wakes idle lanes. Every attempt takes one deadline at its start, which the
// network plumbing enforces: net::exchange for webhooks (name lookup,
// connect, TLS, write and read), net::Child::wait_until for commands. stop()
// stops the io_context and destroys it, which destroys the suspended
// coroutines and with them their sockets and children.

#include "dnsd/alert/alerter.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <variant>

#include "dnsd/core/duration.hpp"
#include "dnsd/net/child.hpp"
#include "dnsd/net/deadline.hpp"
#include "dnsd/net/http_client.hpp"
#include "dnsd/net/tls_context.hpp"

namespace dnsd::alert {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using Clock = std::chrono::steady_clock;
using net::Deadline;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr Duration kMaxBackoff{30000};
constexpr std::size_t kNameLimit = 100;  // of a target's description in log lines

/// Why an attempt failed; nullopt when it succeeded.
using Outcome = std::optional<std::string>;

/// The target as log lines name it.
std::string describe(const config::Alert& target) {
    std::string text;
    switch (target.kind) {
        case config::Alert::Kind::webhook:
            text = "webhook " + target.url;
            break;
        case config::Alert::Kind::exec:
            text = "exec";
            // A command line from the file reads better than its sh -c argv.
            if (target.command.size() == 3 && target.command[0] == "/bin/sh" && target.command[1] == "-c") {
                text += " " + target.command[2];
            } else {
                for (const auto& arg : target.command) text += " " + arg;
            }
            break;
    }
    if (text.size() > kNameLimit) text = text.substr(0, kNameLimit - 3) + "...";
    return text;
}

/// "address event (site ams, 192.0.2.1, up -> down)", for log lines.
std::string describe(const Event& e) {
    std::string details;
    const auto add = [&details](const std::string& part) {
        if (part.empty()) return;
        if (!details.empty()) details += ", ";
        details += part;
    };
    add(e.service.empty() ? "" : "service " + e.service);
    add(e.site.empty() ? "" : "site " + e.site);
    add(e.address);
    add(e.previous.empty() ? e.state : e.previous + " -> " + e.state);
    std::string text = (e.kind.empty() ? "unnamed" : e.kind) + " event";
    return details.empty() ? text : text + " (" + details + ")";
}

Duration backoff_after(unsigned failures, Duration base) {
    Duration wait = base;
    for (unsigned i = 1; i < failures && wait < kMaxBackoff; ++i) wait *= 2;
    return std::min(wait, kMaxBackoff);
}

// ---- webhook ----

awaitable<Outcome> post(net::TlsContext& tls, const config::Url& url, std::string body,
                        const Deadline& deadline) {
    net::Request request;
    request.method = http::verb::post;
    request.target = url.target;
    request.host = net::host_field(url.host, url.default_port ? std::nullopt : std::optional(url.port));
    request.fields = {{http::field::user_agent, "dnsd-alert"},
                      {http::field::content_type, "application/json"},
                      {http::field::connection, "close"}};
    request.body = std::move(body);
    net::Origin origin{url.host, url.port, url.tls ? &tls : nullptr};
    // The status is all that is wanted: the body is not read.
    net::Reading reading;
    auto result = co_await net::exchange(std::move(origin), std::move(request), std::move(reading), deadline);
    if (auto* error = std::get_if<std::string>(&result)) co_return std::move(*error);
    const auto& response = std::get<net::Response>(result);
    if (response.status >= 200 && response.status < 300) co_return std::nullopt;
    std::string text = "HTTP " + std::to_string(response.status);
    if (!response.reason.empty()) text += " " + response.reason;
    co_return text;
}

// ---- exec ----

/// The daemon's environment with the event's variables in place of any it
/// already had.
std::vector<std::string> environment(const Event& e, const std::string& instance, const std::string& json) {
    const std::pair<std::string_view, std::string> ours[] = {
        {"DNSD_EVENT", e.kind},         {"DNSD_SITE", e.site},
        {"DNSD_ADDRESS", e.address},    {"DNSD_STATE", e.state},
        {"DNSD_PREVIOUS", e.previous},  {"DNSD_MESSAGE", e.message},
        {"DNSD_TIME", rfc3339(e.time)}, {"DNSD_INSTANCE", instance},
        {"DNSD_EVENT_JSON", json},      {"DNSD_PROBE_TARGET", e.probe_target},
        {"DNSD_SERVICE", e.service},
    };
    std::vector<std::string_view> names;
    for (const auto& o : ours) names.push_back(o.first);
    std::vector<std::string> env = net::environment_without(names);
    // Every variable is set, empty or not, so that scripts under `set -u`
    // need no defaults.
    for (const auto& [name, value] : ours) env.push_back(std::string(name) + "=" + value);
    return env;
}

awaitable<Outcome> run_command(const config::Alert& target, std::vector<std::string> env,
                               const Deadline& deadline) {
    net::Command command;
    command.argv = target.command;
    command.env = std::move(env);
    // stdout is not looked at. stderr stays the daemon's, so that a failing
    // script's complaint lands in the daemon's log.
    command.stderr_to = net::Stderr::inherit;
    command.at_exit = net::AtExit::leave_group;
    auto started = net::spawn(co_await asio::this_coro::executor, command);
    if (auto* error = std::get_if<std::string>(&started)) co_return std::move(*error);
    auto& child = std::get<net::Child>(started);
    const auto status = co_await child.wait_until(deadline.at);
    // On a timeout the Child, going out of scope, kills the group and reaps it.
    if (!status) co_return "killed after timeout (" + std::to_string(target.timeout.count()) + "ms)";
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) co_return std::nullopt;
    co_return net::describe_exit(*status);
}

}  // namespace

std::string rfc3339(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (!::gmtime_r(&t, &tm)) return {};
    char text[32];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(text, n);
}

std::string to_json(const Event& e, std::string_view instance) {
    boost::json::object o;
    const auto put = [&o](std::string_view key, std::string_view value) {
        if (!value.empty()) o[key] = value;
    };
    put("event", e.kind);
    put("service", e.service);
    put("site", e.site);
    put("address", e.address);
    put("state", e.state);
    put("previous", e.previous);
    put("message", e.message);
    put("probe_target", e.probe_target);
    o["time"] = rfc3339(e.time);
    o["unix_time"] = e.time;
    put("instance", instance);
    return boost::json::serialize(o);
}

/// One target: its queue (shared with send()) and its delivery state
/// (the alert thread's).
struct Lane {
    config::Alert target;
    std::optional<config::Url> url;  ///< webhook
    std::string name;                ///< for log lines

    // Guarded by Impl::mutex.
    std::deque<std::shared_ptr<const Event>> queue;
    std::uint64_t burst = 0;  ///< dropped since the queue was last empty

    // The alert thread's; read by stop() after the join.
    asio::steady_timer* idle = nullptr;  ///< set while waiting for events
    bool busy = false;                   ///< an event is being delivered
};

struct Alerter::Impl {
    Impl(Alerter& self, std::string identity, std::size_t queue_limit, Duration base)
        : owner(self),
          instance(std::move(identity)),
          limit(std::max<std::size_t>(queue_limit, 1)),
          backoff(base) {
        io.emplace(1);
    }

    Alerter& owner;
    const std::string instance;
    const std::size_t limit;
    const Duration backoff;
    net::TlsContext tls;  ///< before io: the streams of the coroutines in io use it
    std::vector<std::unique_ptr<Lane>> lanes;
    std::optional<asio::io_context> io;  ///< reset by stop(), after the join
    std::thread thread;

    std::mutex mutex;
    bool stopped = false;  ///< guarded by mutex; once set, io is not posted to

    awaitable<Outcome> attempt(Lane& lane, const Event& e, const std::string& json,
                               const Deadline& deadline) {
        switch (lane.target.kind) {
            case config::Alert::Kind::webhook:
                if (!lane.url) co_return "'" + lane.target.url + "' is not an http:// or https:// URL";
                co_return co_await post(tls, *lane.url, json, deadline);
            case config::Alert::Kind::exec:
                co_return co_await run_command(lane.target, environment(e, instance, json), deadline);
        }
        co_return "unknown alert type";
    }

    awaitable<void> deliver(Lane& lane, const Event& e) {
        const std::string json = to_json(e, instance);
        const unsigned attempts = lane.target.retries + 1;
        asio::steady_timer pause(co_await asio::this_coro::executor);
        for (unsigned n = 1;; ++n) {
            const Deadline deadline{Clock::now() + lane.target.timeout, lane.target.timeout};
            Outcome error;
            try {
                error = co_await attempt(lane, e, json, deadline);
            } catch (const std::exception& x) {
                error = std::string("error: ") + x.what();
            }
            if (!error) {
                owner.delivered_.fetch_add(1, std::memory_order_relaxed);
                co_return;
            }
            if (n >= attempts) {
                spdlog::error("alert to {}: gave up on {} after {} attempt{}: {}", lane.name, describe(e), n,
                              n == 1 ? "" : "s", *error);
                owner.failed_.fetch_add(1, std::memory_order_relaxed);
                co_return;
            }
            const Duration wait = backoff_after(n, backoff);
            spdlog::warn("alert to {}: {}: attempt {} of {} failed: {}; retrying in {}ms", lane.name,
                         describe(e), n, attempts, *error, wait.count());
            pause.expires_after(wait);
            co_await pause.async_wait(kTuple);
        }
    }

    awaitable<void> run(Lane& lane) {
        asio::steady_timer idle(co_await asio::this_coro::executor);
        for (;;) {
            std::shared_ptr<const Event> next;
            std::uint64_t burst = 0;
            {
                std::lock_guard lock(mutex);
                if (!lane.queue.empty()) {
                    next = std::move(lane.queue.front());
                    lane.queue.pop_front();
                } else {
                    burst = std::exchange(lane.burst, 0);
                }
            }
            if (burst)
                spdlog::info("alert to {}: queue drained; {} event{} dropped while it was full", lane.name,
                             burst, burst == 1 ? " was" : "s were");
            if (!next) {
                // Until send() cancels it. No event can slip in between the
                // check above and this wait: send()'s wake-up is a handler
                // on this thread, which runs only once we are suspended.
                idle.expires_at(Clock::time_point::max());
                lane.idle = &idle;
                co_await idle.async_wait(kTuple);
                lane.idle = nullptr;
                continue;
            }
            lane.busy = true;
            co_await deliver(lane, *next);
            lane.busy = false;
        }
    }
};

Alerter::Alerter(std::vector<config::Alert> targets, std::string instance, std::size_t queue_limit,
                 Duration backoff)
    : impl_(std::make_unique<Impl>(*this, std::move(instance), queue_limit, backoff)) {
    if (targets.empty()) return;
    for (auto& target : targets) {
        auto lane = std::make_unique<Lane>();
        if (target.kind == config::Alert::Kind::webhook) lane->url = config::parse_url(target.url);
        lane->name = describe(target);
        lane->target = std::move(target);
        auto& ref = *lane;
        impl_->lanes.push_back(std::move(lane));
        asio::co_spawn(*impl_->io, impl_->run(ref), [name = ref.name](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                spdlog::error("alert to {}: delivery stopped: {}", name, x.what());
            } catch (...) {
                spdlog::error("alert to {}: delivery stopped", name);
            }
        });
    }
    impl_->thread = std::thread([&io = *impl_->io] {
        ::pthread_setname_np(::pthread_self(), "dnsd-alert");
        try {
            io.run();
        } catch (const std::exception& x) {
            spdlog::error("alerts: delivery thread stopped: {}", x.what());
        }
    });
}

Alerter::~Alerter() {
    stop();
}

void Alerter::send(Event e) noexcept {
    try {
        if (impl_->lanes.empty()) return;
        if (e.time == 0) e.time = unix_now();
        auto event = std::make_shared<const Event>(std::move(e));
        std::vector<std::string> overflowing;
        {
            std::lock_guard lock(impl_->mutex);
            if (impl_->stopped) {
                dropped_.fetch_add(impl_->lanes.size(), std::memory_order_relaxed);
                return;
            }
            bool wake = false;
            for (auto& lane : impl_->lanes) {
                wake |= lane->queue.empty();
                if (lane->queue.size() >= impl_->limit) {
                    lane->queue.pop_front();
                    dropped_.fetch_add(1, std::memory_order_relaxed);
                    if (lane->burst++ == 0) overflowing.push_back(lane->name);
                }
                lane->queue.push_back(event);
            }
            // Under the mutex: stop() sets `stopped` under it before it
            // destroys the io_context.
            if (wake)
                asio::post(*impl_->io, [impl = impl_.get()] {
                    for (auto& lane : impl->lanes)
                        if (lane->idle) lane->idle->cancel();
                });
        }
        for (const auto& name : overflowing)
            spdlog::warn("alert to {}: queue full ({} events); dropping the oldest until it drains", name,
                         impl_->limit);
    } catch (...) {
        // Out of memory: the event is lost, and the caller must not notice.
        dropped_.fetch_add(1, std::memory_order_relaxed);
    }
}

void Alerter::stop() {
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->stopped) return;
        impl_->stopped = true;
    }
    impl_->io->stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    std::uint64_t left = 0;
    for (auto& lane : impl_->lanes) {
        left += lane->queue.size() + (lane->busy ? 1 : 0);
        lane->queue.clear();
    }
    // Destroys the suspended coroutines: their sockets close, their
    // commands are killed and reaped.
    impl_->io.reset();
    if (left) {
        dropped_.fetch_add(left, std::memory_order_relaxed);
        spdlog::warn("alerts: {} undelivered at shutdown", left);
    }
}

}  // namespace dnsd::alert
