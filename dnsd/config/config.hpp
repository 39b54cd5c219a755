#pragma once
/// The configuration as plain structs, read from one TOML file.
///
/// read_config() never throws and never exits: every problem is appended to
/// the Diagnostics as `FILE:LINE: key: message`, and reading continues so
/// that `dnsd check` reports all of them. Unknown keys are errors.
/// toml++ stays private to dnsd/config. Thread-safe: no shared state.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/core/duration.hpp"

namespace dnsd::config {

/// How an address is checked. Defaults as SPEC section 2.
/// Flap damping figures (SPEC 9), with the defaults of RFC 2439 route flap
/// damping: each change of an address's state adds `penalty`, which halves
/// every `half_life`; above `suppress` the address counts as down until the
/// penalty has decayed below `reuse`.
struct Damping {
    unsigned penalty = 1000;
    Duration half_life{60000};
    unsigned suppress = 2000;
    unsigned reuse = 750;
};

struct Probe {
    enum class Kind : std::uint8_t { http, https, tcp, dns, exec };
    std::string name;  ///< the [probes.NAME] name, or "SITE (inline)"
    Kind kind = Kind::http;
    std::uint16_t port = 0;  ///< 0: the kind's default (80, 443, 53; tcp needs one)
    std::string path = "/";  ///< http(s)
    std::string host;        ///< Host header and SNI; empty: the address
    std::vector<unsigned> expect_status{200};
    std::string expect_body;                ///< substring the body must contain; empty: any
    bool insecure = false;                  ///< https: skip certificate and name verification
    std::string query_name;                 ///< dns: the name asked (default: the zone-less root ".")
    std::uint16_t query_type = 6;           ///< dns: SOA by default
    std::vector<unsigned> expect_rcode{0};  ///< dns: NOERROR by default
    std::vector<std::string> command;       ///< exec: argv; the address probed is in $DNSD_ADDRESS
    Duration interval{2000};
    Duration timeout{1000};
    unsigned rise = 3;
    unsigned fall = 3;
    std::optional<Address> source;  ///< local address probes are sent from
    /// Damping figures for the addresses this probe checks, used by the
    /// services that damp (`damping = true`); they win over the service's.
    std::optional<Damping> damping;
    int line = 0;

    std::uint16_t effective_port() const noexcept {
        if (port) return port;
        switch (kind) {
            case Kind::http:
                return 80;
            case Kind::https:
                return 443;
            case Kind::dns:
                return 53;
            case Kind::tcp:
            case Kind::exec:
                return 0;
        }
        return 0;
    }
};

/// The names the configuration file writes ("http", "nearest", "webhook"),
/// and back: nullopt for any other text. One table per set serves both
/// directions and the messages that list the names.
const char* to_string(Probe::Kind kind) noexcept;
std::optional<Probe::Kind> parse_probe_kind(std::string_view text) noexcept;

struct Location {
    double lat = 0;
    double lon = 0;
};

/// `probe_targets = { "ADDRESS" = "TARGET" }`: the probe of one of a
/// site's addresses connects to another address (a NAT or a VIP in front
/// of it) of the same family. Health is still that of `address`.
struct ProbeTarget {
    Address address;  ///< one of the site's addresses: what is answered
    Address target;   ///< what its probe connects to
};

struct Site {
    std::string name;
    std::optional<Location> location;
    std::vector<Address> addresses;
    std::string cname;                       ///< wire name; empty: an address site
    std::optional<Probe> probe;              ///< none: always up unless overridden
    std::vector<ProbeTarget> probe_targets;  ///< at most one per address; only with a probe
    unsigned min_up = 1;
    unsigned weight = 100;
    /// `load`: an http:// or https:// URL that reports the site's
    /// utilization (SPEC 10, spill-over); empty: none.
    std::string load;
    /// Queries per second of demand the site can take (SPEC 10); 0: not
    /// set (never a guard's reason).
    std::uint64_t capacity = 0;
    int line = 0;

