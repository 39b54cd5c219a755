#include "dnsd/query/encode.hpp"

#include <cstring>

namespace dnsd::query {

namespace type = wire::type;
namespace flag = wire::flag;
using wire::Query;
using wire::Writer;

bool put_rdata(Writer& w, std::uint16_t t, const std::uint8_t* p, std::size_t size) noexcept {
    switch (t) {
        case type::NS:
        case type::CNAME:
        case type::PTR:
            return w.put_name(p, name_size_at(p, size));
        case type::MX:
            return size > 2 && w.put_bytes(p, 2) && w.put_name(p + 2, name_size_at(p + 2, size - 2));
        case type::SOA: {
            const std::size_t m = name_size_at(p, size);
            const std::size_t r = name_size_at(p + m, size - m);
            return m + r + 20 == size && w.put_name(p, m) && w.put_name(p + m, r) &&
                   w.put_bytes(p + m + r, 20);
        }
        default:
            return w.put_bytes(p, size);
    }
}

namespace {

/// The steered records of an entry (addresses or a CNAME); all or nothing.
bool put_steered(Writer& w, const Entry& e, const Plan& plan, unsigned& count) noexcept {
    const auto m = w.mark();
    const unsigned before = count;
    if (e.kind == Entry::Kind::steered_cname) {
        const std::string& target = plan.catalog->sites[plan.choice.site].cname;
        if (!put_record(w, e.owner, e.owner_size, type::CNAME, wire::klass::IN, e.ttl, [&](Writer& out) {
                return out.put_name(reinterpret_cast<const std::uint8_t*>(target.data()), target.size());
            })) {
            w.rollback(m);
            return false;
        }
        ++count;
        return true;
    }
    for (unsigned i = 0; i < plan.choice.count; ++i) {
        const Address& a = plan.catalog->addresses[plan.choice.address[i]];
        const auto bytes = a.view();
        if (!put_record(w, e.owner, e.owner_size, a.family == Family::v4 ? type::A : type::AAAA,
                        wire::klass::IN, e.ttl,
                        [&](Writer& out) { return out.put_bytes(bytes.data(), bytes.size()); })) {
            w.rollback(m);
            count = before;
            return false;
        }
        ++count;
    }
    return true;
}

}  // namespace

bool put_entry(Writer& w, const Entry& e, const Plan& plan, unsigned& count) noexcept {
    if (e.kind != Entry::Kind::rrset) return put_steered(w, e, plan, count);
    return put_rrset(w, *e.zone, *e.set, e.owner, e.owner_size, e.ttl_override ? e.ttl : e.set->ttl, count);
}

namespace {

/// The size of our OPT record for `q` (0 without EDNS).
std::size_t opt_size(const Query& q, const View& v) noexcept {
    if (!q.has_edns) return 0;
    std::size_t n = 11;
    if (q.nsid && !v.identity().empty()) n += 4 + v.identity().size();
    if (q.ecs_echo) n += 8 + q.ecs_address_length;
    return n;
}

}  // namespace

namespace {

// Inline here, where every reply starts; put_question() is the same for
// the other files.
inline bool question(Writer& w, std::span<const std::uint8_t> request, const Query& q) noexcept {
    if (!w.put_bytes(request.data() + wire::kHeaderSize, q.question_end - wire::kHeaderSize)) return false;
    w.remember_name(wire::kHeaderSize, q.qname_offsets, q.qname_labels, q.qname_size);
    return true;
}

}  // namespace

bool put_question(Writer& w, std::span<const std::uint8_t> request, const Query& q) noexcept {
    return question(w, request, q);
}

void start_reply(Writer& w, std::span<const std::uint8_t> request, const Query& q, const View& v,
                 std::size_t limit) noexcept {
    w.put_bytes(request.data(), wire::kHeaderSize);
    question(w, request, q);
    w.set_limit(limit - opt_size(q, v));
}

void put_opt_record(Writer& w, const Query& q, const View& v, std::uint16_t code, Counts& c) noexcept {
    // Assembled in a local buffer and written with one bounds check: it is
    // in every EDNS reply.
    std::uint8_t b[11 + 4 + 255 + 8 + 16];
    const auto& id = v.identity();
    const bool nsid = q.nsid && !id.empty();
    const auto ext = static_cast<std::uint32_t>(code >> 4);
    b[0] = 0;  // root owner
    wire::put16(b + 1, type::OPT);
    wire::put16(b + 3, v.udp_payload());
    wire::put32(b + 5, (ext << 24) | (q.edns_do ? 0x8000u : 0u));
    std::size_t n = 11;
    if (nsid) {
        wire::put16(b + n, wire::edns::NSID);
        wire::put16(b + n + 2, static_cast<std::uint16_t>(id.size()));
        std::memcpy(b + n + 4, id.data(), id.size());
        n += 4 + id.size();
    }
    // RFC 7871 7.2.1: the option comes back with family, source prefix and
    // address as sent, and the scope that says which clients the answer suits.
    if (q.ecs_echo) {
        wire::put16(b + n, wire::edns::ECS);
        wire::put16(b + n + 2, static_cast<std::uint16_t>(4 + q.ecs_address_length));
        wire::put16(b + n + 4, q.ecs_family);
        b[n + 6] = q.ecs_source;
        b[n + 7] = q.ecs_scope;
        // All 16 bytes (zero-padded; those past the length are not sent):
        // two moves instead of a call to memcpy, 12 instructions per query.
        std::memcpy(b + n + 8, q.ecs_address, sizeof q.ecs_address);
        n += 8 + q.ecs_address_length;
    }
    wire::put16(b + 9, static_cast<std::uint16_t>(n - 11));
    if (w.put_bytes(b, n)) ++c.ar;
}

std::size_t error_reply(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                        const Query& q, const View& v, std::uint16_t code, bool query_flags,
                        bool with_question) noexcept {
    Writer w(response.first(512));
    w.put_bytes(request.data(), wire::kHeaderSize);
    Counts c;
    const bool question = with_question && q.has_question && put_question(w, request, q);
    put_opt(w, q, v, code, c);
    return finish(w, q.id, reply_flags(q, query_flags), code, c, question);
}

}  // namespace dnsd::query
