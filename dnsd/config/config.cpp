#include "dnsd/config/config.hpp"

#include <pwd.h>
#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "dnsd/core/name.hpp"

namespace dnsd::config {

unsigned Server::thread_count() const noexcept {
    return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
}
namespace {

// Everything a reader of one file needs to report problems.
class Reader {
public:
    Reader(const std::string& path, Diagnostics& diags) : path_(path), diags_(diags) {}

    int line(const toml::node& n) const { return static_cast<int>(n.source().begin.line); }

    void error(const toml::node& n, std::string_view key, std::string_view message) {
        diags_.error(path_, line(n), std::string(key) + ": " + std::string(message));
    }
    void error(int line, std::string_view key, std::string_view message) {
        diags_.error(path_, line, std::string(key) + ": " + std::string(message));
    }

    // Reports every key of `table` that is not in `known`.
    void unknown_keys(const toml::table& table, std::string_view prefix,
                      std::initializer_list<std::string_view> known) {
        for (const auto& [k, v] : table) {
            const std::string_view key = k.str();
            bool ok = false;
            for (auto kk : known) ok |= kk == key;
            if (ok) continue;
            const std::string full =
                prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
            error(v, full, "unknown key");
        }
    }

    const std::string* string(const toml::node& n, std::string_view key) {
        if (const auto* s = n.as_string()) return &s->get();
        error(n, key, "expected a string");
        return nullptr;
    }