    /// What the probe of `address` connects to: its probe target, or the
    /// address itself.
    Address probe_target(const Address& address) const noexcept {
        for (const auto& t : probe_targets)
            if (t.address == address) return t.target;
        return address;
    }
};

struct Service {
    /// What dnsd can hold (SPEC 3: beyond it is a config error naming the
    /// limit, never a silent cut): the sites one decision weighs, and the
    /// addresses of one answer (max_answers included).
    static constexpr std::size_t kMaxSites = 32;
    static constexpr unsigned kMaxAddresses = 64;
    enum class Policy : std::uint8_t { nearest, failover, weighted, all };
    enum class Fallback : std::uint8_t { all, none, site };
    /// `client`: weighted and max_answers pick by rendezvous hashing of the
    /// client's prefix (SPEC 9).
    enum class Stickiness : std::uint8_t { none, client };
    std::string name;                ///< wire, absolute
    std::vector<std::size_t> sites;  ///< indices into Config::sites, in the listed order
    Policy policy = Policy::failover;
    std::uint32_t ttl = 30;
    unsigned max_answers = 0;  ///< 0: no limit
    Fallback fallback = Fallback::all;
    std::size_t fallback_site = 0;  ///< when fallback == site
    /// Hold-down (SPEC 9): a site that comes back up is answered again only
    /// once up this long without interruption (0: at once), or, with
    /// `failback_manual`, once an operator resumes it.
    Duration failback{0};
    bool failback_manual = false;
    /// Flap damping of the service's addresses; `damping_figures` as
    /// written in the service (a probe's own win for its addresses).
    bool damping = false;
    std::optional<Damping> damping_figures;
    /// The TTL while a site of the service is down, held down or damped.
    std::optional<std::uint32_t> ttl_degraded;
    Stickiness stickiness = Stickiness::none;
    /// Spill-over (SPEC 10, `nearest` only): a site whose load is above
    /// this keeps a share of its clients that falls to none at 1.0. 0: off.
    double spill_at = 0;
    /// Overrides that would leave fewer sites up are refused unless forced
    /// (SPEC 10); 0: no guard.
    unsigned min_sites_up = 0;
    int line = 0;

