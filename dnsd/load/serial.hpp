#pragma once
/// The serial rule (SPEC 5). A zone is served with its file's SOA serial,
/// always: a pure function of the files, so instances given the same zone
/// file and config serve the same serial for the same data, whatever their
/// reload histories. "Each change of the exported addresses is a new
/// serial" is the operator's part: a change of the exported data (a
/// service's addresses, or the zone file's records) needs the zone file's
/// serial moved ahead. dnsd cannot make that serial up itself without
/// breaking the first promise: a serial computed from the content alone
/// cannot grow with every change (content changed and changed back would
/// need a serial below itself), and one computed from an instance's history
/// differs between instances.
///
/// What dnsd remembers (per instance: the running view, the state file) is
/// what secondaries may hold: the highest serial it has served (RFC 1982)
/// and a digest of the content it first served under that serial. Checked
/// against it, a load says when a change needs a serial bump, and when the
/// file's serial went behind one secondaries already have.
///
/// Pure functions, any thread.

#include <cstdint>
#include <optional>
#include <vector>

#include "dnsd/query/view.hpp"
#include "zones/record.hpp"

namespace dnsd::load {

/// RFC 1982: is serial `a` ahead of `b`? (zones/journal.hpp, where the
/// query path asks it too.)
using zones::serial_ahead;

/// A digest of `records` that ignores their order and the SOA's serial:
/// equal digests mean secondaries hold the same data.
std::uint64_t content_digest(const zones::Records& records);

/// The SOA serial of `records`, or nothing when there is no usable SOA.
std::optional<std::uint32_t> soa_serial(const zones::Records& records);

/// How a zone about to be served compares with what secondaries may hold.
enum class SerialCheck : std::uint8_t {
    fine,      ///< new to this instance, the serial moved ahead, or the same content under the same serial
    unbumped,  ///< the same serial, other content: secondaries that have it keep the old data
    behind,    ///< the serial is behind one served before: secondaries that have that one ignore it
};

struct SerialVerdict {
    SerialCheck check = SerialCheck::fine;
    /// What to remember from now on: the newer of `last` and what is
    /// served, and, under an unchanged serial, the digest first served
    /// with it (so that the verdict stands until the serial moves).
    query::ServedSerial remembered;
};

/// The verdict for serving `serial` with content `digest`, `last` being
/// what was remembered (nothing: the zone is new to this instance). Never
/// changes the serial served.
SerialVerdict check_serial(std::uint32_t serial, std::uint64_t digest,
                           const std::optional<query::ServedSerial>& last) noexcept;

}  // namespace dnsd::load
