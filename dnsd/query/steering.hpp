#pragma once
/// Internal to the query module: what a steered answer and its explanation
/// share: which health snapshot counts, and where the client is.
///
/// Pure functions; no allocation, lock or exception. Any worker thread.

#include <cstdint>

#include "dnsd/core/address.hpp"
#include "dnsd/geo/locator.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/steer/decide.hpp"
#include "dnsd/steer/demand.hpp"
#include "dnsd/steer/rendezvous.hpp"
#include "dnsd/wire/parser.hpp"
#include "health/snapshot.hpp"

namespace dnsd::query {

/// The health snapshot to steer by: the worker's, when it was built for
/// this view's catalog. Otherwise (no snapshot, or for a moment during a
/// reload, when its indices would name other addresses) none: every
/// address counts as up.
inline const health::Snapshot& health_for(const Client& client, const steer::Catalog& catalog) noexcept {
    static const health::Snapshot kAllUp{};
    return client.health && client.health->catalog_id == catalog.id ? *client.health : kAllUp;
}

/// An EDNS Client Subnet option as the query carried it (RFC 7871).
struct Subnet {
    bool present = false;  ///< honoured: present, valid, and `ecs = true`
    Family family = Family::v4;
    std::uint8_t source = 0;                ///< source prefix length
    const std::uint8_t* address = nullptr;  ///< 16 bytes, zero-padded; the owner outlives the Subnet
};

/// The subnet of a parsed query (its ecs_echo says whether it is honoured).
inline Subnet subnet_of(const wire::Query& q) noexcept {
    if (!q.ecs_echo) return {};
    return {true, q.ecs_family == 1 ? Family::v4 : Family::v6, q.ecs_source, q.ecs_address};
}

/// Where a client is, and how that was found out.
struct Whereabouts {
    steer::Client client;  ///< what decide() needs
    geo::Located located;
    Address address;  ///< the address located: from ECS, or the source
    bool by_ecs = false;
    std::uint8_t source_prefix = 0;
    std::uint8_t scope = 0;  ///< the ECS scope of an answer that depends on it
};

/// The client's location (SPEC 3): the ECS address when ECS is honoured and
/// has a source prefix above 0, else the source address; networks entries,
/// then the databases, through the worker's cache when there is one.
Whereabouts locate_client(const Subnet& subnet, const View& view, const Client& client) noexcept;

/// The prefix that keys a client of a service with stickiness (SPEC 9):
/// the ECS address at its source prefix when ECS is honoured with a source
/// prefix above 0, else the source address; /24 (IPv4) or /56 (IPv6) at
/// most, so that a client's answer is stable and its scope no longer.
struct ClientPrefix {
    Prefix prefix;
    bool by_ecs = false;
    /// The ECS scope of an answer picked by it: the prefix from ECS; 0 for
    /// the source address, as for a located one.
    std::uint8_t scope() const noexcept { return by_ecs ? prefix.length : 0; }
};
ClientPrefix client_prefix(const Subnet& subnet, const Client& client) noexcept;

/// Keys `where` by the client's prefix for decide(); returns the prefix.
inline ClientPrefix key_client(const Subnet& subnet, const Client& client, steer::Client& where) noexcept {
    const ClientPrefix p = client_prefix(subnet, client);
    where.keyed = true;
    where.key = steer::key_of(p.prefix);
    return p;
}

/// The client's key in the workers' demand tables (SPEC 10): its
/// client_prefix() as a steer::demand_word(), without building the Prefix.
inline std::uint64_t demand_word_of(const Subnet& subnet, const Client& client) noexcept {
    if (subnet.present && subnet.source > 0) {
        const unsigned most = subnet.family == Family::v4 ? 24 : 56;
        return steer::demand_word(subnet.family, subnet.address, subnet.source < most ? subnet.source : most);
    }
    return steer::demand_word(client.address.family, client.address.bytes.data(),
                              client.address.family == Family::v4 ? 24 : 56);
}

/// `a` as text into `out` (inet_ntop: no allocation).
void address_text(const Address& a, char* out, std::size_t size) noexcept;

/// The Counters slot of a decision: the chosen site's place in the
/// service's list, or one of Counters::Extra.
inline std::uint16_t decision_slot(const steer::Service& svc, const steer::Choice& choice) noexcept {
    const auto n = svc.sites.size();
    if (choice.fallback) return static_cast<std::uint16_t>(n + Counters::fallback);
    if (choice.no_family()) return static_cast<std::uint16_t>(n + Counters::nodata);
    for (std::size_t i = 0; i < n; ++i)
        if (svc.sites[i] == choice.site) return static_cast<std::uint16_t>(i);
    return static_cast<std::uint16_t>(n + Counters::several);
}

}  // namespace dnsd::query
