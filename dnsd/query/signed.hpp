#pragma once
/// Internal to the query module: the reply of a signed zone to a query
/// with DO (SPEC 11). The same Plan as every reply, encoded with an RRSIG
/// behind each authoritative RRset, and the denial of existence as compact
/// answers (RFC 9824): an NSEC at the name asked, made per query.
///
/// noexcept; no allocation once the worker's SignatureCache holds the
/// signatures (a miss signs, and OpenSSL allocates inside). Any worker
/// thread with its own buffers and cache.

#include <cstddef>
#include <cstdint>
#include <span>

#include "dnsd/dnssec/key_set.hpp"
#include "dnsd/query/plan.hpp"
#include "dnsd/query/signatures.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/wire/parser.hpp"
#include "zones/zone.hpp"

namespace dnsd::query {

/// Types written into an NSEC's bitmap at most (a name's own types and
/// RRSIG, NSEC, NXNAME).
inline constexpr std::size_t kMaxNsecTypes = 64;

/// The NSEC rdata of a compact answer (RFC 9824) at the lower-cased wire
/// name `owner`: the next name `\000.owner` (the owner itself when that
/// would be too long) and the type bitmap of `types` (any order, duplicates
/// allowed). Returns its size, 0 when `out` is too small.
std::size_t compact_nsec(std::span<const std::uint8_t> owner, std::span<const std::uint16_t> types,
                         std::span<std::uint8_t> out) noexcept;

/// The reply to `q` from `plan` (filled by the lookup in `zone`), signed
/// with `keys` at `now`, at most `limit` bytes.
std::size_t encode_signed(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                          wire::Query& q, const View& v, const zones::Zone& zone, const dnssec::KeySet& keys,
                          Plan& plan, std::size_t limit, SignatureCache& cache, std::int64_t now) noexcept;

}  // namespace dnsd::query
