#include "dnsd/load/serial.hpp"

#include <string>

#include "dnsd/core/name.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::load {

namespace {

/// Where the SERIAL field starts in SOA rdata (after MNAME and RNAME,
/// uncompressed); npos when the rdata is too short.
std::size_t serial_offset(std::string_view rdata) {
    std::size_t pos = 0;
    for (int name = 0; name < 2; ++name) {
        while (pos < rdata.size() && rdata[pos] != 0) pos += 1 + static_cast<std::uint8_t>(rdata[pos]);
        ++pos;
    }
    return pos + 20 <= rdata.size() ? pos : std::string::npos;
}

/// The first SOA's serial field, or null.
const unsigned char* serial_field(const zones::Records& records) {
    for (std::size_t i = 0; i < records.size(); ++i) {
        if (records.type(i) != wire::type::SOA) continue;
        const std::string_view rdata = records.rdata(i);
        const auto at = serial_offset(rdata);
        return at == std::string::npos ? nullptr : reinterpret_cast<const unsigned char*>(rdata.data() + at);
    }
    return nullptr;
}

}  // namespace

std::uint64_t content_digest(const zones::Records& records) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
        const std::string_view owner = records.owner_lower(i);
        const std::string_view rdata = records.rdata(i);
        const std::uint16_t type = records.type(i);
        const std::uint32_t ttl = records.ttl(i);
        // The serial does not count: it is what says the data changed.
        const std::size_t serial = type == wire::type::SOA ? serial_offset(rdata) : std::string::npos;
        // FNV-1a per record, summed: the order of records does not count.
        std::uint64_t h = 0xcbf29ce484222325ull;
        auto mix = [&](const void* data, std::size_t n) {
            for (std::size_t k = 0; k < n; ++k) {
                h ^= static_cast<const unsigned char*>(data)[k];
                h *= 0x100000001b3ull;
            }
        };
        mix(owner.data(), owner.size());
        mix(&type, sizeof type);
        mix(&ttl, sizeof ttl);
        if (serial == std::string::npos) {
            mix(rdata.data(), rdata.size());
        } else {
            const std::uint32_t zero = 0;
            mix(rdata.data(), serial);
            mix(&zero, 4);
            mix(rdata.data() + serial + 4, rdata.size() - serial - 4);
        }
        sum += h;
    }
    return sum;
}

std::optional<std::uint32_t> soa_serial(const zones::Records& records) {
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
