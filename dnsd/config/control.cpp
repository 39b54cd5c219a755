// [control] and [cluster]: the control endpoint and the peers that use it.

#include "dnsd/config/sections.hpp"

namespace dnsd::config {

void read_control(TableReader& r, Draft& d) {
    Control& c = d.config.control;
    c.enabled = true;
    c.line = r.line();
    c.listen = *Endpoint::parse("127.0.0.1:8053");
    struct Listen {
        std::optional<Endpoint> endpoint;
        std::string unix_path;
    };
    Listen listen{c.listen, {}};
    r.string(
        "listen", listen,
        [](std::string_view text) -> std::optional<Listen> {
            if (text.starts_with("unix:")) {
                const auto path = text.substr(5);
                // sockaddr_un holds 108 bytes with the terminating zero.
                if (path.empty() || path.size() > 107 || path.find('\0') != std::string_view::npos)
                    return std::nullopt;
                return Listen{std::nullopt, std::string(path)};
            }
            auto ep = Endpoint::parse(text);
            return ep ? std::optional<Listen>(Listen{ep, {}}) : std::nullopt;
        },
        is_not("an address with a port (\"127.0.0.1:8053\", \"[::1]:8053\") or \"unix:PATH\""));
    if (listen.endpoint) c.listen = *listen.endpoint;
    c.unix_path = listen.unix_path;
    if (r.string("token_file", c.token_file) == Got::value) d.control_token_file = r.spot_at("token_file");
    const bool cert = r.string("tls_cert", c.tls_cert) == Got::value;
    const bool key = r.string("tls_key", c.tls_key) == Got::value;
    const char* given = cert ? "tls_cert" : "tls_key";
    if (cert != key) r.error(r.spot_at(given).line, given, "tls_cert and tls_key go together");
    if (cert && key && !c.unix_path.empty())
        r.error(r.spot_at("tls_cert").line, "tls_cert",
                "TLS is for a TCP listener; a unix: socket is guarded by its file mode");
    if (cert && key) d.control_tls = r.spot_at("tls_cert");
}

void read_cluster(TableReader& r, Draft& d) {
    Cluster& c = d.config.cluster;
    c.enabled = true;
    c.line = r.line();
    r.list(
        "peers", c.peers,
        [](std::string_view text) {
            const auto url = parse_url(text);
            return url ? std::optional<std::string>(text) : std::nullopt;
        },
        is_not("a peer's control URL (\"http://192.0.2.53:8053\", \"https://ns2.example.net:8053\")"), true);
    if (c.peers.empty()) r.error("peers", "expected at least one peer's control URL");
    // A majority of the vantage points by default.
    if (!r.has("quorum")) c.quorum = static_cast<unsigned>((c.peers.size() + 1) / 2 + 1);
    if (r.integer("quorum", 1, 64, c.quorum) == Got::value) d.quorum = r.spot_at("quorum");
    if (r.string("token_file", c.token_file) == Got::value) d.cluster_token_file = r.spot_at("token_file");
    if (r.string("ca_file", c.ca_file) == Got::value) d.cluster_ca_file = r.spot_at("ca_file");
    r.duration("interval", Duration{100}, c.interval);
}

}  // namespace dnsd::config
