#include "dnsd/steer/staying.hpp"

#include <algorithm>

#include "dnsd/core/name.hpp"
#include "dnsd/steer/decide.hpp"

namespace dnsd::steer {
namespace {

health::DampingFigures figures_of(const config::Damping& d) {
    return {static_cast<double>(d.penalty), static_cast<double>(d.half_life.count()),
            static_cast<double>(d.suppress), static_cast<double>(d.reuse)};
}

std::string service_text(const std::string& wire) {
    std::string t = name_to_text(wire);
    if (t.size() > 1 && t.back() == '.') t.pop_back();
    return t;
}

const char* family_text(std::size_t slot_family) {
    return slot_family % 2 ? "v6" : "v4";
}

std::string seconds_text(std::int64_t ms) {
    return std::to_string((ms + 999) / 1000) + " s";
}

}  // namespace

Staying::Staying(const config::Config& cfg, std::shared_ptr<const Catalog> catalog)
    : catalog_(std::move(catalog)) {
    const Catalog& c = *catalog_;
    services_.resize(c.services.size());
    for (std::size_t i = 0; i < c.services.size() && i < cfg.services.size(); ++i) {
        const config::Service& conf = cfg.services[i];
        PerService& s = services_[i];
        s.name = service_text(conf.name);
        if (!c.services[i].stays_put) continue;
        s.failback_ms = conf.failback.count();
        s.manual = conf.failback_manual;
        s.damping = conf.damping;
        s.ttl = conf.ttl;
        s.ttl_degraded = conf.ttl_degraded ? *conf.ttl_degraded : conf.ttl;
        const auto& sites = c.services[i].sites;
        s.holds.resize(sites.size() * 2);
        s.first.resize(sites.size() * 2);
        std::uint32_t n = 0;
        for (std::size_t k = 0; k < sites.size(); ++k)
            for (Family f : {Family::v4, Family::v6}) {
                s.first[k * 2 + (f == Family::v6 ? 1 : 0)] = n;
                const Range r = c.sites[sites[k]].family(f);
                const auto& site_conf = cfg.sites[sites[k]];
                const config::Probe* probe = site_conf.probe ? &*site_conf.probe : nullptr;
                for (std::uint32_t a = 0; a < r.count; ++a)
                    s.figures.push_back(figures_of(config::damping_for(conf, probe)));
                n += r.count;
            }
        s.penalties.resize(n);
        s.last_up.assign(n, -1);
    }
}

std::vector<Staying::Change> Staying::apply(health::Snapshot& h, std::int64_t now_ms, bool quiet) {
    std::vector<Change> changes;
    if (!catalog_) return changes;
    const Catalog& c = *catalog_;
    h.published_ms = now_ms;
    last_ms_ = now_ms;
    h.services.clear();
    counting_ = false;
    next_change_ms_ = 0;
    bool any = false;
    for (const auto& svc : c.services) any |= svc.stays_put;
    if (any) h.services.resize(c.services.size());
    auto note = [&](Change ch) {
        if (!quiet) changes.push_back(std::move(ch));
    };

    for (std::size_t i = 0; i < c.services.size(); ++i) {
        const Service& svc = c.services[i];
        PerService& s = services_[i];
        const std::size_t n = svc.sites.size();
        health::ServiceView* view = svc.stays_put ? &h.services[i] : nullptr;
        if (view) {
            view->sites.resize(n * 2);
            view->stays.assign(n * 2, {});
            if (s.damping) view->suppressed.assign(c.addresses.size(), 0);
        }

        // Damping first: a suppressed address counts as down for the rest.
        if (view && s.damping) {
            each_address(i, [&](std::size_t slot, std::uint32_t a, std::uint32_t local) {
                const auto& fig = s.figures[local];
                auto& pen = s.penalties[local];
                const std::int8_t up = a >= h.up.size() || h.up[a] ? 1 : 0;
                const std::string& site = c.sites[svc.sites[slot / 2]].name;
                if (s.last_up[local] >= 0 && s.last_up[local] != up) {
                    if (pen.change(now_ms, fig))
                        note({"damping", s.name, site, c.addresses[a].str(), "damped", "",
                              "service " + s.name + ": address " + site + " " + c.addresses[a].str() +
                                  " damped (penalty " +
                                  std::to_string(static_cast<long>(pen.at(now_ms, fig))) + ", reuse in " +
                                  seconds_text(pen.reuse_at(fig) - now_ms) + ")"});
                } else if (pen.update(now_ms, fig)) {
                    note({"damping", s.name, site, c.addresses[a].str(), "reused", "damped",
                          "service " + s.name + ": address " + site + " " + c.addresses[a].str() +
                              " reused (penalty " + std::to_string(static_cast<long>(pen.at(now_ms, fig))) +
                              ")"});
                }
                s.last_up[local] = up;
                if (pen.suppressed()) {
                    view->suppressed[a] = 1;
                    counting_ = true;
                }
            });
        }

        // Then each site's state for the service, and its hold-down.
        std::int64_t next_change = 0;  // the earliest change known to come
        auto soonest = [&](std::int64_t t) {
            if (t > 0 && (next_change == 0 || t < next_change)) next_change = t;
        };
        bool degraded = false;
        bool serves[2] = {false, false}, up_any[2] = {false, false};
        for (std::size_t slot = 0; slot < n * 2; ++slot) {
            const Family f = slot % 2 ? Family::v6 : Family::v4;
            const std::uint32_t site_index = svc.sites[slot / 2];
            const Site& site = c.sites[site_index];
            const std::size_t g = std::size_t{site_index} * 2 + slot % 2;
            const health::SiteState plain =
                g < h.sites.size() ? h.sites[g] : site_state(c, site_index, f, h, nullptr);
            if (!plain.is_cname && plain.total == 0) continue;
            serves[slot % 2] = true;
            if (!view) {
                up_any[slot % 2] |= plain.usable || plain.drained;
                continue;
            }
            health::SiteState st =
                s.damping ? site_state(c, site_index, f, h, view->suppressed.data()) : plain;
            health::Stay& stay = view->stays[slot];
            const bool up = st.usable || st.drained;
            if ((plain.usable || plain.drained) && !up) {
                // Up by its probes, down once the flapping addresses are
                // suppressed: damped, until the last of them is reused.
                stay.reason = health::Stay::Reason::damped;
                const Range r = site.family(f);
                for (std::uint32_t k = 0; k < r.count; ++k) {
                    const std::uint32_t local = s.first[slot] + k;
                    const auto& pen = s.penalties[local];
                    if (!pen.suppressed()) continue;
                    const auto p = static_cast<std::uint32_t>(pen.at(now_ms, s.figures[local]));
                    stay.penalty = std::max(stay.penalty, p);
                    stay.until_ms = std::max(stay.until_ms, pen.reuse_at(s.figures[local]));
                }
                soonest(stay.until_ms);
            }
            if (s.failback_ms > 0 || s.manual) {
                auto& hold = s.holds[slot];
                // A CNAME site has one state for both families: told once.
                const bool tell = site.cname.empty() || slot % 2 == 0;
                if (hold.update(up, now_ms, s.failback_ms, s.manual) && tell) {
                    const char* fam = site.cname.empty() ? (f == Family::v4 ? " IPv4" : " IPv6") : "";
                    if (hold.held())
                        note({"hold", s.name, site.name, "", "held", "",
                              "service " + s.name + ": site " + site.name + fam + " is up again, held down " +
                                  (hold.kind() == health::Hold::Kind::manual
                                       ? std::string("until resumed")
                                       : "for " + seconds_text(hold.until_ms() - now_ms))});
                    else if (up)
                        note({"hold", s.name, site.name, "", "released", "held",
                              "service " + s.name + ": site " + site.name + fam + " is answered again"});
                }
                if (hold.held() && st.usable) {
                    st.usable = false;
                    st.held = true;
                    stay.reason = hold.kind() == health::Hold::Kind::manual
                                      ? health::Stay::Reason::held_manual
                                      : health::Stay::Reason::held;
                    stay.until_ms = hold.until_ms();
                    if (hold.kind() == health::Hold::Kind::timed) {
                        counting_ = true;
                        soonest(hold.until_ms());
                    }
                }
            }
            // Down by the probes (not by an operator), held down or damped.
            if ((!plain.usable && !plain.drained && plain.ov != health::Override::down) || st.held ||
                stay.reason == health::Stay::Reason::damped)
                degraded = true;
            up_any[slot % 2] |= st.usable || st.held || st.drained;
            view->sites[slot] = st;
        }
        if (next_change > 0 && (next_change_ms_ == 0 || next_change < next_change_ms_))
            next_change_ms_ = next_change;
        if (view) {
            view->degraded = degraded;
            std::uint32_t ttl = degraded ? s.ttl_degraded : s.ttl;
            if (next_change > 0) {
                // Never past a change known to come: the view is worked out
                // again every second, so one second less than what is left.
                const std::int64_t left = (next_change - now_ms) / 1000 - 1;
                const auto cap = static_cast<std::uint32_t>(left > 0 ? left : 0);
                ttl = std::min(ttl, cap);
            }
            view->ttl = ttl;
        }
        for (int fam = 0; fam < 2; ++fam) {
            if (!serves[fam]) continue;
            const std::int8_t in = up_any[fam] ? 0 : 1;
            const std::int8_t before = s.fallback[fam];
            s.fallback[fam] = in;
            if (before < 0 || before == in) continue;
            const char* f = fam ? "AAAA" : "A";
            note({"fallback", s.name, "", "", in ? "entered" : "left", in ? "left" : "entered",
                  "service " + s.name + ": " + f + " answers " +
                      (in ? "fall back (no site is up)" : "come from an up site again")});
        }
    }
    return changes;
}

bool Staying::counting() const noexcept {
    return counting_;
}

int Staying::resume(const std::string& service, const std::string& site, bool& held) {
    held = false;
    if (!catalog_) return 404;
    std::string want = service;
    if (want.size() > 1 && want.back() == '.') want.pop_back();
    for (std::size_t i = 0; i < services_.size(); ++i) {
        PerService& s = services_[i];
        if (name_lower(s.name) != name_lower(want)) continue;
        const Service& svc = catalog_->services[i];
        bool found = site.empty();
        for (std::size_t k = 0; k < svc.sites.size(); ++k) {
            if (!site.empty() && catalog_->sites[svc.sites[k]].name != site) continue;
            found = true;
            if (s.holds.empty()) continue;
            for (int fam = 0; fam < 2; ++fam) held |= s.holds[k * 2 + fam].resume();
        }
        if (!found) return 404;
        return s.failback_ms > 0 || s.manual ? 200 : 409;
    }
    return 404;
}

std::string Staying::site_key(std::size_t service, std::size_t slot) const {
    const Service& svc = catalog_->services[service];
    return services_[service].name + " " + catalog_->sites[svc.sites[slot / 2]].name + " " +
           family_text(slot);
}

std::string Staying::address_key(std::uint32_t a) const {
    return catalog_->sites[catalog_->address_site[a]].name + "/" + catalog_->addresses[a].str();
}

Staying::Saved Staying::saved() const {
    Saved out;
    if (!catalog_) return out;
    for (std::size_t i = 0; i < services_.size(); ++i) {
        const PerService& s = services_[i];
        for (std::size_t slot = 0; slot < s.holds.size(); ++slot)
            if (s.holds[slot].held())
                out.holds[site_key(i, slot)] = {s.holds[slot].kind(), s.holds[slot].until_ms()};
        if (!s.damping) continue;
        each_address(i, [&](std::size_t, std::uint32_t a, std::uint32_t local) {
            const auto& pen = s.penalties[local];
            // One that has decayed to nothing is not worth keeping.
            if (pen.active(last_ms_, s.figures[local]))
                out.penalties[s.name + " " + address_key(a)] = {pen.value(), pen.since_ms(),
                                                                pen.suppressed()};
        });
    }
    return out;
}

void Staying::restore(const Saved& saved) {
    if (!catalog_) return;
    for (std::size_t i = 0; i < services_.size(); ++i) {
        PerService& s = services_[i];
        for (std::size_t slot = 0; slot < s.holds.size(); ++slot) {
            const auto it = saved.holds.find(site_key(i, slot));
            if (it == saved.holds.end()) continue;
            // A manual hold stays one only while the failback is manual.
            if (it->second.kind == health::Hold::Kind::manual && !s.manual) continue;
            if (it->second.kind == health::Hold::Kind::timed && s.failback_ms == 0) continue;
            s.holds[slot] = health::Hold::restored(it->second.kind, it->second.until_ms);
        }
        if (!s.damping) continue;
        each_address(i, [&](std::size_t, std::uint32_t a, std::uint32_t local) {
            const auto it = saved.penalties.find(s.name + " " + address_key(a));
            if (it != saved.penalties.end())
                s.penalties[local] =
                    health::Penalty::restored(it->second.penalty, it->second.since_ms, it->second.suppressed);
        });
    }
}

void Staying::carry_over(const Staying& old) {
    if (!catalog_ || !old.catalog_) return;
    restore(old.saved());
    // What each address and site was last seen as, so that the first view
    // after a reload does not count a change that did not happen. (Holds
    // restored above are of sites known up; the others start from what the
    // old view saw.)
    for (std::size_t i = 0; i < services_.size(); ++i) {
        PerService& s = services_[i];
        for (std::size_t j = 0; j < old.services_.size(); ++j) {
            const PerService& o = old.services_[j];
            if (o.name != s.name) continue;
            s.fallback[0] = o.fallback[0];
            s.fallback[1] = o.fallback[1];
            if (s.last_up.empty() || o.last_up.empty()) break;
            std::map<std::string, std::int8_t> seen;  // by address key
            old.each_address(j, [&](std::size_t, std::uint32_t a, std::uint32_t local) {
                seen[old.address_key(a)] = o.last_up[local];
            });
            each_address(i, [&](std::size_t, std::uint32_t a, std::uint32_t local) {
                if (const auto it = seen.find(address_key(a)); it != seen.end())
                    s.last_up[local] = it->second;
            });
            break;
        }
    }
}

}  // namespace dnsd::steer
