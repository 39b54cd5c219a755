#pragma once
/// The differences between versions of a zone, for IXFR (RFC 1995).
///
/// diff() compares two built zones (both in canonical order, RRsets by
/// type) in one merge walk and returns a Delta: the records the old
/// version has and the new one lacks, and the reverse, in wire form, each
/// list headed by its version's SOA, as an IXFR sends them. A Journal is
/// the chain of Deltas that lead to a zone's current version, bounded in
/// versions and bytes; a new version's journal shares the older Deltas
/// with the one before.
///
/// Deltas and Journals are immutable once made: any thread may read them
/// without locks (the query path does, through query::View). They are made
/// on a loader thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "zones/zone.hpp"

namespace dnsd::zones {

/// RFC 1982: is serial `a` ahead of `b`? (Exactly half the space apart is
/// undefined: not ahead either way.)
inline bool serial_ahead(std::uint32_t a, std::uint32_t b) noexcept {
    return a != b && static_cast<std::int32_t>(a - b) > 0;
}

/// One record of a Delta; names and rdata live in Delta::bytes().
struct Change {
    std::uint32_t owner = 0;  ///< offset of the owner's wire name, as its zone writes it
    std::uint32_t rdata = 0;  ///< offset of the rdata
    std::uint32_t ttl = 0;
    std::uint16_t type = 0;
    std::uint16_t rdata_size = 0;
    std::uint8_t owner_size = 0;
};

/// What turns one version of a zone into the next.
class Delta {
public:
    std::uint32_t from_serial() const noexcept { return from_; }
    std::uint32_t to_serial() const noexcept { return to_; }
    /// The old version's SOA, then the records removed (canonical order).
    std::span<const Change> removed() const noexcept { return removed_; }
    /// The new version's SOA, then the records added (canonical order).
    std::span<const Change> added() const noexcept { return added_; }
    const std::uint8_t* bytes(std::uint32_t offset) const noexcept { return bytes_.data() + offset; }
    /// Removed and added records, the two SOAs not counted.
    std::size_t changes() const noexcept { return removed_.size() + added_.size() - 2; }
    /// What it holds in memory: what the journal's bound counts.
    std::size_t memory_bytes() const noexcept;
    /// Its records' size in wire form, uncompressed: what it adds to an IXFR.
    std::size_t wire_bytes() const noexcept { return wire_; }

private:
    Delta() = default;
    std::uint32_t from_ = 0;
    std::uint32_t to_ = 0;
    std::vector<Change> removed_;
    std::vector<Change> added_;
    std::vector<std::uint8_t> bytes_;
    std::size_t wire_ = 0;

    friend class Differ;
};

/// The difference from zone `from` to zone `to` (the same origin). Its
/// records are compared by owner (case-insensitively), type, TTL and rdata
/// bytes; a changed TTL removes the RRset and adds it again. The SOA
/// appears only at the head of each list. Linear in the two zones' sizes.
/// Null as soon as it would hold more than `max_memory` bytes
/// (memory_bytes(), roughly) or `max_wire` (wire_bytes()): a difference
/// no journal would keep is not made whole, and costs no more memory
/// than that.
std::shared_ptr<const Delta> diff(const Zone& from, const Zone& to, std::size_t max_memory = SIZE_MAX,
                                  std::size_t max_wire = SIZE_MAX);

/// The size of the zone's records in wire form, uncompressed, the SOA
/// twice: what an AXFR of it sends, to weigh against an IXFR.
std::size_t transfer_bytes(const Zone& zone) noexcept;

/// How much history a journal keeps.
struct JournalLimits {
    std::size_t versions = 20;      ///< Deltas at most (0: none, every IXFR gets a full transfer)
    std::size_t bytes = 16u << 20;  ///< their Delta::memory_bytes() together, at most
};

/// The Deltas that lead to a zone's current version, oldest first: each
/// one's to_serial() is the next one's from_serial(), the last one's is
/// the zone's serial, and no serial appears twice.
class Journal {
public:
    std::span<const std::shared_ptr<const Delta>> deltas() const noexcept { return deltas_; }
    bool empty() const noexcept { return deltas_.empty(); }
    std::size_t memory_bytes() const noexcept { return bytes_; }
    /// The index of the Delta that starts from `serial`, or -1 when the
    /// journal does not reach back to it. noexcept, no allocation: the
    /// query path asks it.
    std::ptrdiff_t find(std::uint32_t serial) const noexcept;

    /// This journal with `delta` (which must start from the version this
    /// journal ends at, or it starts a new journal) appended, then the
    /// oldest Deltas dropped until it is within `limits` and its Deltas'
    /// wire_bytes() together are at most `zone_bytes`, the
    /// transfer_bytes() of the zone it leads to: an IXFR larger than the
    /// zone is worse than a full transfer (BIND's max-ixfr-ratio, 100%).
    Journal appended(std::shared_ptr<const Delta> delta, const JournalLimits& limits,
                     std::size_t zone_bytes) const;

private:
    std::vector<std::shared_ptr<const Delta>> deltas_;
    std::size_t bytes_ = 0;
    std::size_t wire_ = 0;
};

}  // namespace dnsd::zones
