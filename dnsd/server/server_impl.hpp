#pragma once
/// Internal to the server module: the state behind `Server`, shared by the
/// files that implement it. server.cpp: the lifecycle (start-up, reload,
/// signals, the board swap, the state file); state.cpp: health, alerts and
/// the cluster, on the state thread; observe.cpp: what the control endpoint
/// shows and sets (/status, the page, overrides, /explain, /metrics).
///
/// Threads: as each member says; the state thread owns the board, the
/// peers and the alerter, the main thread the signals and reloads.

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dnsd/alert/alerter.hpp"
#include "dnsd/config/config.hpp"
#include "dnsd/core/snapshot.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/server/peers.hpp"
#include "dnsd/server/server.hpp"
#include "dnsd/server/worker.hpp"
#include "health/board.hpp"
#include "health/monitor.hpp"
#include "health/snapshot.hpp"

namespace dnsd::server {

struct Server::Impl {
    config::Config cfg;
    SnapshotSlot<query::View> slot;
    SnapshotSlot<health::Snapshot> health_slot{std::make_shared<const health::Snapshot>()};
    std::vector<std::unique_ptr<Worker>> workers;
    // The state thread: probes, the health board, the state file.
    asio::io_context state{1};
    asio::executor_work_guard<asio::io_context::executor_type> state_work{state.get_executor()};
    std::thread state_thread;
    std::shared_ptr<health::Board> board;
    std::unique_ptr<health::Monitor> monitor;
    asio::io_context main{1};
    asio::signal_set signals{main, SIGINT, SIGTERM, SIGHUP};
    std::thread loader;
    std::atomic<bool> loading{false};
    bool reload_again = false;

    Impl(config::Config c, std::shared_ptr<const query::View> view);

    /// State thread: a change on the board. Publish, log, alert, save.
    void health_changed();

    // ---- cluster (state thread) ----

    std::unique_ptr<Peers> peers;
    config::Cluster peers_config;
    bool cluster_degraded = false;

    static bool same_cluster(const config::Cluster& a, const config::Cluster& b);

    /// Starts asking the peers (again, when the [cluster] changed).
    void update_peers(const config::Config& next);

    /// Merges the fresh peers' verdicts into the board (SPEC 8).
    void peers_changed();

    /// GET /cluster/verdicts: this instance's own verdicts, never merged ones.
    std::string verdicts_json();

    /// Per site and family (IPv4, IPv6): whether it was up at the last look.
    std::vector<std::array<std::int8_t, 2>> site_seen;

    /// Logs and alerts the sites whose state changed since the last look;
    /// `quiet` only takes the new state (start, and a reload's new catalog).
    void site_changes(bool quiet);

    std::unique_ptr<alert::Alerter> alerter;
    std::uint64_t alerts_retired[3] = {};  ///< delivered, failed, dropped by replaced alerters

    /// An event for the operator (SPEC 7): queued for every [[alert]]
    /// target, delivered on the alerter's own thread (which stamps the time).
    /// State thread only.
    void raise(alert::Event e);

    static bool same_alerts(const std::vector<config::Alert>& a, const std::vector<config::Alert>& b);

    /// A reload keeps the alerter (and what it has queued) unless the
    /// targets changed.
    void update_alerter(const config::Config& next);
    std::vector<config::Alert> alert_targets;
    std::string alert_identity;

    void save_state();

    void start_monitor();

    /// State thread: a reload brought a new catalog. A new board keeps the
    /// state of unchanged targets; health is published before the view, and
    /// queries ignore a health snapshot of another catalog meanwhile.
    void swap_board(std::shared_ptr<const query::View> view, config::Config next);

    void wait_signal();

    /// Builds the new config and zones on a loader thread; the result is
    /// published from the main thread. A reload asked for while one runs is
    /// done once more after it, so the last edit always wins.
    void reload();

    void finish_reload(config::Config next, std::shared_ptr<const query::View> view,
                       const Diagnostics& diags);

    // ---- control endpoint (state thread) ----

    std::string status_json();

    /// GET /: a page a person would rather look at than read: the sites on a
    /// plot of the world by their coordinates, coloured by state, and a
    /// table of sites and addresses. Self-contained (no outside assets) and
    /// refreshing itself every 5 seconds.
    std::string status_page();

    int set_override(const std::string& site, const std::string& wanted, std::int64_t until,
                     std::string& body);

    /// GET /explain: the CH TXT explanation, through the real query path:
    /// a CH TXT query for `name` with ECS for `client`, answered by the
    /// current view, its TXT strings returned as JSON lines.
    int explain(const std::string& name, const std::string& client, const std::string& type,
                std::string& body);

    // ---- per-view counters, by name across reloads (state thread) ----

    /// Query counts by zone, and steering decisions by service, outcome and
    /// site, keyed by their label text.
    struct Totals {
        std::map<std::string, std::uint64_t> zones;
        std::map<std::string, std::uint64_t> decisions;
    };
    Totals retired;                                    ///< of views no longer counted into
    std::shared_ptr<const query::View> previous_view;  ///< the last view replaced, until retired
    /// State thread: a few seconds after a swap, when every worker has let
    /// go of the replaced view, its counts are folded into `retired` and it
    /// is dropped, and the freed memory is given back to the system.
    asio::steady_timer retire_timer{state};
    void retire_previous_view_later();

    static void fold_counts(const query::View& v, Totals& into);

    /// Label values escaped as the exposition format asks (\\, \", \n).
    static std::string label_value(const std::string& v);

    std::vector<std::function<void(bool, std::string)>> reload_waiters;  ///< main thread
    std::atomic<std::uint64_t> reloads_ok{0}, reloads_failed{0};

    /// GET /metrics: Prometheus text exposition, names dnsd_*.
    std::string metrics_text();
};

}  // namespace dnsd::server
