#include "dnsd/query/view.hpp"

#include <algorithm>

#include "dnsd/core/name.hpp"
#include "dnsd/core/version.hpp"
#include "zones/reader.hpp"

namespace dnsd::query {

std::shared_ptr<const View> View::make(std::vector<std::shared_ptr<const zones::Zone>> zones,
                                       const config::Server& server) {
    auto v = std::make_shared<View>();
    v->zones_ = std::move(zones);
    v->identity_ = server.identity;
    v->version_ = std::string("dnsd ") + kVersion;
    v->udp_payload_ = server.udp_payload;
    v->transfer_allow_ = server.transfer_allow;
    std::size_t cap = 8;
    while (cap < v->zones_.size() * 2) cap *= 2;
    v->table_.assign(cap, zones::kNone);
    v->mask_ = cap - 1;
    for (std::size_t i = 0; i < v->zones_.size(); ++i) {
        const auto origin = v->zones_[i]->origin_lower();
        const unsigned labels = name_label_count(origin);
        if (labels > v->max_origin_labels_) v->max_origin_labels_ = labels;
        std::uint64_t slot =
            zones::name_hash(reinterpret_cast<const std::uint8_t*>(origin.data()), origin.size()) & v->mask_;
        while (v->table_[slot] != zones::kNone) slot = (slot + 1) & v->mask_;
        v->table_[slot] = static_cast<std::int32_t>(i);
    }
    return v;
}

std::shared_ptr<const View> View::load(const config::Config& cfg, Diagnostics& diags) {
    std::vector<std::shared_ptr<const zones::Zone>> built;
    bool ok = true;
    for (const auto& z : cfg.zones) {
        Diagnostics local;
        auto records = zones::read_zone_file(z.file, z.origin, local);
        std::shared_ptr<const zones::Zone> zone;
        // A file that could not be read has nothing more to report.
        if (!records.empty() || !local.has_errors())
            zone = zones::Zone::build(z.origin, std::move(records), z.file, local);
        local.sort_by_line();
        diags.append(local);
        if (!zone) {
            ok = false;
            continue;
        }
        built.push_back(std::move(zone));
    }
    if (!ok || diags.has_errors()) return nullptr;
    return make(std::move(built), cfg.server);
}

const zones::Zone* View::find_zone(const std::uint8_t* lower_name, const std::uint8_t* offsets,
                                   unsigned labels, std::size_t size, unsigned& suffix) const noexcept {
    // Closest zone first: the longest suffix that could be an origin.
    for (unsigned i = labels > max_origin_labels_ ? labels - max_origin_labels_ : 0; i <= labels; ++i) {
        const std::uint8_t* s = lower_name + offsets[i];
        const std::size_t n = size - offsets[i];
        std::uint64_t slot = zones::name_hash(s, n) & mask_;
        while (true) {
            const std::int32_t z = table_[slot];
            if (z == zones::kNone) break;
            const auto origin = zones_[static_cast<std::size_t>(z)]->origin_lower();
            if (origin.size() == n &&
                std::equal(s, s + n, reinterpret_cast<const std::uint8_t*>(origin.data()))) {
                suffix = i;
                return zones_[static_cast<std::size_t>(z)].get();
            }
            slot = (slot + 1) & mask_;
        }
    }
    return nullptr;
}

}  // namespace dnsd::query
