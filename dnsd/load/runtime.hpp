#pragma once
/// Config and zone files into a complete runtime: the zones with the
/// services' records added and their serials checked, the steering
/// catalog, the geo data, all in one immutable query::View. The one way a
/// runtime is built: by `dnsd check`, at start, on reload, and by the zone
/// fuzzer (build_zone).
///
/// Pure apart from reading the files the config names; any thread (the
/// server calls it on a loader thread). Problems go to `diags`, every one
/// of them, not just the first.

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/dnssec/key_set.hpp"
#include "dnsd/query/view.hpp"
#include "zones/record.hpp"
#include "zones/zone.hpp"

namespace dnsd::load {

/// Reads every zone `cfg` names and builds the runtime; null when anything
/// had errors. `previous`: what secondaries may hold (the state file, or
/// the running view on reload), to warn when a zone's serial does not tell
/// them of a change (serial.hpp); it never changes the serial served.
///
/// `running`: the view being served (on reload). A zone whose files are
/// all unchanged (zones::unchanged) and whose services add the same
/// records is taken from it as it is, without reading its files.
std::shared_ptr<const query::View> runtime(const config::Config& cfg, Diagnostics& diags,
                                           const query::ServedSerials* previous = nullptr,
                                           const query::View* running = nullptr);

/// The zone of `cfg` that each service belongs to (the deepest configured
/// zone containing its name), -1 for none; services outside every zone are
/// errors in `diags`.
std::vector<int> zones_of_services(const config::Config& cfg, Diagnostics& diags);

/// Zone `zone` of `cfg` from the records read from its file: the records of
/// its services (`service_zone` from zones_of_services) added, checked
/// against the zone's own data, its serial checked against `last` (what
/// secondaries may hold), built. Null on errors; `served` receives what to
/// remember of it (serial.hpp). `keys`: a signed zone's keys, whose
/// DNSKEY, CDS and CDNSKEY records published at `now` are added at the apex.
std::shared_ptr<const zones::Zone> build_zone(const config::Config& cfg, std::size_t zone,
                                              zones::Records records, const std::vector<int>& service_zone,
                                              const std::optional<query::ServedSerial>& last,
                                              query::ServedSerial& served, Diagnostics& diags,
                                              std::shared_ptr<const zones::ZoneSource>* source = nullptr,
                                              const dnssec::KeySet* keys = nullptr, std::int64_t now = 0);

/// The keys of signed zone `zone` of `cfg` (config::Zone::dnssec), read
/// and checked at `now`: every file's problem, a directory without keys of
/// the zone, too many keys, no key active now are errors naming the files.
/// Null on errors.
std::shared_ptr<const dnssec::KeySet> read_zone_keys(const config::Zone& zone, std::int64_t now,
                                                     Diagnostics& diags);

}  // namespace dnsd::load
