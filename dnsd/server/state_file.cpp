#include "dnsd/server/state_file.hpp"

#include <unistd.h>
#include <boost/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace dnsd::server {

namespace json = boost::json;

StateFile read_state_file(const std::string& path, Diagnostics& diags) {
    StateFile out;
    std::ifstream in(path);
    if (!in) return out;
    std::ostringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    const json::value doc = json::parse(text.str(), ec);
    if (ec || !doc.is_object()) {
        diags.warning(path, 0, "state file is not valid JSON (" + ec.message() + "); starting without it");
        return out;
    }
    const auto& root = doc.as_object();
    if (const auto* o = root.if_contains("overrides"); o && o->is_object()) {
        for (const auto& [name, value] : o->as_object()) {
            // "drain", or {"state": "drain", "until": UNIX_TIME}
            health::Persisted::SiteOverride saved;
            const json::value* state = &value;
            if (value.is_object()) {
                state = value.as_object().if_contains("state");
                if (const auto* u = value.as_object().if_contains("until"); u && u->is_int64())
                    saved.until = u->as_int64();
            }
            const std::string_view s =
                state && state->is_string() ? std::string_view(state->as_string()) : "";
            const auto parsed = health::parse_override(s);
            if (!parsed) {
                diags.warning(path, 0,
                              "override '" + std::string(s) + "' for site " + std::string(name) + " ignored");
                continue;
            }
            saved.state = *parsed;
            if (saved.state != health::Override::none) out.health.overrides[std::string(name)] = saved;
        }
    }
    if (const auto* a = root.if_contains("addresses"); a && a->is_object()) {
        for (const auto& [key, value] : a->as_object()) {
            const auto* o = value.if_object();
            const auto* up = o ? o->if_contains("up") : nullptr;
            if (!up || !up->is_bool()) continue;
            health::Persisted::AddressState saved;
            saved.up = up->as_bool();
            if (const auto* since = o->if_contains("since"); since && since->is_int64())
                saved.since = since->as_int64();
            out.health.addresses[std::string(key)] = saved;
        }
    }
    // {"SERVICE SITE v4": {"hold": "timed", "until_ms": ...}}
    if (const auto* h = root.if_contains("holds"); h && h->is_object()) {
        for (const auto& [key, value] : h->as_object()) {
            const auto* o = value.if_object();
            const auto* kind = o ? o->if_contains("hold") : nullptr;
            if (!kind || !kind->is_string()) continue;
            steer::Staying::Saved::HeldSite saved;
            if (kind->get_string() == "manual")
                saved.kind = health::Hold::Kind::manual;
            else if (kind->get_string() == "timed")
                saved.kind = health::Hold::Kind::timed;
            else
                continue;
            if (const auto* u = o->if_contains("until_ms"); u && u->is_int64())
                saved.until_ms = u->as_int64();
            out.staying.holds[std::string(key)] = saved;
        }
    }
    // {"SERVICE SITE/ADDRESS": {"penalty": 2310.5, "since_ms": ..., "suppressed": true}}
    if (const auto* p = root.if_contains("penalties"); p && p->is_object()) {
        for (const auto& [key, value] : p->as_object()) {
            const auto* o = value.if_object();
            const auto* penalty = o ? o->if_contains("penalty") : nullptr;
            const auto* since = o ? o->if_contains("since_ms") : nullptr;
            if (!penalty || !penalty->is_number() || !since || !since->is_int64()) continue;
            steer::Staying::Saved::Damped saved;
            saved.penalty = penalty->to_number<double>();
            saved.since_ms = since->as_int64();
            if (const auto* sup = o->if_contains("suppressed"); sup && sup->is_bool())
                saved.suppressed = sup->as_bool();
            out.staying.penalties[std::string(key)] = saved;
        }
    }
    if (const auto* s = root.if_contains("serials"); s && s->is_object()) {
        for (const auto& [origin, value] : s->as_object()) {
            const auto* o = value.if_object();
            const auto* serial = o ? o->if_contains("serial") : nullptr;
            const auto* digest = o ? o->if_contains("digest") : nullptr;
            if (!serial || !serial->is_int64() || !digest || !digest->is_string()) continue;
            query::ServedSerial saved;
            saved.serial = static_cast<std::uint32_t>(serial->get_int64());
            saved.digest = std::strtoull(digest->get_string().c_str(), nullptr, 16);
            out.serials[std::string(origin)] = saved;
        }
    }
    return out;
}

std::string state_file_text(const StateFile& state) {
    json::object overrides;
    for (const auto& [site, o] : state.health.overrides) {
        if (o.until)
            overrides[site] = json::object{{"state", health::to_string(o.state)}, {"until", o.until}};
        else
            overrides[site] = health::to_string(o.state);
    }
    json::object addresses;
    for (const auto& [key, a] : state.health.addresses)
        addresses[key] = json::object{{"up", a.up}, {"since", a.since}};
    json::object serials;
    for (const auto& [origin, served] : state.serials) {
        char digest[17];
        std::snprintf(digest, sizeof digest, "%016llx", static_cast<unsigned long long>(served.digest));
        serials[origin] = json::object{{"serial", served.serial}, {"digest", digest}};
    }
    json::object holds;
    for (const auto& [key, h] : state.staying.holds)
        holds[key] = json::object{{"hold", h.kind == health::Hold::Kind::manual ? "manual" : "timed"},
                                  {"until_ms", h.until_ms}};
    json::object penalties;
    for (const auto& [key, p] : state.staying.penalties)
        penalties[key] =
            json::object{{"penalty", p.penalty}, {"since_ms", p.since_ms}, {"suppressed", p.suppressed}};
    const json::object root{{"version", 1},
                            {"overrides", std::move(overrides)},
                            {"addresses", std::move(addresses)},
                            {"holds", std::move(holds)},
                            {"penalties", std::move(penalties)},
                            {"serials", std::move(serials)}};
    return json::serialize(root) + "\n";
}

bool write_state_file(const std::string& path, const StateFile& state, std::string& error) {
    const std::string text = state_file_text(state);
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) {
        error = std::strerror(errno);
        return false;
    }
    const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    const bool flushed = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
    std::fclose(f);
    if (!written || !flushed || std::rename(tmp.c_str(), path.c_str()) != 0) {
        error = std::strerror(errno);
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

}  // namespace dnsd::server
