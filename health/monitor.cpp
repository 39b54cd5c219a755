#include "health/monitor.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <random>
#include <vector>

namespace dnsd::health {

namespace asio = boost::asio;

// Everything the probe coroutines share; they hold it by shared_ptr, so a
// stopped monitor may be destroyed while probes are still in flight.
struct Monitor::Shared {
    std::shared_ptr<Board> board;
    std::function<void()> changed;
    Prober prober;
    std::vector<std::unique_ptr<asio::steady_timer>> timers;
    std::mt19937_64 random{std::random_device{}()};
    bool stopped = false;
    bool pending = false;
    bool info_dirty = false;  ///< results without a state change since the last publish
};

namespace {

void schedule_changed(asio::io_context& io, const std::shared_ptr<Monitor::Shared>& s);

asio::awaitable<void> probe_loop(asio::io_context& io, std::shared_ptr<Monitor::Shared> s,
                                 std::uint32_t address, asio::steady_timer& timer) {
    const config::Probe probe = *s->board->probe(address);
    // The address answered, or the NAT or VIP its site's probe_targets
    // names: health is reported under the former either way.
    const Address target = s->board->catalog().probe_targets[address];
    using ms = std::chrono::milliseconds;
    // The first probe soon after start, spread over up to a tenth of the
    // interval (at most 250 ms) so that a thousand addresses do not all
    // connect in the same millisecond.
    const auto first = std::min<long>(probe.interval.count() / 10, 250);
    auto delay = ms(first > 0 ? static_cast<long>(s->random() % static_cast<std::uint64_t>(first)) : 0);
    for (;;) {
        timer.expires_after(delay);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (s->stopped) co_return;
        const ProbeResult r = co_await s->prober.run(probe, target);
        if (s->stopped) co_return;
        const auto latency_ms = static_cast<std::uint32_t>(r.latency.count() / 1000);
        if (s->board->record(address, r.ok, latency_ms, r.message, unix_now()))
            schedule_changed(io, s);
        else
            s->info_dirty = true;
        // The next probe an interval after this one started, with +-5 %
        // jitter so that probes started together drift apart.
        const long interval = probe.interval.count();
        const long jitter = interval / 20;
        const long spread =
            jitter > 0 ? static_cast<long>(s->random() % static_cast<std::uint64_t>(2 * jitter + 1)) - jitter
                       : 0;
        const long elapsed = static_cast<long>(r.latency.count() / 1000);
        delay = ms(std::max(0L, interval + spread - elapsed));
    }
}

void schedule_changed(asio::io_context& io, const std::shared_ptr<Monitor::Shared>& s) {
    if (s->pending) return;
    s->pending = true;
    asio::post(io, [s] {
        s->pending = false;
        s->info_dirty = false;
        if (!s->stopped && s->changed) s->changed();
    });
}

// Results that change no state (the last message, the latency) reach the
// snapshot at most once a second: fresh enough for health.server and the
// status page, without a new snapshot for every probe of every address.
asio::awaitable<void> refresh_loop(asio::io_context& io, std::shared_ptr<Monitor::Shared> s,
                                   asio::steady_timer& timer) {
    for (;;) {
        timer.expires_after(std::chrono::seconds(1));
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (s->stopped) co_return;
        // Overrides set for a while (`until`) end here, within a second.
        if (s->board->expire(unix_now()) || s->info_dirty) schedule_changed(io, s);
    }
}

}  // namespace

Monitor::Monitor(asio::io_context& io, std::shared_ptr<Board> board, std::function<void()> changed)
    : io_(io), board_(std::move(board)), shared_(std::make_shared<Shared>()) {
    shared_->board = board_;
    shared_->changed = std::move(changed);
}

Monitor::~Monitor() {
    stop();
}

void Monitor::start() {
    shared_->timers.push_back(std::make_unique<asio::steady_timer>(io_));
    asio::co_spawn(io_, refresh_loop(io_, shared_, *shared_->timers.back()), asio::detached);
    for (std::uint32_t a = 0; a < board_->address_count(); ++a) {
        if (!board_->probe(a)) continue;
        shared_->timers.push_back(std::make_unique<asio::steady_timer>(io_));
        asio::co_spawn(io_, probe_loop(io_, shared_, a, *shared_->timers.back()), asio::detached);
    }
}

void Monitor::stop() {
    if (shared_->stopped) return;
    shared_->stopped = true;
    for (auto& t : shared_->timers) t->cancel();
}

void Monitor::notify() {
    schedule_changed(io_, shared_);
}

}  // namespace dnsd::health
