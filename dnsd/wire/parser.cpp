#include "dnsd/wire/parser.hpp"

#include <cstring>

#include "dnsd/wire/types.hpp"

namespace dnsd::wire {

std::size_t skip_name(std::span<const std::uint8_t> packet, std::size_t pos) noexcept {
    std::size_t total = 0;
    while (pos < packet.size()) {
        const std::uint8_t len = packet[pos];
        if ((len & 0xC0) == 0xC0) return pos + 2 <= packet.size() ? pos + 2 : 0;
        if (len & 0xC0) return 0;  // 0x40 and 0x80 label types are not in use
        if (len == 0) return pos + 1;
        total += 1u + len;
        if (total > kMaxNameLength) return 0;
        pos += 1u + len;
    }
    return 0;
}

namespace {

/// Reads the question name in place. Compression pointers are refused: in
/// a query the question is the first name, so a pointer could only point
/// into the header, and no real client sends one.
bool read_qname(std::span<const std::uint8_t> p, std::size_t& pos, Query& q) noexcept {
    const std::size_t start = pos;
    std::size_t out = 0;
    std::uint8_t labels = 0;
    while (true) {
        if (pos >= p.size()) return false;
        const std::uint8_t len = p[pos];
        if (len > kMaxLabelLength) return false;  // pointers and reserved label types
        if (out + 1u + len > kMaxNameLength) return false;
        if (pos + 1u + len > p.size()) return false;
        q.qname_offsets[labels] = static_cast<std::uint8_t>(out);
        out += 1u + len;
        pos += 1u + len;
        if (len == 0) break;
        ++labels;
    }
    // The case-kept name stays in the packet (the reply copies the question
    // from there); only the lower-cased copy is made, a word at a time. The
    // length bytes (0..63) are not letters: lower-casing leaves them.
    const std::uint8_t* src = &p[start];
    std::size_t i = 0;
    for (; i + 8 <= out; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, src + i, 8);
        w = lower8(w);
        std::memcpy(&q.qname_lower[i], &w, 8);
    }
    for (; i < out; ++i) q.qname_lower[i] = lower(src[i]);
    q.qname_size = static_cast<std::uint8_t>(out);
    q.qname_labels = labels;
    return true;
}

/// Whether the name at `pos`, compression pointers followed (at most 16),
/// is `lower` (lower-cased, uncompressed, `size` bytes).
bool name_is(std::span<const std::uint8_t> p, std::size_t pos, const std::uint8_t* lower_name,
             std::size_t size) noexcept {
    std::size_t out = 0;
    unsigned hops = 0;
    while (pos < p.size()) {
        const std::uint8_t len = p[pos];
        if ((len & 0xC0) == 0xC0) {
            if (pos + 1 >= p.size() || ++hops > 16) return false;
            pos = std::size_t{len & 0x3Fu} << 8 | p[pos + 1];
            continue;
        }
        if (len > kMaxLabelLength || out + 1u + len > size || pos + 1u + len > p.size()) return false;
        if (lower_name[out] != len) return false;
        for (std::size_t k = 1; k <= len; ++k)
            if (lower(p[pos + k]) != lower_name[out + k]) return false;
        out += 1u + len;
        pos += 1u + len;
        if (len == 0) return out == size;
    }
    return false;
}

/// The SOA of an IXFR's authority section (RFC 1995 3): owned by the
/// question's name, its rdata two names and 20 bytes. Fills ixfr_serial.
bool read_ixfr_soa(std::span<const std::uint8_t> p, std::size_t& pos, Query& q) noexcept {
    const std::size_t name_end = skip_name(p, pos);
    if (name_end == 0 || name_end + 10 > p.size()) return false;
    if (!name_is(p, pos, q.qname_lower, q.qname_size)) return false;
    if (get16(&p[name_end]) != type::SOA) return false;
    const std::size_t rdata = name_end + 10;
    const std::size_t end = rdata + get16(&p[name_end + 8]);
    if (end > p.size()) return false;
    const std::span<const std::uint8_t> rd = p.first(end);
    const std::size_t mname_end = skip_name(rd, rdata);
    const std::size_t rname_end = mname_end ? skip_name(rd, mname_end) : 0;
    if (rname_end == 0 || rname_end + 20 != end) return false;
    q.ixfr_serial = get32(&p[rname_end]);
    pos = end;
    return true;
}

/// Checks an ECS option's data (RFC 7871 6) and copies it into `q`.
bool read_ecs(const std::uint8_t* d, std::size_t len, Query& q) noexcept {
    if (len < 4) return false;
    const std::uint16_t family = get16(d);
    const std::uint8_t source = d[2];
    const std::uint8_t scope = d[3];
    const unsigned max = family == 1 ? 32 : family == 2 ? 128 : 0;
    if (max == 0 || source > max || scope != 0) return false;
    const std::size_t bytes = (source + 7u) / 8u;
    if (len != 4 + bytes) return false;
    // No bits may be set past the source prefix (RFC 7871 6).
    if (bytes > 0 && (source % 8) != 0) {
        const auto mask = static_cast<std::uint8_t>(0xFFu >> (source % 8));
        if (d[4 + bytes - 1] & mask) return false;
    }
    q.ecs_family = family;
    q.ecs_source = source;
    std::memset(q.ecs_address, 0, sizeof q.ecs_address);
    std::memcpy(q.ecs_address, d + 4, bytes);
    q.ecs_address_length = static_cast<std::uint8_t>(bytes);
    return true;
}

/// Parses one additional record; OPT fills the EDNS fields. Inlined into
/// parse_query(), where every query with EDNS reads it, although find_opt()
/// calls it too: as a call of its own it cost 14 instructions per query
/// (bench/callgrind).
[[gnu::always_inline]] inline Verdict read_additional(std::span<const std::uint8_t> p, std::size_t& pos,
                                                      Query& q) noexcept {
    const std::size_t start = pos;
    const std::size_t name_end = skip_name(p, pos);
    if (name_end == 0 || name_end + 10 > p.size()) return Verdict::formerr;
    const std::uint16_t type = get16(&p[name_end]);
    const std::uint16_t klass = get16(&p[name_end + 2]);
    const std::uint32_t ttl = get32(&p[name_end + 4]);
    const std::uint16_t rdlen = get16(&p[name_end + 8]);
    const std::size_t rdata = name_end + 10;
    if (rdata + rdlen > p.size()) return Verdict::formerr;
    pos = rdata + rdlen;
    if (type == type::TSIG) {
        if (q.tsig_at) return Verdict::formerr;  // one, and the last
        q.tsig_at = static_cast<std::uint16_t>(start);
        return Verdict::ok;
    }
    if (type != type::OPT) return Verdict::ok;
    // RFC 6891 6.1.1: at most one OPT, and its owner is the root.
    if (q.has_edns || name_end != start + 1 || p[start] != 0) return Verdict::formerr;
    q.has_edns = true;
    q.edns_payload = klass;
    q.edns_version = static_cast<std::uint8_t>(ttl >> 16);
    q.edns_do = (ttl & 0x8000) != 0;
    std::size_t o = rdata;
    const std::size_t end = rdata + rdlen;
    while (o < end) {
        if (o + 4 > end) return Verdict::formerr;
        const std::uint16_t code = get16(&p[o]);
        const std::uint16_t len = get16(&p[o + 2]);
        if (o + 4 + len > end) return Verdict::formerr;
        if (code == edns::NSID) {
            q.nsid = true;
        } else if (code == edns::ECS) {
            if (q.has_ecs) return Verdict::formerr;  // RFC 7871 7.1.1: at most one
            q.has_ecs = true;
            q.ecs_offset = static_cast<std::uint16_t>(o + 4);
            q.ecs_length = len;
            q.ecs_valid = read_ecs(&p[o + 4], len, q);
        }
        o += 4u + len;
    }
    return Verdict::ok;
}

/// Finds the OPT of a request with another opcode, whose sections may hold
/// anything (UPDATE's prerequisites and updates): everything before the
/// additional section is skipped. `pos` is just past the question when it
/// was read, else past the header. A packet that does not parse keeps no
/// EDNS: its NOTIMP goes without OPT.
void find_opt(std::span<const std::uint8_t> p, std::size_t pos, std::uint16_t qdcount, std::uint32_t records,
              std::uint16_t arcount, Query& q) noexcept {
    if (qdcount == 1 && !q.has_question) return;  // a broken question: where it ends is unknown
    for (unsigned i = q.has_question ? 1 : 0; i < qdcount; ++i) {
        pos = skip_name(p, pos);
        if (pos == 0 || pos + 4 > p.size()) return;
        pos += 4;
    }
    for (std::uint32_t i = 0; i < records; ++i) {
        pos = skip_name(p, pos);
        if (pos == 0 || pos + 10 > p.size()) return;
        pos += 10u + get16(&p[pos + 8]);
        if (pos > p.size()) return;
    }
    for (std::uint16_t i = 0; i < arcount; ++i) {
        if (read_additional(p, pos, q) != Verdict::ok) {
            q.has_edns = q.has_ecs = q.ecs_valid = q.nsid = false;
            return;
        }
    }
}

}  // namespace

