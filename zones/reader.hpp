#pragma once
/// Reads RFC 1035 master files into Records.
///
/// Entries come from the Tokenizer (tokenizer.hpp); the directives
/// (`$ORIGIN`, `$TTL`, `$INCLUDE`) are followed here, so that every record
/// and every error keeps its file and line. Each record's rdata is encoded by
/// PlainRdata (plain.hpp) when it is a plain form of a common type, else its
/// text is handed to ldns (`ldns_rr_new_frm_str`), so any type ldns knows
/// parses. ldns stays private to reader.cpp. Thread-safe: no shared state.

#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/diagnostic.hpp"
#include "zones/record.hpp"

namespace dnsd::zones {

struct ReadOptions {
    unsigned max_include_depth = 8;  ///< nested $INCLUDE levels allowed
    unsigned max_includes = 4096;    ///< $INCLUDE lines followed in all, per zone
    /// The plain forms of common types encoded by PlainRdata rather than by
    /// ldns (the same bytes: the zone fuzzer reads every input both ways and
    /// compares).
    bool fast_types = true;
};

/// Reads `path` with `origin_wire` as the initial $ORIGIN. Problems are added
/// to `diags` with file and line; records that failed to parse are skipped.
/// `$INCLUDE` paths are relative to the directory of the including file.
Records read_zone_file(const std::string& path, std::string_view origin_wire, Diagnostics& diags,
                       const ReadOptions& options = {});

/// As read_zone_file, from text in memory; `name` is used in diagnostics and
/// its directory as the base for relative `$INCLUDE` paths.
Records read_zone_text(std::string_view text, const std::string& name, std::string_view origin_wire,
                       Diagnostics& diags, const ReadOptions& options = {});

/// Whether the file `source` describes holds what it held when read: the
/// same file (device, inode, size, modification time), or else the same
/// bytes.
bool unchanged(const Source& source);

/// The mnemonic of a record type as zone files write it ("TXT"), or
/// "TYPE<n>" (RFC 3597) for one ldns does not know.
std::string type_name(std::uint16_t type);

}  // namespace dnsd::zones
