// Step 3 of draft.hpp: what needs other entries or the whole file.

#include <algorithm>

#include "dnsd/config/draft.hpp"
#include "dnsd/config/names.hpp"
#include "dnsd/core/name.hpp"

namespace dnsd::config {
namespace {

void probes_of_sites(Draft& d, Config& c, Report& report) {
    for (auto& draft : d.sites) {
        if (const auto& ref = draft.probe) {
            const auto it = std::find_if(d.probes.begin(), d.probes.end(),
                                         [&](const NamedProbe& p) { return p.name == ref->name; });
            if (it == d.probes.end())
                report.error(ref->spot, "sites." + draft.site.name + ".probe",
                             "no probe named '" + ref->name + "' ([probes." + ref->name + "])");
            // A refused probe's own errors are reported at [probes.NAME].
            else if (it->probe)
                draft.site.probe = it->probe;
        }
        c.sites.push_back(std::move(draft.site));
    }
}

/// What one decision and one answer can hold (SPEC 3: a config error
/// naming the limit, never a silent cut).
void limits(ServiceDraft& draft, const Config& c, Report& report) {
    const Service& s = draft.service;
    if (s.sites.size() > Service::kMaxSites) {
        report.error(draft.sites[Service::kMaxSites].spot, "service.sites",
                     std::to_string(s.sites.size()) + " sites; a service has at most " +
                         std::to_string(Service::kMaxSites));
        draft.ok = false;
        return;
    }
    // The largest answer of each family: every site's addresses together
    // for policy "all" or fallback "all", else one site's (max_answers
    // picks among them, so it does not lift this).
    const bool together = s.policy == Service::Policy::all || s.fallback == Service::Fallback::all;
    for (const Family f : {Family::v4, Family::v6}) {
        std::size_t largest = 0, sum = 0;
        const Site* biggest = nullptr;
        for (std::size_t i : s.sites) {
            const auto& addrs = c.sites[i].addresses;
            const auto n = static_cast<std::size_t>(
                std::count_if(addrs.begin(), addrs.end(), [&](const Address& a) { return a.family == f; }));
            sum += n;
            if (n > largest) {
                largest = n;
                biggest = &c.sites[i];
            }
        }
        const char* family = f == Family::v4 ? "IPv4" : "IPv6";
        const std::string limit = "; an answer holds at most " + std::to_string(Service::kMaxAddresses);
        if (largest > Service::kMaxAddresses) {
            report.error(draft.sites[0].spot, "service.sites",
                         "sites." + biggest->name + " has " + std::to_string(largest) + " " + family +
                             " addresses" + limit);
            draft.ok = false;
        } else if (together && sum > Service::kMaxAddresses) {
            report.error(
                draft.sites[0].spot, "service.sites",
                "its sites have " + std::to_string(sum) + " " + family + " addresses, all of them in " +
                    (s.policy == Service::Policy::all ? "every answer (policy all)"
                                                      : "the answer when no site is up (fallback all)") +
                    limit);
            draft.ok = false;
        }
    }
}

/// An address in two sites of one service would be answered twice by
/// policy or fallback "all", and failing over between the two would change
/// nothing. `spots[k]`: where the service lists its k-th site.
void shared_addresses(ServiceDraft& draft, const std::vector<Spot>& spots, const Config& c, Report& report) {
    const Service& s = draft.service;
    const std::string service = draft.name ? "service " + name_to_text(s.name) : "the service";
    for (std::size_t k = 1; k < s.sites.size(); ++k) {
        const Site& site = c.sites[s.sites[k]];
        for (const Address& a : site.addresses) {
            const auto earlier = std::find_if(
                s.sites.begin(), s.sites.begin() + static_cast<std::ptrdiff_t>(k), [&](std::size_t i) {
                    const auto& addrs = c.sites[i].addresses;
                    return std::find(addrs.begin(), addrs.end(), a) != addrs.end();
                });
            if (earlier == s.sites.begin() + static_cast<std::ptrdiff_t>(k)) continue;
            report.error(spots[k], "service.sites",
                         "'" + a.str() + "' is in both sites." + c.sites[*earlier].name + " and sites." +
                             site.name + " of " + service +
                             "; an address belongs to one site of a service (\"all\" would answer it twice, "
                             "and failing over between the two changes nothing)");
            draft.ok = false;
        }
    }
}

void services(Draft& d, Config& c, Report& report) {
    // Every valid name so far, lower-cased, with its entry's line: also
    // those of refused entries, so that a duplicate shows even when the
    // first has errors of its own.
    std::vector<std::pair<std::string, int>> names;
    for (auto& draft : d.services) {
        Service& s = draft.service;
        if (draft.name) {
            const auto lower = name_lower(s.name);
            for (const auto& [other, other_line] : names) {
                if (other != lower) continue;
                report.error(*draft.name, "service.name",
                             "service " + name_to_text(s.name) + " is already defined at line " +
                                 std::to_string(other_line));
                draft.ok = false;
            }
            names.emplace_back(lower, s.line);
        }
        std::vector<Spot> spots;  // where each of s.sites is listed
        for (const auto& ref : draft.sites) {
            const auto it = std::find_if(c.sites.begin(), c.sites.end(),
                                         [&](const Site& site) { return site.name == ref.name; });
            if (it == c.sites.end()) {
                report.error(ref.spot, "service.sites",
                             "no site named '" + ref.name + "' ([sites." + ref.name + "])");
                draft.ok = false;
                continue;
            }
            const auto index = static_cast<std::size_t>(it - c.sites.begin());
            if (std::find(s.sites.begin(), s.sites.end(), index) != s.sites.end()) {
                report.error(ref.spot, "service.sites", "'" + ref.name + "' is listed twice");
                draft.ok = false;
                continue;
            }
            s.sites.push_back(index);
            spots.push_back(ref.spot);
        }
        shared_addresses(draft, spots, c, report);
        if (draft.policy) {
            for (std::size_t i : s.sites) {
                if (c.sites[i].location) continue;
                report.error(
                    *draft.policy, "service.policy",
                    "nearest needs a location for every site; sites." + c.sites[i].name + " has none");
                draft.ok = false;
            }
        }
        if (const auto& ref = draft.fallback) {
            const auto it = std::find_if(s.sites.begin(), s.sites.end(),
                                         [&](std::size_t i) { return c.sites[i].name == ref->name; });
            if (it == s.sites.end()) {
                report.error(ref->spot, "service.fallback",
                             "'" + ref->name + "' is neither " + kFallbacks.list(", ", true) +
                                 " nor one of the service's sites");
                draft.ok = false;
            } else {
                s.fallback = Service::Fallback::site;
                s.fallback_site = *it;
            }
        }
        limits(draft, c, report);
        if (draft.ok) c.services.push_back(std::move(s));
    }
}

void zones(Draft& d, Config& c, Report& report) {
    for (auto& draft : d.zones) {
        if (draft.origin) {
            for (const auto& other : c.zones) {
                if (name_lower(other.origin) != name_lower(draft.zone.origin)) continue;
                report.error(*draft.origin, "zone.origin",
                             "zone " + name_to_text(draft.zone.origin) + " is already configured at line " +
                                 std::to_string(other.line));
                draft.ok = false;
            }
        }
        if (draft.ok) c.zones.push_back(std::move(draft.zone));
    }
}

void networks(Draft& d, Config& c, Report& report) {
    for (auto& draft : d.networks) {
        if (const auto& ref = draft.prefix) {
            for (const auto& other : c.geo.networks) {
                if (other.prefix != draft.network.prefix) continue;
                report.error(
                    ref->spot, "geo.networks.prefix",
                    "'" + ref->name + "' is listed twice (also at line " + std::to_string(other.line) + ")");
                draft.ok = false;
            }
        }
        if (draft.ok) c.geo.networks.push_back(draft.network);
    }
}

// Errors that only the whole file shows, and warnings about settings that
// work but defeat their purpose.
void whole_file(const Draft& d, const Config& c, Report& report) {
    if (!d.zone_entries) report.error(0, "zone", "no [[zone]] configured; dnsd needs at least one");
    if (c.cluster.enabled && !c.control.enabled)
        report.error(c.cluster.line, "cluster",
                     "needs [control]: peers read each other's verdicts from the control endpoint");
    if (c.cluster.enabled && c.control.enabled && !c.control.unix_path.empty())
        report.warning(c.cluster.line, "cluster",
                       "the control endpoint listens on a unix: socket: peers cannot read this instance's "
                       "verdicts (they ask over TCP)");
    if (c.cluster.enabled && c.cluster.token_file.empty())
        report.warning(c.cluster.line, "cluster",
                       "no token_file: anyone who reaches the control endpoint may read this "
                       "instance's verdicts, and peers are asked without a token");
    // A TTL far beyond the failover time keeps clients on a failed site
    // for the TTL, whatever the probes notice (SPEC 3).
    for (const auto& svc : c.services) {
        Duration slowest{0};
        for (auto i : svc.sites)
            if (c.sites[i].probe && failover_time(*c.sites[i].probe) > slowest)
                slowest = failover_time(*c.sites[i].probe);
        const auto ttl = Duration{std::int64_t{svc.ttl} * 1000};
        if (slowest.count() == 0 || ttl <= Duration{60'000} || ttl <= 2 * slowest) continue;
        report.warning(svc.line, "service.ttl",
                       std::to_string(svc.ttl) + "s is long beside a worst-case failover of " +
                           std::to_string((slowest.count() + 999) / 1000) +
                           "s: resolvers may keep a failed site's addresses for up to " +
                           std::to_string(svc.ttl + (slowest.count() + 999) / 1000) +
                           "s; a TTL of 60s or less (or twice the failover time) keeps failover quick");
    }
    // Stickiness keys only weighted's draw and max_answers' window (SPEC 9).
    for (const auto& svc : c.services)
        if (svc.stickiness == Service::Stickiness::client && svc.policy != Service::Policy::weighted &&
            svc.max_answers == 0)
            report.warning(svc.line, "service.stickiness",
                           std::string("has no effect: policy ") + to_string(svc.policy) +
                               " draws no site and there is no max_answers");
}

}  // namespace

Config validate(Draft d, Report& report) {
    Config c = std::move(d.config);
    const auto& cluster = c.cluster;
    if (d.quorum && !cluster.peers.empty() && cluster.quorum > cluster.peers.size() + 1)
        report.error(*d.quorum, "cluster.quorum",
                     std::to_string(cluster.quorum) + " is more vantage points than there are (" +
                         std::to_string(cluster.peers.size() + 1) + ": the peers and this instance)");
    for (auto& key : d.tsig) c.tsig.push_back(std::move(key.key));
    if (d.transfer_key && std::none_of(c.tsig.begin(), c.tsig.end(),
                                       [&](const TsigKey& k) { return k.name == c.server.transfer_key; }))
        report.error(
            *d.transfer_key, "server.transfer_key",
            "no TSIG key named '" + c.server.transfer_key + "' ([tsig." + c.server.transfer_key + "])");
    networks(d, c, report);
    probes_of_sites(d, c, report);
    services(d, c, report);
    zones(d, c, report);
    whole_file(d, c, report);
    return c;
}

}  // namespace dnsd::config
