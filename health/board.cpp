#include "health/board.hpp"

namespace dnsd::health {

Board::Board(const config::Config& cfg, std::shared_ptr<const steer::Catalog> catalog, std::int64_t now)
    : catalog_(std::move(catalog)) {
    const auto& cat = *catalog_;
    probes_.resize(cat.addresses.size());
    states_.resize(cat.addresses.size());
    overrides_.assign(cat.sites.size(), Override::none);
    until_.assign(cat.sites.size(), 0);
    latency_.resize(cat.sites.size());
    for (std::uint32_t a = 0; a < cat.addresses.size(); ++a) {
        const auto& site = cfg.sites[cat.address_site[a]];
        if (site.probe) probes_[a] = std::make_shared<const config::Probe>(*site.probe);
        states_[a].info.probed = site.probe.has_value();
        states_[a].info.since = now;
    }
    settle(true, 0);
}

std::vector<Verdict> Board::own_verdicts() const {
    std::vector<Verdict> out(states_.size(), Verdict::unknown);
    for (std::size_t a = 0; a < states_.size(); ++a)
        if (probes_[a]) out[a] = states_[a].rf.up() ? Verdict::up : Verdict::down;
    return out;
}

bool Board::set_cluster(std::vector<std::vector<Verdict>> peers, unsigned quorum) {
    peers_ = std::move(peers);
    quorum_ = quorum;
    return settle(false, unix_now());
}

unsigned Board::seen_down(std::uint32_t a) const noexcept {
    unsigned n = probes_[a] && !states_[a].rf.up() ? 1 : 0;
    for (const auto& p : peers_) n += a < p.size() && p[a] == Verdict::down;
    return n;
}

bool Board::settle(bool quiet, std::int64_t now) {
    const auto own = own_verdicts();
    auto merged = merge(own, peers_, quorum_);
    vantage_points_ = merged.vantage_points;
    degraded_ = merged.degraded;
    bool changed = false;
    for (std::uint32_t a = 0; a < merged.up.size(); ++a) {
        if (a < served_.size() && served_[a] == merged.up[a]) continue;
        changed = true;
        if (quiet || a >= served_.size()) continue;
        const bool up = merged.up[a] != 0;
        states_[a].info.since = now;
        std::string why = states_[a].info.message;
        if (quorum_ > 1 || !peers_.empty())
            why = std::to_string(seen_down(a)) + " of " + std::to_string(vantage_points_) +
                  " vantage points see it down, quorum " + std::to_string(quorum_);
        events_.push_back({up ? Event::Kind::address_up : Event::Kind::address_down, a,
                           key(a) + " is " + (up ? "up" : "down") + " (" + probed_at(a) + why + ")"});
    }
    served_ = std::move(merged.up);
    return changed;
}

std::map<std::string, Latency> Board::latencies() const {
    std::map<std::string, Latency> out;
    for (std::uint32_t s = 0; s < latency_.size(); ++s)
        if (latency_[s].count) out[catalog_->sites[s].name] = latency_[s];
    return out;
}

std::string Board::key(std::uint32_t address) const {
    return catalog_->sites[catalog_->address_site[address]].name + "/" + catalog_->addresses[address].str();
}

std::string Board::probed_at(std::uint32_t address) const {
    const Address& target = catalog_->probe_targets[address];
    return target == catalog_->addresses[address] ? std::string() : "probed at " + target.str() + ": ";
}

bool Board::record(std::uint32_t address, bool ok, std::uint32_t latency_ms, std::string message,
                   std::int64_t now) {
    auto& s = states_[address];
    const auto* p = probes_[address].get();
    s.info.has_result = true;
    s.info.last_ok = ok;
    s.info.latency_ms = latency_ms;
    s.info.message = std::move(message);
    latency_[catalog_->address_site[address]].observe(latency_ms);
    if (!p || !s.rf.observe(ok, p->rise, p->fall)) return false;
    s.info.since = now;
    if (quorum_ > 1 || !peers_.empty()) {
        const bool up = s.rf.up();
        events_.push_back({up ? Event::Kind::verdict_up : Event::Kind::verdict_down, address,
                           "own probes see " + key(address) + " " + (up ? "up" : "down") + " (" +
                               probed_at(address) + s.info.message + ")"});
    }
    settle(false, now);
    return true;  // peers hear of the own verdict even when the served state stays
}

bool Board::set_override(std::uint32_t site, Override o, std::int64_t until) {
    if (site >= overrides_.size() || (overrides_[site] == o && until_[site] == until)) return false;
    overrides_[site] = o;
    until_[site] = o == Override::none ? 0 : until;
    events_.push_back({Event::Kind::override_set, site,
                       "site " + catalog_->sites[site].name + " override " + to_string(o)});
    return true;
}

bool Board::expire(std::int64_t now) {
    bool changed = false;
    for (std::uint32_t s = 0; s < overrides_.size(); ++s) {
        if (until_[s] == 0 || until_[s] > now) continue;
        events_.push_back(
            {Event::Kind::override_set, s,
             "site " + catalog_->sites[s].name + " override " + to_string(overrides_[s]) + " expired: auto"});
        overrides_[s] = Override::none;
        until_[s] = 0;
        changed = true;
    }
    return changed;
}

std::shared_ptr<Snapshot> Board::snapshot() {
    auto s = std::make_shared<Snapshot>();
    s->up.reserve(states_.size());
    s->info.reserve(states_.size());
    for (std::size_t a = 0; a < states_.size(); ++a) {
        s->up.push_back(served_[a]);
        s->info.push_back(states_[a].info);
    }
    s->vantage_points = static_cast<std::uint8_t>(vantage_points_ > 255 ? 255 : vantage_points_);
    s->quorum = static_cast<std::uint8_t>(quorum_);
    s->overrides = overrides_;
    s->generation = ++generation_;
    s->catalog_id = catalog_->id;
    return s;
}

std::vector<Event> Board::take_events() {
    std::vector<Event> out;
    out.swap(events_);
    return out;
}

Persisted Board::persisted() const {
    Persisted out;
    for (std::uint32_t s = 0; s < overrides_.size(); ++s)
        if (overrides_[s] != Override::none)
            out.overrides[catalog_->sites[s].name] = {overrides_[s], until_[s]};
    for (std::uint32_t a = 0; a < states_.size(); ++a)
        if (probes_[a]) out.addresses[key(a)] = {states_[a].rf.up(), states_[a].info.since};
    return out;
}

void Board::restore(const Persisted& saved, const std::string& path, Diagnostics& diags) {
    for (const auto& [name, o] : saved.overrides) {
        std::uint32_t site = 0;
        while (site < catalog_->sites.size() && catalog_->sites[site].name != name) ++site;
        if (site == catalog_->sites.size()) {
            diags.warning(path, 0, "override for unknown site '" + name + "' ignored");
            continue;
        }
        overrides_[site] = o.state;
        until_[site] = o.until;
    }
    for (std::uint32_t i = 0; i < states_.size(); ++i) {
        if (!probes_[i]) continue;
        const auto it = saved.addresses.find(key(i));
        if (it == saved.addresses.end()) continue;
        states_[i].rf = RiseFall(it->second.up);
        states_[i].info.since = it->second.since;
    }
    settle(true, 0);
}

void Board::carry_over(const Board& old) {
    // The peers' verdicts too, until they are next asked: without them a
    // reload would answer by this instance's view alone for a moment.
    peers_.assign(old.peers_.size(), std::vector<Verdict>(states_.size(), Verdict::unknown));
    quorum_ = old.quorum_;
    for (std::uint32_t i = 0; i < states_.size(); ++i) {
        const std::string k = key(i);
        for (std::uint32_t j = 0; j < old.states_.size(); ++j) {
            if (old.key(j) != k) continue;
            for (std::size_t p = 0; p < peers_.size(); ++p)
                if (j < old.peers_[p].size()) peers_[p][i] = old.peers_[p][j];
            // Same target: same state, unless the probe changed, or what
            // it connects to (probe_targets): then its verdicts are about
            // something else and start afresh.
            const bool same_probe =
                (!probes_[i] && !old.probes_[j]) ||
                (probes_[i] && old.probes_[j] && probes_[i]->kind == old.probes_[j]->kind &&
                 probes_[i]->port == old.probes_[j]->port && probes_[i]->path == old.probes_[j]->path &&
                 probes_[i]->host == old.probes_[j]->host &&
                 catalog_->probe_targets[i] == old.catalog_->probe_targets[j]);
            if (same_probe) states_[i] = old.states_[j];
            break;
        }
    }
    lag_ = old.lag_;
    for (std::uint32_t s = 0; s < overrides_.size(); ++s)
        for (std::uint32_t t = 0; t < old.overrides_.size(); ++t)
            if (old.catalog_->sites[t].name == catalog_->sites[s].name) {
                overrides_[s] = old.overrides_[t];
                until_[s] = old.until_[t];
                latency_[s] = old.latency_[t];
            }
    settle(true, 0);
}

}  // namespace dnsd::health
