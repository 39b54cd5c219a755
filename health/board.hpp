#pragma once
/// The health board: what the state thread knows about every address (its
/// rise/fall state, since when, the last probe result) and the operator's
/// overrides per site. It turns probe results into state changes and
/// builds the immutable Snapshot that workers read.
///
/// Not thread-safe: owned and used by the state thread only. Pure apart
/// from the clock values it is given: no sockets, no files, no logging.

#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/steer/catalog.hpp"
#include "health/cluster.hpp"
#include "health/rise_fall.hpp"
#include "health/snapshot.hpp"

namespace dnsd::health {

using dnsd::unix_now;  ///< the board counts in Unix seconds

/// A change worth telling the operator about (logged, later alerted).
struct Event {
    /// address_up/down: the state queries are answered by changed (with a
    /// cluster: the merged state); verdict_up/down: this instance's own
    /// probes changed their mind (with a cluster only).
    enum class Kind : std::uint8_t { address_up, address_down, override_set, verdict_up, verdict_down };
    Kind kind;
    std::uint32_t index;  ///< address index, or site index for override_set
    std::string text;     ///< one line for the log
};

/// Probe durations of one site, as a Prometheus histogram.
struct Latency {
    static constexpr std::uint32_t kBoundsMs[] = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};
    std::uint64_t buckets[std::size(kBoundsMs)] = {};  ///< non-cumulative; the rest is above the last bound
    std::uint64_t count = 0;
    std::uint64_t sum_ms = 0;
    void observe(std::uint32_t ms) noexcept {
        for (std::size_t i = 0; i < std::size(kBoundsMs); ++i)
            if (ms <= kBoundsMs[i]) {
                ++buckets[i];
                break;
            }
        ++count;
        sum_ms += ms;
    }
};

/// What survives a restart of the board (SPEC 3), as plain values; the
/// server's StateFile reads and writes it.
struct Persisted {
    struct SiteOverride {
        Override state = Override::none;
        std::int64_t until = 0;  ///< Unix time it ends by itself (0: never)
    };
    struct AddressState {
        bool up = true;
        std::int64_t since = 0;  ///< Unix time of its last change
    };
    std::map<std::string, SiteOverride> overrides;  ///< by site name; only those set
    std::map<std::string, AddressState> addresses;  ///< by Board::key(); probed addresses only
};

class Board {
public:
    /// `now` is Unix time in seconds. Every address starts up (SPEC 3:
    /// until its first verdict an address counts as up, unless the state
    /// file says otherwise).
    Board(const config::Config& cfg, std::shared_ptr<const steer::Catalog> catalog, std::int64_t now);

    const steer::Catalog& catalog() const noexcept { return *catalog_; }
    const std::shared_ptr<const steer::Catalog>& catalog_ptr() const noexcept { return catalog_; }
    /// The probe of each address, or null for addresses that are not probed.
    /// It connects to `catalog().probe_targets[address]`.
    const config::Probe* probe(std::uint32_t address) const noexcept { return probes_[address].get(); }
    std::size_t address_count() const noexcept { return states_.size(); }
    /// "site/address": names an address across reloads, in the state file
    /// and between the instances of a cluster.
    std::string key(std::uint32_t address) const;

    /// Takes one probe result. Returns true when the address changed state.
    bool record(std::uint32_t address, bool ok, std::uint32_t latency_ms, std::string message,
                std::int64_t now);
    /// Probe durations by site name (kept across reloads for sites that stay).
    std::map<std::string, Latency> latencies() const;
    /// How late probes started against their schedule (the monitor's).
    void observe_lag(std::uint32_t ms) noexcept { lag_.observe(ms); }
    const Latency& lags() const noexcept { return lag_; }

    /// This instance's own verdict on each address (unknown: not probed):
    /// what peers are told, never the merged state.
    std::vector<Verdict> own_verdicts() const;
    /// The verdicts of the peers that count now (fresh and reachable), by
    /// address index, and the quorum (SPEC 8). Returns true when an
    /// address's served state changed.
    bool set_cluster(std::vector<std::vector<Verdict>> peers, unsigned quorum);
    /// The last merge: vantage points and whether fewer than the quorum.
    unsigned vantage_points() const noexcept { return vantage_points_; }
    bool degraded() const noexcept { return degraded_; }
    unsigned quorum() const noexcept { return quorum_; }
    /// How many vantage points see address `a` down (this one included).
    unsigned seen_down(std::uint32_t a) const noexcept;

    /// Sets an operator override; returns true when it changed.
    /// `until`: Unix time at which the override ends by itself (0: never).
    bool set_override(std::uint32_t site, Override o, std::int64_t until = 0);
    Override override_of(std::uint32_t site) const noexcept { return overrides_[site]; }
    std::int64_t override_until(std::uint32_t site) const noexcept { return until_[site]; }
    /// Ends the overrides whose time has come; returns true when one did.
    bool expire(std::int64_t now);

    /// A new snapshot of the current state (generation increases), without
    /// its site states: the publisher adds them (steer::fill_site_states).
    std::shared_ptr<Snapshot> snapshot();
    /// The changes since the last call.
    std::vector<Event> take_events();

    /// What the state file keeps (SPEC 3): overrides, and the last state
    /// of each probed address.
    Persisted persisted() const;
    /// Applies a state file read at start: overrides of sites that still
    /// exist, and the last state of addresses still probed. Overrides of
    /// sites that are gone are warnings in `diags` (`path` names the file):
    /// a stale state file must not stop the server.
    void restore(const Persisted& saved, const std::string& path, Diagnostics& diags);
    /// Keeps the state of addresses and sites that are in both boards
    /// (reload: probes of unchanged targets keep their state; a changed
    /// probe or probe target starts afresh).
    void carry_over(const Board& old);

private:
    struct AddressState {
        RiseFall rf;
        AddressInfo info;
    };

    std::shared_ptr<const steer::Catalog> catalog_;
    std::vector<std::shared_ptr<const config::Probe>> probes_;
    std::vector<AddressState> states_;
    std::vector<Override> overrides_;
    std::vector<std::int64_t> until_;  ///< per site: when its override ends (0: never)
    /// "probed at TARGET: " when the address's probe connects elsewhere
    /// (probe_targets), else empty: the start of an event's reason.
    std::string probed_at(std::uint32_t address) const;
    /// Merges the verdicts and turns changes of the served state into
    /// events (none when `quiet`: start, state file, reload).
    bool settle(bool quiet, std::int64_t now);

    std::vector<Event> events_;
    std::vector<Latency> latency_;  ///< by site
    Latency lag_;
    std::vector<std::vector<Verdict>> peers_;
    unsigned quorum_ = 1;
    unsigned vantage_points_ = 1;
    bool degraded_ = false;
    std::vector<std::uint8_t> served_;  ///< per address: the merged state queries are answered by
    std::uint64_t generation_ = 0;
};

}  // namespace dnsd::health
