#pragma once
/// Internal to the query module: the encoder. Every record dnsd writes goes
/// through put_record() (owner, type, class, TTL, rdata length patched
/// after the rdata), every RRset through put_rrset(), in answers, the CH
/// class and zone transfers alike; every header through finish().
///
/// noexcept, no allocation; any worker thread with its own Writer.

#include <cstddef>
#include <cstdint>
#include <span>

#include "dnsd/query/plan.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/wire/parser.hpp"
#include "dnsd/wire/types.hpp"
#include "dnsd/wire/writer.hpp"
#include "zones/zone.hpp"

namespace dnsd::query {

/// Records written per section.
struct Counts {
    unsigned an = 0, ns = 0, ar = 0;
};

/// The size of the uncompressed wire name at `p`, at most `limit`.
inline std::size_t name_size_at(const std::uint8_t* p, std::size_t limit) noexcept {
    std::size_t i = 0;
    while (i < limit && p[i] != 0) i += 1u + p[i];
    return i < limit ? i + 1 : limit;
}

/// One record: `owner` (null: a pointer to the question name at offset 12),
/// type, class, TTL, then `rdata(w)` writes the rdata, whose length is
/// patched in after. False when it does not fit; the caller rolls back to
/// its mark.
template <class Rdata>
bool put_record(wire::Writer& w, const std::uint8_t* owner, std::size_t owner_size, std::uint16_t type,
                std::uint16_t klass, std::uint32_t ttl, Rdata&& rdata) noexcept {
    if (!(owner ? w.put_name(owner, owner_size) : w.put16(0xC00C)) || !w.put16(type) || !w.put16(klass) ||
        !w.put32(ttl))
        return false;
    const std::size_t len_at = w.size();
    if (!w.put16(0) || !rdata(w)) return false;
    w.patch16(len_at, static_cast<std::uint16_t>(w.size() - len_at - 2));
    return true;
}

/// Rdata of `type` from zone storage, with name compression inside rdata
/// only for the RFC 1035 types (RFC 3597 4).
bool put_rdata(wire::Writer& w, std::uint16_t type, const std::uint8_t* p, std::size_t size) noexcept;

/// Record `d` of RRset `s` of zone `z` (`owner` as in put_record).
inline bool put_zone_record(wire::Writer& w, const zones::Zone& z, const zones::RRset& s,
                            const zones::Rdata& d, const std::uint8_t* owner, std::size_t owner_size,
                            std::uint32_t ttl) noexcept {
    return put_record(w, owner, owner_size, s.type, wire::klass::IN, ttl,
                      [&](wire::Writer& out) { return put_rdata(out, s.type, z.bytes(d), d.size); });
}

/// Every record of RRset `s` of zone `z` (`owner` as in put_record, `ttl`
/// for all); all of them or nothing. Adds to `count`. Inline: it is on
/// every answer's path.
inline bool put_rrset(wire::Writer& w, const zones::Zone& z, const zones::RRset& s, const std::uint8_t* owner,
                      std::size_t owner_size, std::uint32_t ttl, unsigned& count) noexcept {
    const auto m = w.mark();
    const unsigned before = count;
    for (const auto& d : z.rdatas(s)) {
        if (!put_zone_record(w, z, s, d, owner, owner_size, ttl)) {
            w.rollback(m);
            count = before;
            return false;
        }
        ++count;
    }
    return true;
}

/// The records of one Entry of a Plan (an RRset, or the steered addresses
/// or CNAME); all of them or nothing. Adds to `count`.
bool put_entry(wire::Writer& w, const Entry& e, const Plan& plan, unsigned& count) noexcept;

/// The flags of a reply: QR and the opcode; with `query_flags` (a reply to
/// a QUERY) also RD and CD as the query had them (RFC 1035 4.1.1, RFC 4035
/// 3.1.6). Both are defined for QUERY only: a reply to another opcode
/// copies neither. AA and TC are the caller's; RA, AD and Z are never set.
inline std::uint16_t reply_flags(const wire::Query& q, bool query_flags) noexcept {
    const auto f = static_cast<std::uint16_t>(wire::flag::QR | (q.flags & 0x7800));  // opcode
    if (!query_flags) return f;
    return static_cast<std::uint16_t>(f | (q.flags & (wire::flag::RD | wire::flag::CD)));
}

/// The question as asked (case kept), remembered for compression.
bool put_question(wire::Writer& w, std::span<const std::uint8_t> request, const wire::Query& q) noexcept;

/// Header and question of a reply with sections to come; the sections may
/// use the space that the OPT record (written last) leaves.
void start_reply(wire::Writer& w, std::span<const std::uint8_t> request, const wire::Query& q, const View& v,
                 std::size_t limit) noexcept;

/// Our OPT (RFC 6891) for a query that had one: payload size, extended
/// rcode, DO, NSID when asked, ECS echoed with q.ecs_scope.
void put_opt_record(wire::Writer& w, const wire::Query& q, const View& v, std::uint16_t code,
                    Counts& c) noexcept;

/// put_opt_record() when the query had an OPT. The test is inline so that
/// a reply without EDNS makes no call, and one with it makes one, not two
/// (GCC split the test into a wrapper of its own: 6 instructions per query).
inline void put_opt(wire::Writer& w, const wire::Query& q, const View& v, std::uint16_t code,
                    Counts& c) noexcept {
    if (q.has_edns) put_opt_record(w, q, v, code, c);
}

/// Fills the header at the start of `w` and returns the message size.
inline std::size_t finish(wire::Writer& w, std::uint16_t id, std::uint16_t flags, std::uint16_t code,
                          const Counts& c, bool question) noexcept {
    std::uint8_t* h = w.data();
    wire::put16(h, id);
    wire::put16(h + 2, static_cast<std::uint16_t>(flags | (code & 0xF)));
    wire::put16(h + 4, question ? 1 : 0);
    wire::put16(h + 6, static_cast<std::uint16_t>(c.an));
    wire::put16(h + 8, static_cast<std::uint16_t>(c.ns));
    wire::put16(h + 10, static_cast<std::uint16_t>(c.ar));
    return w.size();
}

/// An error reply: header, the question when intact, OPT when the query
/// had one; flags by reply_flags(q, query_flags).
std::size_t error_reply(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                        const wire::Query& q, const View& v, std::uint16_t code, bool query_flags,
                        bool with_question) noexcept;

}  // namespace dnsd::query
