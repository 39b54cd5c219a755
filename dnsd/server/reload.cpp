// Reload on the state thread: the new config and zones are built on a
// loader thread, handed back by posting, and applied here in one step.

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "dnsd/core/name.hpp"
#include "dnsd/load/runtime.hpp"
#include "dnsd/server/notify.hpp"
#include "dnsd/server/privileges.hpp"
#include "dnsd/server/state.hpp"

namespace dnsd::server {

namespace {

/// The [server] settings fixed when the workers were set up, that `a`
/// changes ("server.listen, server.threads"); a reload names them.
std::string needs_restart(const config::Server& a, const config::Server& b) {
    std::string changed;
    auto note = [&](bool differs, const char* key) {
        if (differs) changed += (changed.empty() ? "" : ", ") + std::string(key);
    };
    note(a.listen != b.listen, "server.listen");
    note(a.threads != b.threads, "server.threads");
    note(a.user != b.user, "server.user");
    note(a.tcp_connections != b.tcp_connections, "server.tcp_connections");
    note(a.tcp_per_client != b.tcp_per_client, "server.tcp_per_client");
    note(a.tcp_idle_timeout != b.tcp_idle_timeout, "server.tcp_idle_timeout");
    note(a.tcp_lifetime != b.tcp_lifetime, "server.tcp_lifetime");
    return changed;
}

/// A line for each zone whose IXFR journal `after` gained a difference
/// that `before` did not have.
std::vector<std::string> journal_lines(const query::View& before, const query::View& after) {
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < after.zones().size(); ++i) {
        const auto& journal = after.journal(i);
        if (journal.empty()) continue;
        const auto& last = journal.deltas().back();
        bool known = false;
        for (std::size_t k = 0; k < before.zones().size() && !known; ++k)
            for (const auto& d : before.journal(k).deltas()) known = known || d == last;
        if (known) continue;
        lines.push_back("zone " + name_to_text(after.zones()[i]->origin()) + ": IXFR from serial " +
                        std::to_string(last->from_serial()) + " to " + std::to_string(last->to_serial()) +
                        ": " + std::to_string(last->removed().size() - 1) + " records removed, " +
                        std::to_string(last->added().size() - 1) + " added; the journal holds " +
                        std::to_string(journal.deltas().size()) + " versions, " +
                        std::to_string((journal.memory_bytes() + 1023) / 1024) + " KiB");
    }
    return lines;
}

}  // namespace

void StateThread::reload(std::function<void(bool, std::string)> done) {
    boost::asio::post(io_, [this, done = std::move(done)]() mutable {
        if (done) reload_waiters_.push_back(std::move(done));
        if (loading_) {
            // The last edit always wins: once more after the running one.
            reload_again_ = true;
            return;
        }
        start_loader();
    });
}

void StateThread::start_loader() {
    loading_ = true;
    notify_service_manager("RELOADING=1");
    if (loader_.joinable()) loader_.join();  // the previous one has posted its result: it is ending
    loader_ = std::thread([this, path = cfg_.path, served = view()->served_serials(), running = view()] {
        ::pthread_setname_np(::pthread_self(), "dnsd-reload");
        const auto began = std::chrono::steady_clock::now();
        Diagnostics diags;
        auto next = config::read_config(path, diags);
        std::shared_ptr<const query::View> view;
        if (!diags.has_errors()) view = load::runtime(next, diags, &served, running.get());
        const auto took =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
        boost::asio::post(io_,
                          [this, next = std::move(next), view = std::move(view), diags = std::move(diags),
                           took]() mutable { finish_reload(std::move(next), std::move(view), diags, took); });
    });
}

