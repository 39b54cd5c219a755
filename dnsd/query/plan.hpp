#pragma once
/// Internal to the query module: the Plan of a reply, RRsets per section,
/// that the lookup (answer.cpp) fills and the encoder (encode.hpp) writes:
/// answers collected first, encoded after, so that truncation is a
/// rollback to the mark before the RRset that did not fit. The lookup
/// names what it found (Outcome).
///
/// Plain data; no allocation. Any worker thread, each with its own Plan.

#include <cstdint>

#include "dnsd/query/answer.hpp"
#include "dnsd/steer/catalog.hpp"
#include "dnsd/steer/decide.hpp"
#include "dnsd/wire/types.hpp"
#include "zones/zone.hpp"

namespace dnsd::query {

/// One RRset scheduled for a section.
struct Entry {
    enum class Kind : std::uint8_t { rrset, steered_addresses, steered_cname };
    const zones::Zone* zone;
    const zones::RRset* set;    ///< for Kind::rrset
    const std::uint8_t* owner;  ///< wire name; null: the question name (a pointer to offset 12)
    std::uint8_t owner_size;
    Kind kind;
    bool ttl_override;  ///< use `ttl` instead of the RRset's
    std::uint32_t ttl;

    // The default constructor leaves everything uninitialized on purpose:
    // a Plan holds 64 Entries, and initializing them all for every query
    // would cost more than the lookup. Entries in use are made with the
    // constructor below.
    Entry() = default;
    Entry(const zones::Zone* z, const zones::RRset* s, const std::uint8_t* o, std::uint8_t o_size,
          Kind k = Kind::rrset, bool override_ttl = false, std::uint32_t t = 0) noexcept
        : zone(z), set(s), owner(o), owner_size(o_size), kind(k), ttl_override(override_ttl), ttl(t) {}
};

/// Longer chains than any sane zone has; NSD follows at least as many.
inline constexpr unsigned kMaxCnameHops = 16;
/// Answer and authority entries a lookup can need: a CNAME per hop and the
/// RRset that ends the chain (or the steered answer); a negative SOA or a
/// referral's NS. Enough by construction, so add_answer and add_authority
/// never drop anything. The additional section's limit is kMaxAdditional
/// (answer.hpp), which zones are checked against at load.
inline constexpr unsigned kMaxAnswer = 20;
inline constexpr unsigned kMaxAuthority = 4;
static_assert(kMaxAnswer >= kMaxCnameHops + 1);

/// What the lookup found, by name.
enum class Outcome : std::uint8_t {
    hit,       ///< the RRset asked for (after any CNAMEs)
    nodata,    ///< the name exists, the type does not: SOA in authority
    nxdomain,  ///< no such name: SOA in authority
    referral,  ///< at or below a delegation: NS in authority, glue in additional (AA clear)
    cname,     ///< a CNAME chain that leaves the zone, loops or is too long
    steered,   ///< A or AAAA at a service name: decide() chose
};

/// The sections of a reply, before encoding.
struct Plan {
    Entry answer[kMaxAnswer];
    unsigned answers = 0;
    Entry authority[kMaxAuthority];
    unsigned authorities = 0;
    Entry additional[kMaxAdditional];
    unsigned additionals = 0;
    /// The first `required` additional entries are in-domain glue of a
    /// referral: if they do not fit the answer is truncated (RFC 9471).
    unsigned required = 0;
    std::int32_t added_nodes[kMaxAdditional];
    unsigned added = 0;
    Outcome outcome = Outcome::hit;
    std::uint16_t rcode = wire::rcode::NOERROR;
    bool aa = true;
    /// A steered answer (at most one per query: it ends a CNAME chain).
    steer::Choice choice;
    const steer::Catalog* catalog = nullptr;
    std::int32_t service = -1;   ///< the service that decided, for counters
    std::uint8_t ecs_scope = 0;  ///< the ECS scope the answer depends on (0: not on the client)

    void add_answer(const Entry& e) noexcept {
        if (answers < kMaxAnswer) answer[answers++] = e;
    }
    void add_authority(const Entry& e) noexcept {
        if (authorities < kMaxAuthority) authority[authorities++] = e;
    }
    /// A and AAAA of `node` to the additional section, once per node.
    void add_addresses(const zones::Zone& z, std::int32_t node) noexcept {
        for (unsigned i = 0; i < added; ++i)
            if (added_nodes[i] == node) return;
        if (added >= kMaxAdditional) return;
        added_nodes[added++] = node;
        const std::uint8_t* name = z.name_bytes(node);
        const auto size = z.node(node).name_size;
        for (const auto t : {wire::type::A, wire::type::AAAA})
            if (const auto* s = z.rrset(node, t); s && additionals < kMaxAdditional)
                additional[additionals++] = Entry{&z, s, name, size};
    }
};

}  // namespace dnsd::query
