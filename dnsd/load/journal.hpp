#pragma once
/// The IXFR journals of a new runtime (zones/journal.hpp): each zone's
/// journal follows from the running view's journal of the zone with the
/// same origin. Made on the loader thread, where the new zones are built,
/// so that the query path only reads them.
///
/// Pure functions; any thread.

#include <memory>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/query/view.hpp"
#include "zones/journal.hpp"
#include "zones/zone.hpp"

namespace dnsd::load {

/// The bounds [server] sets (ixfr_versions, ixfr_memory).
zones::JournalLimits journal_limits(const config::Server& server) noexcept;

/// The journal of zone `to`, which replaces `from` (null: the zone is new)
/// whose journal was `journal`: the same journal when they are the same
/// zone; `journal` with zones::diff(from, to) appended when `to`'s serial
/// is ahead (RFC 1982); `journal` again when the serial is the same and
/// the records are (by the content digests of the sources both were built
/// from, when both are given, else by the SOA and a diff); an empty
/// journal otherwise (a serial that went back, or changed data under the
/// same serial: the old differences no longer lead to `to`).
zones::Journal next_journal(const zones::Zone* from, const zones::Journal& journal,
                            const std::shared_ptr<const zones::Zone>& to, const zones::JournalLimits& limits,
                            const zones::ZoneSource* from_source = nullptr,
                            const zones::ZoneSource* to_source = nullptr);

/// The journals of `zones` (a new view's, in its order; `sources` what
/// each was built from, as View::Parts has them) after the running view
/// `running` (null: at start, every journal empty).
std::vector<zones::Journal> journals(const std::vector<std::shared_ptr<const zones::Zone>>& zones,
                                     const std::vector<std::shared_ptr<const zones::ZoneSource>>& sources,
                                     const query::View* running, const zones::JournalLimits& limits);

}  // namespace dnsd::load
