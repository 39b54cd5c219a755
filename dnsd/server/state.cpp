// The state thread: its start and stop, and its glue between the health
// board and the world: health changes published, logged, alerted and saved;
// sites whose state changed; the alerter kept across reloads; the cluster's
// peers asked and their verdicts merged into the board.

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "dnsd/server/state.hpp"

#include <pthread.h>

#include "dnsd/core/name.hpp"
#include "dnsd/server/notify.hpp"
#include "dnsd/server/state_file.hpp"
#include "dnsd/steer/decide.hpp"

namespace dnsd::server {

namespace {

bool same_cluster(const config::Cluster& a, const config::Cluster& b) {
    return a.enabled == b.enabled && a.peers == b.peers && a.quorum == b.quorum && a.token == b.token &&
           a.ca_file == b.ca_file && a.interval == b.interval;
}

bool same_alerts(const std::vector<config::Alert>& a, const std::vector<config::Alert>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].kind != b[i].kind || a[i].url != b[i].url || a[i].command != b[i].command ||
            a[i].timeout != b[i].timeout || a[i].retries != b[i].retries)
            return false;
    return true;
}

}  // namespace

StateThread::StateThread(config::Config cfg, ServingSlot& serving,
                         const std::vector<std::unique_ptr<Worker>>& workers, const StateFile& saved)
    : cfg_(std::move(cfg)), started_(cfg_.server), serving_(serving), workers_(workers) {
    // The first board, before any worker runs (SPEC 3: start-up).
    board_ = std::make_shared<health::Board>(cfg_, view()->catalog_ptr(), health::unix_now());
    Diagnostics diags;
    board_->restore(saved.health, cfg_.server.state_file, diags);
    for (const auto& d : diags) spdlog::warn("{}", d.str());
    staying_ = steer::Staying(cfg_, view()->catalog_ptr());
    staying_.restore(saved.staying);
    publish_health(nullptr, true);
    update_control();
}

StateThread::~StateThread() {
    stop();
}

void StateThread::start() {
    boost::asio::post(io_, [this] {
        start_monitor();
        demand_tick();
        // Secondaries hear of every zone at start too (as NSD and BIND do):
        // the zones may have changed while dnsd was down, and a NOTIFY for
        // a serial they hold already costs them one SOA query.
        for (const auto& z : view()->zones())
            send_notify(io_, cfg_.server.notify, std::string(z->origin()), z->serial(),
                        view()->transfer_key());
    });
    thread_ = std::thread([this] {
        ::pthread_setname_np(::pthread_self(), "dnsd-state");
        io_.run();
    });
}

void StateThread::stop() {
    if (thread_.joinable()) {
        boost::asio::post(io_, [this] {
            control_.reset();
            if (monitor_) monitor_->stop();
            alerter_.reset();  // stops its thread; what is still queued is dropped
            peers_.reset();
            loads_.reset();
            work_.reset();
            io_.stop();
        });
        thread_.join();
    }
    // A loader still running posts its result to a stopped io_context,
    // where it is dropped.
    if (loader_.joinable()) loader_.join();
    monitor_.reset();
}

void StateThread::health_changed() {
    const auto events = board_->take_events();
    const steer::Catalog& cat = board_->catalog();
    for (const auto& e : events) {
        spdlog::info("health: {}", e.text);
        if (e.kind == health::Event::Kind::verdict_up || e.kind == health::Event::Kind::verdict_down) {
            continue;  // logged; what changes answers is the merged state
        } else if (e.kind == health::Event::Kind::override_set) {
            raise({"override", cat.sites[e.index].name, "", health::to_string(board_->override_of(e.index)),
                   "", e.text});
        } else {
            const bool up = e.kind == health::Event::Kind::address_up;
            // Reported under the address answered; the probe target, when
            // another (probe_targets), named beside it.
            const Address& target = cat.probe_targets[e.index];
            raise({"address", cat.sites[cat.address_site[e.index]].name, cat.addresses[e.index].str(),
                   up ? "up" : "down", up ? "down" : "up", e.text,
                   target == cat.addresses[e.index] ? "" : target.str()});
        }
    }
    publish_health();
    site_changes(false);
    if (!events.empty()) save_state();  // the state file holds states, not every result
}

void StateThread::publish_health(std::shared_ptr<const query::View> view, bool quiet) {
    auto snap = board_->snapshot();
    steer::fill_site_states(board_->catalog(), *snap);
    const auto changes = staying_.apply(*snap, unix_now_ms(), quiet);
    if (!view) view = this->view();
    const auto& services = board_->catalog().services;
    if (std::any_of(services.begin(), services.end(), [](const steer::Service& s) { return s.spill_at > 0; }))
        steer::fill_spills(board_->catalog(), site_loads(), view->reference(), *snap);
    serving_.publish(std::make_shared<const Serving>(Serving{std::move(view), std::move(snap)}));
    for (const auto& c : changes) {
        spdlog::info("health: {}", c.text);
        alert::Event e{c.kind, c.site, c.address, c.state, c.previous, c.text};
        e.service = c.service;
        raise(std::move(e));
    }
    if (!changes.empty() && !quiet) save_state();
    if (staying_.counting() && !stay_ticking_) {
        stay_ticking_ = true;
        stay_tick();
    }
}

