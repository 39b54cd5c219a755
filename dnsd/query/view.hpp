#pragma once
/// View: everything a worker needs to answer queries, as one immutable
/// snapshot: the zones, server settings. Built by load() on a loader thread
/// (start-up or reload), published through a SnapshotSlot, then only read.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/geo/locator.hpp"
#include "dnsd/query/counters.hpp"
#include "dnsd/steer/catalog.hpp"
#include "zones/zone.hpp"

namespace dnsd::query {

/// The serial a zone was last served with, and a digest of its content
/// apart from that serial: what the serial rule needs to go on (View::load
/// says the rule; the state file keeps these across restarts).
struct ServedSerial {
    std::uint32_t serial = 0;
    std::uint64_t digest = 0;
};
/// By origin (lower-case text, with the final dot).
using ServedSerials = std::map<std::string, ServedSerial>;

class View {
public:
    /// Reads every zone the config names and builds the view. Returns null
    /// when any zone had errors; all problems go to `diags`.
    ///
    /// Serials: a zone is served with its file's serial, unless its content
    /// (services included) changed since `previous` served it while the
    /// file's serial did not move ahead: then with the previous serial plus
    /// one (RFC 1982), so that secondaries notice.
    static std::shared_ptr<const View> load(const config::Config& cfg, Diagnostics& diags,
                                            const ServedSerials* previous = nullptr);

    /// The serial and digest of each zone of this view.
    const ServedSerials& served_serials() const noexcept { return served_; }

    /// The zone that is the longest match for the lower-cased wire name
    /// whose label suffixes start at `offsets[0..labels]`; null when none.
    /// `suffix` receives the label index at which the zone origin starts,
    /// `index` the zone's index in zones().
    const zones::Zone* find_zone(const std::uint8_t* lower_name, const std::uint8_t* offsets, unsigned labels,
                                 std::size_t size, unsigned& suffix, std::size_t& index) const noexcept;

    /// The node -> service table of zones()[zone]: the index into
    /// catalog().services of the service at each node, or -1. Null when the
    /// zone holds no service.
    const std::int32_t* services_of(std::size_t zone) const noexcept {
        return service_at_[zone].empty() ? nullptr : service_at_[zone].data();
    }
    /// This view's query counters (the one mutable part: relaxed atomics).
    Counters& counters() const noexcept { return *counters_; }
    const steer::Catalog& catalog() const noexcept { return *catalog_; }
    const std::shared_ptr<const steer::Catalog>& catalog_ptr() const noexcept { return catalog_; }
    const Acl& explain_allow() const noexcept { return explain_allow_; }
    /// Client locations; null when neither databases nor networks are configured.
    const geo::Locator* locator() const noexcept { return locator_.get(); }
    bool ecs() const noexcept { return ecs_; }  ///< honour EDNS Client Subnet

    const std::vector<std::shared_ptr<const zones::Zone>>& zones() const noexcept { return zones_; }
    const std::string& identity() const noexcept { return identity_; }
    const std::string& version() const noexcept { return version_; }
    std::uint16_t udp_payload() const noexcept { return udp_payload_; }
    unsigned query_log() const noexcept { return query_log_; }  ///< log one query in this many (0: none)
    const config::RateLimit& rate_limit() const noexcept { return rate_limit_; }
    const Acl& transfer_allow() const noexcept { return transfer_allow_; }

    /// For tests: a view over already built zones.
    static std::shared_ptr<const View> make(std::vector<std::shared_ptr<const zones::Zone>> zones,
                                            const config::Server& server,
                                            std::shared_ptr<const steer::Catalog> catalog = nullptr,
                                            std::shared_ptr<const geo::Locator> locator = nullptr,
                                            bool ecs = true);

private:
    static std::shared_ptr<View> assemble(std::vector<std::shared_ptr<const zones::Zone>> zones,
                                          const config::Server& server,
                                          std::shared_ptr<const steer::Catalog> catalog,
                                          std::shared_ptr<const geo::Locator> locator, bool ecs);

    std::vector<std::shared_ptr<const zones::Zone>> zones_;
    std::vector<std::int32_t> table_;  ///< open addressing over origins
    std::uint64_t mask_ = 0;
    unsigned max_origin_labels_ = 0;  ///< no zone is deeper: suffixes longer than this are skipped
    std::string identity_;
    std::string version_;
    std::uint16_t udp_payload_ = 1232;
    unsigned query_log_ = 0;
    config::RateLimit rate_limit_;
    Acl transfer_allow_;
    Acl explain_allow_;
    std::shared_ptr<const steer::Catalog> catalog_;
    std::shared_ptr<const geo::Locator> locator_;
    bool ecs_ = true;
    std::vector<std::vector<std::int32_t>> service_at_;  ///< per zone, per node
    std::unique_ptr<Counters> counters_;
    ServedSerials served_;
};

}  // namespace dnsd::query
