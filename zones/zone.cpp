#include "zones/zone.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_set>

#include "dnsd/core/name.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::zones {

namespace type = wire::type;

std::uint64_t name_hash(const std::uint8_t* data, std::size_t size) noexcept {
    // Eight bytes per step (a multiply-xorshift mix), since every query
    // hashes its name two or three times. The tail is the last eight bytes
    // (overlapping the step before; a fixed-size load, where a copy of the
    // remaining bytes was a call to memcpy), or, in a name shorter than
    // eight bytes, the bytes one by one.
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ size;
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        std::uint64_t v;
        std::memcpy(&v, data + i, 8);
        h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    if (i < size) {
        std::uint64_t v = 0;
        if (size >= 8)
            std::memcpy(&v, data + size - 8, 8);
        else
            for (std::size_t k = 0; k < size; ++k) v |= std::uint64_t{data[k]} << (8 * k);
        h = (h ^ v) * 0x94D049BB133111EBull;
        h ^= h >> 29;
    }
    return h ^ (h >> 32);
}

int rdata_name_offset(std::uint16_t t) noexcept {
    switch (t) {
        case type::NS:
        case type::CNAME:
        case type::PTR:
        case type::DNAME:
            return 0;
        case type::MX:
            return 2;
        case type::SRV:
            return 6;
        default:
            return -1;
    }
}

std::int32_t Zone::find(const std::uint8_t* lower_wire, std::size_t size) const noexcept {
    std::uint64_t slot = name_hash(lower_wire, size) & mask_;
    while (true) {
        const std::int32_t i = table_[slot];
        if (i == kNone) return kNone;
        const Node& n = nodes_[static_cast<std::size_t>(i)];
        if (n.name_size == size && same_name(lower_wire, bytes_.data() + n.lower_offset, size)) return i;
        slot = (slot + 1) & mask_;
    }
}

const RRset* Zone::rrset(std::int32_t i, std::uint16_t t) const noexcept {
    for (const RRset& s : rrsets(i))
        if (s.type == t) return &s;
    return nullptr;
}

std::size_t Zone::memory_bytes() const noexcept {
    // Sizes, not capacities: the bytes keep the reader's reservation,
    // address space that was never written.
    return nodes_.size() * sizeof(Node) + rrsets_.size() * sizeof(RRset) + rdatas_.size() * sizeof(Rdata) +
           bytes_.size() + table_.size() * sizeof(std::int32_t);
}

