#include "zones/zone.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

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
    return nodes_.capacity() * sizeof(Node) + rrsets_.capacity() * sizeof(RRset) +
           rdatas_.capacity() * sizeof(Rdata) + bytes_.capacity() + table_.capacity() * sizeof(std::int32_t);
}

namespace {

/// Canonical DNS order key (RFC 4034 6.1): labels from the root down.
std::string canonical_key(std::string_view lower_wire) {
    std::vector<std::string_view> labels;
    std::size_t i = 0;
    while (i < lower_wire.size() && lower_wire[i] != 0) {
        const auto len = static_cast<std::uint8_t>(lower_wire[i]);
        labels.push_back(lower_wire.substr(i + 1, len));
        i += 1u + len;
    }
    std::string key;
    for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
        key += *it;
        key += '\0';  // sorts a parent before its children
    }
    return key;
}

struct Pending {
    std::string name;  ///< as first written
    std::string lower;
    std::map<std::uint16_t, std::vector<const Record*>> sets;
};

}  // namespace

class Builder {
public:
    static std::shared_ptr<const Zone> run(std::string_view origin_wire, std::vector<Record> records,
                                           const std::string& file, Diagnostics& diags);
};

std::shared_ptr<const Zone> Zone::build(std::string_view origin_wire, std::vector<Record> records,
                                        const std::string& file, Diagnostics& diags) {
    return Builder::run(origin_wire, std::move(records), file, diags);
}

