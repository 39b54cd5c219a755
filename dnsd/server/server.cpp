#include "dnsd/server/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <stdexcept>

#include "dnsd/server/worker.hpp"

namespace dnsd::server {

using asio::ip::tcp;
using asio::ip::udp;

namespace {

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

Worker::Worker(unsigned index, const SnapshotSlot<query::View>& slot, const std::vector<Endpoint>& listen,
               const TcpLimits& limits, bool shared)
    : index_(index), view_(slot), limits_(limits), batch_(make_udp_batch()) {
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

void Worker::start() {
    for (auto& u : udp_) asio::co_spawn(io_, udp_loop(*this, *u, *batch_), asio::detached);
    for (auto& t : tcp_) asio::co_spawn(io_, tcp_accept_loop(*this, *t), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
}

void Worker::stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
}

struct Server::Impl {
    config::Config cfg;
    SnapshotSlot<query::View> slot;
    std::vector<std::unique_ptr<Worker>> workers;
    asio::io_context main{1};
    asio::signal_set signals{main, SIGINT, SIGTERM, SIGHUP};
    std::thread loader;
    std::atomic<bool> loading{false};
    bool reload_again = false;

    Impl(config::Config c, std::shared_ptr<const query::View> view)
        : cfg(std::move(c)), slot(std::move(view)) {}

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
        if (loader.joinable()) loader.join();
        const std::string path = cfg.path;
        loader = std::thread([this, path] {
            Diagnostics diags;
            auto next = config::read_config(path, diags);
            std::shared_ptr<const query::View> view;
            if (!diags.has_errors()) view = query::View::load(next, diags);
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
        if (!view) {
            spdlog::error("reload of {} failed; still serving the previous configuration", cfg.path);
        } else {
            if (next.server.listen != cfg.server.listen || next.server.threads != cfg.server.threads)
                spdlog::warn("reload: changes to server.listen and server.threads need a restart");
            std::size_t records = 0;
            for (const auto& z : view->zones()) records += z->node_count();
            slot.publish(view);
            const auto keep_listen = cfg.server.listen;
            const auto keep_threads = cfg.server.threads;
            cfg = std::move(next);
            cfg.server.listen = keep_listen;
            cfg.server.threads = keep_threads;
            spdlog::info("reloaded {}: {} zones", cfg.path, view->zones().size());
        }
        loading = false;
        if (reload_again) {
            reload_again = false;
            reload();
        }
    }
};

Server::Server(config::Config cfg, std::shared_ptr<const query::View> view)
    : impl_(std::make_unique<Impl>(std::move(cfg), std::move(view))) {
    unsigned n = impl_->cfg.server.threads;
    if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
    TcpLimits limits;
    for (unsigned i = 0; i < n; ++i)
        impl_->workers.push_back(
            std::make_unique<Worker>(i, impl_->slot, impl_->cfg.server.listen, limits, n > 1));
}

Server::~Server() {
    for (auto& w : impl_->workers) w->stop();
    if (impl_->loader.joinable()) impl_->loader.join();
}

int Server::run() {
    for (auto& w : impl_->workers) w->start();
    std::string where;
    for (const auto& ep : impl_->cfg.server.listen) where += (where.empty() ? "" : ", ") + ep.str();
    const auto view = impl_->slot.load();
    spdlog::info("dnsd serving {} zones on {} (udp+tcp) with {} workers", view->zones().size(), where,
                 impl_->workers.size());
    impl_->wait_signal();
    impl_->main.run();
    for (auto& w : impl_->workers) w->stop();
    if (impl_->loader.joinable()) impl_->loader.join();
    spdlog::info("stopped");
    return 0;
}

}  // namespace dnsd::server
