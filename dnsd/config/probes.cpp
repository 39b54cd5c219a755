// [probes.NAME] tables, and the inline probes of sites.

#include <algorithm>
#include <initializer_list>

#include "dnsd/config/sections.hpp"
#include "dnsd/core/name.hpp"

namespace dnsd::config {
namespace {

std::optional<std::string> absolute_path(std::string_view text) {
    return text.starts_with("/") ? std::optional<std::string>(text) : std::nullopt;
}

// Kept as written: the probe sends it as the text says.
std::optional<std::string> query_name(std::string_view text) {
    return name_from_text(text) ? std::optional<std::string>(text) : std::nullopt;
}

}  // namespace

std::optional<Probe> read_probe(TableReader& r, std::string name) {
    using enum Probe::Kind;
    Probe p;
    p.name = std::move(name);
    p.line = r.line();
    bool ok = r.require("type", kProbeKinds.list(" or "));
    ok &= good(r.enum_value("type", kProbeKinds, p.kind));
    // Without a type the other keys mean nothing: they are not checked,
    // only told apart from unknown keys.
    if (!ok) r.quiet();

    // Keys that mean something only for some kinds: one set for another
    // kind is an error, as a typo would be.
    auto applies = [&](std::string_view key, std::initializer_list<Probe::Kind> kinds) {
        if (!r.has(key) || std::find(kinds.begin(), kinds.end(), p.kind) != kinds.end()) return true;
        r.error(*r.get(key), key, "only for " + kProbeKinds.list(kinds, " and ") + " probes");
        ok = false;
        return false;
    };
    // A value of the wrong type for path, host, expect_body, insecure,
    // query or query_type is reported but has never refused the probe, as
    // a refused value does; kept so.
    const auto not_refused = [](Got got) { return got != Got::bad_value; };

    if (applies("port", {http, https, tcp, dns})) ok &= good(r.integer("port", 1, 65535, p.port));
    if (p.kind == tcp && !p.port) {
        r.error("port", "missing (a tcp probe needs the port to connect to)");
        ok = false;
    }
    if (applies("path", {http, https}))
        ok &= not_refused(
            r.string("path", p.path, absolute_path, [](std::string_view) { return "must start with '/'"; }));
    if (applies("host", {http, https})) r.string("host", p.host);
    if (applies("expect_status", {http, https}))
        ok &= good(r.integers("expect_status", 100, 599, p.expect_status));
    if (applies("expect_body", {http, https})) r.string("expect_body", p.expect_body);
    if (applies("insecure", {https})) r.boolean("insecure", p.insecure);
    if (applies("query", {dns}))
        ok &= not_refused(r.string("query", p.query_name, query_name, is_not("a domain name")));
    if (applies("query_type", {dns}))
        ok &= not_refused(r.string(
            "query_type", p.query_type, [](std::string_view v) { return kQueryTypes.parse(v); },
            [](std::string_view) { return "expected one of " + kQueryTypes.list(", "); }));
    if (applies("expect_rcode", {dns})) {
        r.list(
            "expect_rcode", p.expect_rcode, [](std::string_view v) { return kRcodes.parse(v); },
            is_not("an rcode (NOERROR, NXDOMAIN, REFUSED, ...)"));
        if (p.expect_rcode.empty()) ok = false;
    }
    // An empty shell command has always been taken (it succeeds: the
    // address is always up); alerts refuse it.
    if (applies("command", {exec})) ok &= good(r.command("command", true, p.command));
    if (p.kind == exec) ok &= r.require("command", "the command an exec probe runs");
    ok &= good(r.duration("interval", Duration{100}, p.interval));
    ok &= good(r.duration("timeout", Duration{10}, p.timeout));
    if (p.timeout >= p.interval) {
        const int line = r.has("timeout")    ? line_of(*r.get("timeout"))
                         : r.has("interval") ? line_of(*r.get("interval"))
                                             : r.line();
        r.error(line, "timeout",
                "must be below the interval (" + std::to_string(p.timeout.count()) + "ms is not below " +
                    std::to_string(p.interval.count()) + "ms)");
        ok = false;
    }
    ok &= good(r.integer("rise", 1, 100, p.rise));
    ok &= good(r.integer("fall", 1, 100, p.fall));
    ok &= good(r.string("source", p.source, Address::parse, is_not("an IP address")));
    if (const auto* t = r.table("damping", "expected a table of damping figures ({ half_life = \"30s\" })"))
        ok &= read_damping(r, *t, p.damping);
    else if (r.has("damping"))
        ok = false;
    if (!ok) return std::nullopt;
    return p;
}

bool read_damping(TableReader& r, const toml::table& t, std::optional<Damping>& figures) {
    Damping f;
    TableReader d(t, r.key("damping"), r.report());
    bool ok = good(d.integer("penalty", 1, 1000000, f.penalty));
    ok &= good(d.duration("half_life", Duration{1000}, f.half_life));
    ok &= good(d.integer("suppress", 1, 1000000, f.suppress));
    ok &= good(d.integer("reuse", 1, 1000000, f.reuse));
    if (ok && f.reuse >= f.suppress) {
        d.error(d.has("reuse") ? line_of(*d.get("reuse")) : d.line(), "reuse",
                "must be below suppress (" + std::to_string(f.reuse) + " is not below " +
                    std::to_string(f.suppress) + ")");
        ok = false;
    }
    if (ok) figures = f;
    return ok;
}

void read_probes(const toml::table& t, Draft& d, Report& report) {
    for (const auto& [k, v] : t) {
        const std::string name(k.str());
        const std::string key = "probes." + name;
        if (const auto* table = v.as_table()) {
            TableReader r(*table, key, report);
            d.probes.push_back({name, read_probe(r, name)});
        } else {
            report.error(line_of(v), key, "expected a table ([" + key + "])");
        }
    }
}

}  // namespace dnsd::config
