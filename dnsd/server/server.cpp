#include "dnsd/server/server.hpp"

#include <malloc.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "dnsd/core/name.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/server/control.hpp"
#include "dnsd/server/notify.hpp"
#include "dnsd/server/privileges.hpp"
#include "dnsd/server/server_impl.hpp"
#include "dnsd/server/worker.hpp"

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

void release_free_memory() noexcept {
    // glibc keeps freed memory in its arenas: after a zone load (ldns's
    // temporaries, the replaced view) RSS would stay at its peak, several
    // times what the zones take (200,000 records: 180 MB after loading,
    // 39 MB after this). Give it back so that RSS tells the truth.
    ::malloc_trim(0);
}

void name_thread(const char* prefix, unsigned index) noexcept {
    char name[16];
    std::snprintf(name, sizeof name, "%s-%u", prefix, index);
    ::pthread_setname_np(::pthread_self(), name);
}

Worker::Worker(unsigned index, const SnapshotSlot<query::View>& slot,
               const SnapshotSlot<health::Snapshot>& health)
    : index_(index), view_(slot), health_(health) {
    random_.state ^= (static_cast<std::uint64_t>(index) + 1) * 0xD1B54A32D192ED03ull ^
                     static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
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

Server::Impl::Impl(config::Config c, std::shared_ptr<const query::View> view)
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

void Server::Impl::save_state() {
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

void Server::Impl::swap_board(std::shared_ptr<const query::View> view, config::Config next) {
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
    // mid-batch: it is folded into the totals a few seconds later (or at
    // the next reload, if that comes first).
    if (previous_view) fold_counts(*previous_view, retired);
    previous_view = slot.load();
    slot.publish(view);
    retire_previous_view_later();
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

void Server::Impl::retire_previous_view_later() {
    // Workers refresh their view within about a second even when idle
    // (udp.cpp, tcp.cpp); three seconds leave room for a busy machine.
    retire_timer.expires_after(std::chrono::seconds(3));
    retire_timer.async_wait([this, retiring = previous_view.get()](const boost::system::error_code& ec) {
        if (ec || !previous_view || previous_view.get() != retiring) return;
        fold_counts(*previous_view, retired);
        previous_view.reset();
        release_free_memory();
    });
}

void Server::Impl::wait_signal() {
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

void Server::Impl::reload() {
    if (loading.exchange(true)) {
        reload_again = true;
        return;
    }
    notify_service_manager("RELOADING=1");
    if (loader.joinable()) loader.join();
    const std::string path = cfg.path;
    loader = std::thread([this, path, served = slot.load()->served_serials()] {
        ::pthread_setname_np(::pthread_self(), "dnsd-reload");
        Diagnostics diags;
        auto next = config::read_config(path, diags);
        std::shared_ptr<const query::View> view;
        if (!diags.has_errors()) view = query::View::load(next, diags, &served);
        asio::post(
            main, [this, next = std::move(next), view = std::move(view), diags = std::move(diags)]() mutable {
                finish_reload(std::move(next), std::move(view), diags);
            });
    });
}

void Server::Impl::finish_reload(config::Config next, std::shared_ptr<const query::View> view,
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
    const unsigned n = impl_->cfg.server.thread_count();
    TcpLimits limits;
    const auto& sc = impl_->cfg.server;
    limits.max_connections_per_worker = sc.tcp_connections;
    limits.max_per_client = sc.tcp_per_client;
    limits.idle_timeout_ms = static_cast<unsigned>(sc.tcp_idle_timeout.count());
    limits.lifetime_ms =
        static_cast<unsigned>(std::min<std::int64_t>(sc.tcp_lifetime.count(), 1'000'000'000));
    // `n` UDP workers per address and `n` TCP workers; indexes unique.
    unsigned index = 0;
    for (const auto& ep : impl_->cfg.server.listen)
        for (unsigned i = 0; i < n; ++i)
            impl_->workers.push_back(
                std::make_unique<UdpWorker>(index++, impl_->slot, impl_->health_slot, ep, n > 1, n));
    for (unsigned i = 0; i < n; ++i)
        impl_->workers.push_back(std::make_unique<TcpWorker>(index++, i, impl_->slot, impl_->health_slot,
                                                             impl_->cfg.server.listen, limits, n > 1));
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

void Server::log_summary() const {
    // A block of its own: the view loaded here must not outlive it (a
    // reference held in run() would keep the first zones in memory for
    // as long as dnsd runs).
    std::string where;
    for (const auto& ep : impl_->cfg.server.listen) where += (where.empty() ? "" : ", ") + ep.str();
    const auto view = impl_->slot.load();
    spdlog::info("dnsd serving {} zones on {} (udp+tcp); threads: {} UDP per address, {} TCP",
                 view->zones().size(), where, impl_->cfg.server.thread_count(),
                 impl_->cfg.server.thread_count());
    // The rest of the start-up summary: what steers, who watches, who hears.
    const auto& cfg = impl_->cfg;
    const steer::Catalog& cat = view->catalog();
    std::size_t probed = 0;
    for (const auto& site : cfg.sites)
        if (site.probe) probed += site.addresses.size();
    spdlog::info("{} services over {} sites ({} addresses, {} probed); geo: {}; rate limit: {}",
                 cat.services.size(), cat.sites.size(), cat.addresses.size(), probed,
                 view->locator() ? std::to_string(cfg.geo.databases.size()) + " databases, " +
                                       std::to_string(cfg.geo.networks.size()) + " networks"
                                 : std::string("off"),
                 cfg.rate_limit.per_second
                     ? std::to_string(cfg.rate_limit.per_second) + "/s per client network"
                     : std::string("off"));
    spdlog::info("control: {}; cluster: {}; alerts: {} targets; state file: {}",
                 cfg.control.enabled ? cfg.control.listen.str() : std::string("off"),
                 cfg.cluster.enabled ? std::to_string(cfg.cluster.peers.size()) + " peers, quorum " +
                                           std::to_string(cfg.cluster.quorum)
                                     : std::string("off"),
                 cfg.alerts.size(),
                 cfg.server.state_file.empty() ? std::string("none") : cfg.server.state_file);
}

int Server::run() {
    asio::post(impl_->state, [this] {
        impl_->start_monitor();
        // Secondaries hear of every zone at start too (as NSD and BIND do):
        // the zones may have changed while dnsd was down, and a NOTIFY for
        // a serial they hold already costs them one SOA query.
        const auto view = impl_->slot.load();
        for (const auto& z : view->zones())
            send_notify(impl_->state, impl_->cfg.server.notify, std::string(z->origin()), z->serial());
    });
    release_free_memory();  // what loading the zones freed
    impl_->state_thread = std::thread([this] {
        ::pthread_setname_np(::pthread_self(), "dnsd-state");
        impl_->state.run();
    });
    for (auto& w : impl_->workers) w->start();
    log_summary();
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
