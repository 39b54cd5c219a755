#include "dnsd/load/serial.hpp"

#include <string>

#include "dnsd/core/name.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::load {

namespace {

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

/// The first SOA's serial field, or null.
const unsigned char* serial_field(const std::vector<zones::Record>& records) {
    for (const auto& r : records) {
        if (r.type != wire::type::SOA) continue;
        const auto at = serial_offset(r.rdata);
        return at == std::string::npos ? nullptr
                                       : reinterpret_cast<const unsigned char*>(r.rdata.data() + at);
    }
    return nullptr;
}

}  // namespace

bool serial_ahead(std::uint32_t a, std::uint32_t b) noexcept {
    return a != b && static_cast<std::int32_t>(a - b) > 0;
}

std::uint64_t content_digest(const std::vector<zones::Record>& records) {
    std::uint64_t sum = 0;
    for (const auto& r : records) {
        std::string rdata = r.rdata;
        if (r.type == wire::type::SOA)
            if (const auto at = serial_offset(rdata); at != std::string::npos) rdata.replace(at, 4, 4, '\0');
        const std::string owner = name_lower(r.owner);
        // FNV-1a per record, summed: the order of records does not count.
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

std::optional<std::uint32_t> soa_serial(const std::vector<zones::Record>& records) {
    const unsigned char* p = serial_field(records);
    if (!p) return std::nullopt;
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

SerialVerdict check_serial(std::uint32_t serial, std::uint64_t digest,
                           const std::optional<query::ServedSerial>& last) noexcept {
    const query::ServedSerial now{serial, digest};
    if (!last || serial_ahead(serial, last->serial)) return {SerialCheck::fine, now};
    if (serial != last->serial) return {SerialCheck::behind, *last};
    return {last->digest == digest ? SerialCheck::fine : SerialCheck::unbumped, *last};
}

}  // namespace dnsd::load
