#include "dnsd/server/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "dnsd/alert/alerter.hpp"
#include "dnsd/core/name.hpp"
#include "dnsd/core/version.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/server/control.hpp"
#include "dnsd/server/notify.hpp"
#include "dnsd/server/peers.hpp"
#include "dnsd/server/privileges.hpp"
#include "dnsd/server/worker.hpp"
#include "health/board.hpp"
#include "health/monitor.hpp"

namespace dnsd::server {

using asio::ip::tcp;
using asio::ip::udp;

asio::ip::address to_asio(const Address& a) {
    if (a.family == Family::v4) {
        asio::ip::address_v4::bytes_type b;
        std::copy_n(a.bytes.begin(), 4, b.begin());
        return asio::ip::address_v4(b);
    }
    asio::ip::address_v6::bytes_type b;
    std::copy_n(a.bytes.begin(), 16, b.begin());
    return asio::ip::address_v6(b);
}

namespace {

template <typename Socket>
void reuse_port(Socket& s) {
    const int on = 1;
    if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
        throw std::system_error(errno, std::generic_category(), "SO_REUSEPORT");
}

bool is_wildcard(const Address& a) {
    for (auto b : a.view())
        if (b) return false;
    return true;
}

}  // namespace

Worker::Worker(unsigned index, const SnapshotSlot<query::View>& slot,
               const SnapshotSlot<health::Snapshot>& health, const std::vector<Endpoint>& listen,
               const TcpLimits& limits, bool shared)
    : index_(index), view_(slot), health_(health), limits_(limits), batch_(make_udp_batch()) {
    random_.state ^= (static_cast<std::uint64_t>(index) + 1) * 0xD1B54A32D192ED03ull ^
                     static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (const auto& ep : listen) {
        const auto addr = to_asio(ep.address);
        const bool v6 = ep.address.family == Family::v6;
        auto u = std::make_unique<udp::socket>(io_);
        u->open(v6 ? udp::v6() : udp::v4());
        // No SO_REUSEADDR on UDP: on Linux it would let another socket bind
        // the same address and take the queries.
        if (shared) reuse_port(*u);
        if (v6) u->set_option(asio::ip::v6_only(true));
        if (is_wildcard(ep.address)) enable_pktinfo(*u, v6);
        boost::system::error_code ec;
        u->bind(udp::endpoint(addr, ep.port), ec);
        if (ec) throw std::runtime_error("cannot listen on " + ep.str() + " (UDP): " + ec.message());
        u->non_blocking(true);
        udp_.push_back(std::move(u));

        auto t = std::make_unique<tcp::acceptor>(io_);
        t->open(v6 ? tcp::v6() : tcp::v4());
        t->set_option(asio::socket_base::reuse_address(true));
        if (shared) reuse_port(*t);
        if (v6) t->set_option(asio::ip::v6_only(true));
        t->bind(tcp::endpoint(addr, ep.port), ec);
        if (ec) throw std::runtime_error("cannot listen on " + ep.str() + " (TCP): " + ec.message());
        t->listen(asio::socket_base::max_listen_connections);
        tcp_.push_back(std::move(t));
    }
}

Worker::~Worker() {
    stop();
}

void Worker::log_query(const query::View& v, const query::Result& r, bool tcp,
                       std::span<const std::uint8_t> request, const Address& client) noexcept {
    try {
        wire::Query q;
        wire::parse_query(request, q);
        std::string what = "-";
        if (q.has_question) {
            what = name_to_text(std::string(reinterpret_cast<const char*>(q.qname_lower), q.qname_size));
            what += " type " + std::to_string(q.qtype);
        }
        std::string steering;
        if (r.service >= 0) {
            const auto& svc = v.catalog().services[static_cast<std::size_t>(r.service)];
            steering =
                std::string(" decision ") +
                (r.decision < svc.sites.size() ? v.catalog().sites[svc.sites[r.decision]].name.c_str()
                                               : query::Counters::extra_name(r.decision - svc.sites.size()));
        }
        spdlog::info("query {} {} {} rcode {}{}", client.str(), tcp ? "tcp" : "udp", what, r.rcode, steering);
    } catch (...) {
        // A log line that cannot be made is not worth a query.
    }
}

void Worker::start() {
    for (auto& u : udp_) asio::co_spawn(io_, udp_loop(*this, *u, *batch_), asio::detached);
    for (auto& t : tcp_) asio::co_spawn(io_, tcp_accept_loop(*this, *t), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
}

void Worker::stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
}

namespace {

/// Writes `text` to `path` atomically: a temporary file beside it, then
/// rename, so that a crash never leaves half a state file.
bool write_atomically(const std::string& path, const std::string& text, std::string& error) {
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) {
        error = std::strerror(errno);
        return false;
    }
    const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    const bool flushed = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
    std::fclose(f);
    if (!written || !flushed || std::rename(tmp.c_str(), path.c_str()) != 0) {
        error = std::strerror(errno);
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

}  // namespace

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

    Impl(config::Config c, std::shared_ptr<const query::View> view)
        : cfg(std::move(c)), slot(std::move(view)) {
        // The first board is built here, before any worker runs, from the
        // state file when there is one (SPEC 3: start-up).
        board = std::make_shared<health::Board>(cfg, slot.load()->catalog_ptr(), health::unix_now());
        if (!cfg.server.state_file.empty()) {
            std::ifstream in(cfg.server.state_file);
            if (in) {
                std::ostringstream text;
                text << in.rdbuf();
                Diagnostics diags;
                board->load_state(text.str(), cfg.server.state_file, diags);
                for (const auto& d : diags) spdlog::warn("{}", d.str());
                spdlog::info("state read from {}", cfg.server.state_file);
            }
        }
        health_slot.publish(board->snapshot());
    }