Verdict parse_query(std::span<const std::uint8_t> p, Query& q) noexcept {
    q.has_question = false;
    q.has_edns = false;
    q.has_ecs = false;
    q.ecs_valid = false;
    q.ecs_echo = false;
    q.ecs_scope = 0;
    q.nsid = false;
    q.tsig_at = 0;
    if (p.size() < kHeaderSize) return Verdict::drop;
    q.id = get16(&p[0]);
    q.flags = get16(&p[2]);
    if (q.flags & flag::QR) return Verdict::drop;  // never answer a response
    q.opcode = static_cast<std::uint8_t>((q.flags >> 11) & 0xF);
    const std::uint16_t qdcount = get16(&p[4]);
    const std::uint16_t ancount = get16(&p[6]);
    const std::uint16_t nscount = get16(&p[8]);
    const std::uint16_t arcount = get16(&p[10]);

    std::size_t pos = kHeaderSize;
    if (qdcount == 1) {
        if (read_qname(p, pos, q) && pos + 4 <= p.size()) {
            q.qtype = get16(&p[pos]);
            q.qclass = get16(&p[pos + 2]);
            pos += 4;
            q.question_end = static_cast<std::uint16_t>(pos);
            q.has_question = true;
        }
    }
    if (q.opcode != opcode::QUERY) {
        find_opt(p, pos, qdcount, std::uint32_t{ancount} + nscount, arcount, q);
        return Verdict::notimp;
    }
    if (qdcount != 1 || !q.has_question) return Verdict::formerr;
    if (ancount != 0) return Verdict::formerr;
    if (q.qtype == type::IXFR) {
        if (nscount != 1 || !read_ixfr_soa(p, pos, q)) return Verdict::formerr;
    } else if (nscount != 0) {
        return Verdict::formerr;
    }
    for (std::uint16_t i = 0; i < arcount; ++i) {
        const Verdict v = read_additional(p, pos, q);
        if (v != Verdict::ok) return v;
        // RFC 8945 5.1: a TSIG that is not the last record is FORMERR.
        if (q.tsig_at && i + 1 < arcount) return Verdict::formerr;
    }
    return Verdict::ok;
}

}  // namespace dnsd::wire
