// [control] and [cluster]: the control endpoint and the peers that use it.

#include "dnsd/config/sections.hpp"

namespace dnsd::config {

void read_control(TableReader& r, Draft& d) {
    Control& c = d.config.control;
    c.enabled = true;
    c.line = r.line();
    c.listen = *Endpoint::parse("127.0.0.1:8053");
    r.string("listen", c.listen, Endpoint::parse,
             is_not("an address with a port (\"127.0.0.1:8053\", \"[::1]:8053\")"));
    if (r.string("token_file", c.token_file) == Got::value) d.control_token_file = r.spot_at("token_file");
}

void read_cluster(TableReader& r, Draft& d) {
    Cluster& c = d.config.cluster;
    c.enabled = true;
    c.line = r.line();
    r.list(
        "peers", c.peers,
        [](std::string_view text) {
            const auto url = parse_url(text);
            return url && !url->tls ? std::optional<std::string>(text) : std::nullopt;
        },
        is_not("a peer's control URL (\"http://192.0.2.53:8053\")"), true);
    if (c.peers.empty()) r.error("peers", "expected at least one peer's control URL");
    // A majority of the vantage points by default.
    if (!r.has("quorum")) c.quorum = static_cast<unsigned>((c.peers.size() + 1) / 2 + 1);
    if (r.integer("quorum", 1, 64, c.quorum) == Got::value) d.quorum = r.spot_at("quorum");
    if (r.string("token_file", c.token_file) == Got::value) d.cluster_token_file = r.spot_at("token_file");
    r.duration("interval", Duration{100}, c.interval);
}

}  // namespace dnsd::config
