#pragma once
/// The readers of the configuration's sections: step 1 (parse) of
/// draft.hpp, one table at a time. Each reads its table through a
/// TableReader, in the order findings on one line have always come, and
/// puts what it read into the Draft. Private to dnsd/config.

#include <optional>
#include <string>
#include <string_view>

#include "dnsd/config/draft.hpp"
#include "dnsd/config/table_reader.hpp"

namespace dnsd::config {

/// Reads a table (a section, or an entry of a list of them) into the Draft.
using ReadTable = void (*)(TableReader& r, Draft& d);

/// The [name] table of `parent`, when it has one, read by `read` through a
/// reader of its own (its keys named `parent.name.KEY`).
void read_section(TableReader& parent, std::string_view name, ReadTable read, Draft& d);
/// Each [[name]] entry of `parent`, read by `read`.
void read_entries(TableReader& parent, std::string_view name, ReadTable read, Draft& d);

// server.cpp
void read_server(TableReader& r, Draft& d);
void read_rate_limit(TableReader& r, Draft& d);

// control.cpp
void read_control(TableReader& r, Draft& d);
void read_cluster(TableReader& r, Draft& d);

// geo.cpp
void read_geo(TableReader& r, Draft& d);

// probes.cpp
/// A [probes.NAME] table or a site's inline probe; nothing when refused.
std::optional<Probe> read_probe(TableReader& r, std::string name);
/// [probes]: the named probe tables.
void read_probes(const toml::table& t, Draft& d, Report& report);
/// `damping = { penalty = 1000, half_life = "60s", suppress = 2000, reuse
/// = 750 }` (any of them; the rest as RFC 2439) into `figures`; false when
/// refused (reported).
bool read_damping(TableReader& r, const toml::table& t, std::optional<Damping>& figures);

// sites.cpp
/// [sites]: every site, in the order of the file.
void read_sites(const toml::table& t, Draft& d, Report& report);

// services.cpp
void read_service(TableReader& r, Draft& d);

// alerts.cpp
void read_alert(TableReader& r, Draft& d);

// tsig.cpp
/// [tsig]: the [tsig.NAME] keys.
void read_tsig_keys(const toml::table& t, Draft& d, Report& report);

// zones.cpp
void read_zone(TableReader& r, Draft& d);

}  // namespace dnsd::config
