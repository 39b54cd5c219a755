#pragma once
/// The immutable health view the query path reads: one bit per probed
/// address and the operator's override per site. Built by the state thread
/// on every change and published through a SnapshotSlot; workers only read.
///
/// Part of the pure health model (with rise_fall.hpp and cluster.hpp): no
/// I/O, no Asio; steering reads it, the board writes it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dnsd::health {

/// An operator's override of a site (SPEC section 3). `none` is "auto":
/// the probes decide.
enum class Override : std::uint8_t { none, up, down, drain };

inline const char* to_string(Override o) noexcept {
    switch (o) {
        case Override::none:
            return "auto";
        case Override::up:
            return "up";
        case Override::down:
            return "down";
        case Override::drain:
            return "drain";
    }
    return "auto";
}

/// The override named `text` as to_string() prints it ("auto", "up",
/// "down", "drain"), or nothing.
inline std::optional<Override> parse_override(std::string_view text) noexcept {
    for (Override o : {Override::none, Override::up, Override::down, Override::drain})
        if (text == to_string(o)) return o;
    return std::nullopt;
}

/// What health.server and the status page show of one address.
struct AddressInfo {
    bool probed = false;
    std::int64_t since = 0;   ///< Unix time of the last change of state (or of start)
    bool has_result = false;  ///< a probe has completed
    bool last_ok = false;
    std::uint32_t latency_ms = 0;
    std::string message;  ///< the last probe's message
};

/// A site's state for one address family, as steering reads it. Computed
/// once per snapshot by steering (steer::fill_site_states, called by the
/// publisher) so that a query does not
/// count a site's addresses up again. No member initializers on purpose:
/// decide() keeps an array of these on the stack, filled as it goes.
struct SiteState {
    Override ov;
    bool is_cname;
    bool usable;          ///< up, not drained (nor forced down), nor held down
    bool drained;         ///< up but drained
    bool held;            ///< up but held down (failback), not drained: serves before the drained ones
    std::uint32_t up;     ///< addresses of the family up (all of them under override up)
    std::uint32_t total;  ///< addresses of the family
};

/// Why a site of a service is held back (SPEC 9), for explanations, the
/// status and alerts.
struct Stay {
    enum class Reason : std::uint8_t { none, held, held_manual, damped };
    Reason reason = Reason::none;
    std::int64_t until_ms = 0;  ///< held: when the hold-down ends; damped: when the last address is reused
    std::uint32_t penalty = 0;  ///< damped: the highest penalty among its suppressed addresses
};

/// A service whose answers depend on more than its sites' states (SPEC 9:
/// hold-down, damping, a degraded TTL), as the state thread worked it out
/// at `Snapshot::published_ms`.
struct ServiceView {
    /// Per site of the service in its listed order, * 2 (+1 for IPv6):
    /// its state with this service's hold-down and damping applied.
    std::vector<SiteState> sites;
    std::vector<Stay> stays;  ///< likewise
    /// Per address index of the catalog: 1 when this service's damping
    /// suppresses it; empty without damping.
    std::vector<std::uint8_t> suppressed;
    /// The TTL of its answers now: `ttl`, or `ttl_degraded` while a site is
    /// down, held down or damped, never past a change known to come.
    std::uint32_t ttl = 0;
    bool degraded = false;
};

/// Spill-over (SPEC 10) of one site of a `nearest` service for one family,
/// as the state thread worked it out from the site's load.
struct Spill {
    double load = -1;  ///< the site's load; -1: none (no reading, or an unreadable one)
    double keep = 1;   ///< the share of its clients the site keeps
    /// Its clients whose next-nearest up site is less than this many km
    /// farther away are shed to that site. 0: none; infinity: all.
    double shed_below_km = 0;
};

struct Snapshot {
    std::vector<std::uint8_t> up;     ///< per address index of the steer::Catalog: 1 when up
    std::vector<Override> overrides;  ///< per site index of the steer::Catalog
    std::vector<AddressInfo> info;    ///< per address index; may be empty (tests)
    std::uint64_t generation = 0;     ///< increases with every published change
    std::uint64_t catalog_id = 0;     ///< the steer::Catalog::id the indices refer to
    /// With a [cluster]: the vantage points whose verdicts counted, and the
    /// quorum (1 and 1 without one).
    std::uint8_t vantage_points = 1;
    std::uint8_t quorum = 1;
    /// Per site index * 2 (+1 for IPv6), from `up` and `overrides`; empty
    /// when not filled (tests): steering then works them out per query.
    std::vector<SiteState> sites{};
    /// Per service index of the catalog; empty when no service stays put
    /// (and then per service: an empty ServiceView for one that does not).
    std::vector<ServiceView> services{};
    std::int64_t published_ms = 0;  ///< Unix ms when `services` was worked out
    /// Per service index of the catalog, for a service with `spill_at`: per
    /// site of the service * 2 (+1 for IPv6), its spill-over. Empty (all of
    /// it, or a service's) when nothing spills.
    std::vector<std::vector<Spill>> spills{};
};

}  // namespace dnsd::health