    /// Whether answers may depend on more than the health snapshot's
    /// address states and overrides (hold-down, damping, a degraded TTL).
    bool stays_put() const noexcept {
        return failback.count() > 0 || failback_manual || damping || ttl_degraded;
    }
};

/// The damping figures in use for addresses checked by `probe` in `service`.
inline Damping damping_for(const Service& service, const Probe* probe) noexcept {
    if (probe && probe->damping) return *probe->damping;
    return service.damping_figures ? *service.damping_figures : Damping{};
}

const char* to_string(Service::Policy policy) noexcept;
std::optional<Service::Policy> parse_policy(std::string_view text) noexcept;
/// "all" or "none". A fallback site is written as the site's own name, so
/// no text parses as Fallback::site (which prints as "site").
const char* to_string(Service::Fallback fallback) noexcept;
std::optional<Service::Fallback> parse_fallback(std::string_view text) noexcept;
/// "client" reads; `none` (no `stickiness` key) prints as "none".
const char* to_string(Service::Stickiness stickiness) noexcept;
std::optional<Service::Stickiness> parse_stickiness(std::string_view text) noexcept;

/// An operator's network override: clients in `prefix` are at `location`
/// (longest prefix wins, over the database).
struct GeoNetwork {
    Prefix prefix;
    Location location;
    int line = 0;
};

/// The HTTP control endpoint (SPEC section 6); present when [control] is.
struct Control {
    bool enabled = false;
    Endpoint listen;        ///< default 127.0.0.1:8053; unused with a unix_path
    std::string unix_path;  ///< `listen = "unix:PATH"`: a Unix domain socket (mode 0660) instead
    std::string token;      ///< read from token_file; empty: state changes are refused
    std::string token_file;
    std::string tls_cert;  ///< PEM certificate chain: HTTPS instead of HTTP (with tls_key)
    std::string tls_key;   ///< PEM private key
    int line = 0;
    /// The listener as the operator wrote it ("127.0.0.1:8053", "unix:/run/dnsd.sock").
    std::string where() const { return unix_path.empty() ? listen.str() : "unix:" + unix_path; }
};

/// Response rate limiting (SPEC [rate_limit]), per client /24 or /56.
struct RateLimit {
    std::uint32_t per_second = 0;  ///< responses_per_second; 0: off
    std::uint32_t burst = 0;       ///< bucket size; 0: responses_per_second
    std::uint32_t slip = 2;        ///< every Nth limited answer sent truncated; 0: none, 1: all
    int line = 0;
};

/// Other dnsd instances whose probe verdicts count (SPEC section 8).
struct Cluster {
    bool enabled = false;
    std::vector<std::string> peers;  ///< control URLs, as written
    unsigned quorum = 1;             ///< vantage points (this one included) that must see an address down
    std::string token;  ///< read from token_file; empty: peers are asked and answered without one
    std::string token_file;
    std::string ca_file;      ///< https:// peers are verified against these CAs; empty: the system's
    Duration interval{1000};  ///< how often each peer is asked
    int line = 0;
};

struct Geo {
    std::vector<std::string> databases;  ///< mmdb paths, resolved against the config file's directory
    bool ecs = true;                     ///< honour EDNS Client Subnet (RFC 7871)
    std::vector<GeoNetwork> networks;
    int line = 0;
};

struct Server {
    std::vector<Endpoint> listen;      ///< UDP and TCP on each; default 127.0.0.1:53
    unsigned threads = 0;              ///< 0: one per core
    std::string identity;              ///< id.server, hostname.bind and NSID; empty: none
    std::uint16_t udp_payload = 1232;  ///< largest UDP answer we send (512..4096)
    Acl transfer_allow;                ///< who may AXFR
    Acl explain_allow;                 ///< who may ask CH TXT explanations and health.server
    std::string state_file;            ///< overrides and last health; empty: none
    std::string user;                  ///< drop privileges to this user after binding; empty: stay
    int user_line = 0;                 ///< where `user` was given
    bool user_known = true;            ///< `user` exists on the machine that read the config
    std::vector<Endpoint> notify;      ///< secondaries to NOTIFY after a reload changes a serial
    /// The [tsig.NAME] key transfers must be signed with, and NOTIFY is
    /// signed with (as written: NAME); empty: none.
    std::string transfer_key;
    unsigned query_log = 0;          ///< log one query in this many (0: none)
    unsigned tcp_connections = 256;  ///< open TCP connections per worker, at most
    unsigned tcp_per_client = 16;    ///< from one client address per worker, at most
    Duration tcp_idle_timeout{10'000};
    Duration tcp_lifetime{120'000};
    /// IXFR journal of each zone: versions and bytes of differences kept.
    unsigned ixfr_versions = 20;
    std::uint64_t ixfr_memory = 16u << 20;

    /// `threads`, with 0 resolved to the number of cores.
    unsigned thread_count() const noexcept;
    /// Worker threads in all: `thread_count()` UDP threads per listen
    /// address and as many TCP threads.
    unsigned worker_count() const noexcept {
        return thread_count() * static_cast<unsigned>(listen.size() + 1);
    }
};

/// A TSIG key (RFC 8945): a [tsig.NAME] table, its secret read from its
/// secret_file.
struct TsigKey {
    enum class Algorithm : std::uint8_t { hmac_sha256, hmac_sha384, hmac_sha512 };
    std::string name;  ///< NAME as written
    std::string wire;  ///< NAME as a lower-case absolute wire name: what TSIG records carry
    Algorithm algorithm = Algorithm::hmac_sha256;
    std::string secret_file;           ///< resolved against the config file's directory
    std::vector<std::uint8_t> secret;  ///< decoded from the file's base64
    int line = 0;
};

const char* to_string(TsigKey::Algorithm algorithm) noexcept;
std::optional<TsigKey::Algorithm> parse_tsig_algorithm(std::string_view text) noexcept;

/// A TSIG secret file's contents: the bare base64 secret (as `tsig-keygen
/// -a ...` would not print it, but operators paste it), BIND's `key "name"
/// { algorithm ...; secret "..."; };` (tsig-keygen, ldns' and BIND's
/// output), or a `Key: ...` line of a private key file (ldns-keygen, dnssec-keygen).
/// The decoded secret, or why not; `algorithm` receives the algorithm the
/// file names, when it names one.
struct TsigSecret {
    std::vector<std::uint8_t> secret;
    std::string algorithm;  ///< as the file writes it ("hmac-sha256"); empty: it names none
    std::string error;      ///< empty when the secret is good
};
TsigSecret parse_tsig_secret(std::string_view text);

struct Zone {
    std::string origin;  ///< wire format, absolute
    std::string file;    ///< path, resolved against the config file's directory
    /// DNSSEC (SPEC 11): the directory of the zone's key pairs, resolved
    /// like `file`; empty: the zone is not signed.
    std::string dnssec;
    int line = 0;  ///< line of the [[zone]] entry, for diagnostics
};

/// Where events go (SPEC section 7): one [[alert]] entry.
struct Alert {
    enum class Kind : std::uint8_t { webhook, exec };
    Kind kind = Kind::webhook;
    std::string url;                   ///< webhook: an http:// or https:// URL (parse_url accepts it)
    std::vector<std::string> command;  ///< exec: argv; a string in the file becomes /bin/sh -c STRING
    Duration timeout{5000};            ///< one attempt: connect to response, or start to exit
    unsigned retries = 3;              ///< further attempts after a failure (0..10)
    int line = 0;
};

const char* to_string(Alert::Kind kind) noexcept;
std::optional<Alert::Kind> parse_alert_kind(std::string_view text) noexcept;

/// A webhook URL taken apart: http://host[:port][/path][?query], or https.
struct Url {
    bool tls = false;
    std::string host;          ///< a name or an address, without brackets
    std::uint16_t port = 0;    ///< explicit, or 80 / 443
    bool default_port = true;  ///< no port was written (the Host header then has none)
    std::string target;        ///< path and query, at least "/"; the fragment is dropped
};

/// Parses an http:// or https:// URL (scheme case-insensitive). The host is
/// a DNS name, an IPv4 address or an IPv6 address in brackets; user info,
/// spaces and control characters are refused. nullopt when not such a URL.
std::optional<Url> parse_url(std::string_view text);

struct Config {
    std::string path;  ///< the config file as given
    Server server;
    std::vector<Zone> zones;
    std::vector<Site> sites;  ///< in the order of the file
    std::vector<Service> services;
    Geo geo;
    Control control;
    Cluster cluster;
    RateLimit rate_limit;
    std::vector<Alert> alerts;  ///< in the order of the file
    std::vector<TsigKey> tsig;  ///< [tsig.NAME] keys, by name
};

/// Worst-case time for a probed address to be taken out of answers:
/// interval x fall + timeout.
inline Duration failover_time(const Probe& p) {
    return p.interval * static_cast<long>(p.fall) + p.timeout;
}

/// Reads and validates `path`. The returned Config is only meaningful when
/// `diags.has_errors()` is false.
Config read_config(const std::string& path, Diagnostics& diags);

/// As read_config, from text; `path` is used in diagnostics and to resolve
/// relative zone file paths.
Config read_config_text(std::string_view text, const std::string& path, Diagnostics& diags);

}  // namespace dnsd::config
