// Demand and what-if on the state thread (SPEC 10): the workers' demand
// tables harvested once a second into one decayed summary, GET /demand,
// GET /simulate, and the guards of overrides.

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "dnsd/core/name.hpp"
#include "dnsd/query/simulate.hpp"
#include "dnsd/server/state.hpp"
#include "dnsd/steer/decide.hpp"

namespace dnsd::server {

namespace json = boost::json;

namespace {

double seconds_now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double rounded(double x) {
    return std::round(x * 1000) / 1000;
}

json::object place_json(const query::Simulation::Place& p) {
    json::object o{{"prefix", p.prefix.str()}, {"rate", rounded(p.rate)}};
    if (p.located)
        o["location"] = json::object{{"lat", p.lat}, {"lon", p.lon}};
    else
        o["location"] = nullptr;
    return o;
}

}  // namespace

void StateThread::demand_tick() {
    harvest_demand();
    demand_timer_.expires_after(std::chrono::seconds(1));
    demand_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) demand_tick();
    });
}

void StateThread::harvest_demand() {
    demand_.advance(seconds_now());
    for (const auto& w : workers_)
        if (w->demand().harvest(epoch_)) demand_.add(epoch_);
    std::vector<std::uint32_t> keep;
    const auto v = view();
    if (v->catalog_ptr())
        for (const auto& s : v->catalog().services) keep.push_back(s.demand_key);
    demand_.settle(keep);
}

query::Simulation StateThread::simulate(
    const std::vector<std::pair<std::uint32_t, health::Override>>& changes, const std::string& service,
    const std::vector<std::pair<std::uint32_t, double>>& loads) const {
    const auto serving = serving_.load();
    const query::View& v = *serving->view;
    health::Snapshot now = serving->health ? *serving->health : health::Snapshot{};
    // Hold-down and damping stay out of both (simulate.hpp).
    now.services.clear();
    health::Snapshot after = now;
    std::vector<double> capacity;
    std::vector<unsigned> min_sites_up;
    if (v.catalog_ptr()) {
        const steer::Catalog& cat = v.catalog();
        if (now.catalog_id != cat.id) {
            // Not of this catalog (a moment during a reload): all up.
            now = health::Snapshot{};
            now.catalog_id = cat.id;
            after = now;
        }
        if (after.overrides.size() < cat.sites.size()) after.overrides.resize(cat.sites.size());
        for (const auto& [site, o] : changes) after.overrides[site] = o;
        if (!now.up.empty() || !now.sites.empty()) {
            steer::fill_site_states(cat, now);
            steer::fill_site_states(cat, after);
        } else {
            after.sites.clear();
        }
        // Spill-over: the loads now, and as asked after (SPEC 10).
        if (std::any_of(cat.services.begin(), cat.services.end(),
                        [](const steer::Service& s) { return s.spill_at > 0; })) {
            std::vector<double> now_loads = &board_->catalog() == &cat ? site_loads() : std::vector<double>{};
            now_loads.resize(cat.sites.size(), -1.0);
            std::vector<double> after_loads = now_loads;
            for (const auto& [site, load] : loads) after_loads[site] = load;
            if (now.sites.empty()) steer::fill_site_states(cat, now);
            if (after.sites.empty()) steer::fill_site_states(cat, after);
            steer::fill_spills(cat, now_loads, v.reference(), now);
            steer::fill_spills(cat, after_loads, v.reference(), after);
        }
        for (const auto& s : cat.sites) {
            const auto it = std::find_if(cfg_.sites.begin(), cfg_.sites.end(),
                                         [&](const config::Site& c) { return c.name == s.name; });
            capacity.push_back(it == cfg_.sites.end() ? 0 : static_cast<double>(it->capacity));
        }
        for (const auto& s : cat.services) {
            const auto it = std::find_if(cfg_.services.begin(), cfg_.services.end(),
                                         [&](const config::Service& c) { return c.name == s.name; });
            min_sites_up.push_back(it == cfg_.services.end() ? 0 : it->min_sites_up);
        }
    }
    return query::simulate(v, now, after, demand_, capacity, min_sites_up, service);
}

std::string StateThread::demand_json() {
    harvest_demand();
    json::object out{{"counted_seconds", rounded(demand_.counted())},
                     {"window_seconds", steer::Demand::kTau}};
    json::array services;
    const auto v = view();
    if (v->catalog_ptr()) {
        const steer::Catalog& cat = v->catalog();
        for (const auto& s : cat.services) {
            json::object o{{"service", name_to_text(s.name)}};
            const steer::Demand::Service* d = demand_.service(s.demand_key);
            if (!d || d->total <= 0) {
                o["empty"] = true;
                o["note"] = "no demand counted yet (just started, or no steered queries)";
                o["rate"] = 0;
                o["top"] = json::array{};
                services.push_back(std::move(o));
                continue;
            }
            o["empty"] = false;
            o["rate"] = rounded(demand_.rate(d->total));
            o["queries"] = rounded(d->total);
            o["error"] = rounded(d->error);
            o["prefixes_kept"] = d->top.size();
            json::array top;
            for (std::size_t i = 0; i < d->top.size() && i < kDemandTop; ++i) {
                const auto& e = d->top[i];
                const Prefix p = steer::demand_prefix(e.prefix);
                json::object t{{"prefix", p.str()},
                               {"queries", rounded(e.count)},
                               {"rate", rounded(demand_.rate(e.count))}};
                t["location"] = nullptr;
                if (v->locator()) {
                    const geo::Located l = v->locator()->locate(p.address);
                    if (l.source != geo::Located::Source::unknown)
                        t["location"] = json::object{{"lat", l.location.lat}, {"lon", l.location.lon}};
                }
                top.push_back(std::move(t));
            }
            o["top"] = std::move(top);
            services.push_back(std::move(o));
        }
    }
    out["services"] = std::move(services);
    return json::serialize(out) + "\n";
}

