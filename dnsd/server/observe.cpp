// What the control endpoint shows: /status, the status page and /metrics,
// rendered from an Observation.

#include <boost/json.hpp>
#include <cmath>

#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/name.hpp"
#include "dnsd/core/version.hpp"
#include "dnsd/server/observe.hpp"
#include "dnsd/steer/decide.hpp"
#include "dnsd/wire/message.hpp"

namespace dnsd::server {

namespace {

/// One site of a service held back (SPEC 9): held down or damped.
struct Held {
    std::uint32_t site;
    Family family;
    health::Stay stay;
    long long left_s;  ///< until it ends by itself (0: when resumed, or unknown)
};

/// The sites `svc` holds back now, from what the state thread published.
std::vector<Held> held_sites(const steer::Service& svc, const health::Snapshot& h) {
    std::vector<Held> out;
    const auto* sv = steer::service_view(svc, h);
    if (!sv) return out;
    for (std::size_t slot = 0; slot < sv->stays.size(); ++slot) {
        const auto& stay = sv->stays[slot];
        if (stay.reason == health::Stay::Reason::none) continue;
        const long long left =
            stay.until_ms > h.published_ms ? (stay.until_ms - h.published_ms + 999) / 1000 : 0;
        out.push_back({svc.sites[slot / 2], slot % 2 ? Family::v6 : Family::v4, stay, left});
    }
    return out;
}

const char* reason_text(health::Stay::Reason r) {
    switch (r) {
        case health::Stay::Reason::held:
            return "held down";
        case health::Stay::Reason::held_manual:
            return "held down until resumed";
        case health::Stay::Reason::damped:
            return "damped";
        case health::Stay::Reason::none:
            break;
    }
    return "";
}

/// A gauge's value as the exposition format writes it.
std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", v);
    return text;
}

struct Spilling {
    std::uint32_t site;
    Family family;
    health::Spill spill;
};

/// The sites of `svc` above its spill_at now, per family.
std::vector<Spilling> spills_of(const steer::Service& svc, const health::Snapshot& h) {
    std::vector<Spilling> out;
    if (svc.index >= h.spills.size()) return out;
    const auto& spills = h.spills[svc.index];
    for (std::size_t i = 0; i < svc.sites.size() && i * 2 + 1 < spills.size(); ++i)
        for (Family f : {Family::v4, Family::v6}) {
            const auto& sp = spills[i * 2 + (f == Family::v6 ? 1 : 0)];
            if (sp.load > svc.spill_at) out.push_back({svc.sites[i], f, sp});
        }
    return out;
}

/// Whether `svc` answers `f` from its fallback now (no site up).
bool in_fallback(const steer::Catalog& cat, const steer::Service& svc, Family f, const health::Snapshot& h) {
    steer::Random random;
    return steer::decide(cat, svc, f, steer::Client{}, h, random).fallback;
}

}  // namespace