std::shared_ptr<const Zone> Builder::run(std::string_view origin_wire, std::vector<Record> records,
                                         const std::string& file, Diagnostics& diags) {
    const auto errors_before = std::count_if(diags.begin(), diags.end(),
                                             [](const auto& d) { return d.severity == Severity::error; });
    const std::string origin = name_lower(origin_wire);
    std::unordered_map<std::string, Pending> by_name;
    by_name[origin] = Pending{std::string(origin_wire), origin, {}};

    for (const Record& r : records) {
        std::string low = name_lower(r.owner);
        if (!name_is_subdomain(low, origin)) {
            diags.error(r.file, r.line,
                        "name outside zone " + name_to_text(origin) + ": " + name_to_text(r.owner));
            continue;
        }
        if (r.type == type::OPT || r.type == type::AXFR || r.type == type::IXFR || r.type == type::ANY ||
            r.type == type::TSIG || r.type == type::TKEY || r.type == type::MAILA || r.type == type::MAILB) {
            diags.error(r.file, r.line,
                        "record type " + std::to_string(r.type) + " is not allowed in a zone");
            continue;
        }
        auto [it, fresh] = by_name.try_emplace(low);
        if (fresh) {
            it->second.name = r.owner;
            it->second.lower = low;
        }
        auto& set = it->second.sets[r.type];
        bool dup = false;
        for (const Record* other : set)
            if (other->rdata == r.rdata) dup = true;  // an RRset is a set (RFC 2181 5)
        if (dup) continue;
        if (!set.empty() && set.front()->ttl != r.ttl)
            diags.warning(r.file, r.line,
                          "TTL " + std::to_string(r.ttl) + " differs from the RRset's TTL " +
                              std::to_string(set.front()->ttl) + "; using " +
                              std::to_string(set.front()->ttl) + " (RFC 2181 5.2)");
        set.push_back(&r);
    }

    // Empty non-terminals: every ancestor up to the apex is a node.
    std::vector<std::string> names;
    for (const auto& [low, _] : by_name) names.push_back(low);
    for (const std::string& low : names) {
        std::string_view n = low;
        while (n.size() > origin.size()) {
            n.remove_prefix(1u + static_cast<std::uint8_t>(n[0]));
            if (by_name.count(std::string(n))) continue;
            // Recover the written case from the descendant's original name.
            const std::string& orig = by_name[low].name;
            by_name[std::string(n)] = Pending{orig.substr(orig.size() - n.size()), std::string(n), {}};
        }
    }

    // Node order: canonical, so the apex is first and AXFR output is stable.
    std::vector<const Pending*> order;
    order.reserve(by_name.size());
    for (const auto& [_, p] : by_name) order.push_back(&p);
    std::vector<std::pair<std::string, const Pending*>> keyed;
    keyed.reserve(order.size());
    for (const Pending* p : order) keyed.emplace_back(canonical_key(p->lower), p);
    std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

    auto zone = std::shared_ptr<Zone>(new Zone());
    Zone& z = *zone;
    std::unordered_map<std::string, std::int32_t> index;
    z.nodes_.reserve(keyed.size());

    auto add_bytes = [&z](std::string_view s) {
        const auto off = static_cast<std::uint32_t>(z.bytes_.size());
        z.bytes_.insert(z.bytes_.end(), s.begin(), s.end());
        return off;
    };

    for (const auto& [_, p] : keyed) {
        Node n;
        n.name_offset = add_bytes(p->name);
        n.lower_offset = add_bytes(p->lower);
        n.name_size = static_cast<std::uint8_t>(p->name.size());
        n.labels = static_cast<std::uint8_t>(name_label_count(p->lower));
        const auto idx = static_cast<std::int32_t>(z.nodes_.size());
        index[p->lower] = idx;
        if (idx != 0) {
            std::string_view parent = p->lower;
            parent.remove_prefix(1u + static_cast<std::uint8_t>(parent[0]));
            n.parent = index.at(std::string(parent));
            if (p->lower[0] == 1 && p->lower[1] == '*')
                z.nodes_[static_cast<std::size_t>(n.parent)].wildcard = idx;
        }
        n.first_rrset = static_cast<std::uint32_t>(z.rrsets_.size());
        for (const auto& [t, recs] : p->sets) {
            RRset s;
            s.type = t;
            s.ttl = recs.front()->ttl;
            s.first = static_cast<std::uint32_t>(z.rdatas_.size());
            s.count = static_cast<std::uint16_t>(std::min<std::size_t>(recs.size(), 65535));
            for (const Record* r : recs) {
                Rdata d;
                d.offset = add_bytes(r->rdata);
                d.size = static_cast<std::uint16_t>(r->rdata.size());
                z.rdatas_.push_back(d);
            }
            z.rrsets_.push_back(s);
        }
        n.rrset_count = static_cast<std::uint16_t>(z.rrsets_.size() - n.first_rrset);
        z.nodes_.push_back(n);
    }

    // Zone cuts, top-down (parents come before children in canonical order).
    for (std::size_t i = 1; i < z.nodes_.size(); ++i) {
        Node& n = z.nodes_[i];
        const std::int32_t above = z.nodes_[static_cast<std::size_t>(n.parent)].cut;
        if (above != kNone)
            n.cut = above;
        else if (z.rrset(static_cast<std::int32_t>(i), type::NS))
            n.cut = static_cast<std::int32_t>(i);
    }

    // Checks that need the whole tree, reported at the offending record.
    const Pending& apex = by_name[origin];
    auto soa_it = apex.sets.find(type::SOA);
    if (soa_it == apex.sets.end())
        diags.error(file, 0, "zone " + name_to_text(origin) + " has no SOA record at its apex");
    else if (soa_it->second.size() > 1)
        diags.error(soa_it->second[1]->file, soa_it->second[1]->line,
                    "zone " + name_to_text(origin) + " has more than one SOA record");
    if (!apex.sets.count(type::NS))
        diags.error(file, 0, "zone " + name_to_text(origin) + " has no NS records at its apex");

    for (std::size_t i = 0; i < z.nodes_.size(); ++i) {
        const Pending& p = by_name[std::string(z.lower_name(static_cast<std::int32_t>(i)))];
        const Node& n = z.nodes_[i];
        for (const auto& [t, recs] : p.sets) {
            const Record& r = *recs.front();
            if (t == type::SOA && i != 0)
                diags.error(r.file, r.line, "SOA record outside the zone apex: " + name_to_text(r.owner));
            if (t == type::CNAME) {
                if (recs.size() > 1)
                    diags.error(recs[1]->file, recs[1]->line,
                                "more than one CNAME at " + name_to_text(r.owner));
                for (const auto& [other, orecs] : p.sets)
                    if (other != type::CNAME && other != type::RRSIG && other != type::NSEC)
                        diags.error(orecs.front()->file, orecs.front()->line,
                                    "CNAME and other data at " + name_to_text(r.owner) + " (RFC 1034 3.6.2)");
                if (i == 0) diags.error(r.file, r.line, "CNAME at the zone apex");
            }
            if (n.cut == static_cast<std::int32_t>(i)) {
                if (t != type::NS && t != type::DS && t != type::A && t != type::AAAA && t != type::RRSIG &&
                    t != type::NSEC)
                    diags.error(r.file, r.line,
                                "only NS, DS and glue may sit at the delegation " + name_to_text(r.owner));
            } else if (n.cut != kNone && t != type::A && t != type::AAAA) {
                diags.error(r.file, r.line,
                            "data below the delegation " + name_to_text(z.name(n.cut)) +
                                " must be glue (A or AAAA): " + name_to_text(r.owner));
            }
        }
    }

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
                std::string target(reinterpret_cast<const char*>(z.bytes_.data() + d.offset + o), d.size - o);
                target = name_lower(target);
                d.target = z.find(reinterpret_cast<const std::uint8_t*>(target.data()), target.size());
            }
        }
    }

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
    return zone;
}

}  // namespace dnsd::zones
