#include "dnsd/query/signed.hpp"

#include <algorithm>
#include <cstring>

#include "dnsd/query/encode.hpp"
#include "dnsd/wire/types.hpp"
#include "dnsd/wire/writer.hpp"

namespace dnsd::query {

namespace type = wire::type;
namespace rcode = wire::rcode;
namespace flag = wire::flag;
using wire::Writer;
using zones::kNone;
using zones::Zone;

std::size_t compact_nsec(std::span<const std::uint8_t> owner, std::span<const std::uint16_t> types,
                         std::span<std::uint8_t> out) noexcept {
    std::size_t n = 0;
    // Next name: the owner with a label "\000" in front, the name that
    // follows it in canonical order (RFC 9824 3.1).
    if (owner.size() + 2 <= kMaxNameLength) {
        if (out.size() < owner.size() + 2) return 0;
        out[0] = 1;
        out[1] = 0;
        n = 2;
    } else if (out.size() < owner.size()) {
        return 0;
    }
    std::memcpy(out.data() + n, owner.data(), owner.size());
    n += owner.size();
    // Type bitmap (RFC 4034 4.1.2): per window of 256 types present, the
    // window number, the length and the bits up to the last one set.
    std::uint16_t sorted[kMaxNsecTypes];
    std::size_t count = 0;
    for (const auto t : types)
        if (count < kMaxNsecTypes) sorted[count++] = t;
    std::sort(sorted, sorted + count);
    for (std::size_t i = 0; i < count;) {
        const unsigned window = sorted[i] >> 8;
        std::uint8_t bits[32] = {};
        unsigned length = 0;
        for (; i < count && (sorted[i] >> 8) == window; ++i) {
            const unsigned low = sorted[i] & 0xFF;
            bits[low / 8] = static_cast<std::uint8_t>(bits[low / 8] | (0x80 >> (low % 8)));
            length = low / 8 + 1;
        }
        if (out.size() < n + 2 + length) return 0;
        out[n] = static_cast<std::uint8_t>(window);
        out[n + 1] = static_cast<std::uint8_t>(length);
        std::memcpy(out.data() + n + 2, bits, length);
        n += 2 + length;
    }
    return n;
}

namespace {

/// What every record of a signed reply needs.
struct Context {
    std::span<const std::uint8_t> request;
    const wire::Query& q;
    const Zone& zone;
    const dnssec::KeySet& keys;
    const Plan& plan;
    SignatureCache& cache;
    std::int64_t now;
};

/// The RRSIGs of `rrset` (one per key that signs its type), written with
/// the record owner `owner` (null: the question name); false when they do
/// not fit. An RRset no key could sign goes out unsigned (a validator
/// calls it bogus; the cache's failure count says so).
bool put_rrsigs(Writer& w, const Context& cx, const dnssec::Rrset& rrset, const std::uint8_t* owner,
                std::size_t owner_size, unsigned& count) noexcept {
    const dnssec::Key* keys[dnssec::KeySet::kMaxKeys];
    const std::size_t n = cx.keys.select(rrset.type, cx.now, keys);
    for (std::size_t i = 0; i < n; ++i) {
        const auto sig = cx.cache.sign(*keys[i], rrset, cx.now);
        if (sig.empty()) continue;
        if (!put_record(w, owner, owner_size, type::RRSIG, wire::klass::IN, rrset.ttl,
                        [&](Writer& out) { return out.put_bytes(sig.data(), sig.size()); }))
            return false;
        ++count;
    }
    return true;
}

/// One Entry of the plan and its RRSIGs; all of it or nothing.
bool put_signed(Writer& w, const Context& cx, const Entry& e, unsigned& count) noexcept {
    const auto m = w.mark();
    const unsigned before = count;
    if (!put_entry(w, e, cx.plan, count)) return false;
    dnssec::Rrset rrset;
    rrset.owner = e.owner ? std::span<const std::uint8_t>(e.owner, e.owner_size)
                          : cx.request.subspan(wire::kHeaderSize, cx.q.qname_size);
    auto& rdatas = cx.cache.rdatas();
    rdatas.clear();
    // The signed encoder is noexcept: an RRset larger than the scratch
    // has room for (thousands of records) grows it, and if that fails
    // goes out unsigned.
    try {
        switch (e.kind) {
            case Entry::Kind::rrset: {
                rrset.type = e.set->type;
                rrset.ttl = e.ttl_override ? e.ttl : e.set->ttl;
                for (const auto& d : e.zone->rdatas(*e.set)) rdatas.emplace_back(e.zone->bytes(d), d.size);
                break;
            }
            case Entry::Kind::steered_addresses: {
                rrset.ttl = e.ttl;
                for (unsigned i = 0; i < cx.plan.choice.count; ++i) {
                    const Address& a = cx.plan.catalog->addresses[cx.plan.choice.address[i]];
                    rrset.type = a.family == Family::v4 ? type::A : type::AAAA;
                    rdatas.emplace_back(a.view());
                }
                break;
            }
            case Entry::Kind::steered_cname: {
                rrset.type = type::CNAME;
                rrset.ttl = e.ttl;
                const std::string& target = cx.plan.catalog->sites[cx.plan.choice.site].cname;
                rdatas.emplace_back(reinterpret_cast<const std::uint8_t*>(target.data()), target.size());
                break;
            }
        }
    } catch (...) {
        return true;
    }
    rrset.rdatas = rdatas;
    if (rdatas.empty()) return true;
    if (!put_rrsigs(w, cx, rrset, e.owner, e.owner_size, count)) {
        w.rollback(m);
        count = before;
        return false;
    }
    return true;
}

/// A lower-cased wire name and its node in the zone.
struct Name {
    std::uint8_t bytes[kMaxNameLength];
    std::size_t size = 0;
};

/// `name` lower-cased into `out`.
void lower_into(const std::uint8_t* name, std::size_t size, Name& out) noexcept {
    out.size = size;
    for (std::size_t i = 0; i < size; ++i) {
        const auto b = name[i];
        out.bytes[i] = b >= 'A' && b <= 'Z' ? static_cast<std::uint8_t>(b + 32) : b;
    }
}

/// The node whose types a NODATA answer for `name` denies against: the
/// name's own, or the wildcard that answers for it (RFC 4592); kNone for
/// neither.
std::int32_t node_for(const Zone& z, const Name& name) noexcept {
    std::size_t at = 0;
    while (at < name.size && name.bytes[at] != 0) {
        const auto node = z.find(name.bytes + at, name.size - at);
        if (node != kNone) return at == 0 ? node : z.node(node).wildcard;
        at += 1u + name.bytes[at];
    }
    return kNone;
}

/// A compact answer's NSEC at `name` (RFC 9824) and its RRSIGs: for a name
/// that does not exist RRSIG, NSEC and NXNAME; for one that does, its types
/// but `qtype`, with RRSIG and NSEC.
bool put_denial(Writer& w, const Context& cx, const Name& name, bool nxname, std::uint16_t qtype,
                std::uint32_t ttl, unsigned& count) noexcept {
    std::uint16_t types[kMaxNsecTypes];
    std::size_t n = 0;
    types[n++] = type::RRSIG;
    types[n++] = type::NSEC;
    if (nxname) {
        types[n++] = type::NXNAME;
    } else if (const auto node = node_for(cx.zone, name); node != kNone) {
        for (const auto& s : cx.zone.rrsets(node))
            if (s.type != qtype && n < kMaxNsecTypes) types[n++] = s.type;
    }
    std::uint8_t rdata[kMaxNameLength + 2 + 34 * kMaxNsecTypes];  // a window per type at most
    const std::size_t size = compact_nsec({name.bytes, name.size}, {types, n}, rdata);
    if (size == 0) return true;
    const auto m = w.mark();
    const unsigned before = count;
    if (!put_record(w, name.bytes, name.size, type::NSEC, wire::klass::IN, ttl,
                    [&](Writer& out) { return out.put_bytes(rdata, size); })) {
        return false;
    }
    ++count;
    const dnssec::Rdata one(rdata, size);
    const dnssec::Rrset rrset{{name.bytes, name.size}, type::NSEC, ttl, {&one, 1}};
    if (!put_rrsigs(w, cx, rrset, name.bytes, name.size, count)) {
        w.rollback(m);
        count = before;
        return false;
    }
    return true;
}

/// The name a negative answer denies: the question name, or the target of
/// the CNAME chain's last record.
void denied_name(const Context& cx, Name& out) noexcept {
    if (cx.plan.answers > 0) {
        const Entry& last = cx.plan.answer[cx.plan.answers - 1];
        if (last.kind == Entry::Kind::rrset && last.set->type == type::CNAME) {
            const auto& d = last.zone->rdatas(*last.set)[0];
            const std::uint8_t* target = last.zone->bytes(d);
            lower_into(target, name_size_at(target, d.size), out);
            return;
        }
    }
    std::memcpy(out.bytes, cx.q.qname_lower, cx.q.qname_size);
    out.size = cx.q.qname_size;
}

/// Behind a referral's NS: the DS RRset of the delegation, signed, or an
/// NSEC at the cut that proves there is none (RFC 4035 3.1.4).
bool put_delegation_proof(Writer& w, const Context& cx, const Entry& ns, unsigned& count) noexcept {
    Name cut;
    lower_into(ns.owner, ns.owner_size, cut);
    const auto node = cx.zone.find(cut.bytes, cut.size);
    if (node == kNone) return true;
    if (const auto* ds = cx.zone.rrset(node, type::DS))
        return put_signed(w, cx, Entry{&cx.zone, ds, ns.owner, ns.owner_size}, count);
    return put_denial(w, cx, cut, false, type::DS, cx.zone.negative_ttl(), count);
}

}  // namespace

std::size_t encode_signed(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                          wire::Query& q, const View& v, const Zone& zone, const dnssec::KeySet& keys,
                          Plan& plan, std::size_t limit, SignatureCache& cache, std::int64_t now) noexcept {
    const bool steered_nodata =
        plan.outcome == Outcome::steered && plan.choice.kind == steer::Choice::Kind::nodata;
    const bool nxdomain = plan.outcome == Outcome::nxdomain;
    const bool denial = nxdomain || plan.outcome == Outcome::nodata || steered_nodata;
    // Compact answers (RFC 9824): a name that does not exist is answered
    // as one without the type asked, NOERROR.
    if (nxdomain) plan.rcode = rcode::NOERROR;
    const Context cx{request, q, zone, keys, plan, cache, now};

    Writer w(response.first(limit));
    start_reply(w, request, q, v, limit);
    Counts c;
    bool tc = false;
    for (unsigned i = 0; i < plan.answers && !tc; ++i) tc = !put_signed(w, cx, plan.answer[i], c.an);
    for (unsigned i = 0; i < plan.authorities && !tc; ++i) {
        const Entry& e = plan.authority[i];
        if (plan.outcome == Outcome::referral && e.kind == Entry::Kind::rrset && e.set->type == type::NS) {
            // The parent's NS of a delegation are not signed; its DS is.
            tc = !put_entry(w, e, plan, c.ns) || !put_delegation_proof(w, cx, e, c.ns);
            continue;
        }
        tc = !put_signed(w, cx, e, c.ns);
        if (!tc && denial && e.kind == Entry::Kind::rrset && e.set->type == type::SOA) {
            Name name;
            denied_name(cx, name);
            const std::uint32_t ttl = e.ttl_override ? e.ttl : zone.negative_ttl();
            tc = !put_denial(w, cx, name, nxdomain, q.qtype, ttl, c.ns);
        }
    }
    // Glue of a referral is not the zone's data: it goes out unsigned.
    const bool sign_additional = plan.outcome != Outcome::referral;
    for (unsigned i = 0; i < plan.additionals && !tc; ++i) {
        const bool put = sign_additional ? put_signed(w, cx, plan.additional[i], c.ar)
                                         : put_entry(w, plan.additional[i], plan, c.ar);
        if (!put) {
            tc = i < plan.required;
            break;
        }
    }
    w.set_limit(limit);
    q.ecs_scope = plan.ecs_scope;
    put_opt(w, q, v, plan.rcode, c);
    auto flags = reply_flags(q, true);
    if (plan.aa) flags = static_cast<std::uint16_t>(flags | flag::AA);
    if (tc) flags = static_cast<std::uint16_t>(flags | flag::TC);
    return finish(w, q.id, flags, plan.rcode, c, true);
}

}  // namespace dnsd::query
