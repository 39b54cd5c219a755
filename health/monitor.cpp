#include "health/monitor.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <queue>
#include <vector>

#include "health/tcp_batch.hpp"

namespace dnsd::health {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

/// When an address's next probe is due.
struct Due {
    Clock::time_point at;
    std::uint32_t address;
    bool operator>(const Due& o) const noexcept { return at > o.at; }
};

}  // namespace

// Everything the probes in flight share; they hold it by shared_ptr, so a
// stopped monitor may be destroyed while probes are still in flight.
struct Monitor::Shared : std::enable_shared_from_this<Monitor::Shared> {
    asio::io_context& io;
    std::shared_ptr<Board> board;
    std::function<void()> changed;
    Prober prober;
    std::unique_ptr<TcpBatch> tcp;
    asio::steady_timer schedule_timer;
    asio::steady_timer refresh_timer;
    /// Every probed address's next probe, soonest first.
    std::priority_queue<Due, std::vector<Due>, std::greater<>> queue;
    std::vector<std::uint8_t> in_flight;  ///< by address
    /// By address: a start on its grid (its place in the interval).
    std::vector<Clock::time_point> grid;
    /// The loop wakes at most once a tick and starts every probe due by
    /// then: a fiftieth of the shortest interval, 1 to 10 ms, well inside
    /// the tenth of an interval that a probe may start late.
    Clock::duration tick = milliseconds(10);
    bool stopped = false;
    bool pending = false;
    bool info_dirty = false;  ///< results without a state change since the last publish

    Shared(asio::io_context& i, std::shared_ptr<Board> b, std::function<void()> c)
        : io(i), board(std::move(b)), changed(std::move(c)), schedule_timer(i), refresh_timer(i) {}

    void schedule_changed() {
        if (pending) return;
        pending = true;
        asio::post(io, [s = shared_from_this()] {
            s->pending = false;
            s->info_dirty = false;
            if (!s->stopped && s->changed) s->changed();
        });
    }

    void take(std::uint32_t address, const ProbeResult& r) {
        in_flight[address] = 0;
        if (stopped) return;
        const auto latency_ms = static_cast<std::uint32_t>(r.latency.count() / 1000);
        if (board->record(address, r.ok, latency_ms, r.message, unix_now()))
            schedule_changed();
        else
            info_dirty = true;
    }
};

namespace {

/// One probe of a kind other than tcp, as a coroutine of its own.
asio::awaitable<void> probe_once(std::shared_ptr<Monitor::Shared> s, std::uint32_t address) {
    // The board (and so the probe) lives as long as `s`.
    const config::Probe& probe = *s->board->probe(address);
    const ProbeResult r = co_await s->prober.run(probe, s->board->catalog().probe_targets[address]);
    s->take(address, r);
}

void launch(const std::shared_ptr<Monitor::Shared>& s, std::uint32_t address) {
    const config::Probe& probe = *s->board->probe(address);
    // The address answered, or the NAT or VIP its site's probe_targets
    // names: health is reported under the former either way.
    const Address& target = s->board->catalog().probe_targets[address];
    s->in_flight[address] = 1;
    if (probe.kind == config::Probe::Kind::tcp && probe.effective_port() != 0) {
        s->tcp->start(address, target, probe.effective_port(), probe.source, probe.timeout);
        return;
    }
    asio::co_spawn(s->io, probe_once(s, address), asio::detached);
}

/// Starts the probes that are due, each an interval after its last start
/// (its place in the interval stays: no drift, and the probes stay spread
/// as they were placed), and records how late each started.
asio::awaitable<void> schedule_loop(std::shared_ptr<Monitor::Shared> s) {
    auto last_wake = Clock::now() - s->tick;
    while (!s->queue.empty()) {
        s->schedule_timer.expires_at(std::max(s->queue.top().at, last_wake + s->tick));
        boost::system::error_code ec;
        co_await s->schedule_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (s->stopped) co_return;
        const auto now = Clock::now();
        last_wake = now;
        while (!s->queue.empty() && s->queue.top().at <= now) {
            Due due = s->queue.top();
            s->queue.pop();
            const config::Probe& probe = *s->board->probe(due.address);
            s->board->observe_lag(
                static_cast<std::uint32_t>(std::chrono::duration_cast<milliseconds>(now - due.at).count()));
            // A probe still running (only when this loop ran late: the
            // timeout is below the interval) is not started twice.
            if (!s->in_flight[due.address]) launch(s, due.address);
            // The next start on this address's grid, at least half an
            // interval and a timeout after this one (so that the first
            // probe after start is over) and after now: a loop that was
            // held up skips the starts it missed instead of bunching them.
            const Clock::duration interval = probe.interval;
            auto& next = s->grid[due.address];
            const auto earliest =
                std::max(now, due.at + std::max<Clock::duration>(interval / 2, probe.timeout));
            if (next <= earliest) next += ((earliest - next) / interval + 1) * interval;
            due.at = next;
            s->queue.push(due);
        }
        s->tcp->flush();
    }
}

// Results that change no state (the last message, the latency) reach the
// snapshot at most once a second: fresh enough for health.server and the
// status page, without a new snapshot for every probe of every address.
asio::awaitable<void> refresh_loop(std::shared_ptr<Monitor::Shared> s) {
    for (;;) {
        s->refresh_timer.expires_after(std::chrono::seconds(1));
        boost::system::error_code ec;
        co_await s->refresh_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (s->stopped) co_return;
        // Overrides set for a while (`until`) end here, within a second.
        if (s->board->expire(unix_now()) || s->info_dirty) s->schedule_changed();
    }
}

}  // namespace

