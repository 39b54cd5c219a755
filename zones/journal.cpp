#include "zones/journal.hpp"

#include <algorithm>
#include <cstring>

#include "dnsd/core/name.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::zones {

namespace {

/// Canonical order (RFC 4034 6.1) of two lower-cased wire names: label by
/// label from the root, bytes compared unsigned, a name before its
/// descendants. The order Zone::build() sorts its nodes in.
int canonical_compare(std::string_view a, std::string_view b) noexcept {
    std::uint8_t sa[kMaxNameLength / 2 + 1], sb[kMaxNameLength / 2 + 1];
    std::size_t na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size() && a[i] != 0; i += 1u + static_cast<std::uint8_t>(a[i]))
        sa[na++] = static_cast<std::uint8_t>(i);
    for (std::size_t i = 0; i < b.size() && b[i] != 0; i += 1u + static_cast<std::uint8_t>(b[i]))
        sb[nb++] = static_cast<std::uint8_t>(i);
    while (na > 0 && nb > 0) {
        const auto* la = reinterpret_cast<const unsigned char*>(a.data() + sa[--na]);
        const auto* lb = reinterpret_cast<const unsigned char*>(b.data() + sb[--nb]);
        const int c = std::memcmp(la + 1, lb + 1, std::min(la[0], lb[0]));
        if (c != 0) return c;
        if (la[0] != lb[0]) return la[0] < lb[0] ? -1 : 1;
    }
    return na == nb ? 0 : na < nb ? -1 : 1;
}

/// Rdata bytes in a total order, for the set difference of two RRsets.
bool rdata_less(const std::uint8_t* a, std::size_t as, const std::uint8_t* b, std::size_t bs) noexcept {
    const int c = std::memcmp(a, b, std::min(as, bs));
    return c != 0 ? c < 0 : as < bs;
}

}  // namespace

std::size_t Delta::memory_bytes() const noexcept {
    return sizeof(Delta) + bytes_.capacity() + (removed_.capacity() + added_.capacity()) * sizeof(Change);
}

/// Walks two zones side by side and writes what differs.
class Differ {
public:
    Differ(const Zone& from, const Zone& to, std::size_t max_memory, std::size_t max_wire)
        : from_(from), to_(to), max_memory_(max_memory), max_wire_(max_wire), delta_(new Delta()) {}

    std::shared_ptr<const Delta> run() {
        delta_->from_ = from_.serial();
        delta_->to_ = to_.serial();
        // Each list opens with its version's SOA, as IXFR sends them.
        side(false, from_.apex(), from_.soa(), from_.rdatas(from_.soa())[0]);
        side(true, to_.apex(), to_.soa(), to_.rdatas(to_.soa())[0]);
        std::int32_t i = 0, j = 0;
        const auto ni = static_cast<std::int32_t>(from_.node_count());
        const auto nj = static_cast<std::int32_t>(to_.node_count());
        while (i < ni || j < nj) {
            int c;
            if (i == ni) {
                c = 1;
            } else if (j == nj) {
                c = -1;
            } else {
                // Most names are in both: equal bytes need no label walk.
                const auto a = from_.lower_name(i), b = to_.lower_name(j);
                c = a.size() == b.size() &&
                            same_name(reinterpret_cast<const std::uint8_t*>(a.data()),
                                      reinterpret_cast<const std::uint8_t*>(b.data()), a.size())
                        ? 0
                        : canonical_compare(a, b);
            }
            if (c < 0) {
                for (const RRset& s : from_.rrsets(i)) all(false, i, s);
                ++i;
            } else if (c > 0) {
                for (const RRset& s : to_.rrsets(j)) all(true, j, s);
                ++j;
            } else {
                node(i, j);
                ++i;
                ++j;
            }
            if (over()) return nullptr;
        }
        delta_->removed_.shrink_to_fit();
        delta_->added_.shrink_to_fit();
        delta_->bytes_.shrink_to_fit();
        return std::move(delta_);
    }

private:
    bool over() const noexcept {
        const Delta& d = *delta_;
        return d.wire_ > max_wire_ ||
               d.bytes_.size() + (d.removed_.size() + d.added_.size()) * sizeof(Change) > max_memory_;
    }

    /// The RRsets of a name both versions have, merged by type.
    void node(std::int32_t i, std::int32_t j) {
        const auto a = from_.rrsets(i), b = to_.rrsets(j);
        std::size_t x = 0, y = 0;
        while (x < a.size() || y < b.size()) {
            if (y == b.size() || (x < a.size() && a[x].type < b[y].type)) {
                all(false, i, a[x++]);
            } else if (x == a.size() || b[y].type < a[x].type) {
                all(true, j, b[y++]);
            } else {
                rrset(i, a[x++], j, b[y++]);
            }
        }
    }

