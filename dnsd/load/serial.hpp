#pragma once
/// The serial rule (SPEC 5: "each change of the exported addresses is a new
/// serial"). A zone is served with its file's serial, unless its content
/// (services included) changed since the serial it was last served with
/// while the file's serial did not move ahead (RFC 1982): then with that
/// serial plus one, so that secondaries notice. Content is compared by a
/// digest that ignores the order of records and the SOA serial.
///
/// Pure functions, any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/query/view.hpp"
#include "zones/record.hpp"

namespace dnsd::load {

/// RFC 1982: is serial `a` ahead of `b`?
bool serial_ahead(std::uint32_t a, std::uint32_t b) noexcept;

/// A digest of `records` that ignores their order and the SOA's serial:
/// equal digests mean secondaries hold the same data.
std::uint64_t content_digest(const std::vector<zones::Record>& records);

/// The serial to serve, for a file serial, the content's digest and what
/// was last served (nothing: the zone is new to this instance).
std::uint32_t serial_to_serve(std::uint32_t file_serial, std::uint64_t digest,
                              const std::optional<query::ServedSerial>& last) noexcept;

/// The SOA serial of `records`, or nothing when there is no usable SOA.
std::optional<std::uint32_t> soa_serial(const std::vector<zones::Record>& records);

/// Applies the rule to `records` (rewriting the SOA serial when it must
/// move) and returns what is served.
query::ServedSerial settle_serial(std::vector<zones::Record>& records,
                                  const std::optional<query::ServedSerial>& last);

}  // namespace dnsd::load
