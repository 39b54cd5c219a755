#pragma once
/// DS records for the parent zone (RFC 4034 5, RFC 4509: digest type 2,
/// SHA-256), the same rdata as the CDS a zone publishes (RFC 7344).

#include <cstdint>
#include <string>
#include <vector>

#include "dnsd/dnssec/key.hpp"

namespace dnsd::dnssec {

/// The DS rdata of `key`: key tag, algorithm, digest type 2, and SHA-256
/// over the zone's lower-cased wire name and the DNSKEY rdata.
std::vector<std::uint8_t> ds_rdata(const Key& key);

/// `example.com. IN DS 15881 13 2 5A0C...` (hex in capitals), as
/// `dnssec-dsfromkey -2` prints it (it keeps the owner's case as written in
/// the .key file; this prints the zone lower-cased).
std::string ds_text(const Key& key);

}  // namespace dnsd::dnssec
