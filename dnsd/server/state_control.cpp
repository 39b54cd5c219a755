// The control endpoint's side on the state thread: it is started with the
// hooks it calls, which take an Observation, set overrides, explain and
// reload.

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/core/name.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/query/explain.hpp"
#include "dnsd/server/control.hpp"
#include "dnsd/server/state.hpp"

namespace dnsd::server {

void StateThread::update_control() {
    if (!cfg_.control.enabled) {
        control_.reset();
        return;
    }
    const ControlSettings settings{cfg_.control, cfg_.cluster.enabled ? cfg_.cluster.token : std::string(),
                                   cfg_.server.explain_allow};
    if (control_) {
        control_->configure(settings);
        return;
    }
    ControlHooks hooks;
    hooks.status = [this] { return status_json(observe()); };
    hooks.page = [this] { return status_page(observe()); };
    hooks.metrics = [this] { return metrics_text(observe()); };
    hooks.set_override = [this](const std::string& site, const std::string& state, std::int64_t until,
                                bool force,
                                std::string& body) { return set_override(site, state, until, force, body); };
    hooks.demand = [this] { return demand_json(); };
    hooks.simulate = [this](const std::vector<std::pair<std::string, std::string>>& params,
                            std::string& body) { return simulate_request(params, body); };
    hooks.resume = [this](const std::string& service, const std::string& site, std::string& body) {
        return resume(service, site, body);
    };
    hooks.explain = [this](const std::string& name, const std::string& client, const std::string& type,
                           std::string& body) { return explain(name, client, type, body); };
    hooks.reload = [this](std::function<void(bool, std::string)> done) { reload(std::move(done)); };
    hooks.verdicts = [this]() -> std::optional<std::string> {
        if (!cfg_.cluster.enabled) return std::nullopt;
        return verdicts_json();
    };
    auto endpoint = std::make_unique<ControlEndpoint>(io_, std::move(hooks));
    endpoint->configure(settings);
    control_ = std::move(endpoint);
}

Observation StateThread::observe() const {
    Observation o;
    const auto serving = serving_.load();
    o.view = serving->view;
    o.catalog = board_->catalog_ptr();
    o.health = serving->health;
    o.override_until.resize(o.catalog->sites.size());
    for (std::uint32_t s = 0; s < o.override_until.size(); ++s)
        o.override_until[s] = board_->override_until(s);
    o.latencies = board_->latencies();
    o.probe_lag = board_->lags();
    for (std::uint32_t a = 0; a < board_->address_count(); ++a)
        if (const auto* probe = board_->probe(a))
            o.probe_intervals[o.catalog->sites[o.catalog->address_site[a]].name] = probe->interval;
    if (loads_)
        for (const auto& r : loads_->readings()) {
            const auto age = r.fetched == std::chrono::steady_clock::time_point{}
                                 ? -1
                                 : std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - r.fetched)
                                       .count();
            o.loads[r.site] = {r.url, r.tried, r.ok, r.value, r.error, age};
        }
    if (peers_) {
        o.cluster = true;
        o.quorum = board_->quorum();
        o.vantage_points = board_->vantage_points();
        o.degraded = board_->degraded();
        for (const auto& p : peers_->states())
            o.peers.push_back({p.url, p.reachable, p.reachable && peers_->fresh(p), p.instance, p.error});
    }
    for (const auto& w : workers_) {
        const Stats& st = w->stats();
        o.rate_limited[0] += st.limited(false);
        o.rate_limited[1] += st.limited(true);
        o.tcp_refused += st.tcp_refused();
        const auto sigs = w->signatures().stats();
        o.signatures[0] += sigs.hits;
        o.signatures[1] += sigs.made;
        o.signatures[2] += sigs.failures;
    }
    o.counts = retired_;
    if (previous_view_) fold_counts(*previous_view_, o.counts);
    fold_counts(*o.view, o.counts);
    for (int i = 0; i < 3; ++i) o.alerts[i] = alerts_retired_[i];
    if (alerter_) {
        o.alerts[0] += alerter_->delivered();
        o.alerts[1] += alerter_->failed();
        o.alerts[2] += alerter_->dropped();
    }
    o.reloads[0] = reloads_ok_;
    o.reloads[1] = reloads_failed_;
    for (const auto& svc : simulate({}, "").services) {
        Observation::Demand d{svc.name, svc.rate, {}};
        for (const auto& site : svc.sites) d.sites.emplace_back(site.name, site.now);
        o.demand.push_back(std::move(d));
    }
    return o;
}

