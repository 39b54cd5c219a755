#include "dnsd/steer/demand.hpp"

#include <algorithm>
#include <cmath>

namespace dnsd::steer {

Prefix demand_prefix(std::uint64_t word) noexcept {
    Prefix p;
    const unsigned low = static_cast<unsigned>(word & 0xff);
    if (low < 128) {
        p.address.family = Family::v4;
        for (int i = 0; i < 4; ++i)
            p.address.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(word >> (56 - 8 * i));
        p.length = static_cast<std::uint8_t>(low);
        return p;
    }
    p.address.family = Family::v6;
    for (int i = 0; i < 7; ++i)
        p.address.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(word >> (56 - 8 * i));
    p.length = static_cast<std::uint8_t>(low - 128);
    return p;
}

DemandTable::DemandTable() : buffers_(std::make_unique<Buffer[]>(2)), current_(&buffers_[0]) {}

void DemandTable::insert(unsigned at, std::uint32_t service, std::uint64_t prefix) noexcept {
    Buffer& b = *current_;
    Slot* s = &b.slots[at * kWays];
    for (unsigned i = 0; i < kWays; ++i) {
        if (s[i].count) continue;
        // Slots fill from the first, and only drops empty them again (and
        // count a decrement): a bucket whose first slot is free and that
        // has no decrement is new in this epoch.
        if (i == 0 && !b.decrements[at]) b.touched[b.touched_count++] = static_cast<std::uint16_t>(at);
        s[i] = Slot{prefix, service, 1};
        return;
    }
    // The dropped query and one of each slot's: kWays + 1 queries in all,
    // each lost to its own service's count but not to its total.
    auto lose = [&b](std::uint32_t svc) noexcept {
        for (unsigned i = 0, h = (svc * 2654435761u) % kLostSlots; i < kLostSlots;
             ++i, h = (h + 1) % kLostSlots) {
            auto& [key, n] = b.lost[h];
            if (n && key != svc) continue;
            key = svc;
            ++n;
            return;
        }
    };
    b.any_lost = true;
    lose(service);
    for (unsigned i = 0; i < kWays; ++i) {
        lose(s[i].service);
        --s[i].count;
    }
    ++b.decrements[at];
}

bool DemandTable::harvest(Epoch& out) {
    out.slots.clear();
    out.lost.clear();
    out.max_decrements = 0;
    const std::uint32_t want = want_.load(std::memory_order_relaxed);  // only this thread writes it
    if (ack_.load(std::memory_order_acquire) != want) return false;
    if (want > 0) {
        Buffer& b = buffers_[(want - 1) & 1];
        for (std::uint32_t t = 0; t < b.touched_count; ++t) {
            const unsigned at = b.touched[t];
            for (unsigned i = 0; i < kWays; ++i) {
                Slot& s = b.slots[at * kWays + i];
                if (s.count) out.slots.push_back(s);
                s = Slot{};
            }
            out.max_decrements = std::max(out.max_decrements, b.decrements[at]);
            b.decrements[at] = 0;
        }
        b.touched_count = 0;
        if (b.any_lost)
            for (auto& [key, n] : b.lost) {
                if (n) out.lost.emplace_back(key, n);
                key = 0;
                n = 0;
            }
        b.any_lost = false;
    }
    want_.store(want + 1, std::memory_order_release);
    return true;
}

void Demand::advance(double now) {
    if (!started_) {
        started_ = true;
        start_ = now_ = now;
        return;
    }
    if (now <= now_) return;
    const double f = std::exp(-(now - now_) / tau_);
    now_ = now;
    worker_error_ *= f;
    for (auto& [key, svc] : services_) {
        svc.total *= f;
        svc.reduced *= f;
        for (auto& e : svc.top) e.count *= f;
    }
}

void Demand::add(const DemandTable::Epoch& e) {
    worker_error_ += e.max_decrements;
    for (const auto& s : e.slots) {
        Pending& p = pending_[s.service];
        p.counts[s.prefix] += s.count;
        p.total += s.count;
    }
    for (const auto& [svc, n] : e.lost) pending_[svc].total += static_cast<double>(n);
}

void Demand::settle(const std::vector<std::uint32_t>& keep) {
    auto kept = [&keep](std::uint32_t key) { return std::find(keep.begin(), keep.end(), key) != keep.end(); };
    for (auto& [key, p] : pending_) {
        if (!kept(key)) continue;
        Service& svc = services_[key];
        svc.total += p.total;
        for (const auto& e : svc.top) p.counts[e.prefix] += e.count;
        std::vector<Entry> all;
        all.reserve(p.counts.size());
        for (const auto& [prefix, count] : p.counts) all.push_back({prefix, count});
        auto larger = [](const Entry& a, const Entry& b) {
            return a.count != b.count ? a.count > b.count : a.prefix < b.prefix;
        };
        if (all.size() > kTop) {
            // Misra-Gries merge: every count lowered by the (kTop+1)th
            // largest; those left above zero are at most kTop.
            std::nth_element(all.begin(), all.begin() + kTop, all.end(), larger);
            const double cut = all[kTop].count;
            all.resize(kTop);
            for (auto& e : all) e.count -= cut;
            std::erase_if(all, [](const Entry& e) { return e.count <= 0; });
            svc.reduced += cut;
        }
        std::sort(all.begin(), all.end(), larger);
        svc.top.assign(all.begin(), all.end());  // exactly as large as it needs
    }
    pending_.clear();
    std::erase_if(services_, [&](const auto& kv) { return !kept(kv.first); });
    for (auto& [key, svc] : services_) svc.error = worker_error_ + svc.reduced;
}

double Demand::rate(double count) const noexcept {
    const double t = counted();
    if (t <= 0) return 0;
    // The weights of the past seconds sum to tau (1 - e^(-t/tau)).
    return count / (tau_ * (1 - std::exp(-t / tau_)));
}

}  // namespace dnsd::steer
