#include "dnsd/geo/locator.hpp"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <unordered_map>
#include <utility>

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

/// The reference distribution being put together: weight per family and
/// grid cell.
struct Tally {
    std::unordered_map<std::uint64_t, double> cells[2];  ///< [IPv4, IPv6]
    double total[2] = {0, 0};

    void add(Family f, double lat, double lon, unsigned length) {
        // A database's coordinates are data like any other: nothing out of
        // range (or NaN) is placed.
        if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) return;
        // IPv4 counted in /24s, IPv6 in /48s: end sites, about.
        const int unit = f == Family::v4 ? 24 : 48;
        const double weight = std::ldexp(1.0, unit - static_cast<int>(length));
        const auto la = static_cast<std::int64_t>(std::lround((lat + 90.0) * 10.0));
        const auto lo = static_cast<std::int64_t>(std::lround((lon + 180.0) * 10.0));
        const auto key = static_cast<std::uint64_t>(la * 4000 + lo);
        const int i = f == Family::v4 ? 0 : 1;
        cells[i][key] += weight;
        total[i] += weight;
    }

    std::vector<WeightedPoint> points() const {
        // Both families' shares of a cell make one point; by cell, so that
        // the order is the same on every instance (hash maps iterate as
        // they please).
        std::map<std::uint64_t, double> merged;
        const int families = (total[0] > 0) + (total[1] > 0);
        for (int i = 0; i < 2; ++i)
            if (total[i] > 0)
                for (const auto& [key, weight] : cells[i]) merged[key] += weight / total[i] / families;
        std::vector<WeightedPoint> out;
        out.reserve(merged.size());
        for (const auto& [key, weight] : merged) {
            const double lat = static_cast<double>(key / 4000) / 10.0 - 90.0;
            const double lon = static_cast<double>(key % 4000) / 10.0 - 180.0;
            out.push_back({GeoPoint::from_degrees(lat, lon), weight});
        }
        return out;
    }
};

/// Walks the search tree of `mmdb` and adds every network with a location.
/// An IPv6 tree holds IPv4 under ::/96 and aliases of it elsewhere
/// (::ffff:0:0/96, 2001::/32, 2002::/16): IPv4 is counted there once, and
/// the aliases, which lead to the same node, are skipped.
void walk(MMDB_s& mmdb, Tally& tally) {
    const std::uint32_t nodes = mmdb.metadata.node_count;
    const bool v6_tree = mmdb.metadata.ip_version == 6;
    // The node at ::/96 (the IPv4 tree), when there is one.
    std::uint64_t v4_root = v6_tree ? nodes : 0;
    if (v6_tree) {
        std::uint64_t node = 0;
        for (int depth = 0; depth < 96 && node < nodes; ++depth) {
            MMDB_search_node_s n;
            if (MMDB_read_node(&mmdb, static_cast<std::uint32_t>(node), &n) != MMDB_SUCCESS) return;
            if (n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
                node = nodes;
                break;
            }
            node = n.left_record;
        }
        v4_root = node;
    }
    std::unordered_map<std::uint64_t, std::pair<bool, std::pair<double, double>>> data;  // by entry offset
    struct Step {
        std::uint64_t node;
        unsigned depth;
        bool v4;
    };
    std::vector<Step> stack{{0, 0, !v6_tree}};
    if (v6_tree && v4_root < nodes) stack.push_back({v4_root, 96, true});
    while (!stack.empty()) {
        const Step step = stack.back();
        stack.pop_back();
        MMDB_search_node_s n;
        if (MMDB_read_node(&mmdb, static_cast<std::uint32_t>(step.node), &n) != MMDB_SUCCESS) continue;
        for (int side = 0; side < 2; ++side) {
            const std::uint64_t record = side == 0 ? n.left_record : n.right_record;
            const std::uint8_t type = side == 0 ? n.left_record_type : n.right_record_type;
            const unsigned depth = step.depth + 1;
            if (type == MMDB_RECORD_TYPE_SEARCH_NODE) {
                // The IPv4 tree is walked from its own root, once.
                if (v6_tree && !step.v4 && record == v4_root) continue;
                if (depth < 128) stack.push_back({record, depth, step.v4});
                continue;
            }
            if (type != MMDB_RECORD_TYPE_DATA) continue;
            MMDB_entry_s entry = side == 0 ? n.left_record_entry : n.right_record_entry;
            auto [it, fresh] = data.try_emplace(entry.offset);
            if (fresh)
                it->second.first = coordinates(entry, it->second.second.first, it->second.second.second);
            if (!it->second.first) continue;
            const unsigned length = step.v4 && v6_tree ? depth - 96 : depth;
            tally.add(step.v4 ? Family::v4 : Family::v6, it->second.second.first, it->second.second.second,
                      length);
        }
    }
}

}  // namespace

std::vector<WeightedPoint> Locator::reference() const {
    Tally tally;
    for (const auto& db : dbs_) walk(db->mmdb, tally);
    for (const auto& n : networks_)
        tally.add(n.prefix.address.family, n.location.lat, n.location.lon, n.prefix.length);
    return tally.points();
}

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