std::string status_json(const Observation& obs) {
    namespace json = boost::json;
    const auto& snap = obs.health;  // what the workers answer from
    const steer::Catalog& cat = *obs.catalog;
    json::array sites;
    for (std::uint32_t s = 0; s < cat.sites.size(); ++s) {
        const auto& site = cat.sites[s];
        json::object o{{"name", site.name}, {"override", health::to_string(snap->overrides[s])}};
        if (obs.override_until[s]) o["override_until"] = obs.override_until[s];
        if (!site.cname.empty()) {
            o["cname"] = name_to_text(site.cname);
        } else {
            for (Family f : {Family::v4, Family::v6}) {
                const auto sh = steer::site_health(cat, s, f, *snap);
                o[f == Family::v4 ? "ipv4" : "ipv6"] =
                    json::object{{"state", sh.total ? (sh.is_up ? "up" : "down") : "none"},
                                 {"up", sh.up},
                                 {"total", sh.total}};
            }
        }
        if (site.located)
            o["location"] = json::object{{"lat", site.location.lat}, {"lon", site.location.lon}};
        if (const auto it = obs.loads.find(site.name); it != obs.loads.end()) {
            const auto& l = it->second;
            // An unreadable load counts as not overloaded (SPEC 10): shown
            // as such, with the last good reading beside it.
            json::object lo{{"url", l.url},
                            {"state", !l.tried ? "not read yet"
                                      : l.ok   ? "ok"
                                               : "unreadable"}};
            if (l.ok) lo["value"] = l.value;
            if (!l.ok && l.tried) lo["error"] = l.error;
            if (l.age_ms >= 0) lo["age_ms"] = l.age_ms;
            o["load"] = std::move(lo);
        }
        json::array addresses;
        for (std::uint32_t a = 0; a < cat.addresses.size(); ++a) {
            if (cat.address_site[a] != s) continue;
            const auto& info = snap->info[a];
            json::object ao{{"address", cat.addresses[a].str()},
                            {"up", snap->up[a] != 0},
                            {"probed", info.probed},
                            {"since", info.since}};
            // Health stays the answered address's; what was probed for it
            // is named when it is another (probe_targets).
            if (cat.probe_targets[a] != cat.addresses[a]) ao["probe_target"] = cat.probe_targets[a].str();
            if (info.has_result)
                ao["last"] = json::object{
                    {"ok", info.last_ok}, {"latency_ms", info.latency_ms}, {"message", info.message}};
            addresses.push_back(std::move(ao));
        }
        o["addresses"] = std::move(addresses);
        sites.push_back(std::move(o));
    }
    json::array services;
    for (const auto& svc : cat.services) {
        json::array names;
        for (auto i : svc.sites) names.push_back(json::string(cat.sites[i].name));
        json::object o{{"name", name_to_text(svc.name)}, {"sites", std::move(names)}};
        json::array fallback;
        for (Family f : {Family::v4, Family::v6})
            if (in_fallback(cat, svc, f, *snap)) fallback.push_back(f == Family::v4 ? "ipv4" : "ipv6");
        o["fallback"] = std::move(fallback);
        if (const auto* sv = steer::service_view(svc, *snap)) {
            // SPEC 9: the TTL answers carry now, and the sites held back.
            o["ttl"] = sv->ttl;
            o["degraded"] = sv->degraded;
            json::array held;
            for (const auto& x : held_sites(svc, *snap)) {
                json::object ho{
                    {"site", cat.sites[x.site].name},
                    {"family", x.family == Family::v4 ? "ipv4" : "ipv6"},
                    {"reason", x.stay.reason == health::Stay::Reason::damped ? "damped" : "held"}};
                if (x.stay.reason == health::Stay::Reason::held_manual) ho["until"] = "resumed";
                if (x.stay.until_ms) ho["until_ms"] = x.stay.until_ms;
                if (x.left_s) ho["seconds_left"] = x.left_s;
                if (x.stay.penalty) ho["penalty"] = x.stay.penalty;
                held.push_back(std::move(ho));
            }
            o["held"] = std::move(held);
        }
        if (svc.spill_at > 0) {
            // SPEC 10: each overloaded site's share kept and its cut.
            o["spill_at"] = svc.spill_at;
            json::array spilling;
            for (const auto& x : spills_of(svc, *snap)) {
                json::object so{{"site", cat.sites[x.site].name},
                                {"family", x.family == Family::v4 ? "ipv4" : "ipv6"},
                                {"load", x.spill.load},
                                {"keep", x.spill.keep}};
                if (std::isfinite(x.spill.shed_below_km))
                    so["shed_below_km"] = x.spill.shed_below_km;
                else
                    so["shed_below_km"] = "all";
                spilling.push_back(std::move(so));
            }
            o["spilling"] = std::move(spilling);
        }
        services.push_back(std::move(o));
    }
    json::object doc{
        {"generation", snap->generation}, {"sites", std::move(sites)}, {"services", std::move(services)}};
    if (obs.cluster) {
        json::array list;
        for (const auto& p : obs.peers) {
            json::object o{{"url", p.url}, {"reachable", p.reachable}, {"counted", p.counted}};
            if (!p.instance.empty()) o["instance"] = p.instance;
            if (!p.error.empty()) o["error"] = p.error;
            list.push_back(std::move(o));
        }
        doc["cluster"] = json::object{{"quorum", obs.quorum},
                                      {"vantage_points", obs.vantage_points},
                                      {"degraded", obs.degraded},
                                      {"peers", std::move(list)}};
    }
    return json::serialize(doc) + "\n";
}

