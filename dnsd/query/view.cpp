#include "dnsd/query/view.hpp"

#include <algorithm>

#include "dnsd/core/name.hpp"
#include "dnsd/core/version.hpp"

namespace dnsd::query {

const std::vector<WeightedPoint>& View::reference() const noexcept {
    static const std::vector<WeightedPoint> none;
    return reference_ ? *reference_ : none;
}

std::shared_ptr<const View> View::make(Parts parts, const config::Server& server) {
    auto v = std::make_shared<View>();
    v->locator_ = std::move(parts.locator);
    v->reference_ = std::move(parts.reference);
    v->ecs_ = parts.ecs;
    v->zones_ = std::move(parts.zones);
    v->sources_ = std::move(parts.sources);
    v->loaded_ = parts.loaded;
    v->journals_ = std::move(parts.journals);
    v->journals_.resize(v->zones_.size());
    v->keys_ = std::move(parts.keys);
    v->catalog_ = parts.catalog ? std::move(parts.catalog) : std::make_shared<const steer::Catalog>();
    v->rate_limit_ = parts.rate_limit;
    v->served_ = std::move(parts.served);
    v->service_at_.resize(v->zones_.size());
    v->explain_allow_ = server.explain_allow;
    for (std::size_t i = 0; i < v->catalog_->services.size(); ++i) {
        const auto& name = v->catalog_->services[i].name;
        const auto lower = name_lower(name);
        for (std::size_t z = 0; z < v->zones_.size(); ++z) {
            if (!name_is_subdomain(name, v->zones_[z]->origin())) continue;
            const auto node =
                v->zones_[z]->find(reinterpret_cast<const std::uint8_t*>(lower.data()), lower.size());
            if (node == zones::kNone) continue;
            auto& table = v->service_at_[z];
            if (table.empty()) table.assign(v->zones_[z]->node_count(), -1);
            table[static_cast<std::size_t>(node)] = static_cast<std::int32_t>(i);
        }
    }
    v->identity_ = server.identity;
    v->version_ = std::string("dnsd ") + kVersion;
    v->udp_payload_ = server.udp_payload;
    v->query_log_ = server.query_log;
    v->transfer_allow_ = server.transfer_allow;
    v->tsig_keys_ = std::move(parts.tsig_keys);
    for (const auto& k : v->tsig_keys_)
        if (!server.transfer_key.empty() && k.name == server.transfer_key) v->transfer_key_ = &k;
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
    std::vector<std::size_t> sites_per_service;
    for (const auto& svc : v->catalog_->services) sites_per_service.push_back(svc.sites.size());
    v->counters_ = std::make_unique<Counters>(v->zones_.size(), sites_per_service, server.worker_count());
    return v;
}

const zones::Zone* View::find_zone(const std::uint8_t* lower_name, const std::uint8_t* offsets,
                                   unsigned labels, std::size_t size, unsigned& suffix,
                                   std::size_t& index) const noexcept {
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
                zones::same_name(s, reinterpret_cast<const std::uint8_t*>(origin.data()), n)) {
                suffix = i;
                index = static_cast<std::size_t>(z);
                return zones_[static_cast<std::size_t>(z)].get();
            }
            slot = (slot + 1) & mask_;
        }
    }
    return nullptr;
}

}  // namespace dnsd::query
