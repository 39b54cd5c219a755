#pragma once
// Test helper: builds query packets byte by byte, including broken ones.

#include <cstdint>
#include <string>
#include <vector>

#include "dnsd/core/name.hpp"

namespace dnsd::test {

struct Packet {
    std::vector<std::uint8_t> bytes;

    Packet& u8(std::uint8_t v) {
        bytes.push_back(v);
        return *this;
    }
    Packet& u16(std::uint16_t v) {
        bytes.push_back(static_cast<std::uint8_t>(v >> 8));
        bytes.push_back(static_cast<std::uint8_t>(v));
        return *this;
    }
    Packet& u32(std::uint32_t v) {
        return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v));
    }
    Packet& raw(const std::string& s) {
        bytes.insert(bytes.end(), s.begin(), s.end());
        return *this;
    }
    Packet& name(const std::string& text) { return raw(*name_from_text(text)); }
    Packet& header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
                   std::uint16_t ns, std::uint16_t ar) {
        return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
    }
    /// OPT with payload, version, DO and raw options.
    Packet& opt(std::uint16_t payload, std::uint8_t version = 0, bool dnssec_ok = false,
                const std::string& options = {}) {
        u8(0).u16(41).u16(payload);
        u8(0).u8(version).u16(dnssec_ok ? 0x8000 : 0);
        u16(static_cast<std::uint16_t>(options.size()));
        return raw(options);
    }
};

/// A standard query: RD set, one question, optional OPT.
inline Packet make_query(const std::string& qname, std::uint16_t qtype, std::uint16_t qclass = 1,
                         bool edns = false, std::uint16_t payload = 1232, const std::string& options = {}) {
    Packet p;
    p.header(0x1234, 0x0100, 1, 0, 0, edns ? 1 : 0).name(qname).u16(qtype).u16(qclass);
    if (edns) p.opt(payload, 0, false, options);
    return p;
}

/// An IXFR query (RFC 1995) with the client's SOA in the authority
/// section, its names compressed to the question's, as most clients send it.
inline Packet make_ixfr(const std::string& qname, std::uint32_t serial) {
    Packet p;
    p.header(0x4242, 0, 1, 0, 1, 0).name(qname).u16(251).u16(1);
    p.u16(0xC00C).u16(6).u16(1).u32(0).u16(24).u16(0xC00C).u16(0xC00C);
    return p.u32(serial).u32(3600).u32(600).u32(86400).u32(60);
}

}  // namespace dnsd::test