namespace {

using Entry = Records::Entry;

/// A wire name with its labels in reverse order (the root's label last), in
/// place; the same function turns it back. In this form a name sorts in
/// canonical DNS order (RFC 4034 6.1) by comparing labels front to back.
void reverse_labels(std::uint8_t* name, std::size_t size) {
    std::uint8_t copy[kMaxNameLength];
    std::uint8_t starts[kMaxNameLength / 2 + 1];
    std::size_t labels = 0, i = 0;
    while (i + 1 < size && name[i] != 0) {
        starts[labels++] = static_cast<std::uint8_t>(i);
        i += 1u + name[i];
    }
    std::memcpy(copy, name, size);
    std::size_t out = 0;
    while (labels-- > 0) {
        const std::size_t len = 1u + copy[starts[labels]];
        std::memcpy(name + out, copy + starts[labels], len);
        out += len;
    }
}

/// Eight bytes of an order-preserving encoding of a reversed name's labels
/// below the origin (each label's bytes, 0x00 and 0x01 escaped as 0x01 0x00
/// and 0x01 0x01, then 0x00): bytes [8 * chunk, 8 * chunk + 8), big-endian,
/// zero past the end. Comparing the encodings compares the names in
/// canonical order, and two different names never have the same encoding.
/// `ended`: the encoding ends before the chunk does (it is followed by at
/// least one zero byte of padding, which no longer name can have there:
/// labels are not empty and a zero in one is escaped), so names whose
/// chunks so far are equal are the same name. `size`: the name's bytes from
/// `reversed` on, never read past.
std::uint64_t sort_key(const std::uint8_t* reversed, std::size_t size, std::size_t chunk,
                       bool& ended) noexcept {
    std::uint8_t out[8] = {};
    const std::size_t from = 8 * chunk, to = from + 8;
    std::size_t n = 0;
    auto emit = [&](std::uint8_t b) {
        if (n >= from && n < to) out[n - from] = b;
        ++n;
    };
    const std::uint8_t* end = reversed + size;
    for (const std::uint8_t* p = reversed; p < end && *p != 0 && n < to; p += 1 + *p) {
        for (unsigned k = 1; k <= *p && p + k < end; ++k) {
            if (p[k] < 2) emit(1);
            emit(p[k]);
        }
        emit(0);
    }
    ended = n < to;
    std::uint64_t key = 0;
    for (const std::uint8_t b : out) key = key << 8 | b;
    return key;
}

/// Sorts entries of names inside the zone, their keys holding chunk
/// `chunk`: by key, then each run of equal keys by the next chunk, a
/// most-significant-digit radix sort with eight-byte digits (names that
/// share a long head, "host1.dc1.region", cost a few more passes over
/// their run rather than a byte comparison in every comparison of a full
/// sort). Runs of one name end up in type, then file, order.
void sort_names(Entry* lo, Entry* hi, std::size_t chunk, const std::uint8_t* bytes, std::size_t skip) {
    std::sort(lo, hi, [](const Entry& a, const Entry& b) { return a.key < b.key; });
    for (Entry* a = lo; a < hi;) {
        Entry* b = a + 1;
        while (b < hi && b->key == a->key) ++b;
        if (b - a > 1) {
            bool ended = false;
            sort_key(bytes + a->owner + skip, a->owner_size - skip, chunk, ended);
            if (ended) {
                std::sort(a, b, [](const Entry& x, const Entry& y) {
                    return x.type != y.type ? x.type < y.type : x.rdata < y.rdata;
                });
            } else {
                for (Entry* e = a; e < b; ++e)
                    e->key = sort_key(bytes + e->owner + skip, e->owner_size - skip, chunk + 1, ended);
                sort_names(a, b, chunk + 1, bytes, skip);
            }
        }
        a = b;
    }
}

bool forbidden_type(std::uint16_t t) noexcept {
    // 0 is reserved (RFC 6895 3.1); ldns reads some malformed type names
    // ("TYPE65536") as 0.
    return t == 0 || t == type::OPT || t == type::AXFR || t == type::IXFR || t == type::ANY ||
           t == type::TSIG || t == type::TKEY || t == type::MAILA || t == type::MAILB;
}

}  // namespace

class Builder {
public:
    static std::shared_ptr<const Zone> run(std::string_view origin_wire, Records records,
                                           const std::string& file, Diagnostics& diags);
    static std::shared_ptr<const Zone> with_services(const Zone& base, std::span<const std::string> names,
                                                     const Records& added);

private:
    static void finish_soa(Zone& z);
};

std::shared_ptr<const Zone> Zone::build(std::string_view origin_wire, Records records,
                                        const std::string& file, Diagnostics& diags) {
    return Builder::run(origin_wire, std::move(records), file, diags);
}

