// Fuzzes the zone file reader and the zone checks: the input is a master
// file for "example.test.", read as load::runtime reads one, then built by
// load::build_zone, the code that builds every zone dnsd serves (the
// services' records, the serial checks, the other checks). Diagnostics are
// expected; a crash, a
// sanitizer report, a leak, a hang, or a built zone that lost a record's
// name or RRset is a finding.
//
// The file is named inside a private temporary directory (created once per
// process, removed at exit) that holds one small include file, so relative
// $INCLUDEs either read that file or fail; absolute ones reach the real file
// system, where the reader must refuse what is not a regular file.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/name.hpp"
#include "dnsd/load/runtime.hpp"
#include "zones/reader.hpp"
#include "zones/zone.hpp"

namespace {

std::string& temp_dir() {
    static std::string dir;
    return dir;
}

void remove_temp_dir() {
    std::error_code ec;
    if (!temp_dir().empty()) std::filesystem::remove_all(temp_dir(), ec);
}

const std::string& zone_name() {
    static const std::string name = [] {
        char tmpl[] = "/tmp/dnsd-zone-fuzz.XXXXXX";
        if (!mkdtemp(tmpl)) std::abort();
        temp_dir() = tmpl;
        std::atexit(remove_temp_dir);
        std::ofstream(temp_dir() + "/inc.zone") << "inc 60 A 192.0.2.1\n  AAAA 2001:db8::1\n";
        return temp_dir() + "/example.test.zone";
    }();
    return name;
}

const std::string& origin() {
    static const std::string o = *dnsd::name_from_text("example.test.");
    return o;
}

/// A configuration with the one zone and a service in it, so that the
/// service's records and their checks are fuzzed too.
const dnsd::config::Config& config() {
    static const dnsd::config::Config cfg = [] {
        dnsd::config::Config c;
        c.path = temp_dir() + "/dnsd.toml";
        dnsd::config::Zone z;
        z.origin = origin();
        z.file = zone_name();
        c.zones.push_back(z);
        dnsd::config::Site site;
        site.name = "a";
        site.addresses = {*dnsd::Address::parse("192.0.2.10")};
        c.sites.push_back(site);
        dnsd::config::Service svc;
        svc.name = *dnsd::name_from_text("www.example.test.");
        svc.sites = {0};
        c.services.push_back(svc);
        return c;
    }();
    return cfg;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& name = zone_name();
    const auto& cfg = config();
    dnsd::Diagnostics diags;
    auto records =
        dnsd::zones::read_zone_text({reinterpret_cast<const char*>(data), size}, name, origin(), diags);
    const std::vector<dnsd::zones::Record> kept = records.to_vector();
    {
        // The reader's own A/AAAA parsing gives what ldns gives, records
        // and diagnostics alike.
        dnsd::Diagnostics slow_diags;
        dnsd::zones::ReadOptions slow;
        slow.fast_types = false;
        const auto by_ldns = dnsd::zones::read_zone_text({reinterpret_cast<const char*>(data), size}, name,
                                                         origin(), slow_diags, slow)
                                 .to_vector();
        if (by_ldns.size() != kept.size() || slow_diags.size() != diags.size()) std::abort();
        for (std::size_t i = 0; i < kept.size(); ++i)
            if (by_ldns[i].owner != kept[i].owner || by_ldns[i].type != kept[i].type ||
                by_ldns[i].ttl != kept[i].ttl || by_ldns[i].rdata != kept[i].rdata ||
                by_ldns[i].line != kept[i].line)
                std::abort();
    }
    for (const auto& r : kept)
        if (r.owner.empty() || r.owner.size() > dnsd::kMaxNameLength || r.rdata.size() > 0xffff) std::abort();
    // As load::runtime: a file that could not be read has nothing more to report.
    if (records.empty() && diags.has_errors()) return 0;
    const auto service_zone = dnsd::load::zones_of_services(cfg, diags);
    dnsd::query::ServedSerial served;
    const auto zone =
        dnsd::load::build_zone(cfg, 0, std::move(records), service_zone, std::nullopt, served, diags);
    if (!zone) return 0;
    if (zone->origin_lower() != dnsd::name_lower(origin()) || !zone->rrset(zone->apex(), 6)) std::abort();
    for (std::size_t i = 1; i < zone->node_count(); ++i) {
        const auto n = static_cast<std::int32_t>(i);
        if (zone->node(n).parent == dnsd::zones::kNone || zone->node(n).parent >= n) std::abort();
        if (dnsd::name_lower(zone->name(n)) != zone->lower_name(n)) std::abort();
    }
    for (const auto& r : kept) {
        const auto lower = dnsd::name_lower(r.owner);
        const auto node = zone->find(reinterpret_cast<const std::uint8_t*>(lower.data()), lower.size());
        if (node == dnsd::zones::kNone || !zone->rrset(node, r.type)) std::abort();
    }
    return 0;
}
