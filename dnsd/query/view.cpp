#include "dnsd/query/view.hpp"

#include <algorithm>

#include "dnsd/core/name.hpp"
#include "dnsd/core/version.hpp"
#include "zones/reader.hpp"

namespace dnsd::query {

std::shared_ptr<const View> View::make(std::vector<std::shared_ptr<const zones::Zone>> zones,
                                       const config::Server& server,
                                       std::shared_ptr<const steer::Catalog> catalog,
                                       std::shared_ptr<const geo::Locator> locator, bool ecs) {
    return assemble(std::move(zones), server, std::move(catalog), std::move(locator), ecs);
}

std::shared_ptr<View> View::assemble(std::vector<std::shared_ptr<const zones::Zone>> zones,
                                     const config::Server& server,
                                     std::shared_ptr<const steer::Catalog> catalog,
                                     std::shared_ptr<const geo::Locator> locator, bool ecs) {
    auto v = std::make_shared<View>();
    v->locator_ = std::move(locator);
    v->ecs_ = ecs;
    v->zones_ = std::move(zones);
    v->catalog_ = catalog ? std::move(catalog) : std::make_shared<const steer::Catalog>();
    v->service_at_.resize(v->zones_.size());
    v->explain_allow_ = server.explain_allow;
    for (std::size_t i = 0; i < v->catalog_->services.size(); ++i) {
        const auto& name = v->catalog_->services[i].name;
        const auto lower = name_lower(name);
        for (std::size_t z = 0; z < v->zones_.size(); ++z) {
            if (!name_is_subdomain(name, v->zones_[z]->origin())) continue;
            const auto node =
                v->zones_[z]->find(reinterpret_cast<const std::uint8_t*>(lower.data()), lower.size());
            if (node == zones::kNone) continue;
            auto& table = v->service_at_[z];
            if (table.empty()) table.assign(v->zones_[z]->node_count(), -1);
            table[static_cast<std::size_t>(node)] = static_cast<std::int32_t>(i);
        }
    }
    v->identity_ = server.identity;
    v->version_ = std::string("dnsd ") + kVersion;
    v->udp_payload_ = server.udp_payload;
    v->query_log_ = server.query_log;
    v->transfer_allow_ = server.transfer_allow;
    std::size_t cap = 8;
    while (cap < v->zones_.size() * 2) cap *= 2;
    v->table_.assign(cap, zones::kNone);
    v->mask_ = cap - 1;
    for (std::size_t i = 0; i < v->zones_.size(); ++i) {
        const auto origin = v->zones_[i]->origin_lower();
        const unsigned labels = name_label_count(origin);
        if (labels > v->max_origin_labels_) v->max_origin_labels_ = labels;
        std::uint64_t slot =
            zones::name_hash(reinterpret_cast<const std::uint8_t*>(origin.data()), origin.size()) & v->mask_;
        while (v->table_[slot] != zones::kNone) slot = (slot + 1) & v->mask_;
        v->table_[slot] = static_cast<std::int32_t>(i);
    }
    std::vector<std::size_t> sites_per_service;
    for (const auto& svc : v->catalog_->services) sites_per_service.push_back(svc.sites.size());
    v->counters_ = std::make_unique<Counters>(v->zones_.size(), sites_per_service, server.worker_count());
    return v;
}

namespace {

std::string rr_type_name(std::uint16_t t) {
    switch (t) {
        case 1:
            return "A";
        case 5:
            return "CNAME";
        case 28:
            return "AAAA";
        default:
            return "TYPE" + std::to_string(t);
    }
}

// The records a service contributes to its zone, so that AXFR, secondaries
// and NODATA see an ordinary name (STYLE.md "static first"): the addresses
// of its address sites, or, with none, its first CNAME site.
std::vector<zones::Record> service_records(const config::Config& cfg, const config::Service& svc) {
    std::vector<zones::Record> out;
    std::vector<Address> seen;
    for (auto i : svc.sites) {
        for (const auto& a : cfg.sites[i].addresses) {
            if (std::find(seen.begin(), seen.end(), a) != seen.end()) continue;
            seen.push_back(a);
            zones::Record r;
            r.owner = svc.name;
            r.type = a.family == Family::v4 ? 1 : 28;
            r.ttl = svc.ttl;
            const auto bytes = a.view();
            r.rdata.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
            r.file = cfg.path;
            r.line = svc.line;
            out.push_back(std::move(r));
        }
    }
    if (out.empty()) {
        for (auto i : svc.sites) {
            if (cfg.sites[i].cname.empty()) continue;
            zones::Record r;
            r.owner = svc.name;
            r.type = 5;
            r.ttl = svc.ttl;
            r.rdata = cfg.sites[i].cname;
            r.file = cfg.path;
            r.line = svc.line;
            out.push_back(std::move(r));
            break;
        }
    }
    return out;
}

/// Where the SERIAL field starts in SOA rdata (after MNAME and RNAME,
/// uncompressed); npos when the rdata is too short.
std::size_t serial_offset(const std::string& rdata) {
    std::size_t pos = 0;
    for (int name = 0; name < 2; ++name) {
        while (pos < rdata.size() && rdata[pos] != 0) pos += 1 + static_cast<std::uint8_t>(rdata[pos]);
        ++pos;
    }
    return pos + 20 <= rdata.size() ? pos : std::string::npos;
}

/// A digest of a zone's records that ignores their order and the SOA's
/// serial: equal digests mean secondaries hold the same data.
std::uint64_t content_digest(const std::vector<zones::Record>& records) {
    std::uint64_t sum = 0;
    for (const auto& r : records) {
        std::string rdata = r.rdata;
        if (r.type == 6)
            if (const auto at = serial_offset(rdata); at != std::string::npos) rdata.replace(at, 4, 4, '\0');
        const std::string owner = name_lower(r.owner);
        std::uint64_t h = 0xcbf29ce484222325ull;
        auto mix = [&](const void* data, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                h ^= static_cast<const unsigned char*>(data)[i];
                h *= 0x100000001b3ull;
            }
        };
        mix(owner.data(), owner.size());
        mix(&r.type, sizeof r.type);
        mix(&r.ttl, sizeof r.ttl);
        mix(rdata.data(), rdata.size());
        sum += h;
    }
    return sum;
}

/// RFC 1982: is serial `a` ahead of `b`?
bool serial_ahead(std::uint32_t a, std::uint32_t b) {
    return a != b && static_cast<std::int32_t>(a - b) > 0;
}

/// Applies the serial rule to the zone's records (see View::load).
ServedSerial settle_serial(std::vector<zones::Record>& records, const std::string& origin_text,
                           const ServedSerials* previous) {
    ServedSerial served;
    served.digest = content_digest(records);
    for (auto& r : records) {
        if (r.type != 6) continue;
        const auto at = serial_offset(r.rdata);
        if (at == std::string::npos) break;
        auto* p = reinterpret_cast<unsigned char*>(r.rdata.data() + at);
        const std::uint32_t file_serial = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                          (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
        served.serial = file_serial;
        if (!previous) break;
        const auto it = previous->find(origin_text);
        if (it == previous->end() || serial_ahead(file_serial, it->second.serial)) break;
        served.serial = it->second.digest == served.digest ? it->second.serial : it->second.serial + 1;
        p[0] = static_cast<unsigned char>(served.serial >> 24);
        p[1] = static_cast<unsigned char>(served.serial >> 16);
        p[2] = static_cast<unsigned char>(served.serial >> 8);
        p[3] = static_cast<unsigned char>(served.serial);
        break;
    }
    return served;
}

}  // namespace

std::shared_ptr<const View> View::load(const config::Config& cfg, Diagnostics& diags,
                                       const ServedSerials* previous) {
    ServedSerials served;
    // Each service goes to the deepest configured zone that contains it.
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

    std::vector<std::shared_ptr<const zones::Zone>> built;
    bool ok = true;
    for (std::size_t zi = 0; zi < cfg.zones.size(); ++zi) {
        const auto& z = cfg.zones[zi];
        Diagnostics local;
        auto records = zones::read_zone_file(z.file, z.origin, local);
        std::shared_ptr<const zones::Zone> zone;
        // A file that could not be read has nothing more to report.
        if (!records.empty() || !local.has_errors()) {
            for (std::size_t s = 0; s < cfg.services.size(); ++s) {
                if (service_zone[s] != static_cast<int>(zi)) continue;
                const auto& svc = cfg.services[s];
                const auto lower = name_lower(svc.name);
                for (const auto& r : records) {
                    if ((r.type == 1 || r.type == 28 || r.type == 5) && name_lower(r.owner) == lower)
                        local.error(r.file, r.line,
                                    name_to_text(svc.name) + " has its own " + rr_type_name(r.type) +
                                        " record, but it is a service (" + cfg.path + ":" +
                                        std::to_string(svc.line) + "): its addresses come from its sites");
                }
                const bool cname_only = [&] {
                    for (auto i : svc.sites)
                        if (!cfg.sites[i].cname.empty()) return true;
                    return false;
                }();
                if (cname_only && lower == name_lower(z.origin))
                    local.error(cfg.path, svc.line,
                                "service.name: a service with a CNAME site cannot be the zone apex " +
                                    name_to_text(z.origin) + " (a CNAME cannot sit beside the SOA and NS)");
                for (auto& r : service_records(cfg, svc)) records.push_back(std::move(r));
            }
            const std::string origin_text = name_to_text(name_lower(z.origin));
            served[origin_text] = settle_serial(records, origin_text, previous);
            zone = zones::Zone::build(z.origin, std::move(records), z.file, local);
        }
        if (zone) {
            for (std::size_t s = 0; s < cfg.services.size(); ++s) {
                if (service_zone[s] != static_cast<int>(zi)) continue;
                const auto lower = name_lower(cfg.services[s].name);
                const auto node =
                    zone->find(reinterpret_cast<const std::uint8_t*>(lower.data()), lower.size());
                if (node != zones::kNone && zone->node(node).cut != zones::kNone) {
                    local.error(cfg.path, cfg.services[s].line,
                                "service.name: " + name_to_text(cfg.services[s].name) +
                                    " is at or below the delegation " +
                                    name_to_text(zone->name(zone->node(node).cut)) +
                                    ", which this server does not answer for");
                    zone = nullptr;
                    break;
                }
            }
        }
        local.sort_by_line();
        diags.append(local);
        if (!zone) {
            ok = false;
            continue;
        }
        built.push_back(std::move(zone));
    }
    std::shared_ptr<const geo::Locator> locator;
    if (!cfg.geo.databases.empty() || !cfg.geo.networks.empty()) {
        locator = geo::Locator::load(cfg.geo, cfg.path, diags);
        if (!locator) ok = false;
    }
    if (!ok || diags.has_errors()) return nullptr;
    auto view = assemble(std::move(built), cfg.server,
                         std::make_shared<const steer::Catalog>(steer::Catalog::build(cfg)),
                         std::move(locator), cfg.geo.ecs);
    view->served_ = std::move(served);
    view->rate_limit_ = cfg.rate_limit;
    return view;
}

const zones::Zone* View::find_zone(const std::uint8_t* lower_name, const std::uint8_t* offsets,
                                   unsigned labels, std::size_t size, unsigned& suffix,
                                   std::size_t& index) const noexcept {
    // Closest zone first: the longest suffix that could be an origin.
    for (unsigned i = labels > max_origin_labels_ ? labels - max_origin_labels_ : 0; i <= labels; ++i) {
        const std::uint8_t* s = lower_name + offsets[i];
        const std::size_t n = size - offsets[i];
        std::uint64_t slot = zones::name_hash(s, n) & mask_;
        while (true) {
            const std::int32_t z = table_[slot];
            if (z == zones::kNone) break;
            const auto origin = zones_[static_cast<std::size_t>(z)]->origin_lower();
            if (origin.size() == n &&
                std::equal(s, s + n, reinterpret_cast<const std::uint8_t*>(origin.data()))) {
                suffix = i;
                index = static_cast<std::size_t>(z);
                return zones_[static_cast<std::size_t>(z)].get();
            }
            slot = (slot + 1) & mask_;
        }
    }
    return nullptr;
}

}  // namespace dnsd::query

namespace dnsd::query {

Counters::Counters(std::size_t zones, const std::vector<std::size_t>& sites_per_service, unsigned workers)
    : stripes_(workers == 0            ? 1
               : workers > kMaxStripes ? kMaxStripes
                                       : workers) {
    std::size_t n = zones;
    for (auto sites : sites_per_service) {
        decision_base_.push_back(n);
        n += sites + kExtra;
    }
    // Padding of one cache line between stripes, so that two workers never
    // write the same line.
    stride_ = (n + 7) / 8 * 8 + 8;
    cells_ = std::make_unique<std::atomic<std::uint64_t>[]>(stride_ * stripes_);
}

std::uint64_t Counters::total(std::size_t i) const noexcept {
    std::uint64_t sum = 0;
    for (unsigned s = 0; s < stripes_; ++s) sum += cells_[s * stride_ + i].load(relaxed);
    return sum;
}

}  // namespace dnsd::query
