#pragma once
/// DNS constants used across modules (RFC 1035, 6891, 5001, 7871, 8482).

#include <cstdint>

namespace dnsd::wire {

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kMaxMessage = 65535;

namespace type {
inline constexpr std::uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, HINFO = 13, MX = 15, TXT = 16,
                               AAAA = 28, SRV = 33, NAPTR = 35, DNAME = 39, OPT = 41, DS = 43, RRSIG = 46,
                               NSEC = 47, DNSKEY = 48, NSEC3 = 50, CDS = 59, CDNSKEY = 60, NXNAME = 128,
                               TKEY = 249, TSIG = 250, IXFR = 251, AXFR = 252, MAILB = 253, MAILA = 254,
                               ANY = 255;
}
namespace klass {
inline constexpr std::uint16_t IN = 1, CH = 3, NONE = 254, ANY = 255;
}
namespace rcode {
inline constexpr std::uint16_t NOERROR = 0, FORMERR = 1, SERVFAIL = 2, NXDOMAIN = 3, NOTIMP = 4, REFUSED = 5,
                               NOTAUTH = 9, BADVERS = 16;
}
namespace opcode {
inline constexpr std::uint8_t QUERY = 0, NOTIFY = 4;
}
namespace edns {
inline constexpr std::uint16_t NSID = 3, ECS = 8, COOKIE = 10;
}

/// Header flag bits in the second 16-bit word.
namespace flag {
inline constexpr std::uint16_t QR = 0x8000, AA = 0x0400, TC = 0x0200, RD = 0x0100, RA = 0x0080, AD = 0x0020,
                               CD = 0x0010;
}

inline std::uint16_t get16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t get32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
inline void put16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void put32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace dnsd::wire
