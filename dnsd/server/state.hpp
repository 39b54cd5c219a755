#pragma once
/// The state thread (internal to the server module): the one owner of
/// everything in the server that changes. It alone holds the running
/// config, the health board and its probes, the operator's overrides, the
/// cluster's peers, the alerter, the state file, the reload in progress,
/// the query counts of retired views and the control endpoint; it alone
/// publishes the snapshots the workers read (zones and services, health).
///
/// Threads: the constructor, start() and stop() run on the main thread,
/// before the state thread starts and after it has stopped; reload() may
/// be called from any thread (it posts). Everything else runs on the state
/// thread. A reload builds on a loader thread of its own, which touches
/// none of this and hands its result back by posting.

#include <boost/asio.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dnsd/alert/alerter.hpp"
#include "dnsd/config/config.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/core/snapshot.hpp"
#include "dnsd/query/simulate.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/server/control.hpp"
#include "dnsd/server/loads.hpp"
#include "dnsd/server/observe.hpp"
#include "dnsd/server/peers.hpp"
#include "dnsd/server/serving.hpp"
#include "dnsd/server/state_file.hpp"
#include "dnsd/server/worker.hpp"
#include "dnsd/steer/demand.hpp"
#include "dnsd/steer/staying.hpp"
#include "health/board.hpp"
#include "health/monitor.hpp"
#include "health/snapshot.hpp"

namespace dnsd::server {

class StateThread {
public:
    /// Main thread, before any worker runs. Builds the first board (with
    /// what `saved`, the state file read at start, says: SPEC 3), publishes the
    /// first health snapshot, and binds the control endpoint; throws
    /// std::runtime_error when that cannot be bound. `workers` are read
    /// for /metrics and must outlive this object.
    StateThread(config::Config cfg, ServingSlot& serving, const std::vector<std::unique_ptr<Worker>>& workers,
                const StateFile& saved);
    ~StateThread();  ///< stops, when stop() was not called
    StateThread(const StateThread&) = delete;
    StateThread& operator=(const StateThread&) = delete;

    /// Main thread: starts the thread (probes, peers, NOTIFY at start).
    void start();
    /// Any thread: reloads the config and zones (SIGHUP). `done(ok,
    /// message)`, when given, is called on the state thread with the
    /// result of the newest reload.
    void reload(std::function<void(bool, std::string)> done = {});
    /// Main thread: stops the probes, peers, alerts and the control
    /// endpoint, and joins the state thread and any loader.
    void stop();

private:
    // ---- health (state.cpp) ----
    void start_monitor();
    /// A change on the board: publish, log, alert, save.
    void health_changed();
    /// Logs and alerts the sites whose state changed since the last look;
    /// `quiet` only takes the new state (start, and a reload's new catalog).
    void site_changes(bool quiet);
    void save_state();
    /// Publishes the board's state, with the site states steering reads
    /// and what staying put decides (SPEC 9), beside `view` (a reload's new
    /// one) or the view being served. `quiet`: no alerts for what staying
    /// put changed (start, reload).
    void publish_health(std::shared_ptr<const query::View> view = nullptr, bool quiet = false);
    /// While a hold-down or damping counts down: publish again every second.
    void stay_tick();
    /// The view being served.
    std::shared_ptr<const query::View> view() const { return serving_.load()->view; }

    // ---- cluster (state.cpp) ----
    /// Starts asking the peers (again, when the [cluster] changed).
    void update_peers();
    /// Merges the fresh peers' verdicts into the board (SPEC 8).
    void peers_changed();
    /// GET /cluster/verdicts: this instance's own verdicts, never merged ones.
    std::string verdicts_json() const;

    // ---- spill-over (state.cpp) ----
    /// Starts reading the sites' load URLs (again, with the readings kept,
    /// when the config changed).
    void update_loads();
    /// A site's load or its readability changed: log, alert once when it
    /// cannot be read, publish.
    void load_changed(const LoadReading& r);
    /// Per site index of the board's catalog: its load, -1 when none.
    std::vector<double> site_loads() const;

    // ---- alerts (state.cpp) ----
    /// An event for the operator (SPEC 7), queued for every [[alert]]
    /// target and delivered on the alerter's own thread.
    void raise(alert::Event e);
    /// A reload keeps the alerter (and what it has queued) unless the
    /// targets changed.
    void update_alerter();

