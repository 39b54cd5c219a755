// The state thread's glue between the health board and the world: health
// changes published, logged and alerted; sites whose state changed; the
// alerter kept across reloads; the cluster's peers asked and their verdicts
// merged into the board.

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "dnsd/server/server_impl.hpp"

namespace dnsd::server {

void Server::Impl::health_changed() {
    const auto events = board->take_events();
    const steer::Catalog& cat = board->catalog();
    for (const auto& e : events) {
        spdlog::info("health: {}", e.text);
        if (e.kind == health::Event::Kind::verdict_up || e.kind == health::Event::Kind::verdict_down) {
            continue;  // logged; what changes answers is the merged state
        } else if (e.kind == health::Event::Kind::override_set) {
            raise({"override", cat.sites[e.index].name, "", health::to_string(board->override_of(e.index)),
                   "", e.text});
        } else {
            const bool up = e.kind == health::Event::Kind::address_up;
            raise({"address", cat.sites[cat.address_site[e.index]].name, cat.addresses[e.index].str(),
                   up ? "up" : "down", up ? "down" : "up", e.text});
        }
    }
    health_slot.publish(board->snapshot());
    site_changes(false);
    if (!events.empty()) save_state();  // the state file holds states, not every result
}

bool Server::Impl::same_cluster(const config::Cluster& a, const config::Cluster& b) {
    return a.enabled == b.enabled && a.peers == b.peers && a.quorum == b.quorum && a.token == b.token &&
           a.interval == b.interval;
}

void Server::Impl::update_peers(const config::Config& next) {
    if (peers && same_cluster(peers_config, next.cluster)) return;
    peers.reset();
    peers_config = next.cluster;
    if (next.cluster.enabled)
        peers = std::make_unique<Peers>(state, next.cluster, [this] { peers_changed(); });
    peers_changed();
}

void Server::Impl::peers_changed() {
    const steer::Catalog& cat = board->catalog();
    std::vector<std::vector<health::Verdict>> views;
    if (peers) {
        std::map<std::string, std::uint32_t> index;
        for (std::uint32_t a = 0; a < cat.addresses.size(); ++a) index[board->key(a)] = a;
        for (const auto& p : peers->states()) {
            if (!p.reachable || !peers->fresh(p)) continue;
            std::vector<health::Verdict> v(cat.addresses.size(), health::Verdict::unknown);
            for (const auto& [key, up] : p.verdicts)
                if (auto it = index.find(key); it != index.end())
                    v[it->second] = up ? health::Verdict::up : health::Verdict::down;
            views.push_back(std::move(v));
        }
    }
    const unsigned vantage_before = board->vantage_points();
    const bool changed = board->set_cluster(std::move(views), peers ? peers_config.quorum : 1);
    // Not before every peer was asked once: at start nobody is reachable yet.
    const bool settled = peers && std::all_of(peers->states().begin(), peers->states().end(),
                                              [](const PeerState& p) { return p.tried; });
    if (settled && board->degraded() != cluster_degraded) {
        cluster_degraded = board->degraded();
        const std::string text = cluster_degraded
                                     ? "cluster degraded: " + std::to_string(board->vantage_points()) +
                                           " of " + std::to_string(peers_config.peers.size() + 1) +
                                           " vantage points reachable, fewer than the quorum " +
                                           std::to_string(peers_config.quorum) + "; deciding from those"
                                     : "cluster: " + std::to_string(board->vantage_points()) +
                                           " vantage points reachable, quorum " +
                                           std::to_string(peers_config.quorum) + " met again";
        if (cluster_degraded)
            spdlog::warn("{}", text);
        else
            spdlog::info("{}", text);
        raise({"cluster", "", "", cluster_degraded ? "degraded" : "ok", cluster_degraded ? "ok" : "degraded",
               text});
    }
    if (changed || vantage_before != board->vantage_points()) health_changed();
}

std::string Server::Impl::verdicts_json() {
    namespace json = boost::json;
    json::object verdicts;
    const auto own = board->own_verdicts();
    for (std::uint32_t a = 0; a < own.size(); ++a)
        if (own[a] != health::Verdict::unknown)
            verdicts[board->key(a)] = own[a] == health::Verdict::up ? "up" : "down";
    return json::serialize(
               json::object{{"instance", cfg.server.identity}, {"verdicts", std::move(verdicts)}}) +
           "\n";
}

void Server::Impl::site_changes(bool quiet) {
    const steer::Catalog& cat = board->catalog();
    const auto snap = health_slot.load();
    if (site_seen.size() != cat.sites.size()) site_seen.assign(cat.sites.size(), {-1, -1});
    for (std::uint32_t s = 0; s < cat.sites.size(); ++s)
        for (Family f : {Family::v4, Family::v6}) {
            const auto sh = steer::site_health(cat, s, f, *snap);
            if (sh.total == 0 && cat.sites[s].cname.empty()) continue;
            if (f == Family::v6 && !cat.sites[s].cname.empty()) continue;  // one state for a CNAME site
            auto& seen = site_seen[s][f == Family::v4 ? 0 : 1];
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

void Server::Impl::raise(alert::Event e) {
    if (alerter) alerter->send(std::move(e));
}

bool Server::Impl::same_alerts(const std::vector<config::Alert>& a, const std::vector<config::Alert>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].kind != b[i].kind || a[i].url != b[i].url || a[i].command != b[i].command ||
            a[i].timeout != b[i].timeout || a[i].retries != b[i].retries)
            return false;
    return true;
}

void Server::Impl::update_alerter(const config::Config& next) {
    if (alerter && same_alerts(alert_targets, next.alerts) && alert_identity == next.server.identity) return;
    if (alerter) {
        alerter->stop();
        alerts_retired[0] += alerter->delivered();
        alerts_retired[1] += alerter->failed();
        alerts_retired[2] += alerter->dropped();
    }
    alert_targets = next.alerts;
    alert_identity = next.server.identity;
    alerter =
        next.alerts.empty() ? nullptr : std::make_unique<alert::Alerter>(next.alerts, next.server.identity);
}

void Server::Impl::start_monitor() {
    if (!alerter) update_alerter(cfg);
    if (!peers && cfg.cluster.enabled) update_peers(cfg);
    if (site_seen.empty()) site_changes(true);
    monitor = std::make_unique<health::Monitor>(state, board, [this] { health_changed(); });
    monitor->start();
}

}  // namespace dnsd::server
