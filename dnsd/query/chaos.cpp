#include "dnsd/query/chaos.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>

#include "dnsd/query/encode.hpp"
#include "dnsd/query/explain.hpp"
#include "dnsd/query/steering.hpp"

namespace dnsd::query {

namespace type = wire::type;
namespace flag = wire::flag;
using wire::Query;
using wire::Writer;

namespace {

/// Writes CH TXT records of one string each, formatted with snprintf into a
/// stack buffer (nothing allocated); sets `tc` when one does not fit.
class TxtLines : public LineSink {
public:
    TxtLines(Writer& w, Counts& c) noexcept : w_(w), c_(c) {}
    template <typename... Args>
    void operator()(const char* format, Args... args) noexcept {
        if (tc) return;
        const int n = std::snprintf(text_, sizeof text_, format, args...);
        if (n <= 0) return;
        put(std::string_view(text_, static_cast<std::size_t>(n < 255 ? n : 255)));
    }
    void line(LineScope, std::string_view text) noexcept override {
        if (!tc) put(text);
    }
    bool tc = false;

private:
    void put(std::string_view text) noexcept {
        const auto m = w_.mark();
        if (put_record(w_, nullptr, 0, type::TXT, wire::klass::CH, 0, [&](Writer& out) {
                return out.put8(static_cast<std::uint8_t>(text.size())) &&
                       out.put_bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
            })) {
            ++c_.an;
        } else {
            w_.rollback(m);
            tc = true;
        }
    }
    Writer& w_;
    Counts& c_;
    char text_[256];
};

/// The end of a CH TXT reply: OPT, AA, and TC when a line did not fit.
std::size_t finish_txt(Writer& w, const Query& q, const View& v, std::size_t limit, Counts& c,
                       bool tc) noexcept {
    w.set_limit(limit);
    put_opt(w, q, v, wire::rcode::NOERROR, c);
    auto flags = static_cast<std::uint16_t>(reply_flags(q, true) | flag::AA);
    if (tc) flags = static_cast<std::uint16_t>(flags | flag::TC);
    return finish(w, q.id, flags, wire::rcode::NOERROR, c, true);
}

/// health.server CH TXT (SPEC 4): one string per site and per address.
/// Formatted with snprintf into a stack buffer: nothing is allocated.
std::size_t health_server(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                          const Query& q, const View& v, const Client& client, std::size_t limit) noexcept {
    if (!v.explain_allow().contains(client.address))
        return error_reply(request, response, q, v, wire::rcode::REFUSED, true, true);
    const steer::Catalog& cat = v.catalog();
    const health::Snapshot& h = health_for(client, cat);
    Writer w(response.first(limit));
    start_reply(w, request, q, v, limit);
    Counts c;
    TxtLines put_txt(w, c);
    if (q.qtype == type::TXT || q.qtype == type::ANY) {
        for (std::uint32_t s = 0; s < cat.sites.size(); ++s) {
            const auto& site = cat.sites[s];
            const auto ov = s < h.overrides.size() ? h.overrides[s] : health::Override::none;
            if (!site.cname.empty()) {
                put_txt("site %s: cname, %s, override %s", site.name.c_str(),
                        ov == health::Override::down ? "down" : "up", health::to_string(ov));
                continue;
            }
            const auto v4 = steer::site_health(cat, s, Family::v4, h);
            const auto v6 = steer::site_health(cat, s, Family::v6, h);
            put_txt("site %s: IPv4 %s (%u/%u up), IPv6 %s (%u/%u up), override %s", site.name.c_str(),
                    v4.total ? (v4.is_up ? "up" : "down") : "none", v4.up, v4.total,
                    v6.total ? (v6.is_up ? "up" : "down") : "none", v6.up, v6.total, health::to_string(ov));
        }
        for (std::uint32_t a = 0; a < cat.addresses.size(); ++a) {
            char addr[64];
            address_text(cat.addresses[a], addr, sizeof addr);
            const bool up = a >= h.up.size() || h.up[a];
            // The site, and the address probed when it is another (a NAT
            // or VIP, probe_targets): the health is the answered address's.
            char site[320];
            const char* name = cat.sites[cat.address_site[a]].name.c_str();
            if (cat.probe_targets[a] == cat.addresses[a]) {
                std::snprintf(site, sizeof site, "%s", name);
            } else {
                char target[64];
                address_text(cat.probe_targets[a], target, sizeof target);
                std::snprintf(site, sizeof site, "%s, probed at %s", name, target);
            }
            if (a >= h.info.size() || !h.info[a].probed) {
                put_txt("%s (%s): %s, not probed", addr, site, up ? "up" : "down");
                continue;
            }
            const auto& i = h.info[a];
            char since[32] = "start";
            if (i.since > 0) {
                // Calendar arithmetic with <chrono>, not gmtime_r: glibc's
                // first gmtime_r reads the time zone and allocates.
                using namespace std::chrono;
                const sys_seconds t{seconds{i.since}};
                const auto day = floor<days>(t);
                const year_month_day ymd{day};
                const hh_mm_ss hms{t - day};
                std::snprintf(since, sizeof since, "%04d-%02u-%02uT%02d:%02d:%02dZ",
                              static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                              static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                              static_cast<int>(hms.minutes().count()),
                              static_cast<int>(hms.seconds().count()));
            }
            if (!i.has_result)
                put_txt("%s (%s): %s since %s, no probe result yet", addr, site, up ? "up" : "down", since);
            else
                put_txt("%s (%s): %s since %s, last probe %s in %ums: %s", addr, site, up ? "up" : "down",
                        since, i.last_ok ? "passed" : "failed", i.latency_ms, i.message.c_str());
        }
    }
    return finish_txt(w, q, v, limit, c, put_txt.tc);
}

/// The CH TXT explanation of a service's answer (SPEC 4): the lines of the
/// same Explanation that /explain returns.
std::size_t explanation(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                        const Query& q, const View& v, const Client& client, std::size_t limit,
                        std::int32_t service) noexcept {
    if (!client.trusted && !v.explain_allow().contains(client.address))
        return error_reply(request, response, q, v, wire::rcode::REFUSED, true, true);
    const Explanation e = explain(v, static_cast<std::size_t>(service), subnet_of(q), client);
    Writer w(response.first(limit));
    start_reply(w, request, q, v, limit);
    Counts c;
    TxtLines lines(w, c);
    render(e, lines);
    return finish_txt(w, q, v, limit, c, lines.tc);
}

bool chaos_name(const Query& q, const char* wire_name, std::size_t size) noexcept {
    return q.qname_size == size && std::memcmp(q.qname_lower, wire_name, size) == 0;
}

/// id.server, hostname.bind, version.server, version.bind.
std::size_t server_names(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                         const Query& q, const View& v, std::size_t limit) noexcept {
    static constexpr char kIdServer[] = "\x02id\x06server";
    static constexpr char kHostnameBind[] =
        "\x08hostname\x04"
        "bind";
    static constexpr char kVersionServer[] = "\x07version\x06server";
    static constexpr char kVersionBind[] =
        "\x07version\x04"
        "bind";
    const std::string* text = nullptr;
    if (chaos_name(q, kIdServer, sizeof kIdServer) || chaos_name(q, kHostnameBind, sizeof kHostnameBind))
        text = &v.identity();
    else if (chaos_name(q, kVersionServer, sizeof kVersionServer) ||
             chaos_name(q, kVersionBind, sizeof kVersionBind))
        text = &v.version();
    if (!text || text->empty()) return error_reply(request, response, q, v, wire::rcode::REFUSED, true, true);

    Writer w(response.first(limit));
    start_reply(w, request, q, v, limit);
    Counts c;
    TxtLines line(w, c);
    if (q.qtype == type::TXT || q.qtype == type::ANY) line("%s", text->c_str());
    return finish_txt(w, q, v, limit, c, line.tc);
}

}  // namespace

std::size_t chaos(std::span<const std::uint8_t> request, std::span<std::uint8_t> response, const Query& q,
                  const View& view, const Client& client, std::size_t limit) noexcept {
    static constexpr char kHealthServer[] = "\x06health\x06server";
    if (chaos_name(q, kHealthServer, sizeof kHealthServer))
        return health_server(request, response, q, view, client, limit);
    if (q.qtype == type::TXT || q.qtype == type::ANY) {
        if (const std::int32_t service =
                service_at(view, q.qname_lower, q.qname_offsets, q.qname_labels, q.qname_size);
            service >= 0)
            return explanation(request, response, q, view, client, limit, service);
    }
    return server_names(request, response, q, view, limit);
}

}  // namespace dnsd::query