// Building a million-record zone must not cost several times its size in
// memory (a reload holds the running zones beside it), so the records are
// sorted where they are and the zone is laid out in arrays sized by a
// first pass: the records' arena becomes the zone's bytes, names stay
// where the reader put them (an empty non-terminal's name is the tail of
// its first child's), and the only other memory is the zone's own arrays.
std::shared_ptr<const Zone> Builder::run(std::string_view origin_wire, Records records,
                                         const std::string& file, Diagnostics& diags) {
    const auto errors_before = std::count_if(diags.begin(), diags.end(),
                                             [](const auto& d) { return d.severity == Severity::error; });
    const std::string origin = name_lower(origin_wire);
    std::vector<Entry>& entries = records.entries_;
    std::vector<std::uint8_t>& bytes = records.bytes_;

    for (std::size_t i = 0; i < entries.size(); ++i) {
        Entry& e = entries[i];
        if (!name_is_subdomain(records.owner_lower(i), origin)) {
            diags.error(records.file(i), records.line(i),
                        "name outside zone " + name_to_text(origin) + ": " + name_to_text(records.owner(i)));
            e.flags |= Records::kDropped | Records::kOutside;
        } else if (forbidden_type(e.type)) {
            diags.error(records.file(i), records.line(i),
                        "record type " + std::to_string(e.type) + " is not allowed in a zone");
            e.flags |= Records::kDropped;
        }
    }

    // Canonical order of names, then type, then file order (rdata is
    // appended as read): the apex first, parents before their children,
    // AXFR output stable. Every owner's bytes are reversed once (entries
    // that share them do not own them), and turned back after sorting.
    const std::size_t skip = origin.size() - 1;  // the origin's labels, first in every reversed name
    for (Entry& e : entries) {
        if (e.flags & Records::kShared) continue;
        reverse_labels(bytes.data() + e.owner, e.owner_size);
    }
    // Names outside the zone go last, unsorted: they are left out.
    const auto outside = std::partition(entries.begin(), entries.end(),
                                        [](const Entry& e) { return !(e.flags & Records::kOutside); });
    for (auto e = entries.begin(); e != outside; ++e) {
        bool ended = false;
        e->key = sort_key(bytes.data() + e->owner + skip, e->owner_size - skip, 0, ended);
    }
    sort_names(entries.data(), entries.data() + (outside - entries.begin()), 0, bytes.data(), skip);
    for (Entry& e : entries) {
        if (e.flags & Records::kShared) continue;
        reverse_labels(bytes.data() + e.owner, e.owner_size);
    }

    auto zone = std::shared_ptr<Zone>(new Zone());
    Zone& z = *zone;
    // The apex is named as configured, whatever case the file writes.
    const auto apex_name = static_cast<std::uint32_t>(bytes.size());
    bytes.insert(bytes.end(), origin_wire.begin(), origin_wire.end());
    const auto apex_lower = static_cast<std::uint32_t>(bytes.size());
    bytes.insert(bytes.end(), origin.begin(), origin.end());
    z.bytes_ = std::move(bytes);
    const std::uint8_t* data = z.bytes_.data();

    auto same_owner = [&](const Entry& a, const Entry& b) {
        return a.owner == b.owner || (a.owner_size == b.owner_size &&
                                      std::memcmp(data + a.owner, data + b.owner, a.owner_size) == 0);
    };
    auto is_origin = [&](const Entry& e) {
        return e.owner_size == origin.size() &&
               std::memcmp(data + e.owner, origin.data(), origin.size()) == 0;
    };
    auto file_of = [&](const Entry& e) -> const std::string& { return records.files_[e.file]; };
    auto line_of = [](const Entry& e) { return static_cast<int>(e.line); };

    // The path from the apex to the last node, for empty non-terminals and
    // parents: canonical order visits the tree depth first.
    struct Open {
        std::int32_t node;
        std::uint32_t lower;  ///< offset of its lower-cased name
        std::uint8_t size;
        std::uint8_t labels;
    };
    std::vector<Open> path;
    std::vector<std::string_view> seen;  // one RRset's rdata, for duplicates
    std::unordered_set<std::string_view> seen_set;
    struct Head {
        const Entry* first = nullptr;   ///< an RRset's first record
        const Entry* second = nullptr;  ///< and its second, if any
    };
    std::vector<Head> heads;  // the RRsets of one name

    // The checks of one name's data, reported at the offending record.
    auto check = [&](std::int32_t idx, std::int32_t cut) {
        for (const Head& h : heads) {
            const Entry& r = *h.first;
            const std::uint16_t t = r.type;
            auto owner = [&] { return name_to_text(z.name(idx)); };
            if (t == type::SOA && idx != 0)
                diags.error(file_of(r), line_of(r), "SOA record outside the zone apex: " + owner());
            if (t == type::SOA && h.second)
                diags.error(file_of(*h.second), line_of(*h.second),
                            "zone " + name_to_text(origin) + " has more than one SOA record");
            if (t == type::CNAME) {
                if (h.second)
                    diags.error(file_of(*h.second), line_of(*h.second), "more than one CNAME at " + owner());
                for (const Head& other : heads)
                    if (other.first->type != type::CNAME && other.first->type != type::RRSIG &&
                        other.first->type != type::NSEC)
                        diags.error(file_of(*other.first), line_of(*other.first),
                                    "CNAME and other data at " + owner() + " (RFC 1034 3.6.2)");
                if (idx == 0) diags.error(file_of(r), line_of(r), "CNAME at the zone apex");
            }
            if (cut == idx) {
                if (t != type::NS && t != type::DS && t != type::A && t != type::AAAA && t != type::RRSIG &&
                    t != type::NSEC)
                    diags.error(file_of(r), line_of(r),
                                "only NS, DS and glue may sit at the delegation " + owner());
            } else if (cut != kNone && t != type::A && t != type::AAAA) {
                diags.error(file_of(r), line_of(r),
                            "data below the delegation " + name_to_text(z.name(cut)) +
                                " must be glue (A or AAAA): " + owner());
            }
        }
    };

    // First pass (fill = false) counts; the second lays the zone out.
    std::size_t node_count = 0, rrset_count = 0, rdata_count = 0;
    auto walk = [&](bool fill) {
        path.clear();
        path.push_back({0, apex_lower, static_cast<std::uint8_t>(origin.size()),
                        static_cast<std::uint8_t>(name_label_count(origin))});
        std::size_t nodes = 1, rrsets = 0, rdatas = 0;
        if (fill) {
            Node apex;
            apex.name_offset = apex_name;
            apex.lower_offset = apex_lower;
            apex.name_size = static_cast<std::uint8_t>(origin.size());
            apex.labels = path[0].labels;
            z.nodes_.push_back(apex);
        }
        std::size_t i = 0;
        while (i < entries.size()) {
            if (entries[i].flags & Records::kDropped) {
                ++i;
                continue;
            }
            // One name: entries [i, end), of which `first` came first in its file.
            std::size_t end = i, first = i;
            while (end < entries.size() && same_owner(entries[i], entries[end])) {
                if (!(entries[end].flags & Records::kDropped) && entries[end].rdata < entries[first].rdata)
                    first = end;
                ++end;
            }
            const Entry& f = entries[first];
            const std::string_view lower(reinterpret_cast<const char*>(data + f.owner), f.owner_size);
            std::int32_t idx = 0;
            if (!is_origin(f)) {
                // Label starts of the name, to find the ancestors on the path.
                std::uint8_t starts[kMaxNameLength / 2 + 1];
                std::size_t labels = 0;
                for (std::size_t k = 0; k < lower.size() && lower[k] != 0;
                     k += 1u + static_cast<std::uint8_t>(lower[k]))
                    starts[labels++] = static_cast<std::uint8_t>(k);
                auto suffix_at = [&](std::size_t level) {  // the ancestor with `level` labels
                    return static_cast<std::size_t>(starts[labels - level]);
                };
                while (true) {
                    const Open& top = path.back();
                    if (top.labels < labels) {
                        const std::size_t at = suffix_at(top.labels);
                        if (lower.size() - at == top.size &&
                            std::memcmp(data + f.owner + at, data + top.lower, top.size) == 0)
                            break;
                    }
                    path.pop_back();
                }
                const std::uint32_t written =
                    (f.flags & Records::kWritten) ? f.owner + f.owner_size : f.owner;
                for (std::size_t level = path.back().labels + 1; level <= labels; ++level) {
                    const std::size_t at = suffix_at(level);
                    idx = static_cast<std::int32_t>(nodes++);
                    const Open open{idx, static_cast<std::uint32_t>(f.owner + at),
                                    static_cast<std::uint8_t>(lower.size() - at),
                                    static_cast<std::uint8_t>(level)};
                    if (fill) {
                        Node n;
                        n.name_offset = static_cast<std::uint32_t>(written + at);
                        n.lower_offset = open.lower;
                        n.name_size = open.size;
                        n.labels = open.labels;
                        n.parent = path.back().node;
                        Node& parent = z.nodes_[static_cast<std::size_t>(n.parent)];
                        if (open.size >= 2 && data[open.lower] == 1 && data[open.lower + 1] == '*')
                            parent.wildcard = idx;
                        n.cut = parent.cut;
                        n.first_rrset = static_cast<std::uint32_t>(z.rrsets_.size());
                        z.nodes_.push_back(n);
                    }
                    path.push_back(open);
                }
            }
            // Its RRsets: runs of one type, duplicates left out (an RRset is
            // a set, RFC 2181 5).
            heads.clear();
            for (std::size_t k = i; k < end;) {
                std::size_t stop = k;
                while (stop < end && entries[stop].type == entries[k].type) ++stop;
                seen.clear();
                seen_set.clear();
                Head h;
                std::size_t count = 0;
                for (std::size_t r = k; r < stop; ++r) {
                    const Entry& e = entries[r];
                    if (e.flags & Records::kDropped) continue;
                    const std::string_view rd(reinterpret_cast<const char*>(data + e.rdata), e.rdata_size);
                    // A large RRset (a round robin of hundreds) is checked
                    // through a hash set, a small one by comparing.
                    if (seen.size() < 16) {
                        if (std::find(seen.begin(), seen.end(), rd) != seen.end()) continue;
                        seen.push_back(rd);
                        if (seen.size() == 16) seen_set.insert(seen.begin(), seen.end());
                    } else if (!seen_set.insert(rd).second) {
                        continue;
                    }
                    ++count;
                    if (!h.first) {
                        h.first = &e;
                    } else {
                        if (!h.second) h.second = &e;
                        if (fill && e.ttl != h.first->ttl)
                            diags.warning(file_of(e), line_of(e),
                                          "TTL " + std::to_string(e.ttl) + " differs from the RRset's TTL " +
                                              std::to_string(h.first->ttl) + "; using " +
                                              std::to_string(h.first->ttl) + " (RFC 2181 5.2)");
                    }
                    if (fill) z.rdatas_.push_back(Rdata{e.rdata, e.rdata_size, kNone});
                }
                k = stop;
                if (!h.first) continue;
                rdatas += count;
                ++rrsets;
                heads.push_back(h);
                if (!fill) continue;
                RRset set;
                set.type = h.first->type;
                set.ttl = h.first->ttl;
                set.first = static_cast<std::uint32_t>(z.rdatas_.size() - count);
                set.count = static_cast<std::uint16_t>(std::min<std::size_t>(count, 65535));
                z.rrsets_.push_back(set);
            }
            if (fill) {
                Node& n = z.nodes_[static_cast<std::size_t>(idx)];
                n.rrset_count = static_cast<std::uint16_t>(z.rrsets_.size() - n.first_rrset);
                if (idx != 0 && n.cut == kNone && z.rrset(idx, type::NS)) n.cut = idx;
                check(idx, n.cut);
            }
            i = end;
        }
        node_count = nodes;
        rrset_count = rrsets;
        rdata_count = rdatas;
    };
    walk(false);
    z.nodes_.reserve(node_count);
    z.rrsets_.reserve(rrset_count);
    z.rdatas_.reserve(rdata_count);
    walk(true);
    std::vector<Entry>().swap(entries);
    std::vector<std::string_view>().swap(seen);

    if (!z.rrset(0, type::SOA))
        diags.error(file, 0, "zone " + name_to_text(origin) + " has no SOA record at its apex");
    if (!z.rrset(0, type::NS))
        diags.error(file, 0, "zone " + name_to_text(origin) + " has no NS records at its apex");

    const auto errors_after = std::count_if(diags.begin(), diags.end(),
                                            [](const auto& d) { return d.severity == Severity::error; });
    if (errors_after != errors_before) return nullptr;
    // Hash table at most half full.
    std::size_t cap = 16;
    while (cap < z.nodes_.size() * 2) cap *= 2;
    z.table_.assign(cap, kNone);
    z.mask_ = cap - 1;
    for (std::size_t i = 0; i < z.nodes_.size(); ++i) {
        const Node& n = z.nodes_[i];
        std::uint64_t slot = name_hash(z.bytes_.data() + n.lower_offset, n.name_size) & z.mask_;
        while (z.table_[slot] != kNone) slot = (slot + 1) & z.mask_;
        z.table_[slot] = static_cast<std::int32_t>(i);
    }

    // Targets for additional-section processing.
    for (std::size_t i = 0; i < z.nodes_.size(); ++i) {
        for (const RRset& s : z.rrsets(static_cast<std::int32_t>(i))) {
            if (s.type != type::NS && s.type != type::MX && s.type != type::SRV) continue;
            const int off = rdata_name_offset(s.type);
            for (std::uint32_t k = s.first; k < s.first + s.count; ++k) {
                Rdata& d = z.rdatas_[k];
                const auto o = static_cast<std::size_t>(off);
                if (d.size <= o) continue;
                std::uint8_t target[kMaxNameLength];
                const std::size_t size = std::min<std::size_t>(d.size - o, kMaxNameLength);
                for (std::size_t b = 0; b < size; ++b) target[b] = lower(z.bytes_[d.offset + o + b]);
                d.target = z.find(target, size);
            }
        }
    }

    finish_soa(z);
    return zone;
}

