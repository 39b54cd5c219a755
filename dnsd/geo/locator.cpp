#include "dnsd/geo/locator.hpp"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace dnsd::geo {

struct Locator::Db {
    MMDB_s mmdb{};
    bool open = false;
    std::string path;
    ~Db() {
        if (open) MMDB_close(&mmdb);
    }
};

Locator::~Locator() = default;

namespace {

// Paths for MMDB_aget_value, which, unlike MMDB_get_value, allocates
// nothing. MaxMind City layout first, then DB-IP City Lite's top level.
const char* const kLocationLat[] = {"location", "latitude", nullptr};
const char* const kLocationLon[] = {"location", "longitude", nullptr};
const char* const kTopLat[] = {"latitude", nullptr};
const char* const kTopLon[] = {"longitude", nullptr};

bool number_at(MMDB_entry_s& entry, const char* const* path, double& out) noexcept {
    MMDB_entry_data_s data;
    if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return false;
    switch (data.type) {
        case MMDB_DATA_TYPE_DOUBLE:
            out = data.double_value;
            return true;
        case MMDB_DATA_TYPE_FLOAT:
            out = static_cast<double>(data.float_value);
            return true;
        default:
            return false;
    }
}

bool coordinates(MMDB_entry_s& entry, double& lat, double& lon) noexcept {
    if (number_at(entry, kLocationLat, lat) && number_at(entry, kLocationLon, lon)) return true;
    return number_at(entry, kTopLat, lat) && number_at(entry, kTopLon, lon);
}

/// Bits `a` and `b` have in common from the start (same family).
unsigned common_bits(const Address& a, const Address& b) noexcept {
    const auto x = a.view(), y = b.view();
    unsigned n = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const std::uint8_t d = static_cast<std::uint8_t>(x[i] ^ y[i]);
        if (d == 0) {
            n += 8;
            continue;
        }
        for (int bit = 7; bit >= 0 && !(d & (1u << bit)); --bit) ++n;
        break;
    }
    return n;
}

}  // namespace

std::shared_ptr<const Locator> Locator::load(const config::Geo& geo, const std::string& config_path,
                                             Diagnostics& diags) {
    static std::atomic<std::uint64_t> next_id{1};
    std::shared_ptr<Locator> l(new Locator());
    l->id_ = next_id.fetch_add(1, std::memory_order_relaxed);
    bool ok = true;
    for (const auto& path : geo.databases) {
        auto db = std::make_unique<Db>();
        db->path = path;
        const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db->mmdb);
        if (status != MMDB_SUCCESS) {
            std::string why = MMDB_strerror(status);
            if (status == MMDB_IO_ERROR) why += std::string(": ") + std::strerror(errno);
            diags.error(config_path, geo.line, "geo.database: cannot open " + path + ": " + why);
            ok = false;
            continue;
        }
        db->open = true;
        l->dbs_.push_back(std::move(db));
    }
    for (const auto& n : geo.networks) {
        l->networks_.push_back({n.prefix, GeoPoint::from_degrees(n.location.lat, n.location.lon)});
    }
    std::stable_sort(l->networks_.begin(), l->networks_.end(),
                     [](const Network& a, const Network& b) { return a.prefix.length > b.prefix.length; });
    if (!ok) return nullptr;
    return l;
}

Located Locator::locate(const Address& a) const noexcept {
    Located out;
    for (const auto& n : networks_) {
        if (!n.prefix.contains(a)) continue;
        out.source = Located::Source::networks;
        out.location = n.location;
        out.prefix = n.prefix.length;
        return out;
    }
    sockaddr_storage ss{};
    if (a.family == Family::v4) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, a.bytes.data(), 4);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
    }
    for (const auto& db : dbs_) {
        int error = MMDB_SUCCESS;
        MMDB_lookup_result_s r =
            MMDB_lookup_sockaddr(&db->mmdb, reinterpret_cast<const sockaddr*>(&ss), &error);
        if (error != MMDB_SUCCESS) continue;  // e.g. an IPv6 address in an IPv4-only file
        // In an IPv6 tree an IPv4 address is looked up under ::/96, and the
        // netmask counts those 96 bits too.
        unsigned netmask = r.netmask;
        if (a.family == Family::v4 && db->mmdb.metadata.ip_version == 6)
            netmask = netmask >= 96 ? netmask - 96 : 0;
        if (netmask > a.bits()) netmask = a.bits();
        double lat = 0, lon = 0;
        if (r.found_entry && coordinates(r.entry, lat, lon)) {
            out.source = Located::Source::database;
            out.location = GeoPoint::from_degrees(lat, lon);
            out.prefix = static_cast<std::uint8_t>(netmask);
            return out;
        }
        // A miss is an answer too: nobody in this network has a location.
        if (netmask > out.prefix) out.prefix = static_cast<std::uint8_t>(netmask);
    }
    return out;
}

std::uint8_t Locator::scope(const Address& a, const Located& located,
                            std::uint8_t source_prefix) const noexcept {
    unsigned s = located.prefix;
    // A more specific networks entry inside the client's /s would be
    // covered by a resolver caching this answer for the whole /s: lengthen
    // the scope until the entry is outside it.
    for (const auto& n : networks_) {
        if (n.prefix.address.family != a.family || n.prefix.length <= s) continue;
        if (n.prefix.contains(a)) continue;  // it would have matched
        const unsigned common = common_bits(a, n.prefix.address);
        if (common < s) continue;  // outside the client's /s already
        const unsigned needed = std::min<unsigned>(common + 1, n.prefix.length);
        if (needed > s) s = needed;
    }
    if (s > source_prefix) s = source_prefix;
    return static_cast<std::uint8_t>(s);
}

void Cache::locate(const Locator& locator, const Address& a, std::uint8_t source_prefix, bool want_scope,
                   Located& located, std::uint8_t& scope) noexcept {
    std::uint64_t lo = 0, hi = 0;
    std::memcpy(&lo, a.bytes.data(), 8);
    std::memcpy(&hi, a.bytes.data() + 8, 8);
    std::uint64_t h = (lo * 0x9E3779B97F4A7C15ull) ^ (hi * 0xC2B2AE3D27D4EB4Full) ^
                      (static_cast<std::uint64_t>(source_prefix) << 1) ^ static_cast<std::uint64_t>(a.family);
    h ^= h >> 29;
    Slot& s = slots_[h & (kSlots - 1)];
    if (s.locator == locator.id() && s.source_prefix == source_prefix && s.want_scope == want_scope &&
        s.address == a) {
        located = s.located;
        scope = s.scope;
        return;
    }
    located = locator.locate(a);
    scope = want_scope ? locator.scope(a, located, source_prefix) : 0;
    s.locator = locator.id();
    s.address = a;
    s.source_prefix = source_prefix;
    s.want_scope = want_scope;
    s.located = located;
    s.scope = scope;
}

}  // namespace dnsd::geo