int StateThread::set_override(const std::string& site, const std::string& wanted, std::int64_t until,
                              bool force, std::string& body) {
    namespace json = boost::json;
    const steer::Catalog& cat = board_->catalog();
    std::uint32_t s = 0;
    while (s < cat.sites.size() && cat.sites[s].name != site) ++s;
    if (s == cat.sites.size()) {
        body = json::serialize(json::object{{"error", "no site named " + site}}) + "\n";
        return 404;
    }
    const auto parsed = health::parse_override(wanted);
    if (!parsed) {
        body = json::serialize(json::object{{"error", "state must be up, down, drain or auto"}}) + "\n";
        return 400;
    }
    const health::Override o = *parsed;
    if (until && until <= health::unix_now()) {
        body = json::serialize(json::object{{"error", "until is in the past"}}) + "\n";
        return 400;
    }
    // The guards (SPEC 10): what this override would break, by the same
    // simulation that GET /simulate shows.
    const query::Simulation sim = o == board_->override_of(s) ? query::Simulation{} : guard(s, o);
    const std::vector<std::string>& breaches = sim.breaches;
    std::string why;
    for (const auto& b : breaches) why += (why.empty() ? "" : "; ") + b;
    if (!breaches.empty() && !force) {
        body = json::serialize(json::object{{"error", "refused: " + why + " (force to override)"},
                                            {"breaches", json::value_from(breaches)},
                                            {"simulation", json::parse(simulation_json(sim))}}) +
               "\n";
        spdlog::info("control: override {} of site {} refused: {}", health::to_string(o), site, why);
        return 409;
    }
    // Published (and logged, alerted, saved) before the reply: once the
    // operator reads 200, no worker answers with the old state.
    if (board_->set_override(s, o, until)) health_changed();
    if (!breaches.empty()) {
        spdlog::warn("control: override {} of site {} FORCED past the guards: {}", health::to_string(o), site,
                     why);
        raise({"override", site, "", health::to_string(o), "", "forced past the guards: " + why});
    }
    json::object reply{{"site", site}, {"override", health::to_string(o)}};
    if (!breaches.empty()) reply["forced"] = json::value_from(breaches);
    if (until && o != health::Override::none) reply["until"] = until;
    body = json::serialize(reply) + "\n";
    return 200;
}

int StateThread::resume(const std::string& service, const std::string& site, std::string& body) {
    namespace json = boost::json;
    bool held = false;
    const int status = staying_.resume(service, site, held);
    if (status == 404) {
        body = json::serialize(
                   json::object{{"error", site.empty() ? "no service named " + service
                                                       : "no site " + site + " in service " + service}}) +
               "\n";
        return status;
    }
    if (status == 409) {
        body = json::serialize(json::object{{"error", "service " + service + " has no failback to resume"}}) +
               "\n";
        return status;
    }
    if (held) {
        spdlog::info("health: service {}: {} resumed by the operator", service,
                     site.empty() ? "every held site" : "site " + site);
        alert::Event e{"hold",
                       site,
                       "",
                       "released",
                       "held",
                       "service " + service + ": " + (site.empty() ? "held sites" : "site " + site) +
                           " resumed by the operator"};
        e.service = service;
        raise(std::move(e));
        publish_health();  // before the reply: once read, the site is answered
        save_state();
    }
    json::object reply{{"service", service}, {"resumed", held}};
    if (!site.empty()) reply["site"] = site;
    body = json::serialize(reply) + "\n";
    return 200;
}

int StateThread::explain(const std::string& name, const std::string& client, const std::string& type,
                         std::string& body) const {
    namespace json = boost::json;
    auto fail = [&](int status, const std::string& why) {
        body = json::serialize(json::object{{"error", why}}) + "\n";
        return status;
    };
    const auto wire = name_from_text(name.empty() || name.back() == '.' ? name : name + ".");
    if (name.empty() || !wire) return fail(400, "name= must be a domain name");
    std::optional<Address> where;
    if (!client.empty() && !(where = Address::parse(client)))
        return fail(400, "client= must be an IP address");
    const auto serving = serving_.load();
    const auto& view = serving->view;
    const auto& snap = serving->health;
    const std::int32_t service = query::service_named(*view, *wire);
    if (service < 0) return fail(404, name + " is not a service name here");
    // As the CH TXT query of a client at `client` would be explained: its
    // address as ECS with a full source prefix, asked from here.
    query::Subnet subnet;
    if (where && view->ecs()) {
        subnet.present = true;
        subnet.family = where->family;
        subnet.source = static_cast<std::uint8_t>(where->bits());
        subnet.address = where->bytes.data();
    }
    const query::Client asker{
        *Address::parse("127.0.0.1"), query::Transport::tcp, snap.get(), nullptr, nullptr, true};
    const query::Explanation e = query::explain(*view, static_cast<std::size_t>(service), subnet, asker);
    // The lines about the other family are left out when one is asked.
    struct Lines : query::LineSink {
        json::array lines;
        query::LineScope skip = query::LineScope::both;
        void line(query::LineScope scope, std::string_view text) noexcept override {
            if (scope == skip) return;
            try {
                lines.push_back(json::string(text));
            } catch (...) {
                // Out of memory: a shorter explanation.
            }
        }
    } out;
    if (type == "A") out.skip = query::LineScope::v6;
    if (type == "AAAA") out.skip = query::LineScope::v4;
    query::render(e, out);
    body = json::serialize(json::object{{"name", name}, {"lines", std::move(out.lines)}}) + "\n";
    return 200;
}

}  // namespace dnsd::server
