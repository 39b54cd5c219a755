#include "dnsd/steer/decide.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "dnsd/steer/rendezvous.hpp"

namespace dnsd::steer {

using Policy = config::Service::Policy;
using Fallback = config::Service::Fallback;
using health::Override;

const char* to_string(Trace::Verdict v) noexcept {
    switch (v) {
        case Trace::Verdict::chosen:
            return "chosen";
        case Trace::Verdict::standby:
            return "standby";
        case Trace::Verdict::down:
            return "down";
        case Trace::Verdict::drained:
            return "drained";
        case Trace::Verdict::forced_down:
            return "forced down";
        case Trace::Verdict::no_family:
            return "no address of the family";
        case Trace::Verdict::held_down:
            return "held down";
        case Trace::Verdict::damped:
            return "damped";
    }
    return "?";
}

namespace {

using health::SiteState;

struct SiteView : SiteState {
    std::uint32_t site;
};

Override override_of(const health::Snapshot& h, std::uint32_t site) noexcept {
    return site < h.overrides.size() ? h.overrides[site] : Override::none;
}

bool address_up(const health::Snapshot& h, std::uint32_t a) noexcept {
    // Addresses without a verdict yet count as up (SPEC 3, start-up).
    return a >= h.up.size() || h.up[a] != 0;
}

SiteState compute_state(const Catalog& c, std::uint32_t s, Family f, const health::Snapshot& h,
                        const std::uint8_t* suppressed = nullptr) noexcept {
    const Site& site = c.sites[s];
    SiteState v{};
    v.ov = override_of(h, s);
    v.is_cname = !site.cname.empty();
    const Range r = site.family(f);
    v.total = r.count;
    for (std::uint32_t i = 0; i < r.count; ++i) {
        const std::uint32_t a = r.first + i;
        if (v.ov == Override::up || (address_up(h, a) && !(suppressed && suppressed[a]))) ++v.up;
    }
    bool up;
    if (v.ov == Override::down) {
        up = false;
    } else if (v.is_cname) {
        up = true;  // nothing to probe: up unless forced down
    } else if (v.total == 0) {
        up = false;
    } else {
        const unsigned needed = site.min_up < v.total ? site.min_up : v.total;
        up = v.up >= needed;
    }
    v.drained = up && v.ov == Override::drain;
    v.usable = up && !v.drained;
    return v;
}

/// The state fill_site_states() computed, or the same computed now.
SiteView view_of(const Catalog& c, std::uint32_t s, Family f, const health::Snapshot& h) noexcept {
    const std::size_t i = std::size_t{s} * 2 + (f == Family::v6 ? 1 : 0);
    SiteView v;
    static_cast<SiteState&>(v) = i < h.sites.size() ? h.sites[i] : compute_state(c, s, f, h);
    v.site = s;
    return v;
}

double distance_km(const Site& s, const Client& c) noexcept {
    if (!s.located || !c.located) return -1;
    return s.location.unit.distance_km(c.location);
}

/// The located site of `pick` nearest to `at`, other than `skip`; -1 when
/// there is none.
inline int nearest_of(const Catalog& c, const SiteView* views, const int* pick, unsigned n,
                      const UnitVector& at, int skip = -1) noexcept {
    int best = -1;
    double best_dot = -2;
    for (unsigned i = 0; i < n; ++i) {
        const Site& s = c.sites[views[pick[i]].site];
        if (pick[i] == skip || !s.located) continue;
        // Largest dot product = smallest great-circle distance; ties keep
        // the earlier site in the listed order.
        const double dot = s.location.unit.dot(at);
        if (dot > best_dot) {
            best_dot = dot;
            best = pick[i];
        }
    }
    return best;
}

/// Picks one site among `pick` (indices into views) by the policy.
int pick_site(const Catalog& c, const Service& svc, const SiteView* views, const int* pick, unsigned n,
              const Client& client, Random& random) noexcept {
    if (n == 0) return -1;
    switch (svc.policy) {
        case Policy::failover:
        case Policy::all:
            return pick[0];
        case Policy::nearest: {
            if (!client.located) return pick[0];
            const int best = nearest_of(c, views, pick, n, client.location);
            return best >= 0 ? best : pick[0];
        }
        case Policy::weighted: {
            std::uint64_t total = 0;
            for (unsigned i = 0; i < n; ++i) total += c.sites[views[pick[i]].site].weight;
            if (total == 0) return pick[0];  // only weight-0 sites are up: the first of them
            std::uint64_t r = random.next() % total;
            for (unsigned i = 0; i < n; ++i) {
                const std::uint64_t w = c.sites[views[pick[i]].site].weight;
                if (r < w) return pick[i];
                r -= w;
            }
            return pick[n - 1];
        }
    }
    return pick[0];
}

/// weighted with stickiness: the site of `pick` (all with a weight) with
/// the highest weighted rendezvous score for the client's key; the first
/// of equal ones.
int pick_by_client(const Catalog& c, const SiteView* views, const int* pick, unsigned n,
                   std::uint64_t key) noexcept {
    const unsigned weight = c.sites[views[pick[0]].site].weight;
    bool equal = true;
    for (unsigned i = 1; i < n; ++i) equal &= c.sites[views[pick[i]].site].weight == weight;
    int best = pick[0];
    if (equal) {
        // The same weight everywhere (the usual case): the score grows with
        // the rank's unit_bits(), so those pick alike without a logarithm.
        std::uint64_t best_bits = unit_bits(rank(key, c.site_key[views[pick[0]].site]));
        for (unsigned i = 1; i < n; ++i) {
            const std::uint64_t bits = unit_bits(rank(key, c.site_key[views[pick[i]].site]));
            if (bits > best_bits) {
                best_bits = bits;
                best = pick[i];
            }
        }
        return best;
    }
    double best_score = -1;
    for (unsigned i = 0; i < n; ++i) {
        const std::uint32_t s = views[pick[i]].site;
        const double score = weighted_score(rank(key, c.site_key[s]), c.sites[s].weight);
        if (score > best_score) {
            best_score = score;
            best = pick[i];
        }
    }
    return best;
}

/// Spill-over (SPEC 10): `chosen`, the nearest up site, or the next
/// nearest when `chosen` is above spill_at and sheds this client (its
/// extra distance is below the cut fill_spills() worked out).
int spill_over(const Catalog& c, const Service& svc, const SiteView* views, const int* pick, unsigned n,
               int chosen, Family f, const Client& client, const health::Snapshot& h,
               Trace::SpillNote* note) noexcept {
    if (svc.index >= h.spills.size()) return chosen;
    const auto& spills = h.spills[svc.index];
    const std::size_t at = static_cast<std::size_t>(chosen) * 2 + (f == Family::v6 ? 1 : 0);
    if (at >= spills.size() || (spills[at].shed_below_km <= 0 && !note)) return chosen;
    const health::Spill& spill = spills[at];
    const Site& from = c.sites[views[chosen].site];
    if (!from.located) return chosen;
    const int next = nearest_of(c, views, pick, n, client.location, chosen);
    double extra = -1;
    if (next >= 0)
        extra = c.sites[views[next].site].location.unit.distance_km(client.location) -
                from.location.unit.distance_km(client.location);
    const bool shed = next >= 0 && extra < spill.shed_below_km;
    if (note) {
        note->from = views[chosen].site;
        note->to = next >= 0 ? views[next].site : kNoSite;
        note->spill = spill;
        note->extra_km = extra;
        note->shed = shed;
    }
    return shed ? next : chosen;
}

/// Appends the addresses of `site` for the family: the up ones, or all of
/// them when `all_addresses`.
void add_addresses(const Catalog& c, std::uint32_t site, Family f, const health::Snapshot& h,
                   bool all_addresses, const std::uint8_t* suppressed, Choice& out) noexcept {
    const Range r = c.sites[site].family(f);
    const bool forced_up = override_of(h, site) == Override::up;
    for (std::uint32_t i = 0; i < r.count && out.count < kMaxAnswers; ++i) {
        const std::uint32_t a = r.first + i;
        if (all_addresses || forced_up || (address_up(h, a) && !(suppressed && suppressed[a])))
            out.address[out.count++] = a;
    }
}

/// max_answers with stickiness: the addresses the client's key ranks
/// highest, in that order. An address that goes away moves only the
/// clients that had it.
void top_by_client(const Catalog& c, Choice& out, unsigned max_answers, std::uint64_t key) noexcept {
    std::uint64_t ranks[kMaxAnswers];
    for (unsigned i = 0; i < out.count; ++i) ranks[i] = rank(key, c.address_key[out.address[i]]);
    for (unsigned k = 0; k < max_answers; ++k) {
        unsigned best = k;
        for (unsigned i = k + 1; i < out.count; ++i)
            if (ranks[i] > ranks[best]) best = i;
        std::swap(ranks[k], ranks[best]);
        std::swap(out.address[k], out.address[best]);
    }
    out.count = max_answers;
    out.hashed_addresses = true;
}

/// max_answers: a window of the chosen addresses, starting at a rotating
/// offset so that load spreads over all of them; with stickiness, the
/// client's own.
/// Called only when there are more than `max_answers` (> 0).
void cap(const Catalog& c, Choice& out, unsigned max_answers, const Client& client, Random& random) noexcept {
    if (client.keyed) {
        top_by_client(c, out, max_answers, client.key);
        return;
    }
    std::uint32_t tmp[kMaxAnswers];
    const unsigned start = random.rotation++ % out.count;
    for (unsigned i = 0; i < max_answers; ++i) tmp[i] = out.address[(start + i) % out.count];
    for (unsigned i = 0; i < max_answers; ++i) out.address[i] = tmp[i];
    out.count = max_answers;
}

/// Whether any of the sites can answer the family: a CNAME site, or one
/// with an address of it.
bool serves_family(const SiteView* views, unsigned n) noexcept {
    for (unsigned i = 0; i < n; ++i)
        if (views[i].is_cname || views[i].total > 0) return true;
    return false;
}

}  // namespace

void fill_site_states(const Catalog& c, health::Snapshot& h) {
    h.sites.clear();
    h.sites.reserve(c.sites.size() * 2);
    for (std::uint32_t s = 0; s < c.sites.size(); ++s) {
        h.sites.push_back(compute_state(c, s, Family::v4, h));
        h.sites.push_back(compute_state(c, s, Family::v6, h));
    }
}

health::SiteState site_state(const Catalog& c, std::uint32_t site, Family f, const health::Snapshot& h,
                             const std::uint8_t* suppressed) noexcept {
    return compute_state(c, site, f, h, suppressed);
}

SiteHealth site_health(const Catalog& c, std::uint32_t site, Family f, const health::Snapshot& h) noexcept {
    const SiteView v = view_of(c, site, f, h);
    return {v.up, v.total, v.usable || v.drained};
}

void decide(const Catalog& c, const Service& svc, Family f, const Client& client, const health::Snapshot& h,
            Random& random, Trace* trace, Choice& out) noexcept {
    out.kind = Choice::Kind::nodata;
    out.site = kNoSite;
    out.fallback = false;
    out.hashed_site = false;
    out.hashed_addresses = false;
    out.shed = false;
    out.count = 0;
    if (trace) trace->spill = Trace::SpillNote{};
    SiteView views[kMaxTraceSites];
    const unsigned n =
        svc.sites.size() < kMaxTraceSites ? static_cast<unsigned>(svc.sites.size()) : kMaxTraceSites;
    // A service that stays put (SPEC 9) has its sites' states worked out
    // for it, hold-down and damping applied; the others share theirs.
    const health::ServiceView* sv = service_view(svc, h);
    const std::uint8_t* suppressed = sv && !sv->suppressed.empty() ? sv->suppressed.data() : nullptr;
    int usable[kMaxTraceSites], held[kMaxTraceSites], drained[kMaxTraceSites];
    unsigned n_usable = 0, n_held = 0, n_drained = 0;
    for (unsigned i = 0; i < n; ++i) {
        if (sv) {
            static_cast<SiteState&>(views[i]) = sv->sites[std::size_t{i} * 2 + (f == Family::v6 ? 1 : 0)];
            views[i].site = svc.sites[i];
        } else {
            views[i] = view_of(c, svc.sites[i], f, h);
        }
        // A CNAME site serves both families; an address site only the
        // families it has addresses in.
        if (!views[i].is_cname && views[i].total == 0) continue;
        if (views[i].usable) usable[n_usable++] = static_cast<int>(i);
        if (views[i].drained) drained[n_drained++] = static_cast<int>(i);
        if (sv && views[i].held) held[n_held++] = static_cast<int>(i);
    }

    // Sites held down after coming back serve only when no other site is
    // up; drained ones only when nothing else that is up can.
    const int* pool = n_usable ? usable : n_held ? held : drained;
    const unsigned pool_n = n_usable ? n_usable : n_held ? n_held : n_drained;
    if (pool_n > 0) {
        if (svc.policy == Policy::all) {
            for (unsigned i = 0; i < pool_n; ++i)
                if (!views[pool[i]].is_cname)
                    add_addresses(c, views[pool[i]].site, f, h, false, suppressed, out);
            if (out.count > 0) {
                out.kind = Choice::Kind::addresses;
            } else {
                out.kind = Choice::Kind::cname;  // only CNAME sites are up: the first of them
                out.site = views[pool[0]].site;
            }
        } else {
            // Weighted draws among the sites with a weight first; weight-0
            // sites serve only when none of those is up.
            int weighted[kMaxTraceSites];
            unsigned wn = 0;
            if (svc.policy == Policy::weighted)
                for (unsigned i = 0; i < pool_n; ++i)
                    if (c.sites[views[pool[i]].site].weight > 0) weighted[wn++] = pool[i];
            int chosen;
            if (wn > 1 && client.keyed) {
                chosen = pick_by_client(c, views, weighted, wn, client.key);
                out.hashed_site = true;
            } else {
                chosen = wn ? pick_site(c, svc, views, weighted, wn, client, random)
                            : pick_site(c, svc, views, pool, pool_n, client, random);
            }
            // Spill-over: only among the sites up and not held back, for a
            // client whose location decides.
            if (svc.spill_at > 0 && pool == usable && client.located && svc.policy == Policy::nearest) {
                const int spilled = spill_over(c, svc, views, pool, pool_n, chosen, f, client, h,
                                               trace ? &trace->spill : nullptr);
                out.shed = spilled != chosen;
                chosen = spilled;
            }
            out.site = views[chosen].site;
            if (views[chosen].is_cname) {
                out.kind = Choice::Kind::cname;
            } else {
                out.kind = Choice::Kind::addresses;
                add_addresses(c, out.site, f, h, false, suppressed, out);
            }
        }
    } else if (!serves_family(views, n)) {
        // No site has an address of the family (AAAA of an IPv4-only
        // service): NODATA, and not a fallback, which means an outage.
    } else {
        // No site up: the fallback decides. Sites forced down never serve.
        out.fallback = true;
        switch (svc.fallback) {
            case Fallback::none:
                break;
            case Fallback::all: {
                int first_cname = -1;
                for (unsigned i = 0; i < n; ++i) {
                    if (views[i].ov == Override::down) continue;
                    if (views[i].is_cname) {
                        if (first_cname < 0) first_cname = static_cast<int>(i);
                        continue;
                    }
                    add_addresses(c, views[i].site, f, h, true, nullptr, out);
                }
                if (out.count > 0) {
                    out.kind = Choice::Kind::addresses;
                } else if (first_cname >= 0) {
                    out.kind = Choice::Kind::cname;
                    out.site = views[first_cname].site;
                }
                break;
            }
            case Fallback::site: {
                const std::uint32_t s = svc.fallback_site;
                if (s < c.sites.size() && override_of(h, s) != Override::down) {
                    if (!c.sites[s].cname.empty()) {
                        out.kind = Choice::Kind::cname;
                        out.site = s;
                    } else {
                        add_addresses(c, s, f, h, true, nullptr, out);
                        if (out.count > 0) {
                            out.kind = Choice::Kind::addresses;
                            out.site = s;
                        }
                    }
                }
                break;
            }
        }
    }
    if (out.kind == Choice::Kind::addresses && svc.max_answers != 0 && out.count > svc.max_answers)
        cap(c, out, svc.max_answers, client, random);

    if (trace) {
        trace->count = n;
        for (unsigned i = 0; i < n; ++i) {
            const SiteView& v = views[i];
            auto& e = trace->sites[i];
            e.site = v.site;
            e.override_state = v.ov;
            e.up = v.up;
            e.total = v.total;
            e.distance_km = distance_km(c.sites[v.site], client);
            e.stay = sv ? sv->stays[std::size_t{i} * 2 + (f == Family::v6 ? 1 : 0)] : health::Stay{};
            if (!v.is_cname && v.total == 0)
                e.verdict = Trace::Verdict::no_family;
            else if (v.ov == Override::down)
                e.verdict = Trace::Verdict::forced_down;
            else if (v.drained && pool != drained)
                e.verdict = Trace::Verdict::drained;
            else if (v.held && pool != held)
                e.verdict = Trace::Verdict::held_down;
            else if (!v.usable && !v.drained && !v.held)
                e.verdict = e.stay.reason == health::Stay::Reason::damped ? Trace::Verdict::damped
                                                                          : Trace::Verdict::down;
            else
                e.verdict = Trace::Verdict::standby;
            bool in_answer = out.site == v.site && out.kind != Choice::Kind::nodata;
            if (out.kind == Choice::Kind::addresses && out.site == kNoSite)
                for (unsigned k = 0; k < out.count; ++k)
                    in_answer |= c.address_site[out.address[k]] == v.site;
            if (in_answer) e.verdict = Trace::Verdict::chosen;
        }
    }
}

void fill_spills(const Catalog& c, const std::vector<double>& loads,
                 const std::vector<WeightedPoint>& reference, health::Snapshot& h) {
    h.spills.clear();
    for (const Service& svc : c.services) {
        if (svc.spill_at <= 0 || svc.policy != Policy::nearest) continue;
        if (h.spills.size() < c.services.size()) h.spills.resize(c.services.size());
        const std::size_t n = std::min<std::size_t>(svc.sites.size(), kMaxTraceSites);
        auto& spills = h.spills[svc.index];
        spills.assign(n * 2, health::Spill{});
        const health::ServiceView* sv = service_view(svc, h);
        for (const Family f : {Family::v4, Family::v6}) {
            const std::size_t fi = f == Family::v6 ? 1 : 0;
            // The sites decide() chooses among (up, not drained or held),
            // located: as decide() finds them.
            std::uint32_t usable[kMaxTraceSites];
            std::size_t positions[kMaxTraceSites];
            unsigned n_usable = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const SiteState st =
                    sv ? sv->sites[i * 2 + fi] : static_cast<SiteState>(view_of(c, svc.sites[i], f, h));
                if ((!st.is_cname && st.total == 0) || !st.usable || !c.sites[svc.sites[i]].located) continue;
                positions[n_usable] = i;
                usable[n_usable++] = svc.sites[i];
            }
            for (unsigned u = 0; u < n_usable; ++u) {
                const std::uint32_t site = usable[u];
                health::Spill& out = spills[positions[u] * 2 + fi];
                out.load = site < loads.size() ? loads[site] : -1.0f;
                if (out.load <= svc.spill_at) continue;
                const double shed = std::min(1.0, (out.load - svc.spill_at) / (1.0 - svc.spill_at));
                out.keep = 1.0 - shed;
                if (n_usable < 2) continue;  // nowhere to shed to
                if (shed >= 1.0) {
                    out.shed_below_km = std::numeric_limits<double>::infinity();
                    continue;
                }
                // The reference clients nearest to this site, by the extra
                // distance to their next-nearest usable site.
                std::vector<std::pair<double, double>> extra;  // km, weight
                double total = 0;
                for (const WeightedPoint& p : reference) {
                    double best = -2, second = -2;
                    std::uint32_t best_site = kNoSite, second_site = kNoSite;
                    for (unsigned k = 0; k < n_usable; ++k) {
                        const double dot = c.sites[usable[k]].location.unit.dot(p.at.unit);
                        if (dot > best) {
                            second = best;
                            second_site = best_site;
                            best = dot;
                            best_site = usable[k];
                        } else if (dot > second) {
                            second = dot;
                            second_site = usable[k];
                        }
                    }
                    if (best_site != site) continue;
                    // As decide() works it out for a client there.
                    const double km = c.sites[second_site].location.unit.distance_km(p.at.unit) -
                                      c.sites[site].location.unit.distance_km(p.at.unit);
                    extra.emplace_back(km, p.weight);
                    total += p.weight;
                }
                if (extra.empty() || total <= 0) continue;
                std::sort(extra.begin(), extra.end());
                // The cut: halfway between the last client shed and the
                // first kept, once the shed weight reaches the share.
                double taken = 0;
                std::size_t k = 0;
                while (k < extra.size() && taken < shed * total) taken += extra[k++].second;
                if (k == 0) continue;
                out.shed_below_km = k < extra.size() ? (extra[k - 1].first + extra[k].first) / 2
                                                     : std::numeric_limits<double>::infinity();
                if (out.shed_below_km <= 0) out.shed_below_km = std::numeric_limits<double>::min();
            }
        }
    }
}

}  // namespace dnsd::steer
