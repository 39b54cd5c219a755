#pragma once
/// An immutable, pre-encoded zone: every name is a node (empty non-terminals
/// included), every RRset's rdata is stored in wire format, and everything a
/// query needs is computed at load: lower-cased names in a hash table,
/// wildcard children, the zone cut above each node, targets of NS/MX/SRV for
/// additional-section processing, and the negative-answer TTL (RFC 2308).
///
/// Built once by Zone::build() on a loader thread; afterwards only const
/// methods exist, so any number of threads may read it without locks.

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/diagnostic.hpp"
#include "zones/record.hpp"

namespace dnsd::zones {

inline constexpr std::int32_t kNone = -1;

struct Rdata {
    std::uint32_t offset = 0;  ///< into Zone::bytes()
    std::uint16_t size = 0;
    std::int32_t target = kNone;  ///< node named in NS/MX/SRV rdata, when in this zone
};

struct RRset {
    std::uint16_t type = 0;
    std::uint32_t ttl = 0;
    std::uint32_t first = 0;  ///< first Rdata index
    std::uint16_t count = 0;
};

struct Node {
    std::uint32_t name_offset = 0;   ///< wire name as written in the file (first seen)
    std::uint32_t lower_offset = 0;  ///< lower-cased wire name
    std::uint8_t name_size = 0;
    std::uint8_t labels = 0;
    std::int32_t parent = kNone;
    std::int32_t wildcard = kNone;  ///< the `*` child, if any
    std::int32_t cut = kNone;       ///< the highest delegation at or above this node
    std::uint32_t first_rrset = 0;
    std::uint16_t rrset_count = 0;  ///< 0: an empty non-terminal
};

class Zone {
public:
    /// Builds a zone from records read from its files. Checks: records
    /// inside the origin, one SOA at the apex, at least one NS there, CNAME
    /// alone at its name, only glue (A/AAAA) below delegations. Returns null
    /// when there were errors (all of them appended to `diags`).
    static std::shared_ptr<const Zone> build(std::string_view origin_wire, Records records,
                                             const std::string& file, Diagnostics& diags);

    /// `base` with the A, AAAA and CNAME RRsets at `names` (lower-cased
    /// wire names of services, every one a node of `base`) replaced by the
    /// records `added` (all at those names); everything else as in `base`.
    /// Null when that would not be what build() gives: a name or owner
    /// that is not a node, a CNAME beside other data or at the apex, a
    /// name at or below a delegation; the caller then builds from the files.
    static std::shared_ptr<const Zone> with_services(const Zone& base, std::span<const std::string> names,
                                                     const Records& added);

    std::string_view origin() const noexcept { return name(apex()); }  ///< as written
    std::string_view origin_lower() const noexcept { return lower_name(apex()); }
    std::int32_t apex() const noexcept { return 0; }
    std::uint32_t serial() const noexcept { return serial_; }
    /// The SOA RRset of the apex and the TTL negative answers carry.
    const RRset& soa() const noexcept { return rrsets_[soa_rrset_]; }
    std::uint32_t negative_ttl() const noexcept { return negative_ttl_; }
    /// The SOA RRset as negative answers carry it: TTL min(SOA TTL, MINIMUM).
    const RRset& negative_soa() const noexcept { return negative_soa_; }

    /// Exact lookup of a lower-cased wire name; kNone when absent.
    std::int32_t find(const std::uint8_t* lower_wire, std::size_t size) const noexcept;

    const Node& node(std::int32_t i) const noexcept { return nodes_[static_cast<std::size_t>(i)]; }
    std::size_t node_count() const noexcept { return nodes_.size(); }
    std::string_view name(std::int32_t i) const noexcept {
        const Node& n = node(i);
        return {reinterpret_cast<const char*>(bytes_.data() + n.name_offset), n.name_size};
    }
    std::string_view lower_name(std::int32_t i) const noexcept {
        const Node& n = node(i);
        return {reinterpret_cast<const char*>(bytes_.data() + n.lower_offset), n.name_size};
    }
    std::span<const RRset> rrsets(std::int32_t i) const noexcept {
        const Node& n = node(i);
        return {rrsets_.data() + n.first_rrset, n.rrset_count};
    }
    /// The node's RRset of `type`, or null.
    const RRset* rrset(std::int32_t i, std::uint16_t type) const noexcept;
    std::span<const Rdata> rdatas(const RRset& s) const noexcept {
        return {rdatas_.data() + s.first, s.count};
    }
    const std::uint8_t* bytes(const Rdata& r) const noexcept { return bytes_.data() + r.offset; }
    const std::uint8_t* name_bytes(std::int32_t i) const noexcept {
        return bytes_.data() + node(i).name_offset;
    }
    std::size_t memory_bytes() const noexcept;

private:
    Zone() = default;

    std::vector<Node> nodes_;
    std::vector<RRset> rrsets_;
    std::vector<Rdata> rdatas_;
    std::vector<std::uint8_t> bytes_;
    std::vector<std::int32_t> table_;  ///< open addressing, node indexes
    std::uint64_t mask_ = 0;
    std::uint32_t soa_rrset_ = 0;
    std::uint32_t negative_ttl_ = 0;
    RRset negative_soa_;
    std::uint32_t serial_ = 0;

    friend class Builder;
};

/// A multiply-xorshift hash of a lower-cased wire name, eight bytes a step;
/// shared by the zone's node table and the view's table of zone origins, so
/// one function hashes every suffix of a query name.
std::uint64_t name_hash(const std::uint8_t* data, std::size_t size) noexcept;

/// Whether two names of `size` bytes are the same bytes. Written out, eight
/// bytes a step with the last step overlapping the one before, rather than
/// std::equal (a call to memcmp): every query compares two or three names
/// of some twenty bytes, and the call cost about 20 instructions each
/// under callgrind, as much as the comparison written here.
inline bool same_name(const std::uint8_t* a, const std::uint8_t* b, std::size_t size) noexcept {
    if (size < 8) {
        for (std::size_t i = 0; i < size; ++i)
            if (a[i] != b[i]) return false;
        return true;
    }
    std::uint64_t x, y;
    for (std::size_t i = 0; i + 8 < size; i += 8) {
        std::memcpy(&x, a + i, 8);
        std::memcpy(&y, b + i, 8);
        if (x != y) return false;
    }
    std::memcpy(&x, a + size - 8, 8);
    std::memcpy(&y, b + size - 8, 8);
    return x == y;
}

/// The offset of the target name inside rdata of `type`, for types whose
/// rdata holds a single name worth additional processing or compression
/// (NS, CNAME, PTR, MX, SRV, ...); -1 otherwise.
int rdata_name_offset(std::uint16_t type) noexcept;

}  // namespace dnsd::zones