    /// State thread: a change on the board. Publish, log, alert, save.
    void health_changed() {
        const auto events = board->take_events();
        const steer::Catalog& cat = board->catalog();
        for (const auto& e : events) {
            spdlog::info("health: {}", e.text);
            if (e.kind == health::Event::Kind::verdict_up || e.kind == health::Event::Kind::verdict_down) {
                continue;  // logged; what changes answers is the merged state
            } else if (e.kind == health::Event::Kind::override_set) {
                raise({"override", cat.sites[e.index].name, "",
                       health::to_string(board->override_of(e.index)), "", e.text});
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

    // ---- cluster (state thread) ----

    std::unique_ptr<Peers> peers;
    config::Cluster peers_config;
    bool cluster_degraded = false;

    static bool same_cluster(const config::Cluster& a, const config::Cluster& b) {
        return a.enabled == b.enabled && a.peers == b.peers && a.quorum == b.quorum && a.token == b.token &&
               a.interval == b.interval;
    }

    /// Starts asking the peers (again, when the [cluster] changed).
    void update_peers(const config::Config& next) {
        if (peers && same_cluster(peers_config, next.cluster)) return;
        peers.reset();
        peers_config = next.cluster;
        if (next.cluster.enabled)
            peers = std::make_unique<Peers>(state, next.cluster, [this] { peers_changed(); });
        peers_changed();
    }

    /// Merges the fresh peers' verdicts into the board (SPEC 8).
    void peers_changed() {
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
            raise({"cluster", "", "", cluster_degraded ? "degraded" : "ok",
                   cluster_degraded ? "ok" : "degraded", text});
        }
        if (changed || vantage_before != board->vantage_points()) health_changed();
    }

    /// GET /cluster/verdicts: this instance's own verdicts, never merged ones.
    std::string verdicts_json() {
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

    /// Per site and family (IPv4, IPv6): whether it was up at the last look.
    std::vector<std::array<std::int8_t, 2>> site_seen;

    /// Logs and alerts the sites whose state changed since the last look;
    /// `quiet` only takes the new state (start, and a reload's new catalog).
    void site_changes(bool quiet) {
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

    /// An event for the operator (SPEC 7): queued for every [[alert]]
    /// target, delivered on the alerter's own thread. State thread only.
    struct Notice {
        std::string kind, site, address, state, previous, message;
    };
    std::unique_ptr<alert::Alerter> alerter;
    std::uint64_t alerts_retired[3] = {};  ///< delivered, failed, dropped by replaced alerters

    void raise(Notice n) {
        if (!alerter) return;
        alerter->send(alert::Event{std::move(n.kind), std::move(n.site), std::move(n.address),
                                   std::move(n.state), std::move(n.previous), std::move(n.message),
                                   health::unix_now()});
    }

    static bool same_alerts(const std::vector<config::Alert>& a, const std::vector<config::Alert>& b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (a[i].kind != b[i].kind || a[i].url != b[i].url || a[i].command != b[i].command ||
                a[i].timeout != b[i].timeout || a[i].retries != b[i].retries)
                return false;
        return true;
    }

    /// A reload keeps the alerter (and what it has queued) unless the
    /// targets changed.
    void update_alerter(const config::Config& next) {
        if (alerter && same_alerts(alert_targets, next.alerts) && alert_identity == next.server.identity)
            return;
        if (alerter) {
            alerter->stop();
            alerts_retired[0] += alerter->delivered();
            alerts_retired[1] += alerter->failed();
            alerts_retired[2] += alerter->dropped();
        }
        alert_targets = next.alerts;
        alert_identity = next.server.identity;
        alerter = next.alerts.empty() ? nullptr
                                      : std::make_unique<alert::Alerter>(next.alerts, next.server.identity);
    }
    std::vector<config::Alert> alert_targets;
    std::string alert_identity;

    void save_state() {
        if (cfg.server.state_file.empty()) return;
        namespace json = boost::json;
        // The board's state, and the serials served (so that the serial
        // rule holds across restarts).
        auto doc = json::parse(board->state_json()).as_object();
        json::object serials;
        for (const auto& [origin, served] : slot.load()->served_serials()) {
            char digest[17];
            std::snprintf(digest, sizeof digest, "%016llx", static_cast<unsigned long long>(served.digest));
            serials[origin] = json::object{{"serial", served.serial}, {"digest", digest}};
        }
        doc["serials"] = std::move(serials);
        std::string error;
        if (!write_atomically(cfg.server.state_file, json::serialize(doc) + "\n", error))
            spdlog::error("cannot write state file {}: {}", cfg.server.state_file, error);
    }

    void start_monitor() {
        if (!alerter) update_alerter(cfg);
        if (!peers && cfg.cluster.enabled) update_peers(cfg);
        if (site_seen.empty()) site_changes(true);
        monitor = std::make_unique<health::Monitor>(state, board, [this] { health_changed(); });
        monitor->start();
    }

    /// State thread: a reload brought a new catalog. A new board keeps the
    /// state of unchanged targets; health is published before the view, and
    /// queries ignore a health snapshot of another catalog meanwhile.
    void swap_board(std::shared_ptr<const query::View> view, config::Config next) {
        if (monitor) monitor->stop();
        update_alerter(next);
        auto fresh = std::make_shared<health::Board>(next, view->catalog_ptr(), health::unix_now());
        fresh->carry_over(*board);
        board = std::move(fresh);
        health_slot.publish(board->snapshot());
        site_seen.clear();
        site_changes(true);
        update_peers(next);
        if (peers) peers_changed();  // the new board's addresses
        // The view being replaced may still take a few counts from workers
        // mid-batch; it is folded into the totals one reload later.
        if (previous_view) fold_counts(*previous_view, retired);
        previous_view = slot.load();
        slot.publish(view);
        // Secondaries hear of every zone whose serial moved (RFC 1996).
        if (!next.server.notify.empty())
            for (const auto& z : view->zones()) {
                const auto& before = previous_view->served_serials();
                const auto it = before.find(name_to_text(name_lower(std::string(z->origin()))));
                if (it == before.end() || it->second.serial != z->serial())
                    send_notify(state, next.server.notify, std::string(z->origin()), z->serial());
            }
        start_monitor();
        save_state();
    }

    void wait_signal() {
        signals.async_wait([this](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                reload();
                wait_signal();
                return;
            }
            spdlog::info("signal {}: stopping", sig);
            main.stop();
        });
    }

    /// Builds the new config and zones on a loader thread; the result is
    /// published from the main thread. A reload asked for while one runs is
    /// done once more after it, so the last edit always wins.
    void reload() {
        if (loading.exchange(true)) {
            reload_again = true;
            return;
        }
        notify_service_manager("RELOADING=1");
        if (loader.joinable()) loader.join();
        const std::string path = cfg.path;
        loader = std::thread([this, path, served = slot.load()->served_serials()] {
            Diagnostics diags;
            auto next = config::read_config(path, diags);
            std::shared_ptr<const query::View> view;
            if (!diags.has_errors()) view = query::View::load(next, diags, &served);
            asio::post(main, [this, next = std::move(next), view = std::move(view),
                              diags = std::move(diags)]() mutable {
                finish_reload(std::move(next), std::move(view), diags);
            });
        });
    }

    void finish_reload(config::Config next, std::shared_ptr<const query::View> view,
                       const Diagnostics& diags) {
        for (const auto& d : diags) {
            if (d.severity == Severity::warning)
                spdlog::warn("reload: {}", d.str());
            else
                spdlog::error("reload: {}", d.str());
        }
        std::string message;
        for (const auto& d : diags) message += d.str() + "\n";
        if (!view) {
            spdlog::error("reload of {} failed; still serving the previous configuration", cfg.path);
            message += "reload failed; still serving the previous configuration";
            asio::post(state, [this, message] { raise({"reload", "", "", "failed", "", message}); });
        } else {
            message += "reloaded " + cfg.path + ": " + std::to_string(view->zones().size()) + " zones";
            const auto& a = next.server;
            const auto& b = cfg.server;
            if (a.listen != b.listen || a.threads != b.threads || a.tcp_connections != b.tcp_connections ||
                a.tcp_per_client != b.tcp_per_client || a.tcp_idle_timeout != b.tcp_idle_timeout ||
                a.tcp_lifetime != b.tcp_lifetime || a.user != b.user) {
                spdlog::warn("reload: changes to server.listen, threads, user and tcp_* need a restart");
                message += "\nchanges to server.listen, threads, user and tcp_* need a restart";
            }
            asio::post(state, [this, view, copy = next] { swap_board(view, copy); });
            // What was set up at start stays as it was until a restart.
            const auto kept = cfg.server;
            cfg = std::move(next);
            cfg.server.listen = kept.listen;
            cfg.server.threads = kept.threads;
            cfg.server.user = kept.user;
            cfg.server.tcp_connections = kept.tcp_connections;
            cfg.server.tcp_per_client = kept.tcp_per_client;
            cfg.server.tcp_idle_timeout = kept.tcp_idle_timeout;
            cfg.server.tcp_lifetime = kept.tcp_lifetime;
            spdlog::info("reloaded {}: {} zones", cfg.path, view->zones().size());
        }
        loading = false;
        notify_service_manager("READY=1");
        if (reload_again) {
            reload_again = false;
            reload();
            return;  // the waiters hear the result of the newest reload
        }
        (view ? reloads_ok : reloads_failed).fetch_add(1);
        auto waiting = std::move(reload_waiters);
        reload_waiters.clear();
        for (auto& done : waiting) done(view != nullptr, message);
    }

    // ---- control endpoint (state thread) ----

    std::string status_json() {
        namespace json = boost::json;
        const auto snap = health_slot.load();  // what the workers answer from
        const steer::Catalog& cat = board->catalog();
        json::array sites;
        for (std::uint32_t s = 0; s < cat.sites.size(); ++s) {
            const auto& site = cat.sites[s];
            json::object o{{"name", site.name}, {"override", health::to_string(board->override_of(s))}};
            if (board->override_until(s)) o["override_until"] = board->override_until(s);
            if (!site.cname.empty()) {
                o["cname"] = name_to_text(site.cname);
            } else {
                for (Family f : {Family::v4, Family::v6}) {
                    const auto sh = steer::site_health(cat, s, f, *snap);
                    o[f == Family::v4 ? "ipv4" : "ipv6"] =
                        json::object{{"state", sh.total ? (sh.is_up ? "up" : "down") : "none"},
                                     {"up", sh.up},
                                     {"total", sh.total}};
                }
            }
            if (site.located) o["location"] = json::object{{"lat", site.lat}, {"lon", site.lon}};
            json::array addresses;
            for (std::uint32_t a = 0; a < cat.addresses.size(); ++a) {
                if (cat.address_site[a] != s) continue;
                const auto& info = snap->info[a];
                json::object ao{{"address", cat.addresses[a].str()},
                                {"up", snap->up[a] != 0},
                                {"probed", info.probed},
                                {"since", info.since}};
                if (info.has_result)
                    ao["last"] = json::object{
                        {"ok", info.last_ok}, {"latency_ms", info.latency_ms}, {"message", info.message}};
                addresses.push_back(std::move(ao));
            }
            o["addresses"] = std::move(addresses);
            sites.push_back(std::move(o));
        }
        json::array services;
        for (const auto& svc : cat.services) {
            json::array names;
            for (auto i : svc.sites) names.push_back(json::string(cat.sites[i].name));
            services.push_back(json::object{{"name", name_to_text(svc.name)}, {"sites", std::move(names)}});
        }
        json::object doc{
            {"generation", snap->generation}, {"sites", std::move(sites)}, {"services", std::move(services)}};
        if (peers) {
            json::array list;
            for (const auto& p : peers->states()) {
                json::object o{
                    {"url", p.url}, {"reachable", p.reachable}, {"counted", p.reachable && peers->fresh(p)}};
                if (!p.instance.empty()) o["instance"] = p.instance;
                if (!p.error.empty()) o["error"] = p.error;
                list.push_back(std::move(o));
            }
            doc["cluster"] = json::object{{"quorum", board->quorum()},
                                          {"vantage_points", board->vantage_points()},
                                          {"degraded", board->degraded()},
                                          {"peers", std::move(list)}};
        }
        return json::serialize(doc) + "\n";
    }

    /// GET /: a page a person would rather look at than read: the sites on a
    /// plot of the world by their coordinates, coloured by state, and a
    /// table of sites and addresses. Self-contained (no outside assets) and
    /// refreshing itself every 5 seconds.
    std::string status_page() {
        const auto snap = health_slot.load();
        const steer::Catalog& cat = board->catalog();
        auto esc = [](const std::string& in) {
            std::string out;
            for (char ch : in) {
                switch (ch) {
                    case '&':
                        out += "&amp;";
                        break;
                    case '<':
                        out += "&lt;";
                        break;
                    case '>':
                        out += "&gt;";
                        break;
                    case '"':
                        out += "&quot;";
                        break;
                    case '\'':
                        out += "&#39;";
                        break;
                    default:
                        out += ch;
                }
            }
            return out;
        };
        auto site_state = [&](std::uint32_t s) -> std::string {
            const auto ov = board->override_of(s);
            if (ov == health::Override::down) return "down";
            if (!cat.sites[s].cname.empty()) return ov == health::Override::drain ? "drain" : "up";
            const auto v4 = steer::site_health(cat, s, Family::v4, *snap);
            const auto v6 = steer::site_health(cat, s, Family::v6, *snap);
            const bool up = (v4.total && v4.is_up) || (v6.total && v6.is_up);
            if (ov == health::Override::drain && up) return "drain";
            return up ? "up" : "down";
        };
        std::string h =
            "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">"
            "<title>dnsd status</title><style>"
            "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}"
            "td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}"
            ".up{color:#1a7f37}.down{color:#c62828;font-weight:bold}.drain{color:#b26a00}"
            "svg{background:#f4f7fb;border:1px solid #ccd}</style></head><body><h1>dnsd " +
            esc(slot.load()->identity()) + "</h1>";
        // The plot: longitude and latitude as x and y (equirectangular).
        h += "<svg width=\"720\" height=\"360\" viewBox=\"0 0 720 360\" role=\"img\" "
             "aria-label=\"sites by location\">";
        for (int lon = -150; lon <= 150; lon += 30)
            h += "<line x1=\"" + std::to_string((lon + 180) * 2) + "\" y1=\"0\" x2=\"" +
                 std::to_string((lon + 180) * 2) + "\" y2=\"360\" stroke=\"#dde\"/>";
        for (int lat = -60; lat <= 60; lat += 30)
            h += "<line x1=\"0\" y1=\"" + std::to_string((90 - lat) * 2) + "\" x2=\"720\" y2=\"" +
                 std::to_string((90 - lat) * 2) + "\" stroke=\"#dde\"/>";
        h += "<line x1=\"0\" y1=\"180\" x2=\"720\" y2=\"180\" stroke=\"#aab\"/>"
             "<line x1=\"360\" y1=\"0\" x2=\"360\" y2=\"360\" stroke=\"#aab\"/>"
             "<text x=\"4\" y=\"176\" font-size=\"11\" fill=\"#667\">equator</text>"
             "<text x=\"364\" y=\"354\" font-size=\"11\" fill=\"#667\">0\u00b0 longitude</text>";
        for (std::uint32_t s = 0; s < cat.sites.size(); ++s) {
            const auto& site = cat.sites[s];
            if (!site.located) continue;
            const std::string shown = site_state(s);
            const char* colour = shown == "up" ? "#2e9d4f" : shown == "drain" ? "#e69500" : "#d32f2f";
            const std::string x = std::to_string(static_cast<int>((site.lon + 180) * 2));
            const std::string y = std::to_string(static_cast<int>((90 - site.lat) * 2));
            h += "<circle cx=\"" + x + "\" cy=\"" + y + "\" r=\"7\" fill=\"" + colour + "\"><title>" +
                 esc(site.name) + ": " + shown + "</title></circle><text x=\"" + x + "\" y=\"" + y +
                 "\" dx=\"10\" dy=\"5\" font-size=\"14\" font-weight=\"bold\">" + esc(site.name) + "</text>";
        }
        h += "</svg><p class=\"legend\"><span style=\"color:#2e9d4f\">\u25cf</span> up "
             "<span style=\"color:#e69500\">\u25cf</span> drained "
             "<span style=\"color:#d32f2f\">\u25cf</span> down &nbsp; generation " +
             std::to_string(snap->generation) + "</p>";
        h += "<h2>Sites</h2><table><tr><th>site</th><th>state</th><th>override</th><th>address</th>"
             "<th>address state</th><th>last probe</th></tr>";
        for (std::uint32_t s = 0; s < cat.sites.size(); ++s) {
            const auto& site = cat.sites[s];
            const std::string shown = site_state(s);
            const std::string head = "<td>" + esc(site.name) + "</td><td class=\"" + shown + "\">" + shown +
                                     "</td><td>" + health::to_string(board->override_of(s)) + "</td>";
            bool first = true;
            for (std::uint32_t a = 0; a < cat.addresses.size(); ++a) {
                if (cat.address_site[a] != s) continue;
                const auto& info = snap->info[a];
                const bool up = snap->up[a] != 0;
                std::string last = info.probed ? "no result yet" : "not probed";
                if (info.has_result)
                    last = std::string(info.last_ok ? "passed" : "failed") + " in " +
                           std::to_string(info.latency_ms) + " ms: " + esc(info.message);
                h += "<tr>" + (first ? head : "<td></td><td></td><td></td>") + "<td>" +
                     cat.addresses[a].str() + "</td><td class=\"" + (up ? "up\">up" : "down\">down") +
                     "</td><td>" + last + "</td></tr>";
                first = false;
            }
            if (first)
                h += "<tr>" + head + "<td>" +
                     (site.cname.empty() ? "" : "CNAME " + esc(name_to_text(site.cname))) +
                     "</td><td></td><td></td></tr>";
        }
        h += "</table><h2>Services</h2><table><tr><th>name</th><th>policy</th><th>sites</th>"
             "<th>answering now (IPv4)</th></tr>";
        static constexpr const char* kPolicy[] = {"nearest", "failover", "weighted", "all"};
        for (const auto& svc : cat.services) {
            std::string names;
            for (auto i : svc.sites) names += (names.empty() ? "" : ", ") + esc(cat.sites[i].name);
            // What a client of unknown location gets now (nearest: the
            // listed order; weighted and max_answers: one draw).
            steer::Random random;
            const auto choice = steer::decide(cat, svc, Family::v4, steer::Client{}, *snap, random);
            std::string now;
            if (choice.kind == steer::Choice::Kind::cname)
                now = "CNAME " + esc(name_to_text(cat.sites[choice.site].cname));
            for (unsigned i = 0; i < choice.count; ++i)
                now += (now.empty() ? "" : ", ") + cat.addresses[choice.address[i]].str();
            if (choice.kind == steer::Choice::Kind::nodata) now = "nothing (NODATA)";
            if (choice.fallback) now += " (fallback)";
            if (svc.policy == config::Service::Policy::nearest) now += " (client of unknown location)";
            h += "<tr><td>" + esc(name_to_text(svc.name)) + "</td><td>" +
                 kPolicy[static_cast<unsigned>(svc.policy)] + "</td><td>" + names + "</td><td>" + now +
                 "</td></tr>";
        }
        h += "</table><p>JSON: <a href=\"/status\">/status</a></p></body></html>\n";
        return h;
    }

    int set_override(const std::string& site, const std::string& wanted, std::int64_t until,
                     std::string& body) {
        namespace json = boost::json;
        const steer::Catalog& cat = board->catalog();
        std::uint32_t s = 0;
        while (s < cat.sites.size() && cat.sites[s].name != site) ++s;
        if (s == cat.sites.size()) {
            body = json::serialize(json::object{{"error", "no site named " + site}}) + "\n";
            return 404;
        }
        health::Override o;
        if (wanted == "up")
            o = health::Override::up;
        else if (wanted == "down")
            o = health::Override::down;
        else if (wanted == "drain")
            o = health::Override::drain;
        else if (wanted == "auto")
            o = health::Override::none;
        else {
            body = json::serialize(json::object{{"error", "state must be up, down, drain or auto"}}) + "\n";
            return 400;
        }
        if (until && until <= health::unix_now()) {
            body = json::serialize(json::object{{"error", "until is in the past"}}) + "\n";
            return 400;
        }
        if (board->set_override(s, o, until) && monitor) monitor->notify();  // publish, log, save
        json::object reply{{"site", site}, {"override", health::to_string(o)}};
        if (until && o != health::Override::none) reply["until"] = until;
        body = json::serialize(reply) + "\n";
        return 200;
    }

    /// GET /explain: the CH TXT explanation, through the real query path:
    /// a CH TXT query for `name` with ECS for `client`, answered by the
    /// current view, its TXT strings returned as JSON lines.
    int explain(const std::string& name, const std::string& client, const std::string& type,
                std::string& body) {
        namespace json = boost::json;
        auto fail = [&](int status, const std::string& why) {
            body = json::serialize(json::object{{"error", why}}) + "\n";
            return status;
        };
        const auto wire = name_from_text(name.empty() || name.back() == '.' ? name : name + ".");
        if (name.empty() || !wire) return fail(400, "name= must be a domain name");
        std::optional<Address> where;
        if (!client.empty() && !(where = Address::parse(client)))
            return fail(400, "client= must be an IP address");
        std::vector<std::uint8_t> q;
        auto put16 = [&](unsigned v) {
            q.push_back(static_cast<std::uint8_t>(v >> 8));
            q.push_back(static_cast<std::uint8_t>(v));
        };
        for (unsigned v : {0x4242u, 0u, 1u, 0u, 0u, 1u}) put16(v);
        q.insert(q.end(), wire->begin(), wire->end());
        put16(16);  // TXT
        put16(3);   // CH
        const auto bytes = where ? where->view() : std::span<const std::uint8_t>{};
        q.push_back(0);
        put16(41);
        put16(1232);
        put16(0);
        put16(0);
        put16(where ? 8 + static_cast<unsigned>(bytes.size()) : 0);
        if (where) {
            put16(8);
            put16(4 + static_cast<unsigned>(bytes.size()));
            put16(where->family == Family::v4 ? 1 : 2);
            q.push_back(static_cast<std::uint8_t>(where->bits()));
            q.push_back(0);
            q.insert(q.end(), bytes.begin(), bytes.end());
        }
        std::vector<std::uint8_t> out(65535);
        const auto snap = health_slot.load();
        const auto view = slot.load();
        const auto r = query::answer(q, out, *view,
                                     query::Client{*Address::parse("127.0.0.1"), query::Transport::tcp,
                                                   snap.get(), nullptr, nullptr, true});
        if (r.size < 12 || (out[3] & 0xF) != 0) return fail(404, name + " is not a service name here");
        // The answer section: TXT records written by the explanation (the
        // owner is a pointer, one string each).
        json::array lines;
        std::size_t pos = 12 + wire->size() + 4;
        const unsigned an = (out[6] << 8) | out[7];
        for (unsigned i = 0; i < an && pos + 13 <= r.size; ++i) {
            const std::size_t rdlen = (out[pos + 10] << 8) | out[pos + 11];
            const std::size_t len = out[pos + 12];
            if (pos + 12 + rdlen > r.size || len + 1 > rdlen) break;
            const std::string_view text(reinterpret_cast<const char*>(&out[pos + 13]), len);
            // Lines about the other family are left out when one is asked.
            if (!(type == "A" && text.starts_with("AAAA ")) && !(type == "AAAA" && text.starts_with("A ")))
                lines.push_back(json::string(text));
            pos += 12 + rdlen;
        }
        if (lines.empty()) return fail(404, name + " is not a service name here");
        body = json::serialize(json::object{{"name", name}, {"lines", std::move(lines)}}) + "\n";
        return 200;
    }

    // ---- per-view counters, by name across reloads (state thread) ----

    /// Query counts by zone, and steering decisions by service, outcome and
    /// site, keyed by their label text.
    struct Totals {
        std::map<std::string, std::uint64_t> zones;
        std::map<std::string, std::uint64_t> decisions;
    };
    Totals retired;                                    ///< of views no longer counted into
    std::shared_ptr<const query::View> previous_view;  ///< the last view replaced

    static void fold_counts(const query::View& v, Totals& into) {
        const auto& counters = v.counters();
        for (std::size_t z = 0; z < v.zones().size(); ++z)
            if (const auto n = counters.zone_total(z))
                into.zones["zone=\"" + label_value(name_to_text(v.zones()[z]->origin())) + "\""] += n;
        const steer::Catalog& cat = v.catalog();
        for (std::size_t i = 0; i < cat.services.size(); ++i) {
            const auto& svc = cat.services[i];
            const std::string service = "service=\"" + label_value(name_to_text(svc.name)) + "\"";
            const std::size_t n = svc.sites.size();
            for (std::size_t slot = 0; slot < n + query::Counters::kExtra; ++slot) {
                const auto count = counters.decision_total(i, slot);
                if (count == 0) continue;
                std::string key = service;
                if (slot < n)
                    key += ",outcome=\"site\",site=\"" + label_value(cat.sites[svc.sites[slot]].name) + "\"";
                else
                    key +=
                        std::string(",outcome=\"") + query::Counters::extra_name(slot - n) + "\",site=\"\"";
                into.decisions[key] += count;
            }
        }
    }

    /// Label values escaped as the exposition format asks (\\, \", \n).
    static std::string label_value(const std::string& v) {
        std::string out;
        for (char ch : v) {
            if (ch == '\\' || ch == '"') out += '\\';
            if (ch == '\n') {
                out += "\\n";
                continue;
            }
            out += ch;
        }
        return out;
    }

    std::vector<std::function<void(bool, std::string)>> reload_waiters;  ///< main thread
    std::atomic<std::uint64_t> reloads_ok{0}, reloads_failed{0};

    /// GET /metrics: Prometheus text exposition, names dnsd_*.
    std::string metrics_text() {
        static constexpr const char* kRcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                  "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                  "NXRRSET", "NOTAUTH", "NOTZONE"};
        const auto label = label_value;
        std::string m;
        m += "# HELP dnsd_build_info The running dnsd.\n# TYPE dnsd_build_info gauge\n";
        m += std::string("dnsd_build_info{version=\"") + kVersion + "\"} 1\n";
        m += "# HELP dnsd_queries_total Queries answered, by transport, query type and rcode.\n"
             "# TYPE dnsd_queries_total counter\n";
        for (int t = 0; t < 2; ++t)
            for (std::size_t ty = 0; ty < Stats::kTypeSlots; ++ty)
                for (unsigned rc = 0; rc < 16; ++rc) {
                    std::uint64_t n = 0;
                    for (const auto& w : workers) n += w->stats().get(t, ty, rc);
                    if (n == 0) continue;
                    m += std::string("dnsd_queries_total{transport=\"") + (t ? "tcp" : "udp") + "\",type=\"" +
                         Stats::kTypeNames[ty] + "\",rcode=\"" +
                         (rc < std::size(kRcodes) ? kRcodes[rc] : std::to_string(rc).c_str()) + "\"} " +
                         std::to_string(n) + "\n";
                }
        Totals totals = retired;
        if (previous_view) fold_counts(*previous_view, totals);
        fold_counts(*slot.load(), totals);
        m += "# HELP dnsd_zone_queries_total Queries answered from each zone.\n"
             "# TYPE dnsd_zone_queries_total counter\n";
        for (const auto& [labels, n] : totals.zones)
            m += "dnsd_zone_queries_total{" + labels + "} " + std::to_string(n) + "\n";
        m += "# HELP dnsd_decisions_total Steered answers by service and outcome: the site chosen, several "
             "sites, none (NODATA) or the fallback.\n# TYPE dnsd_decisions_total counter\n";
        for (const auto& [labels, n] : totals.decisions)
            m += "dnsd_decisions_total{" + labels + "} " + std::to_string(n) + "\n";
        m += "# HELP dnsd_probe_duration_seconds Probe durations by site.\n"
             "# TYPE dnsd_probe_duration_seconds histogram\n";
        for (const auto& [site, lat] : board->latencies()) {
            const std::string name = "site=\"" + label(site) + "\"";
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < std::size(health::Latency::kBoundsMs); ++i) {
                cumulative += lat.buckets[i];
                char le[32];
                std::snprintf(le, sizeof le, "%g", health::Latency::kBoundsMs[i] / 1000.0);
                m += "dnsd_probe_duration_seconds_bucket{" + name + ",le=\"" + le + "\"} " +
                     std::to_string(cumulative) + "\n";
            }
            m += "dnsd_probe_duration_seconds_bucket{" + name + ",le=\"+Inf\"} " + std::to_string(lat.count) +
                 "\n";
            char sum[32];
            std::snprintf(sum, sizeof sum, "%.3f", static_cast<double>(lat.sum_ms) / 1000.0);
            m += "dnsd_probe_duration_seconds_sum{" + name + "} " + sum + "\n";
            m += "dnsd_probe_duration_seconds_count{" + name + "} " + std::to_string(lat.count) + "\n";
        }
        const auto snap = health_slot.load();
        const steer::Catalog& cat = board->catalog();
        m += "# HELP dnsd_address_up 1 when the address is up (probes, or no probe).\n"
             "# TYPE dnsd_address_up gauge\n";
        for (std::uint32_t a = 0; a < cat.addresses.size(); ++a)
            m += "dnsd_address_up{site=\"" + label(cat.sites[cat.address_site[a]].name) + "\",address=\"" +
                 cat.addresses[a].str() + "\"} " + (snap->up[a] ? "1" : "0") + "\n";
        m += "# HELP dnsd_site_up 1 when the site can serve the family (min_up and overrides).\n"
             "# TYPE dnsd_site_up gauge\n";
        for (std::uint32_t s = 0; s < cat.sites.size(); ++s)
            for (Family f : {Family::v4, Family::v6}) {
                const auto sh = steer::site_health(cat, s, f, *snap);
                if (sh.total == 0) continue;
                m += "dnsd_site_up{site=\"" + label(cat.sites[s].name) + "\",family=\"" +
                     (f == Family::v4 ? "ipv4" : "ipv6") + "\"} " + (sh.is_up ? "1" : "0") + "\n";
            }
        m += "# HELP dnsd_site_override The operator override of a site (1 for the one set).\n"
             "# TYPE dnsd_site_override gauge\n";
        for (std::uint32_t s = 0; s < cat.sites.size(); ++s)
            m += "dnsd_site_override{site=\"" + label(cat.sites[s].name) + "\",override=\"" +
                 health::to_string(board->override_of(s)) + "\"} 1\n";
        m += "# HELP dnsd_alerts_total Alert deliveries (event and target) by outcome.\n"
             "# TYPE dnsd_alerts_total counter\n";
        const std::uint64_t alerts[3] = {alerts_retired[0] + (alerter ? alerter->delivered() : 0),
                                         alerts_retired[1] + (alerter ? alerter->failed() : 0),
                                         alerts_retired[2] + (alerter ? alerter->dropped() : 0)};
        const char* outcomes[3] = {"delivered", "failed", "dropped"};
        for (int i = 0; i < 3; ++i)
            m += std::string("dnsd_alerts_total{outcome=\"") + outcomes[i] + "\"} " +
                 std::to_string(alerts[i]) + "\n";
        if (peers) {
            m += "# HELP dnsd_cluster_vantage_points Vantage points whose verdicts count now (this one "
                 "included).\n"
                 "# TYPE dnsd_cluster_vantage_points gauge\n";
            m += "dnsd_cluster_vantage_points " + std::to_string(board->vantage_points()) + "\n";
            m += "# HELP dnsd_cluster_quorum Vantage points that must see an address down.\n"
                 "# TYPE dnsd_cluster_quorum gauge\n";
            m += "dnsd_cluster_quorum " + std::to_string(board->quorum()) + "\n";
            m += "# HELP dnsd_cluster_degraded 1 when fewer vantage points than the quorum count.\n"
                 "# TYPE dnsd_cluster_degraded gauge\n";
            m += std::string("dnsd_cluster_degraded ") + (board->degraded() ? "1" : "0") + "\n";
            m += "# HELP dnsd_cluster_peer_up 1 when the peer answered its last request.\n"
                 "# TYPE dnsd_cluster_peer_up gauge\n";
            for (const auto& p : peers->states())
                m +=
                    "dnsd_cluster_peer_up{peer=\"" + label(p.url) + "\"} " + (p.reachable ? "1" : "0") + "\n";
        }
        m += "# HELP dnsd_rate_limited_total UDP answers held back by response rate limiting.\n"
             "# TYPE dnsd_rate_limited_total counter\n";
        for (bool truncated : {false, true}) {
            std::uint64_t n = 0;
            for (const auto& w : workers) n += w->stats().limited(truncated);
            m += std::string("dnsd_rate_limited_total{action=\"") + (truncated ? "truncated" : "dropped") +
                 "\"} " + std::to_string(n) + "\n";
        }
        m += "# HELP dnsd_tcp_refused_total TCP connections closed at once: over tcp_connections or "
             "tcp_per_client.\n"
             "# TYPE dnsd_tcp_refused_total counter\n";
        {
            std::uint64_t n = 0;
            for (const auto& w : workers) n += w->stats().tcp_refused();
            m += "dnsd_tcp_refused_total " + std::to_string(n) + "\n";
        }
        m += "# HELP dnsd_reloads_total Reloads, by outcome.\n# TYPE dnsd_reloads_total counter\n";
        m += "dnsd_reloads_total{outcome=\"ok\"} " + std::to_string(reloads_ok.load()) + "\n";
        m += "dnsd_reloads_total{outcome=\"failed\"} " + std::to_string(reloads_failed.load()) + "\n";
        return m;
    }
};

query::ServedSerials served_serials_from(const std::string& state_file) {
    query::ServedSerials out;
    if (state_file.empty()) return out;
    std::ifstream in(state_file);
    if (!in) return out;
    std::ostringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    const auto doc = boost::json::parse(text.str(), ec);
    const auto* root = ec ? nullptr : doc.if_object();
    const auto* serials = root ? root->if_contains("serials") : nullptr;
    if (!serials || !serials->is_object()) return out;  // a bad file is reported by the board
    for (const auto& [origin, v] : serials->get_object()) {
        const auto* o = v.if_object();
        const auto* serial = o ? o->if_contains("serial") : nullptr;
        const auto* digest = o ? o->if_contains("digest") : nullptr;
        if (!serial || !serial->is_int64() || !digest || !digest->is_string()) continue;
        query::ServedSerial s;
        s.serial = static_cast<std::uint32_t>(serial->get_int64());
        s.digest = std::strtoull(digest->get_string().c_str(), nullptr, 16);
        out[std::string(origin)] = s;
    }
    return out;
}

Server::Server(config::Config cfg, std::shared_ptr<const query::View> view)
    : impl_(std::make_unique<Impl>(std::move(cfg), std::move(view))) {
    unsigned n = impl_->cfg.server.threads;
    if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
    TcpLimits limits;
    const auto& sc = impl_->cfg.server;
    limits.max_connections_per_worker = sc.tcp_connections;
    limits.max_per_client = sc.tcp_per_client;
    limits.idle_timeout_ms = static_cast<unsigned>(sc.tcp_idle_timeout.count());
    limits.lifetime_ms =
        static_cast<unsigned>(std::min<std::int64_t>(sc.tcp_lifetime.count(), 1'000'000'000));
    for (unsigned i = 0; i < n; ++i) {
        impl_->workers.push_back(std::make_unique<Worker>(i, impl_->slot, impl_->health_slot,
                                                          impl_->cfg.server.listen, limits, n > 1));
        impl_->workers.back()->set_workers(n);
    }
    if (impl_->cfg.control.enabled) {
        Impl* impl = impl_.get();
        ControlHooks hooks;
        hooks.status = [impl] { return impl->status_json(); };
        hooks.page = [impl] { return impl->status_page(); };
        hooks.metrics = [impl] { return impl->metrics_text(); };
        hooks.set_override = [impl](const std::string& site, const std::string& state, std::int64_t until,
                                    std::string& body) {
            return impl->set_override(site, state, until, body);
        };
        hooks.explain = [impl](const std::string& name, const std::string& client, const std::string& type,
                               std::string& body) { return impl->explain(name, client, type, body); };
        hooks.reload = [impl](std::function<void(bool, std::string)> done) {
            asio::post(impl->main, [impl, done = std::move(done)]() mutable {
                impl->reload_waiters.push_back(std::move(done));
                impl->reload();
            });
        };
        if (impl_->cfg.cluster.enabled) hooks.verdicts = [impl] { return impl->verdicts_json(); };
        start_control(impl_->state, impl_->cfg.control.listen, impl_->cfg.control.token,
                      impl_->cfg.cluster.token, std::move(hooks));
    }
}

Server::~Server() {
    for (auto& w : impl_->workers) w->stop();
    if (impl_->loader.joinable()) impl_->loader.join();
    stop_state();
}

void Server::stop_state() {
    if (!impl_->state_thread.joinable()) return;
    asio::post(impl_->state, [this] {
        if (impl_->monitor) impl_->monitor->stop();
        impl_->alerter.reset();  // stops its thread; what is still queued is dropped
        impl_->peers.reset();
        impl_->state_work.reset();
        impl_->state.stop();
    });
    impl_->state_thread.join();
    impl_->monitor.reset();
}

int Server::run() {
    asio::post(impl_->state, [this] { impl_->start_monitor(); });
    impl_->state_thread = std::thread([this] { impl_->state.run(); });
    for (auto& w : impl_->workers) w->start();
    std::string where;
    for (const auto& ep : impl_->cfg.server.listen) where += (where.empty() ? "" : ", ") + ep.str();
    const auto view = impl_->slot.load();
    spdlog::info("dnsd serving {} zones on {} (udp+tcp) with {} workers", view->zones().size(), where,
                 impl_->workers.size());
    notify_service_manager("READY=1");
    impl_->wait_signal();
    impl_->main.run();
    notify_service_manager("STOPPING=1");
    for (auto& w : impl_->workers) w->stop();
    if (impl_->loader.joinable()) impl_->loader.join();
    stop_state();
    spdlog::info("stopped");
    return 0;
}

}  // namespace dnsd::server
