// [geo] and its [[geo.networks]].

#include "dnsd/config/sections.hpp"

namespace dnsd::config {
namespace {

void read_network(TableReader& r, Draft& d) {
    NetworkDraft net;
    net.network.line = r.line();
    net.ok &= r.require("prefix", "a network such as \"10.20.0.0/16\"");
    std::string written;  // for validate's message about a duplicate
    const Got prefix = r.string(
        "prefix", net.network.prefix,
        [&](std::string_view text) {
            written = text;
            return Prefix::parse(text);
        },
        is_not("a network (\"10.20.0.0/16\", \"2001:db8::/32\"; no host bits)"));
    if (prefix == Got::value) net.prefix = Ref{written, r.spot_at("prefix")};
    net.ok &= good(prefix);
    net.ok &= r.require("location", "{ lat = DEGREES, lon = DEGREES }");
    net.ok &= good(r.location("location", net.network.location));
    d.networks.push_back(std::move(net));
}

}  // namespace

void read_geo(TableReader& r, Draft& d) {
    Geo& g = d.config.geo;
    g.line = r.line();
    r.paths("database", g.databases);
    r.boolean("ecs", g.ecs);
    read_entries(r, "networks", read_network, d);
}

}  // namespace dnsd::config