Monitor::Monitor(asio::io_context& io, std::shared_ptr<Board> board, std::function<void()> changed)
    : io_(io), board_(board), shared_(std::make_shared<Shared>(io, std::move(board), std::move(changed))) {
    // The batch calls back into the shared state it belongs to: a plain
    // pointer, as the batch dies with it.
    Shared* s = shared_.get();
    shared_->tcp =
        std::make_unique<TcpBatch>(io, [s](std::uint32_t address, ProbeResult r) { s->take(address, r); });
}

Monitor::~Monitor() {
    stop();
}

void Monitor::start() {
    auto& s = *shared_;
    const auto n = static_cast<std::uint32_t>(board_->address_count());
    s.in_flight.assign(n, 0);
    s.grid.assign(n, {});
    std::vector<std::uint32_t> probed;
    Clock::duration shortest = std::chrono::hours(1);
    for (std::uint32_t a = 0; a < n; ++a)
        if (const auto* probe = board_->probe(a)) {
            probed.push_back(a);
            shortest = std::min<Clock::duration>(shortest, probe->interval);
        }
    s.tick = std::clamp<Clock::duration>(shortest / 50, milliseconds(1), milliseconds(10));
    // The first probe of every address soon after start (spread over up to
    // a tenth of its interval, at most 250 ms, so that a thousand addresses
    // do not connect in the same millisecond); from the second on, each
    // address keeps its own place in the interval, the places evenly spread
    // over it, so that ten thousand probes a second come as a steady stream
    // rather than in bursts.
    const auto now = Clock::now();
    const auto count = static_cast<long>(probed.size());
    for (long k = 0; k < count; ++k) {
        const std::uint32_t a = probed[static_cast<std::size_t>(k)];
        const Clock::duration interval = board_->probe(a)->interval;
        const Clock::duration first_spread = std::min<Clock::duration>(interval / 10, milliseconds(250));
        const auto first = now + first_spread / count * k;
        s.grid[a] = now + interval / count * k;  // divided first: no overflow for long intervals
        s.queue.push({first, a});
    }
    asio::co_spawn(io_, refresh_loop(shared_), asio::detached);
    if (!s.queue.empty()) asio::co_spawn(io_, schedule_loop(shared_), asio::detached);
}

void Monitor::stop() {
    if (shared_->stopped) return;
    shared_->stopped = true;
    shared_->schedule_timer.cancel();
    shared_->refresh_timer.cancel();
}

void Monitor::notify() {
    shared_->schedule_changed();
}

}  // namespace dnsd::health