    std::optional<std::int64_t> integer(const toml::node& n, std::string_view key, std::int64_t min,
                                        std::int64_t max) {
        const auto* i = n.as_integer();
        if (!i) {
            error(n, key, "expected an integer");
            return std::nullopt;
        }
        if (i->get() < min || i->get() > max) {
            error(n, key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
            return std::nullopt;
        }
        return i->get();
    }

    // An array of strings (a single string is accepted as a list of one).
    std::vector<std::pair<std::string, int>> strings(const toml::node& n, std::string_view key) {
        std::vector<std::pair<std::string, int>> out;
        if (const auto* s = n.as_string()) {
            out.emplace_back(s->get(), line(n));
        } else if (const auto* a = n.as_array()) {
            for (const auto& item : *a) {
                if (const auto* s2 = item.as_string()) {
                    out.emplace_back(s2->get(), line(item));
                } else {
                    error(item, key, "expected a string");
                }
            }
        } else {
            error(n, key, "expected a list of strings");
        }
        return out;
    }

    void server(const toml::table& t, Server& s) {
        unknown_keys(t, "server",
                     {"listen", "threads", "identity", "udp_payload", "transfer_allow", "explain_allow",
                      "state_file", "notify", "query_log", "tcp_connections", "tcp_per_client",
                      "tcp_idle_timeout", "tcp_lifetime", "user"});
        if (const auto* n = t.get("listen")) {
            s.listen.clear();
            const auto entries = strings(*n, "server.listen");
            if (entries.empty() && n->is_array()) error(*n, "server.listen", "expected at least one address");
            for (const auto& [text, ln] : entries) {
                auto ep = Endpoint::parse(text);
                if (!ep) {
                    error(ln, "server.listen",
                          "'" + text + "' is not an address with a port (\"127.0.0.1:53\", \"[::1]:53\")");
                    continue;
                }
                bool duplicate = false;
                for (const auto& e : s.listen) duplicate |= e == *ep;
                if (duplicate) {
                    error(ln, "server.listen", "'" + text + "' is listed twice");
                    continue;
                }
                s.listen.push_back(*ep);
            }
        }
        if (const auto* n = t.get("threads")) {
            if (auto v = integer(*n, "server.threads", 0, 1024)) s.threads = static_cast<unsigned>(*v);
        }
        if (const auto* n = t.get("identity")) {
            if (const auto* v = string(*n, "server.identity")) {
                if (v->size() > 255) {
                    error(*n, "server.identity", "longer than 255 bytes (it is sent as one TXT string)");
                } else {
                    s.identity = *v;
                }
            }
        }
        if (const auto* n = t.get("udp_payload")) {
            if (auto v = integer(*n, "server.udp_payload", 512, 4096))
                s.udp_payload = static_cast<std::uint16_t>(*v);
        }
        if (const auto* n = t.get("transfer_allow")) s.transfer_allow = acl(*n, "server.transfer_allow");
        if (const auto* n = t.get("explain_allow")) s.explain_allow = acl(*n, "server.explain_allow");
        if (const auto* n = t.get("notify")) {
            for (const auto& [text, ln] : strings(*n, "server.notify")) {
                // A secondary's address, with its port or the DNS port.
                auto ep = Endpoint::parse(text);
                if (!ep)
                    if (auto a = Address::parse(text)) ep = Endpoint{*a, 53};
                if (!ep) {
                    error(ln, "server.notify",
                          "'" + text +
                              "' is not an address, with or without a port (\"192.0.2.53\", \"[::1]:5300\")");
                    continue;
                }
                s.notify.push_back(*ep);
            }
        }
        if (const auto* n = t.get("user")) {
            if (const auto* v = string(*n, "server.user")) {
                // Checked here so that `dnsd check` on the target machine says so.
                if (v->empty() || !::getpwnam(v->c_str()))
                    error(*n, "server.user", "no user named '" + *v + "' on this machine");
                else
                    s.user = *v;
            }
        }
        if (const auto* n = t.get("tcp_connections"))
            if (auto v = integer(*n, "server.tcp_connections", 1, 65'535))
                s.tcp_connections = static_cast<unsigned>(*v);
        if (const auto* n = t.get("tcp_per_client"))
            if (auto v = integer(*n, "server.tcp_per_client", 1, 65'535))
                s.tcp_per_client = static_cast<unsigned>(*v);
        if (const auto* n = t.get("tcp_idle_timeout"))
            if (auto d = duration(*n, "server.tcp_idle_timeout", Duration{100})) s.tcp_idle_timeout = *d;
        if (const auto* n = t.get("tcp_lifetime"))
            if (auto d = duration(*n, "server.tcp_lifetime", Duration{1000})) s.tcp_lifetime = *d;
        if (const auto* n = t.get("query_log")) {
            if (auto v = integer(*n, "server.query_log", 0, 1'000'000'000))
                s.query_log = static_cast<unsigned>(*v);
        }
        if (const auto* n = t.get("state_file")) {
            if (const auto* v = string(*n, "server.state_file")) {
                std::filesystem::path p(*v);
                if (!v->empty() && p.is_relative()) p = std::filesystem::path(path_).parent_path() / p;
                s.state_file = v->empty() ? std::string() : p.lexically_normal().string();
            }
        }
    }

    Acl acl(const toml::node& n, std::string_view key) {
        Acl out;
        for (const auto& [text, ln] : strings(n, key)) {
            auto p = Prefix::parse(text);
            if (!p) {
                error(ln, key, "'" + text + "' is not an address or network (\"192.0.2.0/24\", \"::1\")");
                continue;
            }
            out.prefixes.push_back(*p);
        }
        return out;
    }

    std::optional<Duration> duration(const toml::node& n, std::string_view key, Duration min) {
        const auto* v = n.as_string();
        auto d = v ? parse_duration(v->get()) : std::nullopt;
        if (!d) {
            error(n, key, "expected a duration such as \"500ms\", \"2s\" or \"1m\"");
            return std::nullopt;
        }
        if (*d < min) {
            error(n, key, "must be at least " + std::to_string(min.count()) + "ms");
            return std::nullopt;
        }
        return d;
    }

    std::vector<unsigned> numbers(const toml::node& n, std::string_view key, std::int64_t min,
                                  std::int64_t max) {
        std::vector<unsigned> out;
        if (n.is_integer()) {
            if (auto v = integer(n, key, min, max)) out.push_back(static_cast<unsigned>(*v));
        } else if (const auto* a = n.as_array(); a && !a->empty()) {
            for (const auto& item : *a)
                if (auto v = integer(item, key, min, max)) out.push_back(static_cast<unsigned>(*v));
        } else {
            error(n, key, "expected an integer or a non-empty list of integers");
        }
        return out;
    }

    std::optional<Location> location(const toml::node& n, const std::string& key) {
        const auto* lt = n.as_table();
        auto number = [](const toml::node* x) -> std::optional<double> {
            if (!x) return std::nullopt;
            if (const auto* f = x->as_floating_point()) return f->get();
            if (const auto* i = x->as_integer()) return static_cast<double>(i->get());
            return std::nullopt;
        };
        const auto la = number(lt ? lt->get("lat") : nullptr), lo = number(lt ? lt->get("lon") : nullptr);
        if (!lt || !la || !lo || lt->size() != 2) {
            error(n, key, "expected { lat = DEGREES, lon = DEGREES }");
            return std::nullopt;
        }
        if (*la < -90 || *la > 90 || *lo < -180 || *lo > 180) {
            error(n, key, "lat must be within -90..90 and lon within -180..180");
            return std::nullopt;
        }
        return Location{*la, *lo};
    }

    void control(const toml::table& t, Control& ctl) {
        unknown_keys(t, "control", {"listen", "token_file"});
        ctl.enabled = true;
        ctl.line = line(t);
        ctl.listen = *Endpoint::parse("127.0.0.1:8053");
        if (const auto* n = t.get("listen")) {
            if (const auto* v = string(*n, "control.listen")) {
                if (auto ep = Endpoint::parse(*v)) {
                    ctl.listen = *ep;
                } else {
                    error(*n, "control.listen",
                          "'" + *v + "' is not an address with a port (\"127.0.0.1:8053\", \"[::1]:8053\")");
                }
            }
        }
        if (const auto* n = t.get("token_file"))
            token_file(*n, "control.token_file", ctl.token_file, ctl.token);
    }

    /// A bearer token from the first line of a file (relative to the config).
    void token_file(const toml::node& n, std::string_view key, std::string& file, std::string& token) {
        const auto* v = string(n, key);
        if (!v) return;
        std::filesystem::path p(*v);
        if (p.is_relative()) p = std::filesystem::path(path_).parent_path() / p;
        file = p.lexically_normal().string();
        // Only a regular file: /dev/zero would be read until memory runs out,
        // a FIFO would block the reader.
        std::error_code ec;
        const auto status = std::filesystem::status(file, ec);
        if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
            error(n, key, "cannot read " + file + ": not a regular file");
            return;
        }
        std::ifstream in(file);
        std::string line_text;
        if (!in || !std::getline(in, line_text)) {
            error(n, key, "cannot read " + file);
            return;
        }
        while (!line_text.empty() && (line_text.back() == '\r' || line_text.back() == ' '))
            line_text.pop_back();
        if (line_text.size() < 16)
            error(n, key, "the token in " + file + " is shorter than 16 characters");
        else
            token = line_text;
    }

    void rate_limit(const toml::table& t, RateLimit& r) {
        unknown_keys(t, "rate_limit", {"responses_per_second", "burst", "slip"});
        r.line = line(t);
        if (const auto* n = t.get("responses_per_second"))
            if (auto v = integer(*n, "rate_limit.responses_per_second", 0, 1'000'000))
                r.per_second = static_cast<std::uint32_t>(*v);
        if (const auto* n = t.get("burst"))
            if (auto v = integer(*n, "rate_limit.burst", 0, 10'000'000))
                r.burst = static_cast<std::uint32_t>(*v);
        if (const auto* n = t.get("slip"))
            if (auto v = integer(*n, "rate_limit.slip", 0, 10)) r.slip = static_cast<std::uint32_t>(*v);
    }

    void cluster(const toml::table& t, Cluster& c) {
        unknown_keys(t, "cluster", {"peers", "quorum", "token_file", "interval"});
        c.enabled = true;
        c.line = line(t);
        if (const auto* n = t.get("peers")) {
            for (const auto& [text, ln] : strings(*n, "cluster.peers")) {
                const auto url = parse_url(text);
                if (!url || url->tls) {
                    error(ln, "cluster.peers",
                          "'" + text + "' is not a peer's control URL (\"http://192.0.2.53:8053\")");
                    continue;
                }
                if (std::find(c.peers.begin(), c.peers.end(), text) != c.peers.end()) {
                    error(ln, "cluster.peers", "'" + text + "' is listed twice");
                    continue;
                }
                c.peers.push_back(text);
            }
        }
        if (c.peers.empty()) error(t, "cluster.peers", "expected at least one peer's control URL");
        if (const auto* n = t.get("quorum")) {
            if (auto v = integer(*n, "cluster.quorum", 1, 64)) {
                c.quorum = static_cast<unsigned>(*v);
                if (!c.peers.empty() && c.quorum > c.peers.size() + 1)
                    error(*n, "cluster.quorum",
                          std::to_string(c.quorum) + " is more vantage points than there are (" +
                              std::to_string(c.peers.size() + 1) + ": the peers and this instance)");
            }
        } else {
            // A majority of the vantage points by default.
            c.quorum = static_cast<unsigned>((c.peers.size() + 1) / 2 + 1);
        }
        if (const auto* n = t.get("token_file")) token_file(*n, "cluster.token_file", c.token_file, c.token);
        if (const auto* n = t.get("interval")) {
            if (auto d = duration(*n, "cluster.interval", Duration{100})) c.interval = *d;
        }
    }

    void geo(const toml::table& t, Geo& g) {
        unknown_keys(t, "geo", {"database", "ecs", "networks"});
        g.line = line(t);
        if (const auto* n = t.get("database")) {
            for (const auto& [text, ln] : strings(*n, "geo.database")) {
                if (text.empty()) {
                    error(ln, "geo.database", "empty path");
                    continue;
                }
                std::filesystem::path p(text);
                if (p.is_relative()) p = std::filesystem::path(path_).parent_path() / p;
                g.databases.push_back(p.lexically_normal().string());
            }
        }
        if (const auto* n = t.get("ecs")) {
            if (const auto* b = n->as_boolean())
                g.ecs = b->get();
            else
                error(*n, "geo.ecs", "expected true or false");
        }
        if (const auto* n = t.get("networks")) {
            const auto* a = n->as_array();
            if (!a || !a->is_array_of_tables()) {
                error(*n, "geo.networks", "expected [[geo.networks]] entries");
                return;
            }
            for (const auto& item : *a) {
                const auto& e = *item.as_table();
                unknown_keys(e, "geo.networks", {"prefix", "location"});
                GeoNetwork net;
                net.line = line(e);
                bool ok = true;
                const auto* p = e.get("prefix");
                const auto* l = e.get("location");
                if (!p) {
                    error(e, "geo.networks.prefix", "missing (a network such as \"10.20.0.0/16\")");
                    ok = false;
                } else if (const auto* v = string(*p, "geo.networks.prefix")) {
                    auto prefix = Prefix::parse(*v);
                    if (!prefix) {
                        error(*p, "geo.networks.prefix",
                              "'" + *v +
                                  "' is not a network (\"10.20.0.0/16\", \"2001:db8::/32\"; no host bits)");
                        ok = false;
                    } else {
                        for (const auto& other : g.networks)
                            if (other.prefix == *prefix) {
                                error(*p, "geo.networks.prefix",
                                      "'" + *v + "' is listed twice (also at line " +
                                          std::to_string(other.line) + ")");
                                ok = false;
                            }
                        net.prefix = *prefix;
                    }
                } else {
                    ok = false;
                }
                if (!l) {
                    error(e, "geo.networks.location", "missing ({ lat = DEGREES, lon = DEGREES })");
                    ok = false;
                } else if (auto loc = location(*l, "geo.networks.location")) {
                    net.location = *loc;
                } else {
                    ok = false;
                }
                if (ok) g.networks.push_back(net);
            }
        }
    }

    // A probe from a [probes.NAME] table or a site's inline probe table.
    std::optional<Probe> probe(const toml::table& t, const std::string& name, const std::string& key) {
        unknown_keys(
            t, key,
            {"type", "port", "path", "host", "expect_status", "expect_body", "insecure", "query",
             "query_type", "expect_rcode", "command", "interval", "timeout", "rise", "fall", "source"});
        Probe p;
        p.name = name;
        p.line = line(t);
        bool ok = true;
        const auto* type = t.get("type");
        if (!type) {
            error(t, key + ".type", "missing (http, https, tcp, dns or exec)");
            return std::nullopt;
        }
        const std::string* kind = string(*type, key + ".type");
        if (!kind) return std::nullopt;
        if (*kind == "http")
            p.kind = Probe::Kind::http;
        else if (*kind == "https")
            p.kind = Probe::Kind::https;
        else if (*kind == "tcp")
            p.kind = Probe::Kind::tcp;
        else if (*kind == "dns")
            p.kind = Probe::Kind::dns;
        else if (*kind == "exec")
            p.kind = Probe::Kind::exec;
        else {
            error(*type, key + ".type",
                  "'" + *kind + "' is not a probe type (http, https, tcp, dns or exec)");
            return std::nullopt;
        }
        const bool web = p.kind == Probe::Kind::http || p.kind == Probe::Kind::https;
        // Keys that mean something only for some types: a misplaced one is
        // an error, as a typo would be.
        auto only = [&](const char* k, bool allowed, const char* types) {
            const auto* n = t.get(k);
            if (n && !allowed) {
                error(*n, key + "." + k, std::string("only for ") + types + " probes");
                ok = false;
                return static_cast<const toml::node*>(nullptr);
            }
            return n;
        };
        if (const auto* n = only("port", p.kind != Probe::Kind::exec, "http, https, tcp and dns")) {
            if (auto v = integer(*n, key + ".port", 1, 65535))
                p.port = static_cast<std::uint16_t>(*v);
            else
                ok = false;
        }
        if (p.kind == Probe::Kind::tcp && !p.port) {
            error(t, key + ".port", "missing (a tcp probe needs the port to connect to)");
            ok = false;
        }
        if (const auto* n = only("path", web, "http and https")) {
            const auto* v = string(*n, key + ".path");
            if (v && !v->starts_with("/")) {
                error(*n, key + ".path", "must start with '/'");
                ok = false;
            } else if (v) {
                p.path = *v;
            }
        }
        if (const auto* n = only("host", web, "http and https")) {
            if (const auto* v = string(*n, key + ".host")) p.host = *v;
        }
        if (const auto* n = only("expect_status", web, "http and https")) {
            p.expect_status = numbers(*n, key + ".expect_status", 100, 599);
            if (p.expect_status.empty()) ok = false;
        }
        if (const auto* n = only("expect_body", web, "http and https")) {
            if (const auto* v = string(*n, key + ".expect_body")) p.expect_body = *v;
        }
        if (const auto* n = only("insecure", p.kind == Probe::Kind::https, "https")) {
            if (const auto* b = n->as_boolean())
                p.insecure = b->get();
            else
                error(*n, key + ".insecure", "expected true or false");
        }
        if (const auto* n = only("query", p.kind == Probe::Kind::dns, "dns")) {
            const auto* v = string(*n, key + ".query");
            if (v && !name_from_text(*v)) {
                error(*n, key + ".query", "'" + *v + "' is not a domain name");
                ok = false;
            } else if (v) {
                p.query_name = *v;
            }
        }
        if (const auto* n = only("query_type", p.kind == Probe::Kind::dns, "dns")) {
            if (const auto* v = string(*n, key + ".query_type")) {
                static constexpr std::pair<std::string_view, std::uint16_t> kTypes[] = {
                    {"A", 1}, {"NS", 2}, {"SOA", 6}, {"MX", 15}, {"TXT", 16}, {"AAAA", 28}};
                bool found = false;
                for (auto [tn, tv] : kTypes)
                    if (tn == *v) {
                        p.query_type = tv;
                        found = true;
                    }
                if (!found) {
                    error(*n, key + ".query_type", "expected one of A, AAAA, NS, SOA, MX, TXT");
                    ok = false;
                }
            }
        }
        if (const auto* n = only("expect_rcode", p.kind == Probe::Kind::dns, "dns")) {
            static constexpr std::pair<std::string_view, unsigned> kCodes[] = {
                {"NOERROR", 0},  {"FORMERR", 1}, {"SERVFAIL", 2},
                {"NXDOMAIN", 3}, {"NOTIMP", 4},  {"REFUSED", 5}};
            p.expect_rcode.clear();
            for (const auto& [text, ln] : strings(*n, key + ".expect_rcode")) {
                bool found = false;
                for (auto [cn, cv] : kCodes)
                    if (cn == text) {
                        p.expect_rcode.push_back(cv);
                        found = true;
                    }
                if (!found)
                    error(ln, key + ".expect_rcode",
                          "'" + text + "' is not an rcode (NOERROR, NXDOMAIN, REFUSED, ...)");
            }
            if (p.expect_rcode.empty()) ok = false;
        }
        if (const auto* n = only("command", p.kind == Probe::Kind::exec, "exec")) {
            if (const auto* v = n->as_string()) {
                p.command = {"/bin/sh", "-c", v->get()};
            } else {
                for (const auto& [text, ln] : strings(*n, key + ".command")) p.command.push_back(text);
            }
            if (p.command.empty() || p.command[0].empty()) {
                error(*n, key + ".command", "expected a command line or a non-empty list (argv)");
                ok = false;
            }
        }
        if (p.kind == Probe::Kind::exec && p.command.empty() && !t.get("command")) {
            error(t, key + ".command", "missing (the command an exec probe runs)");
            ok = false;
        }
        if (const auto* n = t.get("interval")) {
            if (auto d = duration(*n, key + ".interval", Duration{100}))
                p.interval = *d;
            else
                ok = false;
        }
        if (const auto* n = t.get("timeout")) {
            if (auto d = duration(*n, key + ".timeout", Duration{10}))
                p.timeout = *d;
            else
                ok = false;
        }
        if (p.timeout >= p.interval) {
            const auto* n =
                t.get("timeout") ? t.get("timeout") : (t.get("interval") ? t.get("interval") : &t);
            error(*n, key + ".timeout",
                  "must be below the interval (" + std::to_string(p.timeout.count()) + "ms is not below " +
                      std::to_string(p.interval.count()) + "ms)");
            ok = false;
        }
        if (const auto* n = t.get("rise")) {
            if (auto v = integer(*n, key + ".rise", 1, 100))
                p.rise = static_cast<unsigned>(*v);
            else
                ok = false;
        }
        if (const auto* n = t.get("fall")) {
            if (auto v = integer(*n, key + ".fall", 1, 100))
                p.fall = static_cast<unsigned>(*v);
            else
                ok = false;
        }
        if (const auto* n = t.get("source")) {
            const auto* v = string(*n, key + ".source");
            auto a = v ? Address::parse(*v) : std::nullopt;
            if (!a) {
                if (v) error(*n, key + ".source", "'" + *v + "' is not an IP address");
                ok = false;
            } else {
                p.source = *a;
            }
        }
        if (!ok) return std::nullopt;
        return p;
    }

    void probes(const toml::table& t, std::vector<std::pair<std::string, std::optional<Probe>>>& out) {
        for (const auto& [k, v] : t) {
            const std::string name(k.str());
            const auto* table = v.as_table();
            if (!table) {
                error(v, "probes." + name, "expected a table ([probes." + name + "])");
                continue;
            }
            out.emplace_back(name, probe(*table, name, "probes." + name));
        }
    }

    void sites(const toml::table& t, Config& c,
               const std::vector<std::pair<std::string, std::optional<Probe>>>& named) {
        // toml++ keeps keys sorted; sites are kept in the order of the file.
        std::vector<std::pair<std::string, const toml::table*>> ordered;
        for (const auto& [k, v] : t) {
            const std::string name(k.str());
            if (const auto* table = v.as_table()) {
                ordered.emplace_back(name, table);
            } else {
                error(v, "sites." + name, "expected a table ([sites." + name + "])");
            }
        }
        std::stable_sort(ordered.begin(), ordered.end(),
                         [&](const auto& a, const auto& b) { return line(*a.second) < line(*b.second); });
        for (const auto& [name, table] : ordered) site(*table, name, c, named);
    }

    void site(const toml::table& t, const std::string& name, Config& c,
              const std::vector<std::pair<std::string, std::optional<Probe>>>& named) {
        const std::string key = "sites." + name;
        unknown_keys(t, key, {"location", "addresses", "cname", "probe", "min_up", "weight"});
        Site s;
        s.name = name;
        s.line = line(t);
        bool ok = true;
        if (const auto* n = t.get("location")) {
            if (auto loc = location(*n, key + ".location"))
                s.location = *loc;
            else
                ok = false;
        }
        if (const auto* n = t.get("addresses")) {
            for (const auto& [text, ln] : strings(*n, key + ".addresses")) {
                auto a = Address::parse(text);
                if (!a) {
                    error(ln, key + ".addresses", "'" + text + "' is not an IP address");
                    ok = false;
                    continue;
                }
                if (std::find(s.addresses.begin(), s.addresses.end(), *a) != s.addresses.end()) {
                    error(ln, key + ".addresses", "'" + text + "' is listed twice");
                    ok = false;
                    continue;
                }
                s.addresses.push_back(*a);
            }
        }
        if (const auto* n = t.get("cname")) {
            if (const auto* v = string(*n, key + ".cname")) {
                std::string absolute = *v;
                if (!absolute.empty() && absolute.back() != '.') absolute += '.';
                auto w = name_from_text(absolute);
                if (!w || v->empty()) {
                    error(*n, key + ".cname", "'" + *v + "' is not a domain name");
                    ok = false;
                } else {
                    s.cname = *w;
                }
            }
        }
        if (s.addresses.empty() && s.cname.empty() && ok) {
            error(t, key, "has neither addresses nor cname");
            ok = false;
        }
        if (!s.addresses.empty() && !s.cname.empty()) {
            error(*t.get("cname"), key + ".cname", "a site has either addresses or a cname, not both");
            ok = false;
        }
        if (const auto* n = t.get("probe")) {
            if (!s.cname.empty()) {
                error(*n, key + ".probe", "a cname site has no addresses to probe");
                ok = false;
            } else if (const auto* ref = n->as_string()) {
                auto it = std::find_if(named.begin(), named.end(),
                                       [&](const auto& e) { return e.first == ref->get(); });
                if (it == named.end()) {
                    error(*n, key + ".probe",
                          "no probe named '" + ref->get() + "' ([probes." + ref->get() + "])");
                    ok = false;
                } else if (!it->second) {
                    ok = false;  // its own errors are reported at [probes.NAME]
                } else {
                    s.probe = it->second;
                }
            } else if (const auto* inline_table = n->as_table()) {
                s.probe = probe(*inline_table, name + " (inline)", key + ".probe");
                if (!s.probe) ok = false;
            } else {
                error(*n, key + ".probe", "expected a probe name or an inline table");
                ok = false;
            }
        }
        if (s.probe && s.probe->kind == Probe::Kind::tcp && !s.probe->port) ok = false;
        if (const auto* n = t.get("min_up")) {
            if (auto v = integer(*n, key + ".min_up", 1, 1000))
                s.min_up = static_cast<unsigned>(*v);
            else
                ok = false;
        }
        if (const auto* n = t.get("weight")) {
            if (auto v = integer(*n, key + ".weight", 0, 1000000))
                s.weight = static_cast<unsigned>(*v);
            else
                ok = false;
        }
        // Kept even when broken, so that services naming it do not also
        // report "unknown site"; the errors make the config unusable anyway.
        (void)ok;
        c.sites.push_back(std::move(s));
    }

    void service(const toml::table& t, Config& c) {
        unknown_keys(t, "service", {"name", "sites", "policy", "ttl", "max_answers", "fallback"});
        Service s;
        s.line = line(t);
        bool ok = true;
        const auto* n = t.get("name");
        if (!n) {
            error(t, "service.name",
                  "missing (the name the service answers, e.g. \"www.gslb.example.com.\")");
            ok = false;
        } else if (const auto* v = string(*n, "service.name")) {
            std::string absolute = *v;
            if (!absolute.empty() && absolute.back() != '.') absolute += '.';
            auto w = name_from_text(absolute);
            if (!w || v->empty() || *v == ".") {
                error(*n, "service.name", "'" + *v + "' is not a domain name");
                ok = false;
            } else if ((*w)[0] == 1 && (*w)[1] == '*') {
                error(*n, "service.name", "a service cannot be a wildcard name");
                ok = false;
            } else {
                s.name = *w;
                // Against every earlier entry, valid or not, so that a
                // duplicate shows even when the first has errors of its own.
                for (const auto& [other, other_line] : service_names_)
                    if (other == name_lower(s.name)) {
                        error(*n, "service.name",
                              "service " + name_to_text(s.name) + " is already defined at line " +
                                  std::to_string(other_line));
                        ok = false;
                    }
                service_names_.emplace_back(name_lower(s.name), s.line);
            }
        } else {
            ok = false;
        }
        const auto* sn = t.get("sites");
        if (!sn) {
            error(t, "service.sites", "missing (the sites that serve it, in order of preference)");
            ok = false;
        } else {
            const auto names = strings(*sn, "service.sites");
            if (names.empty() && sn->is_array()) {
                error(*sn, "service.sites", "expected at least one site");
                ok = false;
            }
            for (const auto& [text, ln] : names) {
                const std::string& wanted = text;  // clang 14 cannot capture a structured binding
                auto it = std::find_if(c.sites.begin(), c.sites.end(),
                                       [&](const Site& x) { return x.name == wanted; });
                if (it == c.sites.end()) {
                    error(ln, "service.sites", "no site named '" + text + "' ([sites." + text + "])");
                    ok = false;
                    continue;
                }
                const auto index = static_cast<std::size_t>(it - c.sites.begin());
                if (std::find(s.sites.begin(), s.sites.end(), index) != s.sites.end()) {
                    error(ln, "service.sites", "'" + text + "' is listed twice");
                    ok = false;
                    continue;
                }
                s.sites.push_back(index);
            }
        }
        if (const auto* p = t.get("policy")) {
            if (const auto* v = string(*p, "service.policy")) {
                if (*v == "nearest")
                    s.policy = Service::Policy::nearest;
                else if (*v == "failover")
                    s.policy = Service::Policy::failover;
                else if (*v == "weighted")
                    s.policy = Service::Policy::weighted;
                else if (*v == "all")
                    s.policy = Service::Policy::all;
                else {
                    error(*p, "service.policy",
                          "'" + *v + "' is not a policy (nearest, failover, weighted or all)");
                    ok = false;
                }
            } else {
                ok = false;
            }
        }
        if (s.policy == Service::Policy::nearest) {
            for (std::size_t i : s.sites)
                if (!c.sites[i].location) {
                    error(t.get("policy") ? *t.get("policy") : t, "service.policy",
                          "nearest needs a location for every site; sites." + c.sites[i].name + " has none");
                    ok = false;
                }
        }
        if (const auto* x = t.get("ttl")) {
            if (auto v = integer(*x, "service.ttl", 0, 86400))
                s.ttl = static_cast<std::uint32_t>(*v);
            else
                ok = false;
        }
        if (const auto* x = t.get("max_answers")) {
            if (auto v = integer(*x, "service.max_answers", 1, 64))
                s.max_answers = static_cast<unsigned>(*v);
            else
                ok = false;
        }
        if (const auto* f = t.get("fallback")) {
            if (const auto* v = string(*f, "service.fallback")) {
                if (*v == "all") {
                    s.fallback = Service::Fallback::all;
                } else if (*v == "none") {
                    s.fallback = Service::Fallback::none;
                } else {
                    auto it = std::find_if(s.sites.begin(), s.sites.end(),
                                           [&](std::size_t i) { return c.sites[i].name == *v; });
                    if (it == s.sites.end()) {
                        error(*f, "service.fallback",
                              "'" + *v + "' is neither \"all\", \"none\" nor one of the service's sites");
                        ok = false;
                    } else {
                        s.fallback = Service::Fallback::site;
                        s.fallback_site = *it;
                    }
                }
            } else {
                ok = false;
            }
        }
        if (ok) c.services.push_back(std::move(s));
    }

    void alert(const toml::table& t, Config& c) {
        unknown_keys(t, "alert", {"type", "url", "command", "timeout", "retries"});
        Alert a;
        a.line = line(t);
        bool ok = true;
        const auto* type = t.get("type");
        if (!type) {
            error(t, "alert.type", "missing (webhook or exec)");
            return;
        }
        const std::string* kind = string(*type, "alert.type");
        if (!kind) return;
        if (*kind == "webhook") {
            a.kind = Alert::Kind::webhook;
        } else if (*kind == "exec") {
            a.kind = Alert::Kind::exec;
        } else {
            error(*type, "alert.type", "'" + *kind + "' is not an alert type (webhook or exec)");
            return;
        }
        const bool webhook = a.kind == Alert::Kind::webhook;
        if (const auto* n = t.get("url")) {
            if (!webhook) {
                error(*n, "alert.url", "only for webhook alerts");
                ok = false;
            } else if (const auto* v = string(*n, "alert.url")) {
                if (parse_url(*v)) {
                    a.url = *v;
                } else {
                    error(*n, "alert.url",
                          "'" + *v + "' is not an http:// or https:// URL (\"http://host[:port][/path]\")");
                    ok = false;
                }
            } else {
                ok = false;
            }
        } else if (webhook) {
            error(t, "alert.url",
                  "missing (where events are POSTed, e.g. \"http://127.0.0.1:9000/dnsd-events\")");
            ok = false;
        }
        if (const auto* n = t.get("command")) {
            if (webhook) {
                error(*n, "alert.command", "only for exec alerts");
                ok = false;
            } else {
                if (const auto* v = n->as_string()) {
                    a.command = {"/bin/sh", "-c", v->get()};
                } else {
                    for (const auto& [text, ln] : strings(*n, "alert.command")) a.command.push_back(text);
                }
                if (a.command.empty() || a.command[0].empty() || (n->is_string() && a.command[2].empty())) {
                    error(*n, "alert.command", "expected a command line or a non-empty list (argv)");
                    ok = false;
                }
            }
        } else if (!webhook) {
            error(t, "alert.command", "missing (the command an exec alert runs)");
            ok = false;
        }
        if (const auto* n = t.get("timeout")) {
            if (auto d = duration(*n, "alert.timeout", Duration{10}))
                a.timeout = *d;
            else
                ok = false;
        }
        if (const auto* n = t.get("retries")) {
            if (auto v = integer(*n, "alert.retries", 0, 10))
                a.retries = static_cast<unsigned>(*v);
            else
                ok = false;
        }
        if (ok) c.alerts.push_back(std::move(a));
    }

    void zone(const toml::table& t, Config& c) {
        unknown_keys(t, "zone", {"origin", "file"});
        Zone z;
        z.line = line(t);
        const auto* o = t.get("origin");
        const auto* f = t.get("file");
        if (!o) error(t, "zone.origin", "missing (the zone's name, e.g. \"gslb.example.com.\")");
        if (!f) error(t, "zone.file", "missing (the zone file's path)");
        bool ok = o && f;
        if (o) {
            if (const auto* text = string(*o, "zone.origin")) {
                std::string absolute = *text;
                if (absolute.empty() || absolute.back() != '.') absolute += '.';
                auto wire = name_from_text(absolute);
                if (!wire || *text == "." || text->empty()) {
                    error(*o, "zone.origin", "'" + *text + "' is not a domain name");
                    ok = false;
                } else {
                    z.origin = *wire;
                    for (const auto& other : c.zones) {
                        if (name_lower(other.origin) == name_lower(z.origin)) {
                            error(*o, "zone.origin",
                                  "zone " + name_to_text(z.origin) + " is already configured at line " +
                                      std::to_string(other.line));
                            ok = false;
                        }
                    }
                }
            } else {
                ok = false;
            }
        }
        if (f) {
            if (const auto* text = string(*f, "zone.file")) {
                if (text->empty()) {
                    error(*f, "zone.file", "empty path");
                    ok = false;
                } else {
                    std::filesystem::path p(*text);
                    // Relative paths are relative to the config file, so a
                    // config and its zones move together.
                    if (p.is_relative()) p = std::filesystem::path(path_).parent_path() / p;
                    z.file = p.lexically_normal().string();
                }
            } else {
                ok = false;
            }
        }
        if (ok) c.zones.push_back(std::move(z));
    }

    Config read(std::string_view text) {
        Config c;
        c.path = path_;
        toml::table root;
        try {
            root = toml::parse(text, path_);
        } catch (const toml::parse_error& e) {
            diags_.error(path_, static_cast<int>(e.source().begin.line),
                         "syntax: " + std::string(e.description()));
            return c;
        }
        unknown_keys(root, "",
                     {"server", "zone", "probes", "sites", "service", "geo", "control", "alert", "cluster",
                      "rate_limit"});
        if (const auto* n = root.get("server")) {
            if (const auto* t = n->as_table()) {
                server(*t, c.server);
            } else {
                error(*n, "server", "expected a table ([server])");
            }
        }
        if (c.server.listen.empty()) c.server.listen.push_back(*Endpoint::parse("127.0.0.1:53"));
        if (!root.get("server") || !root["server"].as_table() ||
            !root["server"].as_table()->get("explain_allow"))
            c.server.explain_allow.prefixes = {*Prefix::parse("127.0.0.0/8"), *Prefix::parse("::1")};
        std::vector<std::pair<std::string, std::optional<Probe>>> named;
        if (const auto* n = root.get("control")) {
            if (const auto* t = n->as_table())
                control(*t, c.control);
            else
                error(*n, "control", "expected a table ([control])");
        }
        if (const auto* n = root.get("rate_limit")) {
            if (const auto* t = n->as_table())
                rate_limit(*t, c.rate_limit);
            else
                error(*n, "rate_limit", "expected a table ([rate_limit])");
        }
        if (const auto* n = root.get("cluster")) {
            if (const auto* t = n->as_table())
                cluster(*t, c.cluster);
            else
                error(*n, "cluster", "expected a table ([cluster])");
        }
        if (const auto* n = root.get("geo")) {
            if (const auto* t = n->as_table())
                geo(*t, c.geo);
            else
                error(*n, "geo", "expected a table ([geo])");
        }
        if (const auto* n = root.get("probes")) {
            if (const auto* t = n->as_table())
                probes(*t, named);
            else
                error(*n, "probes", "expected [probes.NAME] tables");
        }
        if (const auto* n = root.get("sites")) {
            if (const auto* t = n->as_table())
                sites(*t, c, named);
            else
                error(*n, "sites", "expected [sites.NAME] tables");
        }
        if (const auto* n = root.get("service")) {
            if (const auto* a = n->as_array(); a && a->is_array_of_tables()) {
                for (const auto& item : *a) service(*item.as_table(), c);
            } else {
                error(*n, "service", "expected [[service]] entries");
            }
        }
        if (const auto* n = root.get("alert")) {
            if (const auto* a = n->as_array(); a && a->is_array_of_tables()) {
                for (const auto& item : *a) alert(*item.as_table(), c);
            } else {
                error(*n, "alert", "expected [[alert]] entries");
            }
        }
        bool any_zone_entry = false;
        if (const auto* n = root.get("zone")) {
            if (const auto* a = n->as_array(); a && a->is_array_of_tables()) {
                for (const auto& item : *a) {
                    any_zone_entry = true;
                    zone(*item.as_table(), c);
                }
            } else {
                error(*n, "zone", "expected [[zone]] entries");
                any_zone_entry = true;
            }
        }
        if (!any_zone_entry) diags_.error(path_, 0, "zone: no [[zone]] configured; dnsd needs at least one");
        cross_checks(c);
        return c;
    }

    /// What only the whole file can tell: errors, and warnings about
    /// settings that work but defeat their purpose.
    void cross_checks(const Config& c) {
        if (c.cluster.enabled && !c.control.enabled)
            error(c.cluster.line, "cluster",
                  "needs [control]: peers read each other's verdicts from the control endpoint");
        if (c.cluster.enabled && c.cluster.token_file.empty())
            diags_.warning(path_, c.cluster.line,
                           "cluster: no token_file: anyone who reaches the control endpoint may read this "
                           "instance's verdicts, and peers are asked without a token");
        // A TTL far beyond the failover time keeps clients on a failed site
        // for the TTL, whatever the probes notice (SPEC 3).
        for (const auto& svc : c.services) {
            Duration slowest{0};
            for (auto i : svc.sites)
                if (c.sites[i].probe && failover_time(*c.sites[i].probe) > slowest)
                    slowest = failover_time(*c.sites[i].probe);
            const auto ttl = Duration{std::int64_t{svc.ttl} * 1000};
            if (slowest.count() == 0 || ttl <= Duration{60'000} || ttl <= 2 * slowest) continue;
            diags_.warning(path_, svc.line,
                           "service.ttl: " + std::to_string(svc.ttl) +
                               "s is long beside a worst-case failover of " +
                               std::to_string((slowest.count() + 999) / 1000) +
                               "s: resolvers may keep a failed site's addresses for up to " +
                               std::to_string(svc.ttl + (slowest.count() + 999) / 1000) +
                               "s; a TTL of 60s or less (or twice the failover time) keeps failover quick");
        }
    }

private:
    const std::string& path_;
    Diagnostics& diags_;
    std::vector<std::pair<std::string, int>> service_names_;  ///< lower-cased, with their lines
};

}  // namespace

Config read_config_text(std::string_view text, const std::string& path, Diagnostics& diags) {
    Diagnostics local;
    Reader reader(path, local);
    Config c = reader.read(text);
    local.sort_by_line();
    diags.append(local);
    return c;
}

Config read_config(const std::string& path, Diagnostics& diags) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diags.error(
            path, 0,
            "cannot read configuration: " + std::error_code(errno, std::generic_category()).message());
        Config c;
        c.path = path;
        return c;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return read_config_text(buffer.str(), path, diags);
}

}  // namespace dnsd::config
