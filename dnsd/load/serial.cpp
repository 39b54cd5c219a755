#include "dnsd/load/serial.hpp"

#include <type_traits>

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
template <class Records>
auto* serial_field(Records& records) {
    using Byte = std::conditional_t<std::is_const_v<Records>, const unsigned char, unsigned char>;
    for (auto& r : records) {
        if (r.type != wire::type::SOA) continue;
        const auto at = serial_offset(r.rdata);
        return at == std::string::npos ? nullptr : reinterpret_cast<Byte*>(r.rdata.data() + at);
    }
    return static_cast<Byte*>(nullptr);
}

std::uint32_t get32(const unsigned char* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
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

std::uint32_t serial_to_serve(std::uint32_t file_serial, std::uint64_t digest,
                              const std::optional<query::ServedSerial>& last) noexcept {
    if (!last || serial_ahead(file_serial, last->serial)) return file_serial;
    return last->digest == digest ? last->serial : last->serial + 1;
}

std::optional<std::uint32_t> soa_serial(const std::vector<zones::Record>& records) {
    const auto* p = serial_field(records);
    if (!p) return std::nullopt;
    return get32(p);
}

query::ServedSerial settle_serial(std::vector<zones::Record>& records,
                                  const std::optional<query::ServedSerial>& last) {
    query::ServedSerial served;
    served.digest = content_digest(records);
    unsigned char* p = serial_field(records);
    if (!p) return served;
    served.serial = serial_to_serve(get32(p), served.digest, last);
    p[0] = static_cast<unsigned char>(served.serial >> 24);
    p[1] = static_cast<unsigned char>(served.serial >> 16);
    p[2] = static_cast<unsigned char>(served.serial >> 8);
    p[3] = static_cast<unsigned char>(served.serial);
    return served;
}

}  // namespace dnsd::load
