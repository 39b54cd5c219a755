#pragma once
/// Sites and services compiled from the configuration into flat arrays the
/// query path can read without allocating: every address has an index (the
/// health snapshot's index too), each site's addresses are contiguous per
/// family, and locations are unit vectors (nearest = largest dot product).
/// Immutable once built; shared by all threads.

#include <cstdint>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/core/geo_point.hpp"

namespace dnsd::steer {

inline constexpr std::uint32_t kNoSite = 0xffffffffu;

struct Range {
    std::uint32_t first = 0;
    std::uint32_t count = 0;
};

struct Site {
    std::string name;
    bool located = false;
    GeoPoint location;  ///< when located
    Range v4, v6;       ///< into Catalog::addresses
    std::string cname;  ///< wire; empty for an address site
    unsigned min_up = 1;
    unsigned weight = 100;
    bool probed = false;
    bool has_load = false;  ///< a `load` URL (spill-over, SPEC 10)
    Range family(Family f) const noexcept { return f == Family::v4 ? v4 : v6; }
};

struct Service {
    std::string name;  ///< wire, as configured
    std::vector<std::uint32_t> sites;
    config::Service::Policy policy = config::Service::Policy::failover;
    std::uint32_t ttl = 30;
    unsigned max_answers = 0;
    config::Service::Fallback fallback = config::Service::Fallback::all;
    bool sticky = false;  ///< stickiness = "client": decide() takes a keyed Client
    std::uint32_t fallback_site = kNoSite;
    std::uint32_t index = 0;  ///< in Catalog::services (and health::Snapshot::services)
    /// Its name's key (rendezvous.hpp), cut to 32 bits: what the workers'
    /// demand tables count it under, the same across reloads.
    std::uint32_t demand_key = 0;
    /// Hold-down, damping or a degraded TTL (SPEC 9): decide() reads the
    /// service's own view of its sites in the snapshot.
    bool stays_put = false;
    /// Spill-over (SPEC 10, nearest): config::Service::spill_at; 0: off.
    double spill_at = 0;
    int line = 0;
};

struct Catalog {
    /// Unique in the process: what a health::Snapshot names as the catalog
    /// its indices refer to.
    std::uint64_t id = 0;
    std::vector<Site> sites;
    std::vector<Address> addresses;           ///< all sites' addresses; index = health index
    std::vector<std::uint32_t> address_site;  ///< the site of each address
    /// What the probe of each address connects to: the address itself, or
    /// its site's probe_targets entry (a NAT, a VIP). Health is always
    /// reported under `addresses`; this is only ever shown beside it.
    std::vector<Address> probe_targets;
    /// key_of() each site's name and each address, for rendezvous hashing
    /// (apart from Site, whose size the nearest policy's loop feels).
    std::vector<std::uint64_t> site_key, address_key;
    std::vector<Service> services;

    /// Compiles the sites and services of a validated configuration.
    static Catalog build(const config::Config& cfg);
};

}  // namespace dnsd::steer
