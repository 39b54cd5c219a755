// The entry points, and step 1 of draft.hpp at the top level: which section
// each table is and the order they are read in.

#include "dnsd/config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include "dnsd/config/draft.hpp"
#include "dnsd/config/sections.hpp"
#include "dnsd/config/table_reader.hpp"

namespace dnsd::config {

unsigned Server::thread_count() const noexcept {
    return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
}

void read_section(TableReader& parent, std::string_view name, ReadTable read, Draft& d) {
    const std::string key = parent.key(name);
    if (const auto* t = parent.table(name, "expected a table ([" + key + "])")) {
        TableReader r(*t, key, parent.report());
        read(r, d);
    }
}

void read_entries(TableReader& parent, std::string_view name, ReadTable read, Draft& d) {
    if (const auto* entries = parent.tables(name)) {
        for (const auto& item : *entries) {
            TableReader r(*item.as_table(), parent.key(name), parent.report());
            read(r, d);
        }
    }
}

namespace {

void parse(const toml::table& root, Draft& d, Report& report) {
    TableReader r(root, "", report);
    Server& server = d.config.server;
    // Defaults of the file that the struct does not have: code that builds
    // a Server itself starts from nothing.
    server.explain_allow.prefixes = {*Prefix::parse("127.0.0.0/8"), *Prefix::parse("::1")};
    read_section(r, "server", read_server, d);
    if (server.listen.empty()) server.listen.push_back(*Endpoint::parse("127.0.0.1:53"));
    read_section(r, "control", read_control, d);
    read_section(r, "rate_limit", read_rate_limit, d);
    read_section(r, "cluster", read_cluster, d);
    read_section(r, "geo", read_geo, d);
    if (const auto* t = r.table("probes", "expected [probes.NAME] tables")) read_probes(*t, d, report);
    if (const auto* t = r.table("sites", "expected [sites.NAME] tables")) read_sites(*t, d, report);
    if (const auto* t = r.table("tsig", "expected [tsig.NAME] tables")) read_tsig_keys(*t, d, report);
    read_entries(r, "service", read_service, d);
    read_entries(r, "alert", read_alert, d);
    d.zone_entries = r.has("zone");
    read_entries(r, "zone", read_zone, d);
}

Config read(std::string_view text, Report& report) {
    toml::table root;
    try {
        root = toml::parse(text, report.path());
    } catch (const toml::parse_error& e) {
        report.error(static_cast<int>(e.source().begin.line), "syntax", e.description());
        Config c;
        c.path = report.path();
        return c;
    }
    Draft d;
    d.config.path = report.path();
    parse(root, d, report);
    resolve(d, report);
    return validate(std::move(d), report);
}

}  // namespace

Config read_config_text(std::string_view text, const std::string& path, Diagnostics& diags) {
    Report report(path);
    Config c = read(text, report);
    diags.append(report.diagnostics());
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
