#pragma once
/// The canonical form of records for DNSSEC (RFC 4034 6.2, 6.3, as RFC
/// 6840 5.1 amends them). Pure functions on caller-owned bytes: no
/// allocation, no exceptions; safe on any thread and on the query path.

#include <cstddef>
#include <cstdint>
#include <span>

namespace dnsd::dnssec {

/// Lower-cases the uncompressed wire name at the start of `wire` in place.
/// Returns its size, or 0 when it is not a whole name (a label running past
/// the end, a compression pointer, more than 255 bytes).
std::size_t canonicalize_name(std::span<std::uint8_t> wire) noexcept;

/// Lower-cases in place the names inside the rdata of a record of `type`,
/// for the types RFC 4034 6.2 lists (NS, MD, MF, CNAME, SOA, MB, MG, MR,
/// PTR, MINFO, MX, RP, AFSDB, RT, SIG, PX, NXT, NAPTR, KX, SRV, A6, DNAME,
/// RRSIG; not NSEC, RFC 6840 5.1; HINFO holds no names). Other types are
/// left as they are. False when the rdata does not hold what its type
/// says (a name cut short or compressed, bytes missing or left over).
bool canonicalize_rdata(std::uint16_t type, std::span<std::uint8_t> rdata) noexcept;

/// RFC 4034 6.3: canonical rdatas compared as left-justified octet
/// strings, a missing octet before a zero one. <0, 0 or >0.
int compare_rdata(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

/// The RRSIG Labels field for an owner name (RFC 4034 3.1.3): its labels
/// less the root, and less a leading "*" label.
unsigned rrsig_labels(std::span<const std::uint8_t> owner) noexcept;

}  // namespace dnsd::dnssec