std::string status_page(const Observation& obs) {
    const auto& snap = obs.health;
    const steer::Catalog& cat = *obs.catalog;
    auto esc = [](const std::string& in) {
        std::string out;
        for (char ch : in) {
            switch (ch) {
                case '&':
                    out += "&amp;";
                    break;
                case '<':
                    out += "&lt;";
                    break;
                case '>':
                    out += "&gt;";
                    break;
                case '"':
                    out += "&quot;";
                    break;
                case '\'':
                    out += "&#39;";
                    break;
                default:
                    out += ch;
            }
        }
        return out;
    };
    auto site_state = [&](std::uint32_t s) -> std::string {
        const auto ov = snap->overrides[s];
        if (ov == health::Override::down) return "down";
        if (!cat.sites[s].cname.empty()) return ov == health::Override::drain ? "drain" : "up";
        const auto v4 = steer::site_health(cat, s, Family::v4, *snap);
        const auto v6 = steer::site_health(cat, s, Family::v6, *snap);
        const bool up = (v4.total && v4.is_up) || (v6.total && v6.is_up);
        if (ov == health::Override::drain && up) return "drain";
        return up ? "up" : "down";
    };
    std::string h =
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">"
        "<title>dnsd status</title><style>"
        "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}"
        "td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}"
        ".up{color:#1a7f37}.down{color:#c62828;font-weight:bold}.drain{color:#b26a00}"
        ".held{color:#6a3fb5;font-weight:bold}.damped{color:#8e24aa;font-style:italic}"
        "svg{background:#f4f7fb;border:1px solid #ccd}</style></head><body><h1>dnsd " +
        esc(obs.view->identity()) + "</h1>";
    // The plot: longitude and latitude as x and y (equirectangular).
    h += "<svg width=\"720\" height=\"360\" viewBox=\"0 0 720 360\" role=\"img\" "
         "aria-label=\"sites by location\">";
    for (int lon = -150; lon <= 150; lon += 30)
        h += "<line x1=\"" + std::to_string((lon + 180) * 2) + "\" y1=\"0\" x2=\"" +
             std::to_string((lon + 180) * 2) + "\" y2=\"360\" stroke=\"#dde\"/>";
    for (int lat = -60; lat <= 60; lat += 30)
        h += "<line x1=\"0\" y1=\"" + std::to_string((90 - lat) * 2) + "\" x2=\"720\" y2=\"" +
             std::to_string((90 - lat) * 2) + "\" stroke=\"#dde\"/>";
    h += "<line x1=\"0\" y1=\"180\" x2=\"720\" y2=\"180\" stroke=\"#aab\"/>"
         "<line x1=\"360\" y1=\"0\" x2=\"360\" y2=\"360\" stroke=\"#aab\"/>"
         "<text x=\"4\" y=\"176\" font-size=\"11\" fill=\"#667\">equator</text>"
         "<text x=\"364\" y=\"354\" font-size=\"11\" fill=\"#667\">0\u00b0 longitude</text>";
    for (std::uint32_t s = 0; s < cat.sites.size(); ++s) {
        const auto& site = cat.sites[s];
        if (!site.located) continue;
        const std::string shown = site_state(s);
        const char* colour = shown == "up" ? "#2e9d4f" : shown == "drain" ? "#e69500" : "#d32f2f";
        const std::string x = std::to_string(static_cast<int>((site.location.lon + 180) * 2));
        const std::string y = std::to_string(static_cast<int>((90 - site.location.lat) * 2));
        h += "<circle cx=\"" + x + "\" cy=\"" + y + "\" r=\"7\" fill=\"" + colour + "\"><title>" +
             esc(site.name) + ": " + shown + "</title></circle><text x=\"" + x + "\" y=\"" + y +
             "\" dx=\"10\" dy=\"5\" font-size=\"14\" font-weight=\"bold\">" + esc(site.name) + "</text>";
    }
    h += "</svg><p class=\"legend\"><span style=\"color:#2e9d4f\">\u25cf</span> up "
         "<span style=\"color:#e69500\">\u25cf</span> drained "
         "<span style=\"color:#d32f2f\">\u25cf</span> down &nbsp; generation " +
         std::to_string(snap->generation) + "</p>";
    h += "<h2>Sites</h2><table><tr><th>site</th><th>state</th><th>override</th><th>address</th>"
         "<th>address state</th><th>last probe</th></tr>";
    for (std::uint32_t s = 0; s < cat.sites.size(); ++s) {
        const auto& site = cat.sites[s];
        const std::string shown = site_state(s);
        const std::string head = "<td>" + esc(site.name) + "</td><td class=\"" + shown + "\">" + shown +
                                 "</td><td>" + health::to_string(snap->overrides[s]) + "</td>";
        bool first = true;
        for (std::uint32_t a = 0; a < cat.addresses.size(); ++a) {
            if (cat.address_site[a] != s) continue;
            const auto& info = snap->info[a];
            const bool up = snap->up[a] != 0;
            std::string last = info.probed ? "no result yet" : "not probed";
            if (info.has_result)
                last = std::string(info.last_ok ? "passed" : "failed") + " in " +
                       std::to_string(info.latency_ms) + " ms: " + esc(info.message);
            std::string shown_address = cat.addresses[a].str();
            if (cat.probe_targets[a] != cat.addresses[a])
                shown_address += " <small>(probed at " + cat.probe_targets[a].str() + ")</small>";
            h += "<tr>" + (first ? head : "<td></td><td></td><td></td>") + "<td>" + shown_address +
                 "</td><td class=\"" + (up ? "up\">up" : "down\">down") + "</td><td>" + last + "</td></tr>";
            first = false;
        }
        if (first)
            h += "<tr>" + head + "<td>" +
                 (site.cname.empty() ? "" : "CNAME " + esc(name_to_text(site.cname))) +
                 "</td><td></td><td></td></tr>";
    }
    h += "</table><h2>Services</h2><table><tr><th>name</th><th>policy</th><th>sites</th>"
         "<th>answering now (IPv4)</th><th>held back</th></tr>";
    for (const auto& svc : cat.services) {
        std::string names;
        for (auto i : svc.sites) names += (names.empty() ? "" : ", ") + esc(cat.sites[i].name);
        // What a client of unknown location gets now (nearest: the
        // listed order; weighted and max_answers: one draw).
        steer::Random random;
        const auto choice = steer::decide(cat, svc, Family::v4, steer::Client{}, *snap, random);
        std::string now;
        if (choice.kind == steer::Choice::Kind::cname)
            now = "CNAME " + esc(name_to_text(cat.sites[choice.site].cname));
        for (unsigned i = 0; i < choice.count; ++i)
            now += (now.empty() ? "" : ", ") + cat.addresses[choice.address[i]].str();
        if (choice.kind == steer::Choice::Kind::nodata)
            now = choice.no_family() ? "nothing (NODATA: no IPv4 address in any site)" : "nothing (NODATA)";
        if (choice.fallback) now += " (fallback)";
        if (svc.policy == config::Service::Policy::nearest) now += " (client of unknown location)";
        // SPEC 9: held-down and damped sites in colours of their own, with
        // the time left.
        std::string held;
        for (const auto& x : held_sites(svc, *snap)) {
            const bool damped = x.stay.reason == health::Stay::Reason::damped;
            std::string text = esc(cat.sites[x.site].name) + (x.family == Family::v6 ? " IPv6" : "") + ": " +
                               reason_text(x.stay.reason);
            if (damped) text += ", penalty " + std::to_string(x.stay.penalty);
            if (x.left_s)
                text +=
                    std::string(damped ? ", reuse in " : ", failback in ") + std::to_string(x.left_s) + " s";
            held += std::string(held.empty() ? "" : "<br>") + "<span class=\"" +
                    (damped ? "damped" : "held") + "\">" + text + "</span>";
        }
        h += "<tr><td>" + esc(name_to_text(svc.name)) + "</td><td>" + config::to_string(svc.policy) +
             "</td><td>" + names + "</td><td>" + now + "</td><td>" + held + "</td></tr>";
    }
    h += "</table><p>JSON: <a href=\"/status\">/status</a></p></body></html>\n";
    return h;
}

