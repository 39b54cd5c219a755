#pragma once
/// Where a client is (SPEC section 3, client location): an operator's
/// `[[geo.networks]]` entry (longest prefix wins), else the MaxMind-format
/// databases (libmaxminddb, memory-mapped), with the prefix length that
/// decided, which becomes the ECS scope of an answer that depends on it.
///
/// Immutable once loaded; locate() and scope() allocate nothing and take no
/// lock, so every worker calls them on the query path. libmaxminddb stays
/// private to locator.cpp.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/core/geo_point.hpp"

namespace dnsd::geo {

struct Located {
    enum class Source : std::uint8_t { unknown, networks, database };
    Source source = Source::unknown;
    GeoPoint location;  ///< when the source is not unknown
    /// The prefix length that decided, in the address's own family: the
    /// networks entry's, the database record's, or the database's answer
    /// for a miss (how far it looked). 0 when nothing was consulted.
    std::uint8_t prefix = 0;
};

class Locator {
public:
    /// Opens every database of `geo` and compiles the networks. Problems go
    /// to `diags` (file names as configured); returns null on errors.
    static std::shared_ptr<const Locator> load(const config::Geo& geo, const std::string& config_path,
                                               Diagnostics& diags);
    ~Locator();
    Locator(const Locator&) = delete;
    Locator& operator=(const Locator&) = delete;

    Located locate(const Address& a) const noexcept;

    /// The ECS scope for an answer decided by `located` for a client in
    /// `a`: located.prefix, made longer where a more specific networks
    /// entry lies inside it (a resolver must not reuse the answer there),
    /// and never longer than `source_prefix`.
    std::uint8_t scope(const Address& a, const Located& located, std::uint8_t source_prefix) const noexcept;

    /// Where clients are, as far as the data can tell without traffic: the
    /// reference distribution spill-over cuts by (SPEC 10), the same on every
    /// instance with the same data. Every located network of the databases
    /// and every networks entry counts by its address space (IPv4 in /24s,
    /// IPv6 in /48s); each family that has any counts half (all, when only
    /// one has). Places are merged on a grid of a tenth of a degree. Load-
    /// time work (a walk of each database's whole tree): the loader thread.
    /// The weights sum to 1; empty when nothing is located.
    std::vector<WeightedPoint> reference() const;

    bool empty() const noexcept { return dbs_.empty() && networks_.empty(); }
    /// Different for every Locator loaded in this process (a reloaded one may
    /// reuse a freed one's address, so caches key on this instead).
    std::uint64_t id() const noexcept { return id_; }

    struct Db;  ///< an open database (defined in locator.cpp)

private:
    Locator() = default;
    struct Network {
        Prefix prefix;
        GeoPoint location;
    };
    std::vector<Network> networks_;  ///< longest prefixes first
    std::vector<std::unique_ptr<Db>> dbs_;
    std::uint64_t id_ = 0;
};

/// A worker's memory of recent lookups: the same client networks come back
/// again and again (a resolver's ECS subnets, a resolver's own address), and
/// a database lookup costs far more than a probe of this table. Direct
/// mapped, allocated once; one per worker thread, never shared. Entries
/// remember the Locator they came from (its id), so a reload needs no flush.
class Cache {
public:
    Cache() : slots_(kSlots) {}

    /// The location and ECS scope for `a`/`source_prefix` (the client
    /// network as the query gave it), from the table or from `locator`.
    void locate(const Locator& locator, const Address& a, std::uint8_t source_prefix, bool want_scope,
                Located& located, std::uint8_t& scope) noexcept;

private:
    static constexpr std::size_t kSlots = 4096;
    struct Slot {
        std::uint64_t locator = 0;  ///< Locator::id(); 0: empty
        Address address;
        std::uint8_t source_prefix = 0;
        bool want_scope = false;
        Located located;
        std::uint8_t scope = 0;
    };
    std::vector<Slot> slots_;
};

}  // namespace dnsd::geo