std::string StateThread::simulation_json(const query::Simulation& sim) {
    json::object out{{"counted_seconds", rounded(sim.counted)}};
    json::array services;
    for (const auto& s : sim.services) {
        json::object o{{"service", s.name}, {"empty", s.empty}};
        if (s.empty) o["note"] = "no demand counted yet (just started, or no steered queries)";
        o["rate"] = rounded(s.rate);
        o["error"] = rounded(s.error);
        o["min_sites_up"] = s.min_sites_up;
        o["sites_up_now"] = s.up_now;
        o["sites_up_after"] = s.up_after;
        json::array sites;
        for (const auto& site : s.sites) {
            json::object t{{"site", site.name},
                           {"up_now", site.up_now},
                           {"up_after", site.up_after},
                           {"now", rounded(site.now)},
                           {"after", rounded(site.after)},
                           {"share_now", s.rate > 0 ? rounded(site.now / s.rate) : 0.0},
                           {"share_after", s.rate > 0 ? rounded(site.after / s.rate) : 0.0}};
            if (site.capacity > 0) t["capacity"] = site.capacity;
            sites.push_back(std::move(t));
        }
        o["sites"] = std::move(sites);
        o["fallback"] = json::object{{"now", rounded(s.fallback_now)}, {"after", rounded(s.fallback_after)}};
        o["no_answer"] = json::object{{"now", rounded(s.none_now)}, {"after", rounded(s.none_after)}};
        json::array moves;
        for (const auto& m : s.moves) {
            json::array top;
            for (const auto& p : m.top) top.push_back(place_json(p));
            moves.push_back(json::object{
                {"from", m.from}, {"to", m.to}, {"rate", rounded(m.rate)}, {"top", std::move(top)}});
        }
        o["moves"] = std::move(moves);
        services.push_back(std::move(o));
    }
    out["services"] = std::move(services);
    json::array sites;
    for (const auto& site : sim.sites) {
        json::object t{{"site", site.name}, {"now", rounded(site.now)}, {"after", rounded(site.after)}};
        if (site.capacity > 0) {
            t["capacity"] = site.capacity;
            t["over_capacity"] = site.over();
        }
        sites.push_back(std::move(t));
    }
    out["sites"] = std::move(sites);
    json::array breaches;
    for (const auto& b : sim.breaches) breaches.push_back(json::string(b));
    out["breaches"] = std::move(breaches);
    return json::serialize(out) + "\n";
}

int StateThread::simulate_request(const std::vector<std::pair<std::string, std::string>>& params,
                                  std::string& body) {
    auto fail = [&](const std::string& why) {
        body = json::serialize(json::object{{"error", why}}) + "\n";
        return 400;
    };
    const auto v = view();
    std::vector<std::pair<std::uint32_t, health::Override>> changes;
    std::vector<std::pair<std::uint32_t, double>> loads;
    std::string service;
    std::vector<std::string> unknown_sites;
    const auto& sites = v->catalog_ptr() ? v->catalog().sites : std::vector<steer::Site>{};
    auto site_index = [&](const std::string& name) {
        std::uint32_t s = 0;
        while (s < sites.size() && sites[s].name != name) ++s;
        return s;
    };
    for (const auto& [key, value] : params) {
        health::Override o = health::Override::none;
        if (key == "down")
            o = health::Override::down;
        else if (key == "drain")
            o = health::Override::drain;
        else if (key == "up")
            o = health::Override::up;
        else if (key == "service") {
            service = value.empty() || value.back() == '.' ? value : value + ".";
            continue;
        } else if (key == "load") {
            // SITE=LOAD, several separated by commas: spill-over's preview.
            std::stringstream list(value);
            for (std::string item; std::getline(list, item, ',');) {
                const auto eq = item.rfind('=');
                double load = -1;
                std::string error;
                if (eq == std::string::npos || !parse_load(item.substr(eq + 1), load, error))
                    return fail("load=" + item + ": expected SITE=LOAD, a load from 0 to 1");
                const std::string name = item.substr(0, eq);
                const std::uint32_t s = site_index(name);
                if (s == sites.size())
                    unknown_sites.push_back(name);
                else
                    loads.emplace_back(s, load);
            }
            continue;
        } else
            return fail("unknown parameter " + key + " (down=, drain=, up=, load=, service=)");
        std::stringstream list(value);
        for (std::string site; std::getline(list, site, ',');) {
            const std::uint32_t s = site_index(site);
            if (s == sites.size())
                unknown_sites.push_back(site);
            else
                changes.emplace_back(s, o);
        }
    }
    if (!unknown_sites.empty()) {
        std::string names;
        for (const auto& n : unknown_sites) names += (names.empty() ? "" : ", ") + n;
        return fail("unknown site" + std::string(unknown_sites.size() > 1 ? "s " : " ") + names);
    }
    if (!service.empty()) {
        bool found = false;
        if (v->catalog_ptr())
            for (const auto& s : v->catalog().services) found |= name_to_text(s.name) == service;
        if (!found) return fail("unknown service " + service);
    }
    harvest_demand();
    body = simulation_json(simulate(changes, service, loads));
    return 200;
}

query::Simulation StateThread::guard(std::uint32_t site, health::Override o) {
    // Only what takes a site out is guarded; "auto" lets the probes decide
    // again, which a guard cannot foresee.
    if (o != health::Override::down && o != health::Override::drain) return {};
    harvest_demand();
    return simulate({{site, o}}, "");
}

}  // namespace dnsd::server
