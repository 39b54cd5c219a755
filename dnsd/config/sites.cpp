// [sites.NAME] tables.

#include <algorithm>

#include "dnsd/config/sections.hpp"

namespace dnsd::config {
namespace {

/// `probe_targets`: each key one of the site's addresses, each value an
/// address of the same family that its probe connects to instead. An error
/// on a site without a probe: nothing would probe the targets, and the
/// operator clearly meant the site to be probed (without a probe it is
/// always up). `addresses_read`: every address was taken, so that a key
/// missing from them is the key's fault.
void read_probe_targets(TableReader& r, Site& s, bool addresses_read) {
    const auto* at = r.get("probe_targets");
    if (!at) return;
    if (!s.cname.empty()) {
        r.error(*at, "probe_targets", "a cname site has no addresses to probe");
        return;
    }
    if (at->is_table() && !r.has("probe"))
        r.error(*at, "probe_targets",
                "site " + s.name +
                    " has no probe, so nothing would probe these targets (add a probe or "
                    "remove probe_targets)");
    r.string_table("probe_targets", [&](const Item& key, const Item& value) {
        const auto address = Address::parse(key.text);
        if (!address || std::find(s.addresses.begin(), s.addresses.end(), *address) == s.addresses.end()) {
            if (addresses_read)
                r.error(key.line, "probe_targets", "'" + key.text + "' is not an address of site " + s.name);
            return;
        }
        const auto target = Address::parse(value.text);
        if (!target) {
            r.error(value.line, "probe_targets",
                    "'" + value.text + "' (the probe target of " + key.text + ") is not an IP address");
            return;
        }
        if (target->family != address->family) {
            const char* family = address->family == Family::v4 ? "IPv4" : "IPv6";
            r.error(value.line, "probe_targets",
                    "'" + value.text + "' (the probe target of " + key.text + ") is not an " + family +
                        " address; a probe target has the family of the address it stands for");
            return;
        }
        const auto same = std::find_if(s.probe_targets.begin(), s.probe_targets.end(),
                                       [&](const ProbeTarget& t) { return t.address == *address; });
        if (same != s.probe_targets.end()) {
            r.error(key.line, "probe_targets", "'" + key.text + "' is listed twice");
            return;
        }
        s.probe_targets.push_back({*address, *target});
    });
}

void read_site(TableReader& r, const std::string& name, Draft& d) {
    SiteDraft draft;
    Site& s = draft.site;
    s.name = name;
    s.line = r.line();
    bool ok = good(r.location("location", s.location));
    const bool addresses_read =
        good(r.list("addresses", s.addresses, Address::parse, is_not("an IP address"), true));
    ok &= addresses_read;
    // A cname of the wrong type is reported but has never counted as
    // refused here, as a malformed name does; kept so.
    ok &= r.domain_name("cname", true, s.cname) != Got::bad_value;
    // Not said when a value was refused: that is the likelier cause.
    if (s.addresses.empty() && s.cname.empty() && ok)
        r.report().error(r.line(), r.prefix(), "has neither addresses nor cname");
    if (!s.addresses.empty() && !s.cname.empty())
        r.error(*r.get("cname"), "cname", "a site has either addresses or a cname, not both");
    if (const auto* n = r.get("probe")) {
        if (!s.cname.empty()) {
            r.error(*n, "probe", "a cname site has no addresses to probe");
        } else if (const auto* ref = n->as_string()) {
            draft.probe = Ref{ref->get(), r.spot_at("probe")};
        } else if (const auto* inline_table = n->as_table()) {
            TableReader probe(*inline_table, r.key("probe"), r.report());
            s.probe = read_probe(probe, name + " (inline)");
        } else {
            r.error(*n, "probe", "expected a probe name or an inline table");
        }
    }
    read_probe_targets(r, s, addresses_read);
    r.integer("min_up", 1, 1000, s.min_up);
    r.integer("weight", 0, 1000000, s.weight);
    r.string(
        "load", s.load,
        [](std::string_view v) { return parse_url(v) ? std::optional<std::string>(v) : std::nullopt; },
        is_not("an http:// or https:// URL (\"http://host[:port][/path]\") that reports the site's load"));
    r.integer("capacity", 0, 1000000000, s.capacity);
    // Kept even when broken, so that services naming it do not also report
    // "unknown site"; the errors make the config unusable anyway.
    d.sites.push_back(std::move(draft));
}

}  // namespace

void read_sites(const toml::table& t, Draft& d, Report& report) {
    // toml++ keeps keys sorted; sites are kept in the order of the file.
    std::vector<std::pair<std::string, const toml::table*>> ordered;
    for (const auto& [k, v] : t) {
        const std::string name(k.str());
        if (const auto* table = v.as_table())
            ordered.emplace_back(name, table);
        else
            report.error(line_of(v), "sites." + name, "expected a table ([sites." + name + "])");
    }
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto& a, const auto& b) { return line_of(*a.second) < line_of(*b.second); });
    for (const auto& [name, table] : ordered) {
        TableReader r(*table, "sites." + name, report);
        read_site(r, name, d);
    }
}

}  // namespace dnsd::config
