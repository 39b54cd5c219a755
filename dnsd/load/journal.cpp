#include "dnsd/load/journal.hpp"

#include <cstring>
#include <string_view>
#include <unordered_map>

#include "dnsd/load/serial.hpp"

namespace dnsd::load {

namespace {

/// The same SOA record (TTL and rdata) in both zones.
bool same_soa(const zones::Zone& a, const zones::Zone& b) noexcept {
    const auto& sa = a.rdatas(a.soa())[0];
    const auto& sb = b.rdatas(b.soa())[0];
    return a.soa().ttl == b.soa().ttl && sa.size == sb.size &&
           std::memcmp(a.bytes(sa), b.bytes(sb), sa.size) == 0;
}

}  // namespace

zones::JournalLimits journal_limits(const config::Server& server) noexcept {
    zones::JournalLimits limits;
    limits.versions = server.ixfr_versions;
    limits.bytes = server.ixfr_memory;
    return limits;
}

zones::Journal next_journal(const zones::Zone* from, const zones::Journal& journal,
                            const std::shared_ptr<const zones::Zone>& to, const zones::JournalLimits& limits,
                            const zones::ZoneSource* from_source, const zones::ZoneSource* to_source) {
    if (!from || !to) return {};
    if (from == to.get()) return journal;
    if (serial_ahead(to->serial(), from->serial())) {
        if (limits.versions == 0) return {};
        const std::size_t size = zones::transfer_bytes(*to);
        return journal.appended(zones::diff(*from, *to, limits.bytes, size), limits, size);
    }
    if (to->serial() != from->serial()) return {};
    // Built again under the same serial (a comment edited, or a service's
    // addresses changed without a bump): the journal still leads to it if
    // its records are the same. The digests of what both were built from
    // say so without a diff, when they are known.
    if (from_source && to_source)
        return from_source->file_digest == to_source->file_digest &&
                       from_source->service_digest == to_source->service_digest
                   ? journal
                   : zones::Journal();
    if (same_soa(*from, *to) && zones::diff(*from, *to)->changes() == 0) return journal;
    return {};
}

std::vector<zones::Journal> journals(const std::vector<std::shared_ptr<const zones::Zone>>& zones,
                                     const std::vector<std::shared_ptr<const zones::ZoneSource>>& sources,
                                     const query::View* running, const zones::JournalLimits& limits) {
    std::vector<zones::Journal> out(zones.size());
    if (!running) return out;
    std::unordered_map<std::string_view, std::size_t> by_origin;
    for (std::size_t k = 0; k < running->zones().size(); ++k)
        by_origin.emplace(running->zones()[k]->origin_lower(), k);
    for (std::size_t i = 0; i < zones.size(); ++i) {
        const auto it = by_origin.find(zones[i]->origin_lower());
        if (it == by_origin.end()) continue;
        const std::size_t k = it->second;
        out[i] = next_journal(running->zones()[k].get(), running->journal(k), zones[i], limits,
                              running->source(k), i < sources.size() ? sources[i].get() : nullptr);
    }
    return out;
}

}  // namespace dnsd::load