void fold_counts(const query::View& v, Counts& into) {
    using query::Counters;
    const auto& counters = v.counters();
    for (std::int32_t z = -1; z < static_cast<std::int32_t>(v.zones().size()); ++z) {
        const std::string zone =
            "zone=\"" +
            (z < 0 ? std::string()
                   : label_value(name_to_text(v.zones()[static_cast<std::size_t>(z)]->origin()))) +
            "\"";
        for (bool tcp : {false, true})
            for (std::size_t ty = 0; ty < Counters::kTypeSlots; ++ty)
                for (std::size_t rc = 0; rc < Counters::kRcodeSlots; ++rc) {
                    const auto n = counters.query_total(z, tcp, ty, rc);
                    if (n == 0) continue;
                    const char* rcode = rc + 1 < Counters::kRcodeSlots
                                            ? wire::rcode_name(static_cast<unsigned>(rc))
                                            : "other";
                    into.queries[zone + ",type=\"" + Counters::kTypeNames[ty] + "\",rcode=\"" + rcode +
                                 "\",transport=\"" + (tcp ? "tcp" : "udp") + "\""] += n;
                }
    }
    const steer::Catalog& cat = v.catalog();
    for (std::size_t i = 0; i < cat.services.size(); ++i) {
        const auto& svc = cat.services[i];
        const std::string service = "service=\"" + label_value(name_to_text(svc.name)) + "\"";
        const std::size_t n = svc.sites.size();
        for (std::size_t slot = 0; slot < n + query::Counters::kExtra; ++slot) {
            const auto count = counters.decision_total(i, slot);
            if (count == 0) continue;
            std::string key = service;
            if (slot < n)
                key += ",outcome=\"site\",site=\"" + label_value(cat.sites[svc.sites[slot]].name) + "\"";
            else
                key += std::string(",outcome=\"") + query::Counters::extra_name(slot - n) + "\",site=\"\"";
            into.decisions[key] += count;
        }
    }
}

