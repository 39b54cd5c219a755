#pragma once
/// The query parser: untrusted bytes to a Query, checking every length
/// against what remains. noexcept, no allocation; bad input is reported as a
/// Verdict (drop or an rcode), never an exception.

#include <cstdint>
#include <span>

#include "dnsd/core/name.hpp"

namespace dnsd::wire {

/// What the parser concluded about a packet.
enum class Verdict : std::uint8_t {
    ok,       ///< a well-formed query
    drop,     ///< too broken to answer (short header, a response)
    formerr,  ///< answer FORMERR (question echoed when has_question)
    notimp,   ///< opcode other than QUERY: answer NOTIMP (EDNS fields set when its OPT was found)
};

struct Query {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;  ///< the second header word as received
    std::uint8_t opcode = 0;

    // Question (valid when has_question).
    bool has_question = false;
    std::uint8_t qname_lower[kMaxNameLength];  ///< lower-cased copy
    std::uint8_t qname_size = 0;               ///< bytes, including the root label
    std::uint8_t qname_labels = 0;             ///< labels, not counting the root
    /// qname_offsets[i]: offset of the i-th label; suffix i is the name
    /// from there on. qname_offsets[qname_labels] is the root label.
    std::uint8_t qname_offsets[128];
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    std::uint16_t question_end = 0;  ///< offset just past the question

    /// IXFR (RFC 1995 3): the serial of the SOA the authority section must
    /// hold, owned by the question's name. A query of another type with
    /// an authority section, or an IXFR without that SOA, is FORMERR.
    std::uint32_t ixfr_serial = 0;

    // EDNS (valid when has_edns).
    bool has_edns = false;
    std::uint8_t edns_version = 0;
    bool edns_do = false;
    std::uint16_t edns_payload = 0;  ///< as sent; callers apply the 512 floor
    bool nsid = false;               ///< NSID requested (RFC 5001)
    /// ECS option (RFC 7871): present, and whether it is well formed
    /// (family 1 or 2, source prefix within the family, exactly
    /// ceil(source/8) address bytes, no bits set past the prefix, scope 0).
    /// What a malformed one means is the consumer's call: FORMERR when ECS
    /// is honoured, nothing when it is ignored.
    std::uint16_t ecs_offset = 0;
    std::uint16_t ecs_length = 0;
    bool has_ecs = false;
    bool ecs_valid = false;
    std::uint16_t ecs_family = 0;  ///< 1: IPv4, 2: IPv6
    std::uint8_t ecs_source = 0;   ///< source prefix length
    std::uint8_t ecs_address[16];  ///< the address, zero-padded
    std::uint8_t ecs_address_length = 0;
    /// The TSIG record (RFC 8945): its offset, 0 when there is none. It is
    /// the last record (a TSIG anywhere else is FORMERR, 5.1); what it says
    /// is checked by the answer (dnsd/query/tsig.hpp).
    std::uint16_t tsig_at = 0;
    /// Set by the answer: echo ECS in the reply's OPT with this scope.
    bool ecs_echo = false;
    std::uint8_t ecs_scope = 0;
};

/// Parses a request. On formerr/notimp, `q` holds as much as was parsed
/// (id, flags, opcode, and the question if it was intact) so that the
/// answer can echo it; on notimp also the EDNS fields, when the packet
/// parses as far as its OPT.
Verdict parse_query(std::span<const std::uint8_t> packet, Query& q) noexcept;

/// Skips a possibly compressed name at `pos`; returns the offset after it or
/// 0 when the name runs past the end or is malformed. Pointer loops are
/// impossible here since only the in-place part is walked.
std::size_t skip_name(std::span<const std::uint8_t> packet, std::size_t pos) noexcept;

}  // namespace dnsd::wire