void StateThread::stay_tick() {
    // Every second, so that TTLs are worked out again and none reaches past
    // a change to come; sooner when a hold-down ends or a damped address is
    // reused before then, so that it happens on time.
    std::int64_t wait_ms = 1000;
    if (const auto next = staying_.next_change_ms(); next > 0)
        wait_ms = std::clamp<std::int64_t>(next - unix_now_ms(), 1, 1000);
    stay_timer_.expires_after(std::chrono::milliseconds(wait_ms));
    stay_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        publish_health();
        if (staying_.counting())
            stay_tick();
        else
            stay_ticking_ = false;
    });
}

void StateThread::save_state() {
    if (cfg_.server.state_file.empty()) return;
    // The board's state, and what secondaries may hold of each zone (so that
    // a missing serial bump is still noticed after a restart).
    const StateFile state{board_->persisted(), view()->served_serials(), staying_.saved()};
    std::string error;
    if (!write_state_file(cfg_.server.state_file, state, error))
        spdlog::error("cannot write state file {}: {}", cfg_.server.state_file, error);
}

void StateThread::update_peers() {
    if (peers_ && same_cluster(peers_config_, cfg_.cluster)) return;
    peers_.reset();
    peers_config_ = cfg_.cluster;
    if (cfg_.cluster.enabled)
        peers_ = std::make_unique<Peers>(io_, cfg_.cluster, [this] { peers_changed(); });
    peers_changed();
}

void StateThread::peers_changed() {
    const steer::Catalog& cat = board_->catalog();
    std::vector<std::vector<health::Verdict>> views;
    if (peers_) {
        std::map<std::string, std::uint32_t> index;
        for (std::uint32_t a = 0; a < cat.addresses.size(); ++a) index[board_->key(a)] = a;
        for (const auto& p : peers_->states()) {
            if (!p.reachable || !peers_->fresh(p)) continue;
            std::vector<health::Verdict> v(cat.addresses.size(), health::Verdict::unknown);
            for (const auto& [key, up] : p.verdicts)
                if (auto it = index.find(key); it != index.end())
                    v[it->second] = up ? health::Verdict::up : health::Verdict::down;
            views.push_back(std::move(v));
        }
    }
    const unsigned vantage_before = board_->vantage_points();
    const bool changed = board_->set_cluster(std::move(views), peers_ ? peers_config_.quorum : 1);
    // Not before every peer was asked once: at start nobody is reachable yet.
    const bool settled = peers_ && std::all_of(peers_->states().begin(), peers_->states().end(),
                                               [](const PeerState& p) { return p.tried; });
    if (settled && board_->degraded() != cluster_degraded_) {
        cluster_degraded_ = board_->degraded();
        const std::string text = cluster_degraded_
                                     ? "cluster degraded: " + std::to_string(board_->vantage_points()) +
                                           " of " + std::to_string(peers_config_.peers.size() + 1) +
                                           " vantage points reachable, fewer than the quorum " +
                                           std::to_string(peers_config_.quorum) + "; deciding from those"
                                     : "cluster: " + std::to_string(board_->vantage_points()) +
                                           " vantage points reachable, quorum " +
                                           std::to_string(peers_config_.quorum) + " met again";
        if (cluster_degraded_)
            spdlog::warn("{}", text);
        else
            spdlog::info("{}", text);
        raise({"cluster", "", "", cluster_degraded_ ? "degraded" : "ok",
               cluster_degraded_ ? "ok" : "degraded", text});
    }
    if (changed || vantage_before != board_->vantage_points())
        health_changed();
    else if (loads_ && peers_)
        publish_health();  // the peers' load readings
}

std::string StateThread::verdicts_json() const {
    namespace json = boost::json;
    json::object verdicts;
    const auto own = board_->own_verdicts();
    for (std::uint32_t a = 0; a < own.size(); ++a)
        if (own[a] != health::Verdict::unknown)
            verdicts[board_->key(a)] = own[a] == health::Verdict::up ? "up" : "down";
    // Own load readings too (SPEC 10): every instance uses the freshest.
    json::object loads;
    if (loads_)
        for (const auto& r : loads_->readings())
            if (r.ok)
                loads[r.site] = json::object{{"value", r.value},
                                             {"age_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                            std::chrono::steady_clock::now() - r.fetched)
                                                            .count()}};
    return json::serialize(json::object{{"instance", cfg_.server.identity},
                                        {"verdicts", std::move(verdicts)},
                                        {"loads", std::move(loads)}}) +
           "\n";
}