    /// One RRset in both versions: the records one has and the other lacks.
    void rrset(std::int32_t i, const RRset& a, std::int32_t j, const RRset& b) {
        if (i == from_.apex() && a.type == wire::type::SOA) return;  // the heads of the lists
        const auto ra = from_.rdatas(a), rb = to_.rdatas(b);
        if (a.ttl != b.ttl) {
            // A TTL belongs to the whole RRset: it goes and comes back.
            all(false, i, a);
            all(true, j, b);
            return;
        }
        if (ra.size() == rb.size()) {
            bool same = true;
            for (std::size_t k = 0; k < ra.size() && same; ++k)
                same = ra[k].size == rb[k].size &&
                       std::memcmp(from_.bytes(ra[k]), to_.bytes(rb[k]), ra[k].size) == 0;
            if (same) return;
        }
        // Records are kept in file order: compare them as sets.
        order_a_.assign(ra.begin(), ra.end());
        order_b_.assign(rb.begin(), rb.end());
        auto sort = [](std::vector<Rdata>& v, const Zone& z) {
            std::sort(v.begin(), v.end(), [&z](const Rdata& p, const Rdata& q) {
                return rdata_less(z.bytes(p), p.size, z.bytes(q), q.size);
            });
        };
        sort(order_a_, from_);
        sort(order_b_, to_);
        std::size_t x = 0, y = 0;
        while (x < order_a_.size() || y < order_b_.size()) {
            const bool a_first =
                y == order_b_.size() ||
                (x < order_a_.size() && rdata_less(from_.bytes(order_a_[x]), order_a_[x].size,
                                                   to_.bytes(order_b_[y]), order_b_[y].size));
            const bool b_first =
                !a_first && (x == order_a_.size() || rdata_less(to_.bytes(order_b_[y]), order_b_[y].size,
                                                                from_.bytes(order_a_[x]), order_a_[x].size));
            if (a_first) {
                side(false, i, a, order_a_[x++]);
            } else if (b_first) {
                side(true, j, b, order_b_[y++]);
            } else {
                ++x;
                ++y;
            }
        }
    }

    /// Every record of an RRset one version alone has.
    void all(bool added, std::int32_t node, const RRset& s) {
        if (node == 0 && s.type == wire::type::SOA) return;
        const Zone& z = added ? to_ : from_;
        for (const Rdata& d : z.rdatas(s)) side(added, node, s, d);
    }

    /// One record removed (from the old version) or added (from the new).
    void side(bool added, std::int32_t node, const RRset& s, const Rdata& d) {
        const Zone& z = added ? to_ : from_;
        auto& bytes = delta_->bytes_;
        // The owner is written once for all the changes at a node.
        Owner& owner = added ? owner_to_ : owner_from_;
        if (owner.node != node) {
            owner.node = node;
            owner.offset = static_cast<std::uint32_t>(bytes.size());
            const std::uint8_t* name = z.name_bytes(node);
            bytes.insert(bytes.end(), name, name + z.node(node).name_size);
        }
        Change c;
        c.owner = owner.offset;
        c.owner_size = z.node(node).name_size;
        c.type = s.type;
        c.ttl = s.ttl;
        c.rdata = static_cast<std::uint32_t>(bytes.size());
        c.rdata_size = d.size;
        delta_->wire_ += c.owner_size + 10u + d.size;
        const std::uint8_t* rd = z.bytes(d);
        bytes.insert(bytes.end(), rd, rd + d.size);
        (added ? delta_->added_ : delta_->removed_).push_back(c);
    }

    struct Owner {
        std::int32_t node = kNone;
        std::uint32_t offset = 0;
    };

    const Zone& from_;
    const Zone& to_;
    std::size_t max_memory_;
    std::size_t max_wire_;
    std::shared_ptr<Delta> delta_;
    Owner owner_from_, owner_to_;
    std::vector<Rdata> order_a_, order_b_;
};

std::shared_ptr<const Delta> diff(const Zone& from, const Zone& to, std::size_t max_memory,
                                  std::size_t max_wire) {
    return Differ(from, to, max_memory, max_wire).run();
}

std::size_t transfer_bytes(const Zone& zone) noexcept {
    std::size_t n = 0;
    for (std::int32_t i = 0; static_cast<std::size_t>(i) < zone.node_count(); ++i) {
        const std::size_t owner = zone.node(i).name_size + 10u;
        for (const RRset& s : zone.rrsets(i))
            for (const Rdata& d : zone.rdatas(s)) n += owner + d.size;
    }
    const Rdata& soa = zone.rdatas(zone.soa())[0];
    return n + zone.node(zone.apex()).name_size + 10u + soa.size;
}

std::ptrdiff_t Journal::find(std::uint32_t serial) const noexcept {
    for (std::size_t i = 0; i < deltas_.size(); ++i)
        if (deltas_[i]->from_serial() == serial) return static_cast<std::ptrdiff_t>(i);
    return -1;
}

Journal Journal::appended(std::shared_ptr<const Delta> delta, const JournalLimits& limits,
                          std::size_t zone_bytes) const {
    Journal j;
    if (!delta || limits.versions == 0) return j;
    if (!deltas_.empty() && deltas_.back()->to_serial() == delta->from_serial()) {
        // A serial served before and served again (after a wrap, RFC 1982):
        // what a secondary holding it has is ambiguous, so only what came
        // after its last time is kept.
        std::size_t keep = 0;
        for (std::size_t i = 0; i < deltas_.size(); ++i)
            if (deltas_[i]->from_serial() == delta->to_serial()) keep = i + 1;
        j.deltas_.assign(deltas_.begin() + static_cast<std::ptrdiff_t>(keep), deltas_.end());
    }
    j.deltas_.push_back(std::move(delta));
    for (const auto& d : j.deltas_) {
        j.bytes_ += d->memory_bytes();
        j.wire_ += d->wire_bytes();
    }
    std::size_t drop = 0;
    while (drop < j.deltas_.size() &&
           (j.deltas_.size() - drop > limits.versions || j.bytes_ > limits.bytes || j.wire_ > zone_bytes)) {
        j.bytes_ -= j.deltas_[drop]->memory_bytes();
        j.wire_ -= j.deltas_[drop++]->wire_bytes();
    }
    j.deltas_.erase(j.deltas_.begin(), j.deltas_.begin() + static_cast<std::ptrdiff_t>(drop));
    return j;
}

}  // namespace dnsd::zones
