#include "dnsd/server/server.hpp"

#include <malloc.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>

#include "dnsd/core/name.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/server/privileges.hpp"
#include "dnsd/server/state.hpp"
#include "dnsd/server/worker.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::server {

using asio::ip::tcp;
using asio::ip::udp;

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

Worker::Worker(unsigned index, const ServingSlot& slot) : index_(index), serving_(slot) {
    random_.state ^= (static_cast<std::uint64_t>(index) + 1) * 0xD1B54A32D192ED03ull ^
                     static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

void Worker::log_tsig_fault(const query::Result& r, bool tcp, const Address& client) noexcept {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count() +
        1;                                    // never 0, which means "never logged"
    std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the address
    for (const auto b : client.view()) h = (h ^ b) * 0x100000001b3ull;
    auto& slot = fault_logged_[h % fault_logged_.size()];
    if (slot.at != 0 && slot.client == client && now - slot.at < 60) return;
    if (now != fault_second_) {
        fault_second_ = now;
        fault_lines_ = 0;
    }
    if (++fault_lines_ > kFaultLinesPerSecond) {
        ++fault_suppressed_;
        return;
    }
    slot.client = client;
    slot.at = now;
    try {
        const bool transfer = r.qtype == wire::type::AXFR || r.qtype == wire::type::IXFR;
        const std::uint64_t held_back = fault_suppressed_;
        fault_suppressed_ = 0;
        spdlog::warn("tsig: {} from {} over {}: {} (answered rcode {}; logged once a minute per client){}",
                     transfer ? "transfer request" : "query", client.str(), tcp ? "tcp" : "udp",
                     query::to_string(r.tsig_fault), r.rcode,
                     held_back ? fmt::format("; {} more from other clients not logged", held_back) : "");
    } catch (...) {
        // As for the query log.
    }
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

/// The server's own state: the slots the workers read, the workers, the
/// state thread, and the main thread's signals.
struct Server::Impl {
    /// The state thread publishes the first health before any worker runs.
    ServingSlot serving;
    std::vector<std::unique_ptr<Worker>> workers;
    std::unique_ptr<StateThread> state;
    asio::io_context main{1};
    asio::signal_set signals{main, SIGINT, SIGTERM, SIGHUP};
    std::vector<std::string> summary;  ///< the start-up summary's lines

    explicit Impl(std::shared_ptr<const query::View> view)
        : serving(std::make_shared<const Serving>(
              Serving{std::move(view), std::make_shared<const health::Snapshot>()})) {}

    void wait_signal() {
        signals.async_wait([this](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                state->reload();
                wait_signal();
                return;
            }
            spdlog::info("signal {}: stopping", sig);
            main.stop();
        });
    }
};

namespace {

/// The start-up summary: zones, addresses, threads; what steers, who
/// watches, who hears.
std::vector<std::string> summary(const config::Config& cfg, const query::View& view) {
    std::vector<std::string> lines;
    std::string where;
    for (const auto& ep : cfg.server.listen) where += (where.empty() ? "" : ", ") + ep.str();
    lines.push_back(fmt::format("dnsd serving {} zones on {} (udp+tcp); threads: {} UDP per address, {} TCP",
                                view.zones().size(), where, cfg.server.thread_count(),
                                cfg.server.thread_count()));
    const steer::Catalog& cat = view.catalog();
    std::size_t probed = 0;
    for (const auto& site : cfg.sites)
        if (site.probe) probed += site.addresses.size();
    lines.push_back(fmt::format(
        "{} services over {} sites ({} addresses, {} probed); geo: {}; rate limit: {}", cat.services.size(),
        cat.sites.size(), cat.addresses.size(), probed,
        view.locator() ? std::to_string(cfg.geo.databases.size()) + " databases, " +
                             std::to_string(cfg.geo.networks.size()) + " networks"
                       : std::string("off"),
        cfg.rate_limit.per_second ? std::to_string(cfg.rate_limit.per_second) + "/s per client network"
                                  : std::string("off")));
    lines.push_back(fmt::format(
        "control: {}; cluster: {}; alerts: {} targets; state file: {}",
        cfg.control.enabled ? cfg.control.listen.str() : std::string("off"),
        cfg.cluster.enabled ? std::to_string(cfg.cluster.peers.size()) + " peers, quorum " +
                                  std::to_string(cfg.cluster.quorum)
                            : std::string("off"),
        cfg.alerts.size(), cfg.server.state_file.empty() ? std::string("none") : cfg.server.state_file));
    return lines;
}

}  // namespace

Server::Server(config::Config cfg, std::shared_ptr<const query::View> view, const StateFile& saved)
    : impl_(std::make_unique<Impl>(std::move(view))) {
    impl_->summary = summary(cfg, *impl_->serving.load()->view);
    const unsigned n = cfg.server.thread_count();
    TcpLimits limits;
    const auto& sc = cfg.server;
    limits.max_connections_per_worker = sc.tcp_connections;
    limits.max_per_client = sc.tcp_per_client;
    limits.idle_timeout_ms = static_cast<unsigned>(sc.tcp_idle_timeout.count());
    limits.lifetime_ms =
        static_cast<unsigned>(std::min<std::int64_t>(sc.tcp_lifetime.count(), 1'000'000'000));
    // `n` UDP workers per address and `n` TCP workers; indexes unique.
    unsigned index = 0;
    for (const auto& ep : sc.listen)
        for (unsigned i = 0; i < n; ++i)
            impl_->workers.push_back(std::make_unique<UdpWorker>(index++, impl_->serving, ep, n > 1, n));
    for (unsigned i = 0; i < n; ++i)
        impl_->workers.push_back(
            std::make_unique<TcpWorker>(index++, i, impl_->serving, sc.listen, limits, n > 1));
    impl_->state = std::make_unique<StateThread>(std::move(cfg), impl_->serving, impl_->workers, saved);
}

Server::~Server() {
    for (auto& w : impl_->workers) w->stop();
    impl_->state->stop();
}

int Server::run() {
    release_free_memory();  // what loading the zones freed
    impl_->state->start();
    for (auto& w : impl_->workers) w->start();
    for (const auto& line : impl_->summary) spdlog::info("{}", line);
    impl_->summary.clear();
    notify_service_manager("READY=1");
    impl_->wait_signal();
    impl_->main.run();
    notify_service_manager("STOPPING=1");
    for (auto& w : impl_->workers) w->stop();
    impl_->state->stop();
    spdlog::info("stopped");
    return 0;
}

}  // namespace dnsd::server