void StateThread::site_changes(bool quiet) {
    const steer::Catalog& cat = board_->catalog();
    const auto snap = serving_.load()->health;
    if (site_seen_.size() != cat.sites.size()) site_seen_.assign(cat.sites.size(), {-1, -1});
    for (std::uint32_t s = 0; s < cat.sites.size(); ++s)
        for (Family f : {Family::v4, Family::v6}) {
            const auto sh = steer::site_health(cat, s, f, *snap);
            if (sh.total == 0 && cat.sites[s].cname.empty()) continue;
            if (f == Family::v6 && !cat.sites[s].cname.empty()) continue;  // one state for a CNAME site
            auto& seen = site_seen_[s][f == Family::v4 ? 0 : 1];
            const std::int8_t now = sh.is_up ? 1 : 0;
            if (seen == now) continue;
            const bool first = seen < 0;
            seen = now;
            if (quiet || first) continue;
            const char* fam = cat.sites[s].cname.empty() ? (f == Family::v4 ? " IPv4" : " IPv6") : "";
            const std::string text = "site " + cat.sites[s].name + fam + " is " + (now ? "up" : "down") +
                                     " (" + std::to_string(sh.up) + "/" + std::to_string(sh.total) +
                                     " addresses up)";
            spdlog::info("health: {}", text);
            raise({"site", cat.sites[s].name, "", now ? "up" : "down", now ? "down" : "up", text});
        }
}

void StateThread::raise(alert::Event e) {
    if (alerter_) alerter_->send(std::move(e));
}

void StateThread::update_alerter() {
    const auto& next = cfg_;
    if (alerter_ && same_alerts(alert_targets_, next.alerts) && alert_identity_ == next.server.identity)
        return;
    if (alerter_) {
        alerter_->stop();
        alerts_retired_[0] += alerter_->delivered();
        alerts_retired_[1] += alerter_->failed();
        alerts_retired_[2] += alerter_->dropped();
    }
    alert_targets_ = next.alerts;
    alert_identity_ = next.server.identity;
    alerter_ =
        next.alerts.empty() ? nullptr : std::make_unique<alert::Alerter>(next.alerts, next.server.identity);
}

void StateThread::update_loads() {
    std::vector<LoadReading> previous;
    if (loads_) previous = loads_->readings();
    loads_.reset();
    const bool any = std::any_of(cfg_.sites.begin(), cfg_.sites.end(),
                                 [](const config::Site& s) { return !s.load.empty(); });
    if (any)
        loads_ = std::make_unique<Loads>(io_, cfg_.sites, previous,
                                         [this](const LoadReading& r) { load_changed(r); });
}

void StateThread::load_changed(const LoadReading& r) {
    if (r.ok) {
        spdlog::debug("load: site {} at {}", r.site, r.value);
    } else {
        // Once per loss of the reading, not at every poll.
        const std::string text =
            "load of site " + r.site + " cannot be read (" + r.error + "); it counts as not overloaded";
        spdlog::warn("{}", text);
        raise({"load", r.site, "", "unreadable", "", text});
    }
    publish_health();
}

std::vector<double> StateThread::site_loads() const {
    const auto& sites = board_->catalog().sites;
    std::vector<double> out(sites.size(), -1.0);
    if (!loads_) return out;
    const auto now = std::chrono::steady_clock::now();
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    for (const auto& r : loads_->readings()) {
        const auto site =
            std::find_if(sites.begin(), sites.end(), [&](const auto& s) { return s.name == r.site; });
        if (site == sites.end()) continue;
        double& load = out[static_cast<std::size_t>(site - sites.begin())];
        // The freshest reading: this instance's own, or a fresh peer's
        // (SPEC 10: with a [cluster], instances share their readings).
        std::int64_t best_age = -1;
        if (r.ok) {
            best_age = duration_cast<milliseconds>(now - r.fetched).count();
            load = r.value;
        }
        if (!peers_) continue;
        for (const auto& p : peers_->states()) {
            if (!p.reachable || !peers_->fresh(p)) continue;
            const auto it = p.loads.find(r.site);
            if (it == p.loads.end()) continue;
            const std::int64_t age = it->second.age_ms + duration_cast<milliseconds>(now - p.fetched).count();
            if (best_age < 0 || age < best_age) {
                best_age = age;
                load = it->second.value;
            }
        }
    }
    return out;
}

void StateThread::start_monitor() {
    if (!alerter_) update_alerter();
    if (!loads_) update_loads();
    if (!peers_ && cfg_.cluster.enabled) update_peers();
    if (site_seen_.empty()) site_changes(true);
    monitor_ = std::make_unique<health::Monitor>(io_, board_, [this] { health_changed(); });
    monitor_->start();
}

}  // namespace dnsd::server
