#include "dnsd/load/runtime.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>

#include "dnsd/core/name.hpp"
#include "dnsd/dnssec/ds.hpp"
#include "dnsd/load/journal.hpp"
#include "dnsd/load/serial.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/wire/types.hpp"
#include "zones/reader.hpp"

namespace dnsd::load {

namespace type = wire::type;

namespace {

/// The records a service contributes to its zone, so that AXFR, secondaries
/// and NODATA see an ordinary name (STYLE.md "static first"): the addresses
/// of its address sites, or, with none, its first CNAME site.
void add_service_records(const config::Config& cfg, const config::Service& svc, zones::Records& out) {
    const std::uint16_t file = out.file_index(cfg.path);
    std::vector<Address> seen;
    for (auto i : svc.sites) {
        for (const auto& a : cfg.sites[i].addresses) {
            if (std::find(seen.begin(), seen.end(), a) != seen.end()) continue;
            seen.push_back(a);
            const auto bytes = a.view();
            out.add(svc.name, a.family == Family::v4 ? type::A : type::AAAA, svc.ttl,
                    {reinterpret_cast<const char*>(bytes.data()), bytes.size()}, file, svc.line);
        }
    }
    if (!seen.empty()) return;
    for (auto i : svc.sites) {
        if (cfg.sites[i].cname.empty()) continue;
        out.add(svc.name, type::CNAME, svc.ttl, cfg.sites[i].cname, file, svc.line);
        break;
    }
}

/// Says, at the zone's SOA, when the serial it is served with does not
/// tell secondaries about a change (serial.hpp).
void report_serial(const std::string& origin, const std::string& file, int line, std::uint32_t serial,
                   const std::optional<query::ServedSerial>& last, SerialCheck check, Diagnostics& diags) {
    if (!last) return;
    const std::string zone = "zone " + name_to_text(origin) + ": ";
    const std::string was = std::to_string(last->serial);
    switch (check) {
        case SerialCheck::fine:
            return;
        case SerialCheck::unbumped:
            diags.warning(
                file, line,
                zone + "the data changed since serial " + was +
                    " was first served (a service's addresses, or the zone file's records), but the "
                    "SOA serial did not: bump it, or secondaries that have serial " +
                    was + " keep the old data");
            return;
        case SerialCheck::behind:
            diags.warning(file, line,
                          zone + "SOA serial " + std::to_string(serial) + " is behind serial " + was +
                              ", which was served before: secondaries that have " + was +
                              " ignore it; set a serial ahead of " + was);
            return;
    }
}

/// Where a zone file writes an NS record, for diagnostics about its
/// delegation.
struct NsLine {
    std::string owner;  ///< lower-cased wire name
    std::string file;
    int line = 0;
};

/// A referral carries all its in-domain glue (RFC 9471), and a reply holds
/// query::kMaxAdditional address RRsets: a delegation that needs more is an
/// error naming the limit, not a referral silently cut.
bool check_glue(const zones::Zone& zone, const std::vector<NsLine>& ns_lines, Diagnostics& diags) {
    bool ok = true;
    for (std::int32_t cut = 0; static_cast<std::size_t>(cut) < zone.node_count(); ++cut) {
        const auto* ns = zone.node(cut).cut == cut ? zone.rrset(cut, type::NS) : nullptr;
        if (!ns) continue;
        std::vector<std::int32_t> targets;
        std::size_t rrsets = 0;
        for (const auto& d : zone.rdatas(*ns)) {
            if (d.target == zones::kNone || zone.node(d.target).cut != cut ||
                std::find(targets.begin(), targets.end(), d.target) != targets.end())
                continue;
            targets.push_back(d.target);
            rrsets +=
                (zone.rrset(d.target, type::A) ? 1u : 0u) + (zone.rrset(d.target, type::AAAA) ? 1u : 0u);
        }
        if (targets.size() <= query::kMaxAdditional && rrsets <= query::kMaxAdditional) continue;
        const std::string owner(zone.lower_name(cut));
        const auto at =
            std::find_if(ns_lines.begin(), ns_lines.end(), [&](const NsLine& l) { return l.owner == owner; });
        diags.error(at == ns_lines.end() ? std::string() : at->file, at == ns_lines.end() ? 0 : at->line,
                    "the delegation " + name_to_text(zone.name(cut)) + " needs " + std::to_string(rrsets) +
                        " in-domain glue RRsets for " + std::to_string(targets.size()) +
                        " name servers; a referral holds at most " + std::to_string(query::kMaxAdditional));
        ok = false;
    }
    return ok;
}

/// The records the services of zone `zi` add to it, a hash of their
/// names, and the names (lower-cased, sorted).
zones::Records zone_service_records(const config::Config& cfg, std::size_t zi,
                                    const std::vector<int>& service_zone, std::uint64_t& names,
                                    std::vector<std::string>* list = nullptr) {
    zones::Records out;
    names = 0;
    for (std::size_t s = 0; s < cfg.services.size(); ++s) {
        if (service_zone[s] != static_cast<int>(zi)) continue;
        add_service_records(cfg, cfg.services[s], out);
        const std::string lower = name_lower(cfg.services[s].name);
        names += zones::name_hash(reinterpret_cast<const std::uint8_t*>(lower.data()), lower.size());
        if (list) list->push_back(lower);
    }
    if (list) std::sort(list->begin(), list->end());
    return out;
}

/// The running zone that `cfg`'s zone `zi` would be built from the same
/// files as, when all of them are unchanged; its index in `running`.
std::optional<std::size_t> same_files(const config::Config& cfg, std::size_t zi, const query::View& running) {
    const auto& z = cfg.zones[zi];
    for (std::size_t i = 0; i < running.zones().size(); ++i) {
        const zones::ZoneSource* src = running.source(i);
        if (!src || src->origin != z.origin || src->file != z.file) continue;
        for (const auto& f : src->files)
            if (!zones::unchanged(f)) return std::nullopt;
        return i;
    }
    return std::nullopt;
}

/// A signed zone's DNSKEY, CDS and CDNSKEY records (SPEC 11) added to
/// its records; false when the zone file holds DNSSEC records of its own
/// (dnsd signs online: a pre-signed zone's would clash).
bool add_key_records(const config::Zone& z, const dnssec::KeySet& keys, std::int64_t now,
                     zones::Records& records, Diagnostics& diags) {
    bool ok = true;
    for (std::size_t i = 0; i < records.size(); ++i) {
        const auto t = records.type(i);
        if (t == type::DNSKEY || t == type::RRSIG || t == type::NSEC || t == type::NSEC3 || t == type::CDS ||
            t == type::CDNSKEY || t == 51 /* NSEC3PARAM */) {
            diags.error(records.file(i), records.line(i),
                        std::string(zones::type_name(t)) + " record in zone " + name_to_text(z.origin) +
                            ", which dnsd signs online (dnssec = \"" + z.dnssec +
                            "\"): its DNSSEC records come from the keys; remove it");
            ok = false;
        }
    }
    if (!ok) return false;
    const auto published = keys.published(now);
    std::uint32_t ttl = 3600;
    for (const auto* k : published)
        if (k->ttl()) ttl = *k->ttl();
    const std::uint16_t file = records.file_index(published.empty() ? z.file : published.front()->key_file());
    const auto text = [](std::span<const std::uint8_t> b) {
        return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
    };
    for (const auto* k : published)
        records.add(z.origin, type::DNSKEY, ttl, text(k->dnskey_rdata()), file, 0);
    for (const auto* k : keys.sync_published(now)) {
        const auto ds = dnssec::ds_rdata(*k);
        records.add(z.origin, type::CDS, ttl, text(ds), file, 0);
        records.add(z.origin, type::CDNSKEY, ttl, text(k->dnskey_rdata()), file, 0);
    }
    return true;
}

}  // namespace

std::shared_ptr<const dnssec::KeySet> read_zone_keys(const config::Zone& z, std::int64_t now,
                                                     Diagnostics& diags) {
    Diagnostics local;
    // Group read allowed, as for TSIG secrets: root:dnsd 0640 is how a
    // package gives a service's group its keys; everyone-readable is refused.
    auto keys = dnssec::read_keys(z.dnssec, z.origin, local, dnssec::ReadOptions{true});
    const bool bad = local.has_errors();
    diags.append(local);
    if (bad) return nullptr;
    const std::string zone = "zone " + name_to_text(z.origin) + ": ";
    if (keys.size() > dnssec::KeySet::kMaxKeys) {
        diags.error(z.dnssec, 0,
                    zone + std::to_string(keys.size()) + " key pairs; at most " +
                        std::to_string(dnssec::KeySet::kMaxKeys) + " are used: remove retired ones");
        return nullptr;
    }
    // A clock far behind the keys' creation (kept in their files) makes
    // signatures that validators with the right time see as not yet
    // valid, or long expired when it is far ahead: said at every load.
    for (const auto& k : keys) {
        const auto created = k.timing().created;
        if (created && *created > now + 3600)
            diags.warning(k.private_file(), 0,
                          zone + "the key was created " + std::to_string((*created - now) / 3600) +
                              " hours ahead of this host's clock: the clock looks far off, and validators "
                              "would find the signatures not yet valid");
    }
    auto set = std::make_shared<const dnssec::KeySet>(std::move(keys));
    const dnssec::Key* signing[dnssec::KeySet::kMaxKeys];
    if (set->select(type::SOA, now, signing) == 0 || set->select(type::DNSKEY, now, signing) == 0) {
        std::string files;
        for (const auto& k : set->keys()) files += (files.empty() ? "" : ", ") + k.private_file();
        diags.error(z.dnssec, 0,
                    zone + "no key is active now (each key's Activate, Inactive, Publish and Delete times: " +
                        files + "): nothing could sign the zone");
        return nullptr;
    }
    return set;
}

std::vector<int> zones_of_services(const config::Config& cfg, Diagnostics& diags) {
    std::vector<int> service_zone(cfg.services.size(), -1);
    for (std::size_t s = 0; s < cfg.services.size(); ++s) {
        std::size_t best_labels = 0;
        for (std::size_t z = 0; z < cfg.zones.size(); ++z) {
            if (!name_is_subdomain(cfg.services[s].name, cfg.zones[z].origin)) continue;
            const std::size_t labels = name_label_count(cfg.zones[z].origin);
            if (service_zone[s] < 0 || labels > best_labels) {
                service_zone[s] = static_cast<int>(z);
                best_labels = labels;
            }
        }
        if (service_zone[s] < 0)
            diags.error(
                cfg.path, cfg.services[s].line,
                "service.name: " + name_to_text(cfg.services[s].name) + " is outside every configured zone");
    }
    return service_zone;
}

std::shared_ptr<const zones::Zone> build_zone(const config::Config& cfg, std::size_t zi,
                                              zones::Records records, const std::vector<int>& service_zone,
                                              const std::optional<query::ServedSerial>& last,
                                              query::ServedSerial& served, Diagnostics& diags,
                                              std::shared_ptr<const zones::ZoneSource>* source_out,
                                              const dnssec::KeySet* keys, std::int64_t now) {
    const auto& z = cfg.zones[zi];
    // The zone's services by lower-cased name, to look each record's owner
    // up once (a zone may hold a million records).
    std::unordered_map<std::string, std::size_t> services;
    for (std::size_t s = 0; s < cfg.services.size(); ++s)
        if (service_zone[s] == static_cast<int>(zi)) services.emplace(name_lower(cfg.services[s].name), s);
    std::vector<bool> clash(cfg.services.size(), false);
    std::vector<std::size_t> cname_site(cfg.services.size(), 0);
    for (const auto& [lower, s] : services) {
        const auto& svc = cfg.services[s];
        const auto at = std::find_if(svc.sites.begin(), svc.sites.end(),
                                     [&](auto i) { return !cfg.sites[i].cname.empty(); });
        cname_site[s] = at == svc.sites.end() ? cfg.sites.size() : *at;
        if (at != svc.sites.end() && lower == name_lower(z.origin)) {
            diags.error(cfg.path, svc.line,
                        "service.name: a service with a CNAME site cannot be the zone apex " +
                            name_to_text(z.origin) + " (a CNAME cannot sit beside the SOA and NS)");
            clash[s] = true;
        }
    }
    std::string owner;
    for (std::size_t i = 0; i < records.size() && !services.empty(); ++i) {
        owner.assign(records.owner_lower(i));
        const auto it = services.find(owner);
        if (it == services.end()) continue;
        const auto& svc = cfg.services[it->second];
        const std::uint16_t t = records.type(i);
        if (t == type::A || t == type::AAAA || t == type::CNAME) {
            diags.error(records.file(i), records.line(i),
                        name_to_text(svc.name) + " has its own " + zones::type_name(t) +
                            " record, but it is a service (" + cfg.path + ":" + std::to_string(svc.line) +
                            "): its addresses come from its sites");
        } else if (cname_site[it->second] < cfg.sites.size() && owner != name_lower(z.origin)) {
            // Its A and AAAA queries may be answered with a CNAME, which
            // must be the only data at its name (RFC 1034 3.6.2, RFC 2181
            // 10.1). Its own A/AAAA/CNAME are reported above.
            diags.error(cfg.path, svc.line,
                        "service.name: a service with a CNAME site (sites." +
                            cfg.sites[cname_site[it->second]].name + ") cannot be at " +
                            name_to_text(svc.name) + ", which has " + zones::type_name(t) + " data (" +
                            records.file(i) + ":" + std::to_string(records.line(i)) +
                            "): a CNAME cannot sit beside other data");
            clash[it->second] = true;
        }
    }
    auto source = std::make_shared<zones::ZoneSource>();
    source->origin = z.origin;
    source->file = z.file;
    source->files = std::move(records.sources);
    source->file_digest = content_digest(records);
    for (std::size_t i = 0; i < records.size(); ++i) {
        if (records.type(i) != type::SOA) continue;
        source->soa_file = records.file(i);
        source->soa_line = records.line(i);
        break;
    }
    // A clash is reported once, above: the zone would report the CNAME of a
    // service without address sites again.
    zones::Records added;
    for (std::size_t s = 0; s < cfg.services.size(); ++s)
        if (service_zone[s] == static_cast<int>(zi) && !clash[s])
            add_service_records(cfg, cfg.services[s], added);
    source->service_digest = content_digest(added);
    zone_service_records(cfg, zi, service_zone, source->service_names, &source->services);
    for (std::size_t i = 0; i < added.size(); ++i) records.add(added.record(i));
    if (keys && !add_key_records(z, *keys, now, records, diags)) return nullptr;
    if (const auto serial = soa_serial(records)) {
        const auto verdict = check_serial(*serial, source->file_digest + source->service_digest, last);
        served = verdict.remembered;
        report_serial(z.origin, source->soa_file, source->soa_line, *serial, last, verdict.check, diags);
    }
    std::vector<NsLine> ns_lines;
    for (std::size_t i = 0; i < records.size(); ++i)
        if (records.type(i) == type::NS)
            ns_lines.push_back({std::string(records.owner_lower(i)), records.file(i), records.line(i)});
    auto zone = zones::Zone::build(z.origin, std::move(records), z.file, diags);
    if (!zone) return nullptr;
    if (!check_glue(*zone, ns_lines, diags)) return nullptr;
    for (std::size_t s = 0; s < cfg.services.size(); ++s) {
        if (service_zone[s] != static_cast<int>(zi)) continue;
        const auto lower = name_lower(cfg.services[s].name);
        const auto node = zone->find(reinterpret_cast<const std::uint8_t*>(lower.data()), lower.size());
        if (node != zones::kNone && zone->node(node).cut != zones::kNone) {
            diags.error(cfg.path, cfg.services[s].line,
                        "service.name: " + name_to_text(cfg.services[s].name) +
                            " is at or below the delegation " +
                            name_to_text(zone->name(zone->node(node).cut)) +
                            ", which this server does not answer for");
            return nullptr;
        }
    }
    if (source_out) *source_out = std::move(source);
    return zone;
}

std::shared_ptr<const query::View> runtime(const config::Config& cfg, Diagnostics& diags,
                                           const query::ServedSerials* previous, const query::View* running) {
    const std::vector<int> service_zone = zones_of_services(cfg, diags);
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    query::View::Parts parts;
    bool ok = true;
    for (std::size_t zi = 0; zi < cfg.zones.size(); ++zi) {
        const auto& z = cfg.zones[zi];
        Diagnostics local;
        const std::string origin_text = name_to_text(name_lower(z.origin));
        std::optional<query::ServedSerial> last;
        if (previous)
            if (const auto it = previous->find(origin_text); it != previous->end()) last = it->second;
        std::shared_ptr<const zones::Zone> zone;
        std::shared_ptr<const zones::ZoneSource> source;
        std::shared_ptr<const dnssec::KeySet> keys;
        if (!z.dnssec.empty()) {
            keys = read_zone_keys(z, now, local);
            if (!keys) {
                local.sort_by_line();
                diags.append(local);
                ok = false;
                continue;
            }
        }
        // A signed zone is built again on every load: its DNSKEY records
        // depend on the keys' files and times, which its sources do not cover.
        if (running && !keys) {
            // Files unchanged: the running zone as it is when its services
            // add the same records, else with their records replaced.
            if (const auto i = same_files(cfg, zi, *running)) {
                const auto& src = running->sources()[*i];
                std::uint64_t names = 0;
                std::vector<std::string> list;
                const auto added = zone_service_records(cfg, zi, service_zone, names, &list);
                const std::uint64_t digest = content_digest(added);
                if (digest == src->service_digest && names == src->service_names) {
                    zone = running->zones()[*i];
                    source = src;
                    ++parts.loaded.unchanged;
                } else if (list == src->services) {
                    zone = zones::Zone::with_services(*running->zones()[*i], list, added);
                    if (zone) {
                        auto patched = std::make_shared<zones::ZoneSource>(*src);
                        patched->service_digest = digest;
                        source = std::move(patched);
                        ++parts.loaded.services;
                    }
                }
            }
        }
        if (zone) {
            // Nothing else it is made of changed: the verdict on its serial
            // is as when it was built, with the services' records as now.
            const auto verdict =
                check_serial(zone->serial(), source->file_digest + source->service_digest, last);
            parts.served[origin_text] = verdict.remembered;
            report_serial(z.origin, source->soa_file, source->soa_line, zone->serial(), last, verdict.check,
                          local);
        } else {
            auto records = zones::read_zone_file(z.file, z.origin, local);
            ++parts.loaded.read;
            // A file that could not be read has nothing more to report.
            if (!records.empty() || !local.has_errors())
                zone = build_zone(cfg, zi, std::move(records), service_zone, last, parts.served[origin_text],
                                  local, &source, keys.get(), now);
        }
        local.sort_by_line();
        diags.append(local);
        // Errors of the reader leave out their records, not the zone.
        if (!zone || local.has_errors()) {
            ok = false;
            // On reload, name the zone that failed and what is served instead.
            if (running)
                for (const auto& r : running->zones())
                    if (r->origin_lower() == name_lower(z.origin))
                        diags.error(z.file, 0,
                                    "zone " + name_to_text(z.origin) +
                                        " not loaded; it is still served as loaded before, serial " +
                                        std::to_string(r->serial()));
            continue;
        }
        parts.zones.push_back(std::move(zone));
        parts.sources.push_back(std::move(source));
        parts.keys.push_back(std::move(keys));
    }
    if (!cfg.geo.databases.empty() || !cfg.geo.networks.empty()) {
        parts.locator = geo::Locator::load(cfg.geo, cfg.path, diags);
        if (!parts.locator) ok = false;
    }
    if (!ok || diags.has_errors()) return nullptr;
    parts.catalog = std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg));
    // Spill-over cuts by where clients are (SPEC 10): worked out here, on
    // the loader thread, once per load, and only when a service spills.
    const bool spills = std::any_of(cfg.services.begin(), cfg.services.end(),
                                    [](const config::Service& s) { return s.spill_at > 0; });
    if (spills && parts.locator)
        parts.reference = std::make_shared<const std::vector<WeightedPoint>>(parts.locator->reference());
    parts.ecs = cfg.geo.ecs;
    parts.rate_limit = cfg.rate_limit;
    parts.tsig_keys = cfg.tsig;
    // IXFR: each zone's differences from the running one (journal.hpp).
    parts.journals = journals(parts.zones, parts.sources, running, journal_limits(cfg.server));
    return query::View::make(std::move(parts), cfg.server);
}

}  // namespace dnsd::load
