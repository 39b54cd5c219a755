// dnsd: the command line. Parses arguments, reads the configuration, and
// either checks it (`check`) or serves it (`run`). Only this file chooses
// exit codes.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "dnsd/config/config.hpp"
#include "dnsd/core/name.hpp"
#include "dnsd/core/version.hpp"
#include "dnsd/dnssec/ds.hpp"
#include "dnsd/load/runtime.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/server/privileges.hpp"
#include "dnsd/server/server.hpp"
#include "dnsd/server/state_file.hpp"
#include "dnsd/wire/types.hpp"

namespace {

constexpr const char* kUsage =
    R"(usage: dnsd run -c FILE [--allow-root]
                            serve in the foreground (SIGHUP reloads, SIGTERM stops)
       dnsd check -c FILE   check the configuration and every zone it names
       dnsd --version
       dnsd --help

dnsd is an authoritative DNS server for multi-site failover. Started as
root it needs server.user (privileges are dropped after binding), or
--allow-root (or DNSD_ALLOW_ROOT=1 in the environment) to stay root.
)";

int usage_error(const char* message) {
    std::fprintf(stderr, "dnsd: %s\n%s", message, kUsage);
    return 2;
}

void print(const dnsd::Diagnostics& diags) {
    for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.str().c_str());
}

/// SPEC 11: each signed zone's DS records for its parent (SHA-256, of the
/// keys that sign its DNSKEY RRset now) and a warning for each key whose
/// Inactive or Delete time comes within 14 days.
void print_dnssec(const dnsd::query::View& view) {
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    constexpr std::int64_t kSoon = 14 * 86400;
    for (std::size_t i = 0; i < view.zones().size(); ++i) {
        const auto* keys = view.keys(i);
        if (!keys) continue;
        const std::string zone = dnsd::name_to_text(std::string(view.zones()[i]->origin()));
        const dnsd::dnssec::Key* ksk[dnsd::dnssec::KeySet::kMaxKeys];
        const std::size_t n = keys->select(dnsd::wire::type::DNSKEY, now, ksk);
        std::printf("zone %s: signed with %zu keys; DS for the parent:\n", zone.c_str(), keys->keys().size());
        for (std::size_t k = 0; k < n; ++k) std::printf("  %s\n", dnsd::dnssec::ds_text(*ksk[k]).c_str());
        for (const auto& k : keys->keys()) {
            const auto& t = k.timing();
            for (const auto& [when, what] :
                 {std::pair{t.inactive, "Inactive"}, std::pair{t.deletion, "Delete"}})
                if (when && *when > now && *when - now < kSoon)
                    std::printf("warning: %s: key %u of zone %s reaches its %s time in %lld hours\n",
                                k.private_file().c_str(), unsigned{k.tag()}, zone.c_str(), what,
                                static_cast<long long>((*when - now) / 3600));
        }
    }
}

int check(const std::string& path) {
    dnsd::Diagnostics diags;
    auto cfg = dnsd::config::read_config(path, diags);
    // What secondaries may hold, as the instance using this config
    // remembers it: a change that needs a serial bump is a warning.
    dnsd::server::StateFile saved;
    if (!cfg.server.state_file.empty()) saved = dnsd::server::read_state_file(cfg.server.state_file, diags);
    // Zones are checked even when the config has errors (those zones that
    // were configured correctly), so that one run reports every problem.
    auto view = dnsd::load::runtime(cfg, diags, &saved.serials);
    diags.sort_by_line();
    print(diags);
    if (diags.has_errors() || !view) return 1;
    std::size_t nodes = 0;
    for (const auto& z : view->zones()) nodes += z->node_count();
    std::printf("%s: ok: %zu zones, %zu names, %zu sites, %zu services\n", path.c_str(), view->zones().size(),
                nodes, cfg.sites.size(), cfg.services.size());
    print_dnssec(*view);
    // SPEC 1: when clean, each service's worst-case failover time: the
    // slowest of its probed sites to notice (interval x fall + timeout).
    for (const auto& svc : cfg.services) {
        const dnsd::config::Probe* slowest = nullptr;
        const dnsd::config::Site* slowest_site = nullptr;
        for (auto i : svc.sites) {
            const auto& site = cfg.sites[i];
            if (site.probe && (!slowest || dnsd::config::failover_time(*site.probe) >
                                               dnsd::config::failover_time(*slowest))) {
                slowest = &*site.probe;
                slowest_site = &site;
            }
        }
        const std::string name = dnsd::name_to_text(svc.name);
        auto ms = [](dnsd::Duration d) {
            char b[32];
            if (d.count() % 1000 == 0)
                std::snprintf(b, sizeof b, "%llds", static_cast<long long>(d.count() / 1000));
            else
                std::snprintf(b, sizeof b, "%lldms", static_cast<long long>(d.count()));
            return std::string(b);
        };
        // SPEC 9: what staying put uses, defaults included.
        if (svc.failback_manual)
            std::printf("service %s: failback manual (held-down sites come back with dnsdctl resume)\n",
                        name.c_str());
        else if (svc.failback.count() > 0)
            std::printf("service %s: failback after %s up\n", name.c_str(), ms(svc.failback).c_str());
        if (svc.damping) {
            auto figures = [&](const dnsd::config::Damping& d, const char* whose) {
                std::printf(
                    "service %s: damping %s: penalty %u per change, half-life %s, suppress above %u, "
                    "reuse below %u\n",
                    name.c_str(), whose, d.penalty, ms(d.half_life).c_str(), d.suppress, d.reuse);
            };
            figures(dnsd::config::damping_for(svc, nullptr),
                    svc.damping_figures ? "(the service's)" : "(RFC 2439 defaults)");
            for (auto i : svc.sites) {
                const auto& site = cfg.sites[i];
                if (site.probe && site.probe->damping)
                    figures(*site.probe->damping,
                            ("for site " + site.name + " (probe " + site.probe->name + ")").c_str());
            }
        }
        if (svc.ttl_degraded)
            std::printf("service %s: ttl %u, %u while degraded\n", name.c_str(), svc.ttl, *svc.ttl_degraded);
        if (!slowest) {
            std::printf("service %s: no probed site: answers change only with overrides\n", name.c_str());
            continue;
        }
        std::printf("service %s: worst-case failover %s (site %s: interval %s x fall %u + timeout %s)\n",
                    name.c_str(), ms(dnsd::config::failover_time(*slowest)).c_str(),
                    slowest_site->name.c_str(), ms(slowest->interval).c_str(), slowest->fall,
                    ms(slowest->timeout).c_str());
    }
    return 0;
}

