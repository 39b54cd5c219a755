#pragma once
/// What-if (SPEC 10): the real decide() run over the demand (steer::Demand)
/// with the health changed as asked, now and after, per service.
///
/// Each top prefix of a service is located (networks, then databases, as
/// a query from it would be), keyed when the service has stickiness, and
/// decided as an A query (AAAA for a service with IPv6 addresses only)
/// once with the health as it is and once as it would be. Hold-down and
/// damping are left out of both (a simulation looks at where clients
/// belong, not at the minutes after a change). A decision over several
/// sites (`all`, or a `weighted` draw) splits the prefix's rate evenly
/// over the sites answered (a weighted one over kDraws draws, seeded by the
/// prefix). The rest of
/// a service's demand, below its top prefixes, is spread like the top.
///
/// Pure: no I/O, no state changes. Runs on the state thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/steer/demand.hpp"
#include "health/snapshot.hpp"

namespace dnsd::query {

struct Simulation {
    static constexpr unsigned kDraws = 64;       ///< decisions of a weighted service without stickiness
    static constexpr std::size_t kTopMoves = 5;  ///< prefixes listed per move
    struct Place {
        Prefix prefix;
        double rate = 0;  ///< queries per second
        bool located = false;
        double lat = 0, lon = 0;
    };
    struct Site {
        std::string name;
        double now = 0, after = 0;  ///< queries per second
        double capacity = 0;        ///< 0: none configured
        bool up_now = false, up_after = false;
        bool over() const noexcept { return capacity > 0 && after > capacity; }
    };
    struct Move {
        std::string from, to;  ///< a site name, "fallback" or "none"
        double rate = 0;
        std::vector<Place> top;  ///< the largest prefixes that move, largest first
    };
    struct Service {
        std::string name;     ///< text, absolute
        bool empty = true;    ///< no demand counted yet
        double rate = 0;      ///< queries per second, all prefixes
        double top_rate = 0;  ///< of the prefixes decided one by one
        double error = 0;     ///< the count error bound, as a rate
        std::vector<Site> sites;
        /// Decided by the fallback (no site up), whatever it gives.
        double fallback_now = 0, fallback_after = 0;
        /// No answer (NODATA): the fallback's "none", or every site
        /// forced down (not even a fallback answers with those).
        double none_now = 0, none_after = 0;
        std::vector<Move> moves;
        unsigned min_sites_up = 0;
        unsigned up_now = 0, up_after = 0;  ///< sites up, neither drained nor down
    };
    std::vector<Service> services;
    /// Each site's demand over the services simulated, against its capacity.
    std::vector<Site> sites;
    double counted = 0;  ///< seconds of demand counted
    /// The guards (SPEC 10) the change would break, one sentence each.
    std::vector<std::string> breaches;
};

/// Runs the simulation of the services of `view` (only `service` when
/// not empty: its name as text) with `now` (the health the workers
/// answer from) and `after` (the same with the changes applied, its
/// site states filled). `capacity` and `min_sites_up` per catalog site and
/// service index.
Simulation simulate(const View& view, const health::Snapshot& now, const health::Snapshot& after,
                    const steer::Demand& demand, const std::vector<double>& capacity,
                    const std::vector<unsigned>& min_sites_up, const std::string& service);

}  // namespace dnsd::query