void Builder::finish_soa(Zone& z) {
    const RRset& soa = *z.rrset(0, type::SOA);
    z.soa_rrset_ = static_cast<std::uint32_t>(&soa - z.rrsets_.data());
    const Rdata& sd = z.rdatas_[soa.first];
    if (sd.size >= 20) {
        const std::uint8_t* end = z.bytes_.data() + sd.offset + sd.size;
        z.serial_ = wire::get32(end - 20);
        z.negative_ttl_ = std::min(soa.ttl, wire::get32(end - 4));  // RFC 2308 5
    }
    z.negative_soa_ = soa;
    z.negative_soa_.ttl = z.negative_ttl_;
}

std::shared_ptr<const Zone> Zone::with_services(const Zone& base, std::span<const std::string> names,
                                                const Records& added) {
    return Builder::with_services(base, names, added);
}

// The zone's arrays are copied as they are (the names, their order, the
// lookup table and the additional-section targets do not change) and only
// the RRsets of the service names are laid out again: tens of
// milliseconds for a million records, where reading the files again takes
// half a second.
std::shared_ptr<const Zone> Builder::with_services(const Zone& base, std::span<const std::string> names,
                                                   const Records& added) {
    auto provided = [](std::uint16_t t) { return t == type::A || t == type::AAAA || t == type::CNAME; };
    // Node -> the added records at it, in type then file order.
    std::vector<std::pair<std::int32_t, std::size_t>> at;  // (node, record)
    std::vector<std::int32_t> service_nodes;
    for (const std::string& lower : names) {
        const auto n = base.find(reinterpret_cast<const std::uint8_t*>(lower.data()), lower.size());
        if (n == kNone) return nullptr;
        service_nodes.push_back(n);
    }
    for (std::size_t i = 0; i < added.size(); ++i) {
        const std::string_view owner = added.owner_lower(i);
        const auto n = base.find(reinterpret_cast<const std::uint8_t*>(owner.data()), owner.size());
        if (n == kNone || !provided(added.type(i)) ||
            std::find(service_nodes.begin(), service_nodes.end(), n) == service_nodes.end())
            return nullptr;
        at.emplace_back(n, i);
    }
    std::stable_sort(at.begin(), at.end(), [&](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : added.type(a.second) < added.type(b.second);
    });
    std::sort(service_nodes.begin(), service_nodes.end());
    service_nodes.erase(std::unique(service_nodes.begin(), service_nodes.end()), service_nodes.end());
    // A service without records leaves no node of its own in build().
    for (const std::int32_t n : service_nodes)
        if (std::none_of(at.begin(), at.end(), [n](const auto& a) { return a.first == n; })) return nullptr;
    for (const std::int32_t n : service_nodes) {
        // What Zone::build and load::build_zone would refuse: a CNAME beside
        // other data or at the apex, a service below a delegation.
        bool cname = false, other = false;
        for (const auto& [node, i] : at)
            if (node == n) cname |= added.type(i) == type::CNAME;
        for (const RRset& s : base.rrsets(n)) other |= !provided(s.type);
        if ((cname && (other || n == 0)) || base.node(n).cut != kNone) return nullptr;
    }

    auto zone = std::shared_ptr<Zone>(new Zone());
    Zone& z = *zone;
    z.nodes_ = base.nodes_;
    z.table_ = base.table_;
    z.mask_ = base.mask_;
    z.bytes_.reserve(base.bytes_.size() + 64 * added.size());
    z.bytes_.assign(base.bytes_.begin(), base.bytes_.end());
    z.rdatas_ = base.rdatas_;
    z.rrsets_.reserve(base.rrsets_.size() + added.size());
    std::size_t next = 0;     // into `at`
    std::size_t service = 0;  // into service_nodes
    for (std::size_t i = 0; i < z.nodes_.size(); ++i) {
        Node& n = z.nodes_[i];
        const auto idx = static_cast<std::int32_t>(i);
        const std::span<const RRset> old(base.rrsets_.data() + n.first_rrset, n.rrset_count);
        n.first_rrset = static_cast<std::uint32_t>(z.rrsets_.size());
        if (service >= service_nodes.size() || service_nodes[service] != idx) {
            z.rrsets_.insert(z.rrsets_.end(), old.begin(), old.end());
            continue;
        }
        ++service;
        // The node's own RRsets and the services', merged in type order.
        auto own = old.begin();
        auto emit_own_below = [&](std::uint32_t limit) {
            for (; own != old.end() && own->type < limit; ++own)
                if (!provided(own->type)) z.rrsets_.push_back(*own);
        };
        while (next < at.size() && at[next].first == idx) {
            const std::uint16_t t = added.type(at[next].second);
            emit_own_below(t);
            RRset set;
            set.type = t;
            set.ttl = added.ttl(at[next].second);
            set.first = static_cast<std::uint32_t>(z.rdatas_.size());
            std::vector<std::string_view> seen;
            for (; next < at.size() && at[next].first == idx && added.type(at[next].second) == t; ++next) {
                const std::string_view rd = added.rdata(at[next].second);
                if (std::find(seen.begin(), seen.end(), rd) != seen.end()) continue;
                seen.push_back(rd);
                Rdata d;
                d.offset = static_cast<std::uint32_t>(z.bytes_.size());
                d.size = static_cast<std::uint16_t>(rd.size());
                z.bytes_.insert(z.bytes_.end(), rd.begin(), rd.end());
                z.rdatas_.push_back(d);
            }
            set.count = static_cast<std::uint16_t>(seen.size());
            z.rrsets_.push_back(set);
        }
        emit_own_below(0x10000);
        n.rrset_count = static_cast<std::uint16_t>(z.rrsets_.size() - n.first_rrset);
    }
    finish_soa(z);
    return zone;
}

}  // namespace dnsd::zones
