#include "dnsd/query/answer.hpp"

#include <cstring>

#include "dnsd/query/chaos.hpp"
#include "dnsd/query/encode.hpp"
#include "dnsd/query/plan.hpp"
#include "dnsd/query/signed.hpp"
#include "dnsd/query/steering.hpp"
#include "dnsd/wire/types.hpp"
#include "dnsd/wire/writer.hpp"

namespace dnsd::query {

namespace type = wire::type;
namespace rcode = wire::rcode;
namespace flag = wire::flag;
using wire::Query;
using wire::Writer;
using zones::kNone;
using zones::Zone;

namespace {

/// A name being resolved: the question name, or a CNAME target.
struct Target {
    const std::uint8_t* lower;
    const std::uint8_t* offsets;
    unsigned labels;
    std::size_t size;
    const std::uint8_t* owner;  ///< null for the question name
    std::uint8_t owner_size;
};

/// What a steered answer needs besides the zone.
struct Steering {
    const View& view;
    const std::int32_t* services;  ///< node -> service of this zone, or null
    const Client& client;
};

Outcome negative(Plan& plan, const Zone& z, std::uint16_t code) noexcept {
    plan.rcode = code;
    plan.add_authority(Entry{&z, &z.negative_soa(), z.name_bytes(z.apex()), z.node(z.apex()).name_size});
    return code == rcode::NXDOMAIN ? Outcome::nxdomain : Outcome::nodata;
}

Outcome referral(Plan& plan, const Zone& z, std::int32_t cut) noexcept {
    const auto* ns = z.rrset(cut, type::NS);
    if (plan.answers == 0) plan.aa = false;
    plan.add_authority(Entry{&z, ns, z.name_bytes(cut), z.node(cut).name_size});
    // In-domain glue first (required), then glue found elsewhere in the zone.
    for (const auto& d : z.rdatas(*ns))
        if (d.target != kNone && z.node(d.target).cut == cut) plan.add_addresses(z, d.target);
    plan.required = plan.additionals;
    for (const auto& d : z.rdatas(*ns))
        if (d.target != kNone) plan.add_addresses(z, d.target);
    return Outcome::referral;
}

void additional_for(Plan& plan, const Zone& z, const zones::RRset& s) noexcept {
    if (s.type != type::NS && s.type != type::MX && s.type != type::SRV) return;
    for (const auto& d : z.rdatas(s))
        if (d.target != kNone) plan.add_addresses(z, d.target);
}

/// decide() for the family asked; ANY gets A (RFC 8482), or AAAA when no
/// site has IPv4.
inline void decide_for(const Query& q, const steer::Catalog& catalog, const steer::Service& svc,
                       const steer::Client& where, const health::Snapshot& h, steer::Random& random,
                       steer::Choice& choice) noexcept {
    const Family family = q.qtype == type::AAAA ? Family::v6 : Family::v4;
    const bool any = q.qtype == type::ANY;  // held across the call, not read again after it
    steer::decide(catalog, svc, family, where, h, random, nullptr, choice);
    if (any && choice.no_family()) steer::decide(catalog, svc, Family::v6, where, h, random, nullptr, choice);
}

/// decide_for() with the worker's random source, or a fixed one when there
/// is none (explanations). Written out per branch so that a worker's query
/// neither builds the fixed one nor copies where the client is.
inline void decide_with(const Query& q, const steer::Catalog& catalog, const steer::Service& svc,
                        const steer::Client& where, const health::Snapshot& h, steer::Random* random,
                        steer::Choice& choice) noexcept {
    if (random) {
        decide_for(q, catalog, svc, where, h, *random, choice);
        return;
    }
    steer::Random fixed;
    decide_for(q, catalog, svc, where, h, fixed, choice);
}

/// decide_with() for a service with stickiness: the client keyed by its
/// prefix, and located too for `nearest`. An answer picked by the prefix
/// has its scope, or the longer one of where the client is (SPEC 9). Out
/// of line, so that other services' queries do not pay for it.
[[gnu::noinline]] void decide_sticky(const Query& q, const steer::Catalog& catalog, const steer::Service& svc,
                                     const health::Snapshot& h, const Steering& s, Plan& plan) noexcept {
    const Subnet subnet = subnet_of(q);
    Whereabouts w;
    if (svc.policy == config::Service::Policy::nearest) {
        w = locate_client(subnet, s.view, s.client);
        plan.ecs_scope = w.scope;
    }
    const std::uint8_t scope = key_client(subnet, s.client, w.client).scope();
    decide_with(q, catalog, svc, w.client, h, s.client.random, plan.choice);
    if (plan.choice.hashed() && scope > plan.ecs_scope) plan.ecs_scope = scope;
}

/// A and AAAA at a service name: decide() picks the addresses (SPEC 3).
Outcome steered(const Query& q, const Zone& z, const Target& t, Plan& plan, const Steering& s,
                std::int32_t service) noexcept {
    const steer::Catalog& catalog = s.view.catalog();
    const steer::Service& svc = catalog.services[static_cast<std::size_t>(service)];
    plan.catalog = &catalog;
    const health::Snapshot& h = health_for(s.client, catalog);
    // Only `nearest` depends on where the client is, and only a service
    // with stickiness on who it is; the others answer everyone alike (ECS
    // scope 0).
    if (svc.sticky) {
        decide_sticky(q, catalog, svc, h, s, plan);
    } else if (svc.policy == config::Service::Policy::nearest) {
        const Whereabouts w = locate_client(subnet_of(q), s.view, s.client);
        plan.ecs_scope = w.scope;
        decide_with(q, catalog, svc, w.client, h, s.client.random, plan.choice);
    } else {
        static constexpr steer::Client kAnywhere{};
        decide_with(q, catalog, svc, kAnywhere, h, s.client.random, plan.choice);
    }
    plan.service = service;
    // A service that stays put has its TTL worked out by the state thread
    // (SPEC 9: ttl_degraded, never past a hold-down's end).
    std::uint32_t ttl = svc.ttl;
    if (svc.stays_put)
        if (const auto* sv = steer::service_view(svc, h)) ttl = sv->ttl;
    switch (plan.choice.kind) {
        case steer::Choice::Kind::addresses:
            plan.add_answer(
                Entry{&z, nullptr, t.owner, t.owner_size, Entry::Kind::steered_addresses, true, ttl});
            return Outcome::steered;
        case steer::Choice::Kind::cname:
            plan.add_answer(Entry{&z, nullptr, t.owner, t.owner_size, Entry::Kind::steered_cname, true, ttl});
            return Outcome::steered;
        case steer::Choice::Kind::nodata:
            // An outage is not cached longer than the service TTL, and a
            // negative answer does not depend on the client: ECS scope 0
            // (SPEC 3).
            plan.rcode = rcode::NOERROR;
            plan.ecs_scope = 0;
            plan.add_authority(Entry{&z, &z.negative_soa(), z.name_bytes(z.apex()),
                                     z.node(z.apex()).name_size, Entry::Kind::rrset, true,
                                     ttl < z.negative_ttl() ? ttl : z.negative_ttl()});
            return Outcome::steered;
    }
    return Outcome::steered;
}

/// RFC 1034 4.3.2 for one zone, following CNAMEs inside it.
Outcome resolve(const Query& q, const Zone& z, Target t, Plan& plan, const Steering& steering) noexcept {
    std::uint8_t lower_buf[kMaxNameLength];
    std::uint8_t offsets_buf[128];
    const unsigned zone_labels = z.node(z.apex()).labels;
    std::int32_t visited[kMaxCnameHops];

    for (unsigned hop = 0;; ++hop) {
        // Closest encloser: the longest existing suffix (empty non-terminals
        // are nodes, so this is exact, RFC 4592 3.3.1).
        std::int32_t node = kNone;
        unsigned depth = 0;
        for (; depth + zone_labels <= t.labels; ++depth) {
            node = z.find(t.lower + t.offsets[depth], t.size - t.offsets[depth]);
            if (node != kNone) break;
        }
        if (node == kNone) return Outcome::nxdomain;  // cannot happen: the apex is always there
        const bool exact = depth == 0;
        const zones::Node& n = z.node(node);

        if (n.cut != kNone) {
            // At or below a delegation. DS lives on the parent side of the cut.
            if (exact && n.cut == node && q.qtype == type::DS) {
                if (const auto* ds = z.rrset(node, type::DS)) {
                    plan.add_answer(Entry{&z, ds, t.owner, t.owner_size});
                    return Outcome::hit;
                }
                return negative(plan, z, rcode::NOERROR);
            }
            return referral(plan, z, n.cut);
        }

        std::int32_t at = node;
        if (!exact) {
            at = n.wildcard;
            if (at == kNone) return negative(plan, z, rcode::NXDOMAIN);
        }

        if (exact && steering.services && steering.services[at] >= 0 &&
            (q.qtype == type::A || q.qtype == type::AAAA || q.qtype == type::ANY)) {
            return steered(q, z, t, plan, steering, steering.services[at]);
        }
        if (q.qtype == type::ANY) {
            // RFC 8482: one RRset is enough; the first in type order.
            const auto sets = z.rrsets(at);
            if (sets.empty()) return negative(plan, z, rcode::NOERROR);
            plan.add_answer(Entry{&z, &sets[0], t.owner, t.owner_size});
            additional_for(plan, z, sets[0]);
            return Outcome::hit;
        }
        if (const auto* s = z.rrset(at, q.qtype)) {
            plan.add_answer(Entry{&z, s, t.owner, t.owner_size});
            additional_for(plan, z, *s);
            return Outcome::hit;
        }
        const auto* cname = z.rrset(at, type::CNAME);
        if (!cname) return negative(plan, z, rcode::NOERROR);
        // A loop ends when it comes back to a CNAME already in the answer;
        // an absurdly long chain ends after kMaxCnameHops.
        for (unsigned i = 0; i < hop; ++i)
            if (visited[i] == at) return Outcome::cname;
        visited[hop] = at;
        plan.add_answer(Entry{&z, cname, t.owner, t.owner_size});
        if (hop + 1 >= kMaxCnameHops) return Outcome::cname;
        const auto& d = z.rdatas(*cname)[0];
        const std::uint8_t* target = z.bytes(d);
        const std::size_t size = name_size_at(target, d.size);
        // Follow only inside this zone; the resolver chases the rest.
        unsigned labels = 0;
        for (std::size_t i = 0; i < size && target[i] != 0; i += 1u + target[i]) {
            offsets_buf[labels++] = static_cast<std::uint8_t>(i);
        }
        offsets_buf[labels] = static_cast<std::uint8_t>(size - 1);
        for (std::size_t i = 0; i < size; ++i) lower_buf[i] = lower(target[i]);
        const auto origin = z.origin_lower();
        if (labels < zone_labels) return Outcome::cname;
        const std::size_t suffix_at = offsets_buf[labels - zone_labels];
        if (size - suffix_at != origin.size() ||
            std::memcmp(lower_buf + suffix_at, origin.data(), origin.size()) != 0)
            return Outcome::cname;
        t = Target{lower_buf, offsets_buf, labels, size, target, static_cast<std::uint8_t>(size)};
    }
}

/// Looks up the question of `q` in `zone` into `plan` and says what it
/// found. `services`: the zone's node -> service table, or null. In this
/// file, beside answer(), so that it is inlined there: as a call of its
/// own, with the Plan reached through a pointer, it cost the steered path
/// about 60 instructions per query (bench/callgrind --mix nearest).
Outcome lookup(const Query& q, const Zone& zone, const View& view, const std::int32_t* services,
               const Client& client, Plan& plan) noexcept {
    const Target t{q.qname_lower, q.qname_offsets, q.qname_labels, q.qname_size, nullptr, 0};
    plan.outcome = resolve(q, zone, t, plan, Steering{view, services, client});
    return plan.outcome;
}

/// The sections of `plan`; true when the reply must be truncated.
bool put_sections(Writer& w, const Plan& plan, Counts& c) noexcept {
    for (unsigned i = 0; i < plan.answers; ++i)
        if (!put_entry(w, plan.answer[i], plan, c.an)) return true;
    for (unsigned i = 0; i < plan.authorities; ++i)
        if (!put_entry(w, plan.authority[i], plan, c.ns)) return true;
    for (unsigned i = 0; i < plan.additionals; ++i) {
        if (!put_entry(w, plan.additional[i], plan, c.ar)) {
            // Optional additional data is simply left out; missing in-domain
            // glue would break the delegation, so that truncates (RFC 9471).
            return i < plan.required;
        }
    }
    return false;
}

/// The whole reply to `q` from `plan`, at most `limit` bytes. Here, beside
/// answer(), for the same reason as lookup(): as a function of encode.cpp
/// it cost about 60 instructions per query.
std::size_t encode_reply(std::span<const std::uint8_t> request, std::span<std::uint8_t> response, Query& q,
                         const View& v, const Plan& plan, std::size_t limit) noexcept {
    Writer w(response.first(limit));
    start_reply(w, request, q, v, limit);
    Counts c;
    const bool tc = put_sections(w, plan, c);
    w.set_limit(limit);
    q.ecs_scope = plan.ecs_scope;
    put_opt(w, q, v, plan.rcode, c);
    auto flags = reply_flags(q, true);
    if (plan.aa) flags = static_cast<std::uint16_t>(flags | flag::AA);
    if (tc) flags = static_cast<std::uint16_t>(flags | flag::TC);
    return finish(w, q.id, flags, plan.rcode, c, true);
}

/// The Result of a reply of `size` bytes made from `plan`.
inline Result planned(std::size_t size, const Plan& plan, const View& view, std::size_t zone_index,
                      const Query& q, const Client& client) noexcept {
    Result r{size};
    r.zone = static_cast<std::int32_t>(zone_index);
    if (plan.service >= 0) {
        const steer::Service& svc = view.catalog().services[static_cast<std::size_t>(plan.service)];
        r.service = plan.service;
        r.decision = decision_slot(svc, plan.choice);
        r.demand_service = svc.demand_key;
        r.demand_prefix = demand_word_of(subnet_of(q), client);
    }
    return r;
}

/// The reply to a query with DO to a signed zone (SPEC 11): the Plan the
/// lookup made, encoded signed. Out of line and cold, so that other
/// replies pay one test of DO for it; the lookup keeps one call site,
/// inlined into answer() (a second one, in here, made GCC keep it out of
/// line: about 40 instructions per query, bench/callgrind).
[[gnu::cold, gnu::noinline]] Result answer_signed(std::span<const std::uint8_t> request,
                                                  std::span<std::uint8_t> response, Query& q,
                                                  const View& view, std::size_t zone_index,
                                                  const dnssec::KeySet& keys, std::size_t limit,
                                                  const Client& client, Plan& plan) noexcept {
    const Zone& zone = *view.zones()[zone_index];
    const auto now = static_cast<std::int64_t>(client.now ? client.now : tsig_now());
    return planned(
        encode_signed(request, response, q, view, zone, keys, plan, limit, *client.signatures, now), plan,
        view, zone_index, q, client);
}

}  // namespace

namespace {

/// A request's TSIG (RFC 8945) and how its reply is signed.
struct Signing {
    TsigRecord record;
    const config::TsigKey* key = nullptr;  ///< the request's good key: the reply is signed with it
    bool reply = false;                    ///< the reply carries a TSIG (signed with `key`, or unsigned)
    std::uint16_t error = 0;               ///< the TSIG error of the reply
    std::size_t limit = 0;                 ///< the reply's size limit, TSIG included
    TsigFault fault = TsigFault::none;
};

/// Checks the request's TSIG (RFC 8945 5.2). Returns the rcode of the error
/// reply to send at once, or NOERROR to go on answering.
// Kept out of line (as sign_reply): signed queries are rare, and inlined
// here they cost every other query registers and instructions.
[[gnu::cold, gnu::noinline]] std::uint16_t check_request_tsig(std::span<const std::uint8_t> request,
                                                              const Query& q, const View& view,
                                                              const Client& client, Signing& sig) noexcept {
    if (!read_tsig(request, q.tsig_at, sig.record)) {
        sig.fault = TsigFault::malformed;
        return rcode::FORMERR;
    }
    const config::TsigKey* key = nullptr;
    const std::uint64_t now = client.now ? client.now : tsig_now();
    switch (check_tsig(request, sig.record, view.tsig_keys(), now, key)) {
        case TsigCheck::ok:
            sig.key = key;
            sig.reply = true;
            return rcode::NOERROR;
        case TsigCheck::formerr:
            sig.fault = TsigFault::malformed;
            return rcode::FORMERR;
        // 5.3.2: errors about the key or the MAC are answered unsigned.
        case TsigCheck::badkey:
            sig.fault = TsigFault::badkey;
            sig.error = tsig_error::BADKEY;
            break;
        case TsigCheck::badsig:
            sig.fault = TsigFault::badsig;
            sig.error = tsig_error::BADSIG;
            break;
        case TsigCheck::badtrunc:
            sig.fault = TsigFault::badtrunc;
            sig.error = tsig_error::BADTRUNC;
            break;
        // 5.2.3: BADTIME is signed, with our time in Other Data.
        case TsigCheck::badtime:
            sig.fault = TsigFault::badtime;
            sig.error = tsig_error::BADTIME;
            sig.key = key;
            break;
    }
    sig.reply = true;
    return rcode::NOTAUTH;
}

/// Appends the reply's TSIG; the size of the signed reply, or `size` as
/// it was when there is no room (which the limits make impossible).
[[gnu::cold, gnu::noinline]] std::size_t sign_reply(std::span<std::uint8_t> response, std::size_t size,
                                                    const Signing& sig, const Client& client) noexcept {
    const std::uint64_t now = client.now ? client.now : tsig_now();
    TsigSigning s;
    s.key = sig.key;
    s.error = sig.error;
    s.time_signed = now;
    std::uint8_t other[6];
    if (sig.error == tsig_error::BADTIME) {
        // The client's time, so that it can check the reply; ours in Other Data.
        s.time_signed = sig.record.time_signed;
        wire::put16(other, static_cast<std::uint16_t>(now >> 32));
        wire::put32(other + 2, static_cast<std::uint32_t>(now));
        s.other = other;
    }
    if (sig.key) {
        s.prior = sig.record.mac;
    } else {
        s.name = {sig.record.name, sig.record.name_size};
        s.algorithm = {sig.record.algorithm, sig.record.algorithm_size};
        s.time_signed = sig.record.time_signed;
    }
    std::uint8_t mac[kMaxMac];
    std::size_t mac_size = 0;
    const std::size_t limit = sig.limit < response.size() ? sig.limit : response.size();
    const std::size_t n = append_tsig(response.first(limit), size, s, mac, mac_size);
    return n ? n : size;
}

Result answer_query(std::span<const std::uint8_t> request, std::span<std::uint8_t> response, const View& view,
                    const Client& client, Query& q, Signing& sig) noexcept {
    switch (wire::parse_query(request, q)) {
        case wire::Verdict::drop:
            return {};
        case wire::Verdict::notimp:
            // RFC 1035 4.1.1, with our OPT when the query had one (RFC 6891
            // 7), or BADVERS when its version is one we do not know (RFC
            // 6891 6.1.3 says MUST, whatever the opcode; BIND too). Flags by
            // the rule of every reply, for an opcode other than QUERY: no
            // RD or CD (ISC genreport's opcodeflg), nor TC or AA.
            if (q.has_edns && q.edns_version > 0) {
                q.nsid = false;  // as below
                return {error_reply(request, response, q, view, rcode::BADVERS, false, true)};
            }
            q.ecs_echo = q.has_ecs && q.ecs_valid && view.ecs();
            return {error_reply(request, response, q, view, rcode::NOTIMP, false, true)};
        case wire::Verdict::formerr:
            q.has_edns = false;  // the OPT may be what was malformed
            return {error_reply(request, response, q, view, rcode::FORMERR, true, true)};
        case wire::Verdict::ok:
            break;
    }

    const bool tcp = client.transport == Transport::tcp;
    std::size_t limit = 512;
    if (tcp) {
        limit = response.size() < wire::kMaxMessage ? response.size() : wire::kMaxMessage;
    } else if (q.has_edns) {
        std::size_t want = q.edns_payload < 512 ? 512 : q.edns_payload;
        if (want > view.udp_payload()) want = view.udp_payload();
        if (want > response.size()) want = response.size();
        limit = want < 512 ? 512 : want;
    }
    if (q.tsig_at) {
        // Before anything else (RFC 8945 5.2), so that every reply but
        // these errors is signed; the answer keeps room for its TSIG.
        sig.limit = limit;
        if (const auto code = check_request_tsig(request, q, view, client, sig); code != rcode::NOERROR)
            return {error_reply(request, response, q, view, code, true, true)};
        limit -= tsig_size(*sig.key);
    }

    if (q.has_edns && q.edns_version > 0) {
        // RFC 6891 6.1.3. Options mean what their EDNS version says, and
        // this one we do not know: none is answered (no NSID; NSD and BIND
        // neither). DO is a header bit of every version: copied.
        q.nsid = false;
        return {error_reply(request, response, q, view, rcode::BADVERS, true, true)};
    }
    if (q.has_ecs && view.ecs()) {
        // A malformed option is FORMERR (RFC 7871 7.1.1); a good one comes
        // back in every reply, with scope 0 unless the answer depends on
        // the client.
        if (!q.ecs_valid) return {error_reply(request, response, q, view, rcode::FORMERR, true, true)};
        q.ecs_echo = true;
    }

    if (q.qclass == wire::klass::CH) return {chaos(request, response, q, view, client, limit)};
    if (q.qclass != wire::klass::IN)
        return {error_reply(request, response, q, view, rcode::REFUSED, true, true)};
    if (q.qtype == type::OPT || q.qtype == type::TSIG || q.qtype == type::TKEY)
        return {error_reply(request, response, q, view, rcode::FORMERR, true, true)};

    unsigned suffix = 0;
    std::size_t zone_index = 0;
    const Zone* zone =
        view.find_zone(q.qname_lower, q.qname_offsets, q.qname_labels, q.qname_size, suffix, zone_index);
    if (!zone) return {error_reply(request, response, q, view, rcode::REFUSED, true, true)};

    if (q.qtype == type::AXFR || q.qtype == type::IXFR) {
        if (!tcp && q.qtype == type::AXFR)  // RFC 5936 4.2: AXFR is TCP only
            return {error_reply(request, response, q, view, rcode::FORMERR, true, true)};
        if (!view.transfer_allow().contains(client.address))
            return {error_reply(request, response, q, view, rcode::REFUSED, true, true)};
        // With a transfer key, only requests signed with it (a good TSIG
        // of another key is answered, signed, but refused).
        if (const auto* key = view.transfer_key(); key && sig.key != key) {
            sig.fault = sig.key ? TsigFault::other_key : TsigFault::missing;
            return {error_reply(request, response, q, view, rcode::REFUSED, true, true)};
        }
        if (suffix != 0) return {error_reply(request, response, q, view, rcode::NOTAUTH, true, true)};
        // IXFR from the serial we have or one ahead of it (RFC 1982): the
        // SOA alone says so (RFC 1995 2). Over UDP, the SOA alone also
        // tells the client to ask over TCP.
        const bool up_to_date = q.qtype == type::IXFR && (q.ixfr_serial == zone->serial() ||
                                                          zones::serial_ahead(q.ixfr_serial, zone->serial()));
        if (tcp && !up_to_date) {
            Result r{0, zone, 0, 0, static_cast<std::int32_t>(zone_index)};
            // From the journal when it reaches back to the client's serial,
            // otherwise a full transfer (4).
            if (q.qtype == type::IXFR)
                r.ixfr_from = static_cast<std::int32_t>(view.journal(zone_index).find(q.ixfr_serial));
            return r;
        }
    }

    Plan plan;
    if (q.qtype == type::IXFR)
        plan.add_answer(Entry{zone, &zone->soa(), nullptr, 0});
    else
        lookup(q, *zone, view, view.services_of(zone_index), client, plan);
    if (q.edns_do)
        if (const auto* keys = view.keys(zone_index); keys && client.signatures)
            return answer_signed(request, response, q, view, zone_index, *keys, limit, client, plan);
    return planned(encode_reply(request, response, q, view, plan, limit), plan, view, zone_index, q, client);
}

}  // namespace

Result answer(std::span<const std::uint8_t> request, std::span<std::uint8_t> response, const View& view,
              const Client& client) noexcept {
    Query q;
    Signing sig;
    Result r = answer_query(request, response, view, client, q, sig);
    if (sig.reply) {
        if (r.transfer)
            r.tsig = sig.key;
        else if (r.size >= wire::kHeaderSize)
            r.size = sign_reply(response, r.size, sig, client);
    }
    r.tsig_fault = sig.fault;
    r.qtype = q.has_question ? q.qtype : 0;
    r.rcode = r.size >= 4 ? static_cast<std::uint8_t>(response[3] & 0xF) : 0;
    return r;
}

std::size_t truncated_reply(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                            const View& view, const Client& client) noexcept {
    // The full reply, cut down: its header and question as they are, its
    // OPT (NSID, ECS with the scope that decided, an extended rcode) moved
    // up behind the question, TC set. Only every slip-th limited query pays
    // for the full answer; the query path itself is untouched.
    // Built unsigned and signed once cut (RFC 8945 5.3: the reply to a
    // signed request is signed, the truncated one too).
    Query q;
    Signing sig;
    const Result full = answer_query(request, response, view, client, q, sig);
    if (full.size < wire::kHeaderSize || full.transfer) return 0;
    const std::span<const std::uint8_t> reply = response.first(full.size);
    std::size_t pos = wire::kHeaderSize;
    if (wire::get16(&reply[4]) == 1) {
        pos = wire::skip_name(reply, pos);
        if (pos == 0 || pos + 4 > reply.size()) return 0;
        pos += 4;
    }
    const std::size_t question_end = pos;
    const unsigned records =
        unsigned{wire::get16(&reply[6])} + wire::get16(&reply[8]) + wire::get16(&reply[10]);
    std::size_t opt_at = 0, opt_size = 0;
    for (unsigned i = 0; i < records; ++i) {
        const std::size_t name_end = wire::skip_name(reply, pos);
        if (name_end == 0 || name_end + 10 > reply.size()) return 0;
        const std::size_t end = name_end + 10 + wire::get16(&reply[name_end + 8]);
        if (end > reply.size()) return 0;
        if (wire::get16(&reply[name_end]) == type::OPT) {
            opt_at = pos;
            opt_size = end - pos;
        }
        pos = end;
    }
    std::memmove(response.data() + question_end, response.data() + opt_at, opt_size);
    wire::put16(&response[2], static_cast<std::uint16_t>(wire::get16(&reply[2]) | flag::TC));
    wire::put16(&response[6], 0);
    wire::put16(&response[8], 0);
    wire::put16(&response[10], opt_size ? 1 : 0);
    const std::size_t size = question_end + opt_size;
    return sig.reply ? sign_reply(response, size, sig, client) : size;
}

}  // namespace dnsd::query
