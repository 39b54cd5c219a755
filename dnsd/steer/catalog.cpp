#include "dnsd/steer/catalog.hpp"

#include <atomic>

#include "dnsd/steer/rendezvous.hpp"

namespace dnsd::steer {

Catalog Catalog::build(const config::Config& cfg) {
    static std::atomic<std::uint64_t> next_id{1};
    Catalog c;
    c.id = next_id.fetch_add(1, std::memory_order_relaxed);
    for (const auto& s : cfg.sites) {
        Site site;
        site.name = s.name;
        if (s.location) {
            site.located = true;
            site.location = GeoPoint::from_degrees(s.location->lat, s.location->lon);
        }
        const auto index = static_cast<std::uint32_t>(c.sites.size());
        c.site_key.push_back(key_of(s.name));
        for (Family f : {Family::v4, Family::v6}) {
            Range& r = f == Family::v4 ? site.v4 : site.v6;
            r.first = static_cast<std::uint32_t>(c.addresses.size());
            for (const auto& a : s.addresses) {
                if (a.family != f) continue;
                c.addresses.push_back(a);
                c.address_site.push_back(index);
                c.probe_targets.push_back(s.probe_target(a));
                c.address_key.push_back(key_of(a));
            }
            r.count = static_cast<std::uint32_t>(c.addresses.size()) - r.first;
        }
        site.cname = s.cname;
        site.min_up = s.min_up;
        site.weight = s.weight;
        site.probed = s.probe.has_value();
        site.has_load = !s.load.empty();
        c.sites.push_back(std::move(site));
    }
    for (const auto& s : cfg.services) {
        Service svc;
        svc.name = s.name;
        for (auto i : s.sites) svc.sites.push_back(static_cast<std::uint32_t>(i));
        svc.policy = s.policy;
        svc.ttl = s.ttl;
        svc.max_answers = s.max_answers;
        svc.fallback = s.fallback;
        if (s.fallback == config::Service::Fallback::site)
            svc.fallback_site = static_cast<std::uint32_t>(s.fallback_site);
        svc.sticky = s.stickiness == config::Service::Stickiness::client;
        svc.line = s.line;
        svc.index = static_cast<std::uint32_t>(c.services.size());
        svc.demand_key = static_cast<std::uint32_t>(key_of(svc.name));
        svc.stays_put = s.stays_put();
        svc.spill_at = s.spill_at;
        c.services.push_back(std::move(svc));
    }
    return c;
}

}  // namespace dnsd::steer
