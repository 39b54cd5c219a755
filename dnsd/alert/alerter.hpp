#pragma once
/// Alerts (SPEC section 7): events sent to the [[alert]] targets, webhooks
/// (an HTTP POST of a JSON object) and commands (the event in their
/// environment).
///
/// An Alerter owns one thread with its own io_context. send() only queues,
/// so a caller (the state thread) never waits for a target. Every target has
/// its own queue and works through it in order: a dead webhook delays its
/// own events, not another target's. Failures are logged (spdlog) and
/// retried with exponential backoff; they never reach the caller.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/duration.hpp"

namespace dnsd::alert {

/// What happened. Empty strings are left out of the JSON.
struct Event {
    std::string
        kind;  ///< "address", "site", "override", "reload", "cluster", "hold", "damping", "fallback", "load"
    std::string site, address, state, previous, message;
    /// "address" events: what the address's probe connects to, when its
    /// site's probe_targets names another address than the one answered.
    std::string probe_target{};
    std::string service{};  ///< hold, damping, fallback: the service (as text)
    std::int64_t time = 0;  ///< Unix seconds; 0: the time of send()
};

/// `unix_seconds` as RFC 3339 in UTC: "2024-05-01T12:00:00Z".
std::string rfc3339(std::int64_t unix_seconds);

/// The event as webhooks receive it and commands find it in
/// DNSD_EVENT_JSON: {"event", "site", "address", "state", "previous",
/// "message", "probe_target", "time" (RFC 3339), "unix_time", "instance"}, empty strings
/// left out. `e.time` is used as it is.
std::string to_json(const Event& e, std::string_view instance);

class Alerter {
public:
    /// Starts the delivery thread (none when `targets` is empty). `instance`
    /// is the server's identity, sent with every event (may be empty). Each
    /// target queues at most `queue_limit` events (at least 1). A failed
    /// attempt is retried after `backoff`, doubling each time, at most 30 s.
    Alerter(std::vector<config::Alert> targets, std::string instance, std::size_t queue_limit = 1000,
            Duration backoff = Duration{1000});
    /// Stops (see stop()) and joins.
    ~Alerter();
    Alerter(const Alerter&) = delete;
    Alerter& operator=(const Alerter&) = delete;

    /// Queues `e` for every target. Thread-safe; never blocks on delivery
    /// (it takes a mutex held only for queue operations). When a target's
    /// queue is full its oldest event is dropped and counted; one warning is
    /// logged per burst (until that queue empties). After stop(): only
    /// counted as dropped.
    void send(Event e) noexcept;

    /// Ends delivery and joins the thread. Returns promptly: the attempt in
    /// progress is abandoned (its connection closed, its command killed and
    /// reaped), no retry is waited for, and undelivered events are counted
    /// as dropped. Idempotent; not to be called concurrently with itself.
    void stop();

    // Counts of (event, target) pairs, readable from any thread.
    std::uint64_t delivered() const noexcept { return delivered_.load(std::memory_order_relaxed); }
    /// Given up on after 1 + retries failed attempts.
    std::uint64_t failed() const noexcept { return failed_.load(std::memory_order_relaxed); }
    /// Pushed out of a full queue, undelivered at stop(), or sent after it.
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

private:
    struct Impl;

    std::atomic<std::uint64_t> delivered_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::unique_ptr<Impl> impl_;
};

}  // namespace dnsd::alert