int run(const std::string& path, bool allow_root) {
    auto logger = spdlog::stderr_color_mt("dnsd");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    dnsd::Diagnostics diags;
    auto cfg = dnsd::config::read_config(path, diags);
    std::shared_ptr<const dnsd::query::View> view;
    dnsd::server::StateFile saved;
    if (!diags.has_errors()) {
        if (!cfg.server.state_file.empty())
            saved = dnsd::server::read_state_file(cfg.server.state_file, diags);
        view = dnsd::load::runtime(cfg, diags, &saved.serials);
    }
    for (const auto& d : diags) {
        if (d.severity == dnsd::Severity::warning)
            spdlog::warn("{}", d.str());
        else
            spdlog::error("{}", d.str());
    }
    if (!view) {
        spdlog::error("{}: not starting: the configuration has errors", path);
        return 1;
    }
    // `check` only warns (it may run elsewhere); here the user must exist.
    if (!cfg.server.user_known) {
        spdlog::error("{}:{}: server.user: no user named '{}' on this machine: not starting", path,
                      cfg.server.user_line, cfg.server.user);
        return 1;
    }
    // An internet-facing server has no business keeping root.
    const std::string user = cfg.server.user;
    if (::geteuid() == 0 && user.empty() && !allow_root) {
        spdlog::error(
            "{}: not starting as root without server.user (privileges are dropped to it after "
            "binding); pass --allow-root to run as root anyway",
            path);
        return 1;
    }
    const std::string state_file = cfg.server.state_file;
    try {
        dnsd::server::Server server(std::move(cfg), std::move(view), saved);
        if (!user.empty()) {
            dnsd::server::drop_privileges(user);
            spdlog::info("running as user {} (uid {}, gid {})", user, ::getuid(), ::getgid());
            if (!state_file.empty()) {
                const auto dir = std::filesystem::path(state_file).parent_path();
                if (::access(dir.empty() ? "." : dir.c_str(), W_OK) != 0)
                    spdlog::error(
                        "state file {}: its directory is not writable by {}: overrides and health "
                        "will not be saved",
                        state_file, user);
            }
        }
        return server.run();
    } catch (const std::exception& e) {
        // Sockets that cannot be opened or bound (address in use, no such
        // address, no permission for a port below 1024).
        spdlog::error("{}", e.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage_error("a command is required");
    const std::string cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (cmd == "--version" || cmd == "-V") {
        std::printf("dnsd %s\n", dnsd::kVersion);
        return 0;
    }
    if (cmd != "run" && cmd != "check") return usage_error(("unknown command: " + cmd).c_str());
    std::string config;
    const char* env_allow = std::getenv("DNSD_ALLOW_ROOT");
    bool allow_root = env_allow && std::strcmp(env_allow, "1") == 0;
    for (int i = 2; i < argc; ++i) {
        if ((std::strcmp(argv[i], "-c") == 0 || std::strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            config = argv[++i];
        else if (cmd == "run" && std::strcmp(argv[i], "--allow-root") == 0)
            allow_root = true;
        else
            return usage_error((std::string("unexpected argument: ") + argv[i]).c_str());
    }
    if (config.empty()) return usage_error("-c FILE is required");
    return cmd == "check" ? check(config) : run(config, allow_root);
}