std::string label_value(const std::string& v) {
    std::string out;
    for (char ch : v) {
        if (ch == '\\' || ch == '"') out += '\\';
        if (ch == '\n') {
            out += "\\n";
            continue;
        }
        out += ch;
    }
    return out;
}

std::string metrics_text(const Observation& obs) {
    const auto label = label_value;
    std::string m;
    m += "# HELP dnsd_build_info The running dnsd.\n# TYPE dnsd_build_info gauge\n";
    m += std::string("dnsd_build_info{version=\"") + kVersion + "\"} 1\n";
    const Counts& totals = obs.counts;
    m += "# HELP dnsd_queries_total Queries answered, by zone (empty: outside every zone), query type, rcode "
         "and transport.\n# TYPE dnsd_queries_total counter\n";
    for (const auto& [labels, n] : totals.queries)
        m += "dnsd_queries_total{" + labels + "} " + std::to_string(n) + "\n";
    m += "# HELP dnsd_decisions_total Steered answers by service and outcome: the site chosen, several "
         "sites, nodata (no site has an address of the family asked) or the fallback (no site up).\n"
         "# TYPE dnsd_decisions_total counter\n";
    for (const auto& [labels, n] : totals.decisions)
        m += "dnsd_decisions_total{" + labels + "} " + std::to_string(n) + "\n";
    m += "# HELP dnsd_demand_rate Steered queries per second over the last hour (decayed), by service.\n"
         "# TYPE dnsd_demand_rate gauge\n";
    for (const auto& d : obs.demand)
        m += "dnsd_demand_rate{service=\"" + label(d.service) + "\"} " + std::to_string(d.rate) + "\n";
    m += "# HELP dnsd_demand_site_rate The part of dnsd_demand_rate the decision sends to each site now.\n"
         "# TYPE dnsd_demand_site_rate gauge\n";
    for (const auto& d : obs.demand)
        for (const auto& [site, rate] : d.sites)
            m += "dnsd_demand_site_rate{service=\"" + label(d.service) + "\",site=\"" + label(site) + "\"} " +
                 std::to_string(rate) + "\n";
    // A histogram of milliseconds, in seconds; `labels` empty or "k=\"v\"".
    const auto histogram = [&m](const char* metric, const std::string& labels, const health::Latency& h) {
        const std::string prefix = std::string(metric) + "_bucket{" + labels + (labels.empty() ? "" : ",");
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < std::size(health::Latency::kBoundsMs); ++i) {
            cumulative += h.buckets[i];
            char le[32];
            std::snprintf(le, sizeof le, "%g", health::Latency::kBoundsMs[i] / 1000.0);
            m += prefix + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
        }
        m += prefix + "le=\"+Inf\"} " + std::to_string(h.count) + "\n";
        const std::string braces = labels.empty() ? "" : "{" + labels + "}";
        char sum[32];
        std::snprintf(sum, sizeof sum, "%.3f", static_cast<double>(h.sum_ms) / 1000.0);
        m += std::string(metric) + "_sum" + braces + " " + sum + "\n";
        m += std::string(metric) + "_count" + braces + " " + std::to_string(h.count) + "\n";
    };
    m += "# HELP dnsd_probe_duration_seconds Probe durations by site.\n"
         "# TYPE dnsd_probe_duration_seconds histogram\n";
    for (const auto& [site, lat] : obs.latencies)
        histogram("dnsd_probe_duration_seconds", "site=\"" + label(site) + "\"", lat);
    m += "# HELP dnsd_probe_lag_seconds How late probes started against their schedule.\n"
         "# TYPE dnsd_probe_lag_seconds histogram\n";
    histogram("dnsd_probe_lag_seconds", "", obs.probe_lag);
    m += "# HELP dnsd_probe_interval_seconds How often the site's probe runs.\n"
         "# TYPE dnsd_probe_interval_seconds gauge\n";
    for (const auto& [site, interval] : obs.probe_intervals) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.3f", static_cast<double>(interval.count()) / 1000.0);
        m += "dnsd_probe_interval_seconds{site=\"" + label(site) + "\"} " + seconds + "\n";
    }
    const auto& snap = obs.health;
    const steer::Catalog& cat = *obs.catalog;
    m += "# HELP dnsd_address_up 1 when the address is up (probes, or no probe).\n"
         "# TYPE dnsd_address_up gauge\n";
    for (std::uint32_t a = 0; a < cat.addresses.size(); ++a)
        m += "dnsd_address_up{site=\"" + label(cat.sites[cat.address_site[a]].name) + "\",address=\"" +
             cat.addresses[a].str() + "\"} " + (snap->up[a] ? "1" : "0") + "\n";
    m += "# HELP dnsd_site_up 1 when the site can serve the family (min_up and overrides).\n"
         "# TYPE dnsd_site_up gauge\n";
    for (std::uint32_t s = 0; s < cat.sites.size(); ++s)
        for (Family f : {Family::v4, Family::v6}) {
            const auto sh = steer::site_health(cat, s, f, *snap);
            if (sh.total == 0) continue;
            m += "dnsd_site_up{site=\"" + label(cat.sites[s].name) + "\",family=\"" +
                 (f == Family::v4 ? "ipv4" : "ipv6") + "\"} " + (sh.is_up ? "1" : "0") + "\n";
        }
    m += "# HELP dnsd_site_override The operator override of a site (1 for the one set).\n"
         "# TYPE dnsd_site_override gauge\n";
    for (std::uint32_t s = 0; s < cat.sites.size(); ++s)
        m += "dnsd_site_override{site=\"" + label(cat.sites[s].name) + "\",override=\"" +
             health::to_string(snap->overrides[s]) + "\"} 1\n";
    // SPEC 10: loads and spill-over. The families are always there (the
    // README's contract); their samples only where a site has a load URL or
    // a service spills.
    m += "# HELP dnsd_site_load The site's load as its load URL last reported it (0 to 1).\n"
         "# TYPE dnsd_site_load gauge\n";
    for (const auto& [site, l] : obs.loads)
        if (l.value >= 0) m += "dnsd_site_load{site=\"" + label(site) + "\"} " + number(l.value) + "\n";
    m += "# HELP dnsd_site_load_readable 1 when the site's load URL gave a load at the last reading; "
         "0: it counts as not overloaded.\n# TYPE dnsd_site_load_readable gauge\n";
    for (const auto& [site, l] : obs.loads)
        m += "dnsd_site_load_readable{site=\"" + label(site) + "\"} " + (l.ok ? "1" : "0") + "\n";
    m += "# HELP dnsd_service_shed_ratio The share of a site's clients the service sheds to their "
         "next-nearest site (spill-over).\n# TYPE dnsd_service_shed_ratio gauge\n";
    for (const auto& svc : cat.services) {
        if (svc.spill_at <= 0) continue;
        for (std::size_t i = 0; i < svc.sites.size(); ++i)
            for (Family f : {Family::v4, Family::v6}) {
                double shed = 0;
                const std::size_t at = i * 2 + (f == Family::v6 ? 1 : 0);
                if (svc.index < snap->spills.size() && at < snap->spills[svc.index].size())
                    shed = 1.0 - snap->spills[svc.index][at].keep;
                m += "dnsd_service_shed_ratio{service=\"" + label(name_to_text(svc.name)) + "\",site=\"" +
                     label(cat.sites[svc.sites[i]].name) + "\",family=\"" +
                     (f == Family::v4 ? "ipv4" : "ipv6") + "\"} " + number(shed) + "\n";
            }
    }
    // SPEC 9: fallbacks, held-down and damped sites, degraded TTLs.
    m += "# HELP dnsd_service_fallback 1 while the service answers the family from its fallback (no site "
         "up).\n# TYPE dnsd_service_fallback gauge\n";
    for (const auto& svc : cat.services)
        for (Family f : {Family::v4, Family::v6})
            m += "dnsd_service_fallback{service=\"" + label(name_to_text(svc.name)) + "\",family=\"" +
                 (f == Family::v4 ? "ipv4" : "ipv6") + "\"} " +
                 (in_fallback(cat, svc, f, *snap) ? "1" : "0") + "\n";
    std::string held_lines, ttl_lines;  // two families, each of its samples together
    for (const auto& svc : cat.services) {
        const auto* sv = steer::service_view(svc, *snap);
        const std::string service = "service=\"" + label(name_to_text(svc.name)) + "\"";
        ttl_lines +=
            "dnsd_service_ttl_seconds{" + service + "} " + std::to_string(sv ? sv->ttl : svc.ttl) + "\n";
        if (!sv) continue;
        for (std::size_t slot = 0; slot < sv->stays.size(); ++slot) {
            const auto& st = sv->sites[slot];
            if (!st.is_cname && st.total == 0) continue;
            const auto reason = sv->stays[slot].reason;
            const std::string key = service + ",site=\"" + label(cat.sites[svc.sites[slot / 2]].name) +
                                    "\",family=\"" + (slot % 2 ? "ipv6" : "ipv4") + "\"";
            const bool damped = reason == health::Stay::Reason::damped;
            const bool held =
                reason == health::Stay::Reason::held || reason == health::Stay::Reason::held_manual;
            held_lines +=
                "dnsd_service_site_held{" + key + ",reason=\"failback\"} " + (held ? "1" : "0") + "\n";
            held_lines +=
                "dnsd_service_site_held{" + key + ",reason=\"damping\"} " + (damped ? "1" : "0") + "\n";
        }
    }
    m += "# HELP dnsd_service_site_held 1 while the service holds the site back for the family: "
         "reason \"failback\" (held down after coming back) or \"damping\" (flapping addresses suppressed).\n"
         "# TYPE dnsd_service_site_held gauge\n" +
         held_lines;
    m += "# HELP dnsd_service_ttl_seconds The TTL of the service's answers now (ttl, or ttl_degraded, "
         "capped before a known change).\n# TYPE dnsd_service_ttl_seconds gauge\n" +
         ttl_lines;
    m += "# HELP dnsd_alerts_total Alert deliveries (event and target) by outcome.\n"
         "# TYPE dnsd_alerts_total counter\n";
    const auto& alerts = obs.alerts;
    const char* outcomes[3] = {"delivered", "failed", "dropped"};
    for (int i = 0; i < 3; ++i)
        m += std::string("dnsd_alerts_total{outcome=\"") + outcomes[i] + "\"} " + std::to_string(alerts[i]) +
             "\n";
    if (obs.cluster) {
        m += "# HELP dnsd_cluster_vantage_points Vantage points whose verdicts count now (this one "
             "included).\n"
             "# TYPE dnsd_cluster_vantage_points gauge\n";
        m += "dnsd_cluster_vantage_points " + std::to_string(obs.vantage_points) + "\n";
        m += "# HELP dnsd_cluster_quorum Vantage points that must see an address down.\n"
             "# TYPE dnsd_cluster_quorum gauge\n";
        m += "dnsd_cluster_quorum " + std::to_string(obs.quorum) + "\n";
        m += "# HELP dnsd_cluster_degraded 1 when fewer vantage points than the quorum count.\n"
             "# TYPE dnsd_cluster_degraded gauge\n";
        m += std::string("dnsd_cluster_degraded ") + (obs.degraded ? "1" : "0") + "\n";
        m += "# HELP dnsd_cluster_peer_up 1 when the peer answered its last request.\n"
             "# TYPE dnsd_cluster_peer_up gauge\n";
        for (const auto& p : obs.peers)
            m += "dnsd_cluster_peer_up{peer=\"" + label(p.url) + "\"} " + (p.reachable ? "1" : "0") + "\n";
    }
    m += "# HELP dnsd_rate_limited_total UDP answers held back by response rate limiting.\n"
         "# TYPE dnsd_rate_limited_total counter\n";
    for (bool truncated : {false, true}) {
        const std::uint64_t n = obs.rate_limited[truncated ? 1 : 0];
        m += std::string("dnsd_rate_limited_total{action=\"") + (truncated ? "truncated" : "dropped") +
             "\"} " + std::to_string(n) + "\n";
    }
    m += "# HELP dnsd_tcp_refused_total TCP connections closed at once: over tcp_connections or "
         "tcp_per_client.\n"
         "# TYPE dnsd_tcp_refused_total counter\n";
    m += "dnsd_tcp_refused_total " + std::to_string(obs.tcp_refused) + "\n";
    m += "# HELP dnsd_dnssec_signatures_total RRSIGs of signed zones' answers: from the workers' caches, "
         "made, failed.\n# TYPE dnsd_dnssec_signatures_total counter\n";
    for (int i = 0; i < 3; ++i)
        m += std::string("dnsd_dnssec_signatures_total{result=\"") +
             (i == 0   ? "cached"
              : i == 1 ? "made"
                       : "failed") +
             "\"} " + std::to_string(obs.signatures[i]) + "\n";
    m += "# HELP dnsd_reloads_total Reloads, by outcome.\n# TYPE dnsd_reloads_total counter\n";
    m += "dnsd_reloads_total{outcome=\"ok\"} " + std::to_string(obs.reloads[0]) + "\n";
    m += "dnsd_reloads_total{outcome=\"failed\"} " + std::to_string(obs.reloads[1]) + "\n";
    return m;
}

}  // namespace dnsd::server