void StateThread::finish_reload(config::Config next, std::shared_ptr<const query::View> view,
                                const Diagnostics& diags, std::chrono::milliseconds took) {
    for (const auto& d : diags) {
        if (d.severity == Severity::warning)
            spdlog::warn("reload: {}", d.str());
        else
            spdlog::error("reload: {}", d.str());
    }
    std::string message;
    for (const auto& d : diags) message += d.str() + "\n";
    if (!view) {
        spdlog::error("reload of {} failed; still serving the previous configuration", cfg_.path);
        message += "reload failed; still serving the previous configuration";
        raise({"reload", "", "", "failed", "", message});
    } else {
        // Zones whose files did not change are not read again (load::runtime).
        const auto& loaded = view->loaded();
        std::string summary = std::to_string(view->zones().size()) + " zones (" +
                              std::to_string(loaded.read) + " read, " + std::to_string(loaded.unchanged) +
                              " unchanged";
        if (loaded.services > 0)
            summary += ", " + std::to_string(loaded.services) + " with new service records";
        summary += ") in " + std::to_string(took.count()) + " ms";
        message += "reloaded " + cfg_.path + ": " + summary;
        std::vector<std::string> notes;
        if (const auto kept = needs_restart(next.server, started_); !kept.empty())
            notes.push_back("changes to " + kept + " need a restart; still as at start");
        spdlog::info("reloaded {}: {}", next.path, summary);
        for (const auto& line : journal_lines(*this->view(), *view)) spdlog::info("{}", line);
        for (auto& note : apply(std::move(next), view)) notes.push_back(std::move(note));
        for (const auto& note : notes) {
            spdlog::warn("reload: {}", note);
            message += "\n" + note;
        }
    }
    loading_ = false;
    notify_service_manager("READY=1");
    if (reload_again_) {
        reload_again_ = false;
        start_loader();
        return;  // the waiters hear the result of the newest reload
    }
    ++(view ? reloads_ok_ : reloads_failed_);
    auto waiting = std::move(reload_waiters_);
    reload_waiters_.clear();
    for (auto& done : waiting) done(view != nullptr, message);
}

std::vector<std::string> StateThread::apply(config::Config next, std::shared_ptr<const query::View> view) {
    std::vector<std::string> notes;
    // What the workers were set up with stays as it was until a restart.
    const auto kept = cfg_.server;
    cfg_ = std::move(next);
    cfg_.server.listen = kept.listen;
    cfg_.server.threads = kept.threads;
    cfg_.server.user = kept.user;
    cfg_.server.tcp_connections = kept.tcp_connections;
    cfg_.server.tcp_per_client = kept.tcp_per_client;
    cfg_.server.tcp_idle_timeout = kept.tcp_idle_timeout;
    cfg_.server.tcp_lifetime = kept.tcp_lifetime;
    cfg_.server.user_line = kept.user_line;
    cfg_.server.user_known = kept.user_known;

    // The control endpoint: new tokens at once; a new listener, or the
    // old one kept and said so.
    try {
        update_control();
    } catch (const std::exception& e) {
        notes.push_back(e.what());
    }

    if (monitor_) monitor_->stop();
    update_alerter();
    auto fresh = std::make_shared<health::Board>(cfg_, view->catalog_ptr(), health::unix_now());
    fresh->carry_over(*board_);
    board_ = std::move(fresh);
    steer::Staying stay(cfg_, view->catalog_ptr());
    stay.carry_over(staying_);
    staying_ = std::move(stay);
    // The view and its health in one step (the view being replaced may
    // still take a few counts from workers mid-batch: it is folded into the
    // totals a few seconds later, or at the next reload if that comes first).
    if (previous_view_) fold_counts(*previous_view_, retired_);
    previous_view_ = this->view();
    update_loads();
    publish_health(view, true);
    retire_previous_view_later();
    site_seen_.clear();
    site_changes(true);
    update_peers();
    if (peers_) peers_changed();  // the new board's addresses
    // Secondaries hear of every zone whose serial moved (RFC 1996).
    if (!cfg_.server.notify.empty())
        for (const auto& z : view->zones()) {
            const auto& before = previous_view_->zones();
            const auto it = std::find_if(before.begin(), before.end(), [&](const auto& b) {
                return name_lower(std::string(b->origin())) == name_lower(std::string(z->origin()));
            });
            if (it == before.end() || (*it)->serial() != z->serial())
                send_notify(io_, cfg_.server.notify, std::string(z->origin()), z->serial(),
                            view->transfer_key());
        }
    start_monitor();
    save_state();
    return notes;
}

void StateThread::retire_previous_view_later() {
    // Workers refresh their view within about a second even when idle
    // (udp.cpp, tcp.cpp); three seconds leave room for a busy machine.
    retire_timer_.expires_after(std::chrono::seconds(3));
    retire_timer_.async_wait([this, retiring = previous_view_.get()](const boost::system::error_code& ec) {
        if (ec || !previous_view_ || previous_view_.get() != retiring) return;
        fold_counts(*previous_view_, retired_);
        previous_view_.reset();
        release_free_memory();
    });
}

}  // namespace dnsd::server
