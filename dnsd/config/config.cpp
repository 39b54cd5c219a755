#include "dnsd/config/config.hpp"

#include <toml++/toml.h>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dnsd/core/name.hpp"

namespace dnsd::config {
namespace {

// Sections and keys of SPEC section 2 that later versions implement. They are
// reported as unsupported rather than as unknown, so that an operator knows
// the key is right and the binary is old.
constexpr std::string_view kLaterTables[] = {"rate_limit", "control", "geo",   "probes",
                                             "sites",      "cluster", "alert", "service"};
constexpr std::string_view kLaterServerKeys[] = {"user", "state_file", "explain_allow", "notify"};

bool contains(std::span<const std::string_view> list, std::string_view key) {
    for (auto k : list)
        if (k == key) return true;
    return false;
}

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
            if ((prefix.empty() && contains(kLaterTables, key)) ||
                (prefix == "server" && contains(kLaterServerKeys, key))) {
                error(v, full, "not supported by this version of dnsd");
            } else {
                error(v, full, "unknown key");
            }
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
        unknown_keys(t, "server", {"listen", "threads", "identity", "udp_payload", "transfer_allow"});
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
        if (const auto* n = t.get("transfer_allow")) {
            for (const auto& [text, ln] : strings(*n, "server.transfer_allow")) {
                auto p = Prefix::parse(text);
                if (!p) {
                    error(ln, "server.transfer_allow",
                          "'" + text + "' is not an address or network (\"192.0.2.0/24\", \"::1\")");
                    continue;
                }
                s.transfer_allow.prefixes.push_back(*p);
            }
        }
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
        unknown_keys(root, "", {"server", "zone"});
        if (const auto* n = root.get("server")) {
            if (const auto* t = n->as_table()) {
                server(*t, c.server);
            } else {
                error(*n, "server", "expected a table ([server])");
            }
        }
        if (c.server.listen.empty()) c.server.listen.push_back(*Endpoint::parse("127.0.0.1:53"));
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
        return c;
    }

private:
    const std::string& path_;
    Diagnostics& diags_;
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
