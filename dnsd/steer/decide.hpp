#pragma once
/// The steering decision (SPEC section 3) as one pure function: which
/// addresses (or which CNAME) a service answers for one query, given the
/// health snapshot, the client's location and the address family.
///
/// No allocation, no locks, no I/O: workers call it on the query path, the
/// explanation renders the trace it fills, and the unit tests drive it with
/// a seeded Random. Thread-safe for distinct Random objects.

#include <cstdint>
#include <vector>

#include "dnsd/steer/catalog.hpp"
#include "health/snapshot.hpp"

namespace dnsd::steer {

/// Addresses in one answer and sites of one service, at most: the
/// configuration refuses more (config::Service).
inline constexpr unsigned kMaxAnswers = config::Service::kMaxAddresses;
inline constexpr unsigned kMaxTraceSites = config::Service::kMaxSites;

/// Per-worker pseudo-random source (xorshift64*) and rotation counter.
struct Random {
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    std::uint32_t rotation = 0;
    std::uint64_t next() noexcept {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return state * 0x2545F4914F6CDD1Dull;
    }
};

/// Where the client is, when known; and for a service with stickiness,
/// who it is: its prefix's key_of() (rendezvous.hpp), when `keyed`.
/// The query path keys clients only for such services.
struct Client {
    bool located = false;
    bool keyed = false;
    UnitVector location;
    std::uint64_t key = 0;
};

struct Choice {
    enum class Kind : std::uint8_t { addresses, cname, nodata };
    Kind kind = Kind::nodata;
    std::uint32_t site = kNoSite;  ///< the chosen site (kNoSite for `all` over several, or nodata)
    /// No site was up: the fallback decided. A nodata Choice without it:
    /// no site of the service has an address of the family (nor a CNAME).
    bool fallback = false;
    /// Picked by the client's key (stickiness): the site among several
    /// weighted ones; the max_answers addresses among more.
    bool hashed_site = false;
    bool hashed_addresses = false;
    /// Spill-over: the nearest site shed this client to the next nearest.
    bool shed = false;
    unsigned count = 0;
    std::uint32_t address[kMaxAnswers];  ///< indices into Catalog::addresses
    /// NODATA because no site has an address of the family: not an outage.
    bool no_family() const noexcept { return kind == Kind::nodata && !fallback; }
    /// The answer depends on the client's key.
    bool hashed() const noexcept { return hashed_site || hashed_addresses; }
};

/// Why each site did or did not get the answer, for explanations.
struct Trace {
    enum class Verdict : std::uint8_t {
        chosen,       ///< in the answer
        standby,      ///< up, but the policy chose another
        down,         ///< too few addresses up (min_up)
        drained,      ///< override drain, and a site that is not drained is up
        forced_down,  ///< override down
        no_family,    ///< no address of the asked family
        held_down,    ///< up again, but held down (failback), and another site is up
        damped,       ///< too few addresses up once the flapping ones are suppressed
    };
    struct SiteEntry {
        std::uint32_t site = kNoSite;
        health::Override override_state = health::Override::none;
        unsigned up = 0;          ///< addresses of the family up
        unsigned total = 0;       ///< addresses of the family
        double distance_km = -1;  ///< -1: unknown (no client or site location)
        Verdict verdict = Verdict::down;
        health::Stay stay;  ///< held down or damped: why, until when
    };
    SiteEntry sites[kMaxTraceSites];
    unsigned count = 0;
    /// Spill-over: the nearest site was above spill_at (`from` is kNoSite
    /// otherwise), and what that meant for this client.
    struct SpillNote {
        std::uint32_t from = kNoSite;  ///< the nearest site, overloaded
        std::uint32_t to = kNoSite;    ///< the next nearest up site (kNoSite: none)
        health::Spill spill;           ///< its load, the share it keeps, the cut
        double extra_km = -1;          ///< how much farther `to` is for this client
        bool shed = false;             ///< the client was sent to `to`
    } spill;
};

const char* to_string(Trace::Verdict v) noexcept;

/// A site's state for one family, as decide() sees it.
struct SiteHealth {
    unsigned up = 0;     ///< addresses of the family up (all of them under override up)
    unsigned total = 0;  ///< addresses of the family
    bool is_up = false;  ///< enough are up (min_up), or a CNAME site not forced down
};
SiteHealth site_health(const Catalog& catalog, std::uint32_t site, Family family,
                       const health::Snapshot& health) noexcept;

/// Fills `health.sites` from its `up` and `overrides` (after those change).
void fill_site_states(const Catalog& catalog, health::Snapshot& health);

/// A site's state for one family from `health`'s address states and
/// overrides, with the addresses `suppressed` marks (per address index;
/// may be null) counted as down: what steer::Staying applies damping with.
health::SiteState site_state(const Catalog& catalog, std::uint32_t site, Family family,
                             const health::Snapshot& health, const std::uint8_t* suppressed) noexcept;

/// Works out the spill-over (SPEC 10) of every service with `spill_at` into
/// `health.spills`, from its sites' states in `health` (fill_site_states
/// and, for services that stay put, steer::Staying first), `loads` (per
/// site index of the catalog; negative: none) and `reference`, the
/// reference distribution of client locations (geo::Locator::reference).
/// For an up site above spill_at, the share it keeps falls linearly to
/// none at 1.0; the clients it sheds are, of the reference clients nearest
/// to it, those whose next-nearest up site is the least extra distance
/// away, to that share of their weight. The cut is a distance, so that
/// decide() needs no table and every instance with the same data sheds
/// the same clients. A shed client goes to its next-nearest up site
/// whatever that site's own load (no cascade). State thread.
void fill_spills(const Catalog& catalog, const std::vector<double>& loads,
                 const std::vector<WeightedPoint>& reference, health::Snapshot& health);

/// What the state thread worked out for `svc` (SPEC 9: its sites with
/// hold-down and damping applied, its TTL now), or null when the service
/// does not stay put or `health` is not of this catalog's services.
inline const health::ServiceView* service_view(const Service& svc, const health::Snapshot& health) noexcept {
    if (!svc.stays_put || svc.index >= health.services.size()) return nullptr;
    const health::ServiceView& v = health.services[svc.index];
    return v.sites.size() == svc.sites.size() * 2 ? &v : nullptr;
}

/// Decides the answer of `service` for one query of family `family`, into
/// `out` (the query path keeps it in its plan: no copy of the address list).
void decide(const Catalog& catalog, const Service& service, Family family, const Client& client,
            const health::Snapshot& health, Random& random, Trace* trace, Choice& out) noexcept;

/// The same, returning the choice (tests, explanations).
inline Choice decide(const Catalog& catalog, const Service& service, Family family, const Client& client,
                     const health::Snapshot& health, Random& random, Trace* trace = nullptr) noexcept {
    Choice out;
    decide(catalog, service, family, client, health, random, trace, out);
    return out;
}

}  // namespace dnsd::steer