    // ---- reload (reload.cpp) ----
    void start_loader();
    void finish_reload(config::Config next, std::shared_ptr<const query::View> view, const Diagnostics& diags,
                       std::chrono::milliseconds took);
    /// Applies a reloaded config and view: a new board that keeps the state
    /// of unchanged targets, alerts, peers, probes; publishes the view with
    /// its health in one step; NOTIFY for zones whose serial moved.
    /// Returns what could not be applied, for the reply and the log.
    std::vector<std::string> apply(config::Config next, std::shared_ptr<const query::View> view);
    /// A few seconds after a swap, when every worker has let go of the
    /// replaced view, its counts are folded into `retired_` and it is
    /// dropped, and the freed memory is given back to the system.
    void retire_previous_view_later();

    // ---- the control endpoint (state_control.cpp) ----
    /// Sets the endpoint up as [control] says now (opens, moves, closes it;
    /// new tokens). Throws std::runtime_error when its listener cannot be
    /// set up.
    void update_control();
    /// What /status, /metrics and the page show, taken now.
    Observation observe() const;
    /// POST /sites/NAME/override: refused (409, the simulation as the
    /// reason) when the guards (SPEC 10) say no, unless `force`.
    int set_override(const std::string& site, const std::string& wanted, std::int64_t until, bool force,
                     std::string& body);
    // ---- demand and what-if (state_demand.cpp) ----
    /// Once a second: harvest_demand().
    void demand_tick();
    /// Takes what the workers counted since the last harvest into demand_.
    void harvest_demand();
    /// GET /demand.
    std::string demand_json();
    /// The what-if of `changes` (site index, override) and `loads` (site
    /// index, load: spill-over, SPEC 10) for `service` (text; empty: all
    /// services).
    query::Simulation simulate(const std::vector<std::pair<std::uint32_t, health::Override>>& changes,
                               const std::string& service,
                               const std::vector<std::pair<std::uint32_t, double>>& loads = {}) const;
    static std::string simulation_json(const query::Simulation& sim);
    /// GET /simulate: 400 naming unknown sites or services.
    int simulate_request(const std::vector<std::pair<std::string, std::string>>& params, std::string& body);
    /// The simulation of overriding `site` to `o`, whose `breaches` say
    /// what it would break (SPEC 10); empty for overrides not guarded.
    query::Simulation guard(std::uint32_t site, health::Override o);
    /// Prefixes GET /demand lists per service.
    static constexpr std::size_t kDemandTop = 20;
    /// POST /services/NAME/resume: ends a hold-down (SPEC 9).
    int resume(const std::string& service, const std::string& site, std::string& body);
    int explain(const std::string& name, const std::string& client, const std::string& type,
                std::string& body) const;

    config::Config cfg_;            ///< the running config (server.listen etc. as at start)
    const config::Server started_;  ///< [server] as the workers were set up: what a reload cannot change
    ServingSlot& serving_;
    const std::vector<std::unique_ptr<Worker>>& workers_;

    boost::asio::io_context io_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
    std::thread thread_;

    std::shared_ptr<health::Board> board_;
    steer::Staying staying_;  ///< hold-down and damping, for the board's catalog
    boost::asio::steady_timer stay_timer_{io_};
    bool stay_ticking_ = false;
    std::unique_ptr<health::Monitor> monitor_;
    /// Per site and family (IPv4, IPv6): whether it was up at the last look.
    std::vector<std::array<std::int8_t, 2>> site_seen_;

    std::unique_ptr<Loads> loads_;
    std::unique_ptr<Peers> peers_;
    config::Cluster peers_config_;
    bool cluster_degraded_ = false;

    std::unique_ptr<ControlEndpoint> control_;

    std::unique_ptr<alert::Alerter> alerter_;
    std::vector<config::Alert> alert_targets_;
    std::string alert_identity_;
    std::uint64_t alerts_retired_[3] = {};  ///< delivered, failed, dropped by replaced alerters

    Counts retired_;                                    ///< of views no longer counted into
    std::shared_ptr<const query::View> previous_view_;  ///< the last view replaced, until retired
    boost::asio::steady_timer retire_timer_{io_};

    steer::Demand demand_;             ///< every worker's demand, decayed
    steer::DemandTable::Epoch epoch_;  ///< reused by each harvest
    boost::asio::steady_timer demand_timer_{io_};
    std::thread loader_;
    bool loading_ = false;
    bool reload_again_ = false;
    std::vector<std::function<void(bool, std::string)>> reload_waiters_;
    std::uint64_t reloads_ok_ = 0;
    std::uint64_t reloads_failed_ = 0;
};

}  // namespace dnsd::server
