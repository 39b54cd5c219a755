#pragma once
/// What the control endpoint shows (SPEC 6): /status, the status page and
/// /metrics, as pure functions over an Observation, an immutable value the
/// state thread takes when asked. Nothing here touches the board, the
/// peers or the workers; tests can build an Observation by hand.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/core/duration.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/server/stats.hpp"
#include "health/board.hpp"
#include "health/snapshot.hpp"

namespace dnsd::server {

/// Queries by zone, type, rcode and transport, and steering decisions by
/// service, outcome and site, keyed by their Prometheus label text, so that
/// counts of views replaced by reloads add up by name.
struct Counts {
    std::map<std::string, std::uint64_t> queries;
    std::map<std::string, std::uint64_t> decisions;
};

/// Adds the counts of view `v` into `into`.
void fold_counts(const query::View& v, Counts& into);

/// A label value escaped as the exposition format asks (\\, \", \n).
std::string label_value(const std::string& v);

struct Observation {
    std::shared_ptr<const query::View> view;           ///< zones and services answered from
    std::shared_ptr<const steer::Catalog> catalog;     ///< the board's: the health indices refer to it
    std::shared_ptr<const health::Snapshot> health;    ///< what the workers answer from
    std::vector<std::int64_t> override_until;          ///< per site: when its override ends (0: never)
    std::map<std::string, health::Latency> latencies;  ///< probe durations by site name
    std::map<std::string, Duration> probe_intervals;   ///< probe interval by site name (probed sites only)
    health::Latency probe_lag;                         ///< how late probes started

    struct Peer {
        std::string url;
        bool reachable = false;
        bool counted = false;  ///< reachable and fresh: its verdicts count
        std::string instance;
        std::string error;
    };
    /// Spill-over (SPEC 10): each site's `load` reading, by site name.
    struct Load {
        std::string url;
        bool tried = false;        ///< read at least once
        bool ok = false;           ///< the last reading was a load
        double value = -1;         ///< the last good reading
        std::string error;         ///< why the last reading was not one
        std::int64_t age_ms = -1;  ///< since the last good reading; -1: none
    };
    std::map<std::string, Load> loads;
    bool cluster = false;  ///< a [cluster] is configured
    unsigned quorum = 1;
    unsigned vantage_points = 1;
    bool degraded = false;
    std::vector<Peer> peers;

    std::uint64_t rate_limited[2] = {};  ///< dropped, sent truncated
    std::uint64_t tcp_refused = 0;
    std::uint64_t signatures[3] = {};  ///< DNSSEC: from the cache, made, failed
    Counts counts;                     ///< every view's, folded by name
    std::uint64_t alerts[3] = {};      ///< delivered, failed, dropped
    std::uint64_t reloads[2] = {};     ///< ok, failed
    /// Demand (SPEC 10) per service: queries per second over the last
    /// hour, decayed, and the part the decision sends to each site now.
    struct Demand {
        std::string service;  ///< text
        double rate = 0;
        std::vector<std::pair<std::string, double>> sites;
    };
    std::vector<Demand> demand;
};

/// GET /status: JSON.
std::string status_json(const Observation& o);

/// GET /: a page a person would rather look at than read: the sites on a
/// plot of the world by their coordinates, coloured by state, and a table
/// of sites and addresses. Self-contained (no outside assets) and
/// refreshing itself every 5 seconds.
std::string status_page(const Observation& o);

/// GET /metrics: Prometheus text exposition, names dnsd_*.
std::string metrics_text(const Observation& o);

}  // namespace dnsd::server
