#pragma once
/// View: everything a worker needs to answer queries, as one immutable
/// snapshot: the zones, the compiled services, the geo data, the server
/// settings. Built by dnsd/load (load::runtime) on a loader thread (start-up
/// or reload), published through a SnapshotSlot, then only read; its
/// Counters are the one part workers write (relaxed atomics).

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/dnssec/key_set.hpp"
#include "dnsd/geo/locator.hpp"
#include "dnsd/query/counters.hpp"
#include "dnsd/steer/catalog.hpp"
#include "zones/journal.hpp"
#include "zones/zone.hpp"

namespace dnsd::query {

/// What secondaries may hold of a zone: the highest serial served, and a
/// digest of the content (apart from the serial) first served under it.
/// Only for warnings: the served serial is the zone file's
/// (dnsd/load/serial.hpp; the state file keeps these across restarts).
struct ServedSerial {
    std::uint32_t serial = 0;
    std::uint64_t digest = 0;
};
/// By origin (lower-case text, with the final dot).
using ServedSerials = std::map<std::string, ServedSerial>;

class View {
public:
    /// What a view is made of besides the [server] settings.
    struct Parts {
        std::vector<std::shared_ptr<const zones::Zone>> zones;
        /// What each zone was built from (null: unknown), for reloads.
        std::vector<std::shared_ptr<const zones::ZoneSource>> sources;
        /// Each signed zone's keys (SPEC 11); null or missing: not signed.
        std::vector<std::shared_ptr<const dnssec::KeySet>> keys;
        /// Each zone's IXFR journal (load/journal.hpp); missing ones are empty.
        std::vector<zones::Journal> journals;
        std::shared_ptr<const steer::Catalog> catalog;  ///< null: no services
        std::shared_ptr<const geo::Locator> locator;    ///< null: no [geo]
        /// Where clients are, for spill-over (geo::Locator::reference);
        /// null when no service spills or nothing locates clients.
        std::shared_ptr<const std::vector<WeightedPoint>> reference;
        bool ecs = true;  ///< honour EDNS Client Subnet
        config::RateLimit rate_limit;
        ServedSerials served;                    ///< what secondaries may hold of each zone
        std::vector<config::TsigKey> tsig_keys;  ///< [tsig.NAME]
        /// How the zones were had: read from their files, taken from the
        /// running view as they were, or taken with new service records.
        struct Loaded {
            std::size_t read = 0, unchanged = 0, services = 0;
        } loaded;
    };
    /// Indexes the zones and the services' nodes, sizes the counters.
    static std::shared_ptr<const View> make(Parts parts, const config::Server& server);

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
    /// The keys of zones()[zone] when it is signed; null otherwise.
    const dnssec::KeySet* keys(std::size_t zone) const noexcept {
        return zone < keys_.size() ? keys_[zone].get() : nullptr;
    }
    /// This view's query counters (the one mutable part: relaxed atomics).
    Counters& counters() const noexcept { return *counters_; }
    const steer::Catalog& catalog() const noexcept { return *catalog_; }
    const std::shared_ptr<const steer::Catalog>& catalog_ptr() const noexcept { return catalog_; }
    const Acl& explain_allow() const noexcept { return explain_allow_; }
    /// Client locations; null when neither databases nor networks are configured.
    const geo::Locator* locator() const noexcept { return locator_.get(); }
    bool ecs() const noexcept { return ecs_; }  ///< honour EDNS Client Subnet
    /// The reference distribution of client locations (spill-over); empty
    /// when no service spills.
    const std::vector<WeightedPoint>& reference() const noexcept;

    const std::vector<std::shared_ptr<const zones::Zone>>& zones() const noexcept { return zones_; }
    const std::vector<std::shared_ptr<const zones::ZoneSource>>& sources() const noexcept { return sources_; }
    const Parts::Loaded& loaded() const noexcept { return loaded_; }
    /// What zones()[i] was built from; null when not known.
    const zones::ZoneSource* source(std::size_t i) const noexcept {
        return i < sources_.size() ? sources_[i].get() : nullptr;
    }
    /// The differences that lead to zones()[i], for IXFR.
    const zones::Journal& journal(std::size_t i) const noexcept { return journals_[i]; }
    const std::string& identity() const noexcept { return identity_; }
    const std::string& version() const noexcept { return version_; }
    std::uint16_t udp_payload() const noexcept { return udp_payload_; }
    unsigned query_log() const noexcept { return query_log_; }  ///< log one query in this many (0: none)
    const config::RateLimit& rate_limit() const noexcept { return rate_limit_; }
    const Acl& transfer_allow() const noexcept { return transfer_allow_; }
    /// The TSIG keys signed requests may use.
    std::span<const config::TsigKey> tsig_keys() const noexcept { return tsig_keys_; }
    /// server.transfer_key: the key transfers must be signed with; null: none.
    const config::TsigKey* transfer_key() const noexcept { return transfer_key_; }

private:
    std::vector<std::shared_ptr<const zones::Zone>> zones_;
    std::vector<std::shared_ptr<const zones::ZoneSource>> sources_;
    Parts::Loaded loaded_;
    std::vector<zones::Journal> journals_;  ///< one per zone
    std::vector<std::shared_ptr<const dnssec::KeySet>> keys_;
    std::vector<std::int32_t> table_;  ///< open addressing over origins
    std::uint64_t mask_ = 0;
    unsigned max_origin_labels_ = 0;  ///< no zone is deeper: suffixes longer than this are skipped
    std::string identity_;
    std::string version_;
    std::uint16_t udp_payload_ = 1232;
    unsigned query_log_ = 0;
    config::RateLimit rate_limit_;
    Acl transfer_allow_;
    std::vector<config::TsigKey> tsig_keys_;
    const config::TsigKey* transfer_key_ = nullptr;  ///< into tsig_keys_
    Acl explain_allow_;
    std::shared_ptr<const steer::Catalog> catalog_;
    std::shared_ptr<const geo::Locator> locator_;
    std::shared_ptr<const std::vector<WeightedPoint>> reference_;
    bool ecs_ = true;
    std::vector<std::vector<std::int32_t>> service_at_;  ///< per zone, per node
    std::unique_ptr<Counters> counters_;
    ServedSerials served_;
};

}  // namespace dnsd::query
