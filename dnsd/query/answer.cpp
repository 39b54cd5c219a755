#include "dnsd/query/answer.hpp"

#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <cstring>

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

/// One RRset scheduled for a section. The lookup fills a Plan first and the
/// encoder writes it after (answers collected first, encoded after), so that
/// truncation is a rollback to the mark before the RRset that did not fit.
struct Entry {
    enum class Kind : std::uint8_t { rrset, steered_addresses, steered_cname };
    const Zone* zone;
    const zones::RRset* set;    ///< for Kind::rrset
    const std::uint8_t* owner;  ///< wire name; null: the question name (a pointer to offset 12)
    std::uint8_t owner_size;
    Kind kind;
    bool ttl_override;  ///< use `ttl` instead of the RRset's
    std::uint32_t ttl;

    // The default constructor leaves everything uninitialized on purpose:
    // a Plan holds 64 Entries, and initializing them all for every query
    // would cost more than the lookup. Entries in use are made with the
    // constructor below.
    Entry() = default;
    Entry(const Zone* z, const zones::RRset* s, const std::uint8_t* o, std::uint8_t o_size,
          Kind k = Kind::rrset, bool override_ttl = false, std::uint32_t t = 0) noexcept
        : zone(z), set(s), owner(o), owner_size(o_size), kind(k), ttl_override(override_ttl), ttl(t) {}
};

constexpr unsigned kMaxAnswer = 20;
constexpr unsigned kMaxAuthority = 4;
constexpr unsigned kMaxAdditional = 40;
// Longer chains than any sane zone has; NSD follows at least as many.
constexpr unsigned kMaxCnameHops = 16;

struct Plan {
    Entry answer[kMaxAnswer];
    unsigned answers = 0;
    Entry authority[kMaxAuthority];
    unsigned authorities = 0;
    Entry additional[kMaxAdditional];
    unsigned additionals = 0;
    /// The first `required` additional entries are in-domain glue of a
    /// referral: if they do not fit the answer is truncated (RFC 9471).
    unsigned required = 0;
    std::int32_t added_nodes[kMaxAdditional];
    unsigned added = 0;
    std::uint16_t rcode = rcode::NOERROR;
    bool aa = true;
    /// A steered answer (at most one per query: it ends a CNAME chain).
    steer::Choice choice;
    const steer::Catalog* catalog = nullptr;
    std::int32_t service = -1;   ///< the service that decided, for counters
    std::uint8_t ecs_scope = 0;  ///< the ECS scope the answer depends on (0: not on the client)

    void add_answer(const Entry& e) noexcept {
        if (answers < kMaxAnswer) answer[answers++] = e;
    }
    void add_authority(const Entry& e) noexcept {
        if (authorities < kMaxAuthority) authority[authorities++] = e;
    }
    /// A and AAAA of `node` to the additional section, once per node.
    void add_addresses(const Zone& z, std::int32_t node) noexcept {
        for (unsigned i = 0; i < added; ++i)
            if (added_nodes[i] == node) return;
        if (added >= kMaxAdditional) return;
        added_nodes[added++] = node;
        const std::uint8_t* name = z.name_bytes(node);
        const auto size = z.node(node).name_size;
        for (const auto t : {type::A, type::AAAA})
            if (const auto* s = z.rrset(node, t); s && additionals < kMaxAdditional)
                additional[additionals++] = Entry{&z, s, name, size};
    }
};

/// A name being resolved: the question name, or a CNAME target.
struct Target {
    const std::uint8_t* lower;
    const std::uint8_t* offsets;
    unsigned labels;
    std::size_t size;
    const std::uint8_t* owner;  ///< null for the question name
    std::uint8_t owner_size;
};

std::size_t name_size_at(const std::uint8_t* p, std::size_t limit) noexcept {
    std::size_t i = 0;
    while (i < limit && p[i] != 0) i += 1u + p[i];
    return i < limit ? i + 1 : limit;
}

void negative(Plan& plan, const Zone& z, std::uint16_t code) noexcept {
    plan.rcode = code;
    plan.add_authority(Entry{&z, &z.negative_soa(), z.name_bytes(z.apex()), z.node(z.apex()).name_size});
}

void referral(Plan& plan, const Zone& z, std::int32_t cut) noexcept {
    const auto* ns = z.rrset(cut, type::NS);
    if (plan.answers == 0) plan.aa = false;
    plan.add_authority(Entry{&z, ns, z.name_bytes(cut), z.node(cut).name_size});
    // In-domain glue first (required), then glue found elsewhere in the zone.
    for (const auto& d : z.rdatas(*ns))
        if (d.target != kNone && z.node(d.target).cut == cut) plan.add_addresses(z, d.target);
    plan.required = plan.additionals;
    for (const auto& d : z.rdatas(*ns))
        if (d.target != kNone) plan.add_addresses(z, d.target);
}

void additional_for(Plan& plan, const Zone& z, const zones::RRset& s) noexcept {
    if (s.type != type::NS && s.type != type::MX && s.type != type::SRV) return;
    for (const auto& d : z.rdatas(s))
        if (d.target != kNone) plan.add_addresses(z, d.target);
}

/// RFC 1034 4.3.2 for one zone, following CNAMEs inside it.
/// The health snapshot to steer by: the worker's, when it was built for
/// this view's catalog. Otherwise (no snapshot, or for a moment during a
/// reload, when its indices would name other addresses) none: every
/// address counts as up.
const health::Snapshot& health_for(const Client& client, const steer::Catalog& catalog) noexcept {
    static const health::Snapshot kAllUp{};
    return client.health && client.health->catalog_id == catalog.id ? *client.health : kAllUp;
}

void address_text(const Address& a, char* out, std::size_t size) noexcept {
    inet_ntop(a.family == Family::v4 ? AF_INET : AF_INET6, a.view().data(), out,
              static_cast<socklen_t>(size));
}

/// What a steered answer needs besides the zone.
struct Steering {
    const View& view;
    const std::int32_t* services;  ///< node -> service of this zone, or null
    const Client& client;
};

/// Where a client is, and how that was found out.
struct Whereabouts {
    steer::Client client;  ///< what decide() needs
    geo::Located located;
    Address address;  ///< the address located: from ECS, or the source
    bool by_ecs = false;
    std::uint8_t source_prefix = 0;
    std::uint8_t scope = 0;  ///< the ECS scope of an answer that depends on it
};

/// The client's location (SPEC 3): the ECS address when ECS is honoured and
/// has a source prefix above 0, else the source address; networks entries,
/// then the databases, through the worker's cache when there is one.
Whereabouts locate_client(const Query& q, const View& view, const Client& client) noexcept {
    Whereabouts w;
    w.address = client.address;
    w.by_ecs = q.ecs_echo && q.ecs_source > 0;  // source prefix 0: as without ECS
    if (w.by_ecs) {
        w.address.family = q.ecs_family == 1 ? Family::v4 : Family::v6;
        for (std::size_t i = 0; i < 16; ++i) w.address.bytes[i] = q.ecs_address[i];
    }
    w.source_prefix = w.by_ecs ? q.ecs_source : static_cast<std::uint8_t>(w.address.bits());
    if (!view.locator()) return w;
    const geo::Locator& locator = *view.locator();
    if (client.geo_cache) {
        client.geo_cache->locate(locator, w.address, w.source_prefix, w.by_ecs, w.located, w.scope);
    } else {
        w.located = locator.locate(w.address);
        if (w.by_ecs) w.scope = locator.scope(w.address, w.located, w.source_prefix);
    }
    if (w.located.source != geo::Located::Source::unknown) {
        w.client.located = true;
        w.client.location = w.located.location;
    }
    return w;
}

/// The Counters slot of a decision: the chosen site's place in the
/// service's list, or one of Counters::Extra.
std::uint16_t decision_slot(const steer::Service& svc, const steer::Choice& choice) noexcept {
    const auto n = svc.sites.size();
    if (choice.fallback) return static_cast<std::uint16_t>(n + Counters::fallback);
    if (choice.kind == steer::Choice::Kind::nodata) return static_cast<std::uint16_t>(n + Counters::none);
    for (std::size_t i = 0; i < n; ++i)
        if (svc.sites[i] == choice.site) return static_cast<std::uint16_t>(i);
    return static_cast<std::uint16_t>(n + Counters::several);
}

/// A and AAAA at a service name: decide() picks the addresses (SPEC 3).
void steered(const Query& q, const Zone& z, const Target& t, Plan& plan, const Steering& s,
             std::int32_t service) noexcept {
    const steer::Catalog& catalog = s.view.catalog();
    const steer::Service& svc = catalog.services[static_cast<std::size_t>(service)];
    steer::Random fixed;
    steer::Random& random = s.client.random ? *s.client.random : fixed;
    const Family family = q.qtype == type::A ? Family::v4 : Family::v6;
    plan.catalog = &catalog;
    // Only `nearest` depends on where the client is; the others answer
    // everyone alike (ECS scope 0).
    steer::Client where;
    if (svc.policy == config::Service::Policy::nearest) {
        const Whereabouts w = locate_client(q, s.view, s.client);
        where = w.client;
        plan.ecs_scope = w.scope;
    }
    const health::Snapshot& h = health_for(s.client, catalog);
    steer::decide(catalog, svc, family, where, h, random, nullptr, plan.choice);
    plan.service = service;
    switch (plan.choice.kind) {
        case steer::Choice::Kind::addresses:
            plan.add_answer(
                Entry{&z, nullptr, t.owner, t.owner_size, Entry::Kind::steered_addresses, true, svc.ttl});
            return;
        case steer::Choice::Kind::cname:
            plan.add_answer(
                Entry{&z, nullptr, t.owner, t.owner_size, Entry::Kind::steered_cname, true, svc.ttl});
            return;
        case steer::Choice::Kind::nodata:
            // An outage is not cached longer than the service TTL (SPEC 3).
            plan.rcode = rcode::NOERROR;
            plan.add_authority(Entry{&z, &z.negative_soa(), z.name_bytes(z.apex()),
                                     z.node(z.apex()).name_size, Entry::Kind::rrset, true,
                                     svc.ttl < z.negative_ttl() ? svc.ttl : z.negative_ttl()});
            return;
    }
}

void resolve(const Query& q, const Zone& z, Target t, Plan& plan, const Steering& steering) noexcept {
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
        if (node == kNone) return;  // cannot happen: the apex is always there
        const bool exact = depth == 0;
        const zones::Node& n = z.node(node);

        if (n.cut != kNone) {
            // At or below a delegation. DS lives on the parent side of the cut.
            if (exact && n.cut == node && q.qtype == type::DS) {
                if (const auto* ds = z.rrset(node, type::DS))
                    plan.add_answer(Entry{&z, ds, t.owner, t.owner_size});
                else
                    negative(plan, z, rcode::NOERROR);
                return;
            }
            referral(plan, z, n.cut);
            return;
        }

        std::int32_t at = node;
        if (!exact) {
            at = n.wildcard;
            if (at == kNone) {
                negative(plan, z, rcode::NXDOMAIN);
                return;
            }
        }

        if (exact && steering.services && steering.services[at] >= 0 &&
            (q.qtype == type::A || q.qtype == type::AAAA)) {
            steered(q, z, t, plan, steering, steering.services[at]);
            return;
        }
        if (q.qtype == type::ANY) {
            // RFC 8482: one RRset is enough; the first in type order.
            const auto sets = z.rrsets(at);
            if (sets.empty())
                negative(plan, z, rcode::NOERROR);
            else {
                plan.add_answer(Entry{&z, &sets[0], t.owner, t.owner_size});
                additional_for(plan, z, sets[0]);
            }
            return;
        }
        if (const auto* s = z.rrset(at, q.qtype)) {
            plan.add_answer(Entry{&z, s, t.owner, t.owner_size});
            additional_for(plan, z, *s);
            return;
        }
        const auto* cname = z.rrset(at, type::CNAME);
        if (!cname) {
            negative(plan, z, rcode::NOERROR);
            return;
        }
        // A loop ends when it comes back to a CNAME already in the answer;
        // an absurdly long chain ends after kMaxCnameHops.
        for (unsigned i = 0; i < hop; ++i)
            if (visited[i] == at) return;
        visited[hop] = at;
        plan.add_answer(Entry{&z, cname, t.owner, t.owner_size});
        if (hop + 1 >= kMaxCnameHops) return;
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
        if (labels < zone_labels) return;
        const std::size_t suffix_at = offsets_buf[labels - zone_labels];
        if (size - suffix_at != origin.size() ||
            std::memcmp(lower_buf + suffix_at, origin.data(), origin.size()) != 0)
            return;
        t = Target{lower_buf, offsets_buf, labels, size, target, static_cast<std::uint8_t>(size)};
    }
}

// ---- encoding ----

bool put_rdata(Writer& w, std::uint16_t t, const std::uint8_t* p, std::size_t size) noexcept {
    // Compression inside rdata only for the RFC 1035 types (RFC 3597 4).
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

/// Writes the steered records of an entry (addresses or a CNAME), or nothing.
bool put_steered(Writer& w, const Entry& e, const Plan& plan, unsigned& count) noexcept {
    const auto m = w.mark();
    const unsigned before = count;
    const std::uint32_t ttl = e.ttl;
    auto fail = [&] {
        w.rollback(m);
        count = before;
        return false;
    };
    if (e.kind == Entry::Kind::steered_cname) {
        const std::string& target = plan.catalog->sites[plan.choice.site].cname;
        bool ok = e.owner ? w.put_name(e.owner, e.owner_size) : w.put16(0xC00C);
        ok = ok && w.put16(type::CNAME) && w.put16(wire::klass::IN) && w.put32(ttl);
        const std::size_t len_at = w.size();
        ok = ok && w.put16(0) &&
             w.put_name(reinterpret_cast<const std::uint8_t*>(target.data()), target.size());
        if (!ok) return fail();
        w.patch16(len_at, static_cast<std::uint16_t>(w.size() - len_at - 2));
        ++count;
        return true;
    }
    for (unsigned i = 0; i < plan.choice.count; ++i) {
        const Address& a = plan.catalog->addresses[plan.choice.address[i]];
        const auto bytes = a.view();
        const bool ok = (e.owner ? w.put_name(e.owner, e.owner_size) : w.put16(0xC00C)) &&
                        w.put16(a.family == Family::v4 ? type::A : type::AAAA) && w.put16(wire::klass::IN) &&
                        w.put32(ttl) && w.put16(static_cast<std::uint16_t>(bytes.size())) &&
                        w.put_bytes(bytes.data(), bytes.size());
        if (!ok) return fail();
        ++count;
    }
    return true;
}

/// Writes every record of an entry, or nothing.
bool put_entry(Writer& w, const Entry& e, const Plan& plan, unsigned& count) noexcept {
    if (e.kind != Entry::Kind::rrset) return put_steered(w, e, plan, count);
    const auto m = w.mark();
    const unsigned before = count;
    const std::uint32_t ttl = e.ttl_override ? e.ttl : e.set->ttl;
    for (const auto& d : e.zone->rdatas(*e.set)) {
        bool ok = e.owner ? w.put_name(e.owner, e.owner_size) : w.put16(0xC00C);
        ok = ok && w.put16(e.set->type) && w.put16(wire::klass::IN) && w.put32(ttl);
        const std::size_t len_at = w.size();
        ok = ok && w.put16(0) && put_rdata(w, e.set->type, e.zone->bytes(d), d.size);
        if (!ok) {
            w.rollback(m);
            count = before;
            return false;
        }
        w.patch16(len_at, static_cast<std::uint16_t>(w.size() - len_at - 2));
        ++count;
    }
    return true;
}

struct Counts {
    unsigned an = 0, ns = 0, ar = 0;
};

/// Header, question, and the OPT reservation. Returns the OPT size.
std::size_t opt_size(const Query& q, const View& v) noexcept {
    if (!q.has_edns) return 0;
    std::size_t n = 11;
    if (q.nsid && !v.identity().empty()) n += 4 + v.identity().size();
    if (q.ecs_echo) n += 8 + q.ecs_address_length;
    return n;
}

void put_opt(Writer& w, const Query& q, const View& v, std::uint16_t code, Counts& c) noexcept {
    if (!q.has_edns) return;
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
        std::memcpy(b + n + 8, q.ecs_address, q.ecs_address_length);
        n += 8 + q.ecs_address_length;
    }
    wire::put16(b + 9, static_cast<std::uint16_t>(n - 11));
    if (w.put_bytes(b, n)) ++c.ar;
}

std::size_t finish(Writer& w, const Query& q, std::uint16_t flags, std::uint16_t code, const Counts& c,
                   bool question) noexcept {
    std::uint8_t* h = w.data();
    wire::put16(h, q.id);
    wire::put16(h + 2, static_cast<std::uint16_t>(flags | (code & 0xF)));
    wire::put16(h + 4, question ? 1 : 0);
    wire::put16(h + 6, static_cast<std::uint16_t>(c.an));
    wire::put16(h + 8, static_cast<std::uint16_t>(c.ns));
    wire::put16(h + 10, static_cast<std::uint16_t>(c.ar));
    return w.size();
}

bool put_question(Writer& w, std::span<const std::uint8_t> request, const Query& q) noexcept {
    if (!w.put_bytes(request.data() + wire::kHeaderSize, q.question_end - wire::kHeaderSize)) return false;
    w.remember_name(wire::kHeaderSize, q.qname_offsets, q.qname_labels, q.qname_size);
    return true;
}

std::uint16_t reply_flags(const Query& q, bool echo_rd) noexcept {
    auto f = static_cast<std::uint16_t>(flag::QR | (q.flags & 0x7800));  // opcode
    if (echo_rd) f = static_cast<std::uint16_t>(f | (q.flags & flag::RD));
    f = static_cast<std::uint16_t>(f | (q.flags & flag::CD));
    return f;
}

/// Header and question of a reply with sections to come; the sections may
/// use the space that the OPT record (written last) leaves.
void start_reply(Writer& w, std::span<const std::uint8_t> request, const Query& q, const View& v,
                 std::size_t limit) noexcept {
    w.put_bytes(request.data(), wire::kHeaderSize);
    put_question(w, request, q);
    w.set_limit(limit - opt_size(q, v));
}

/// An error reply: header, the question when intact, OPT when the query had one.
std::size_t error_reply(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                        const Query& q, const View& v, std::uint16_t code, bool echo_rd,
                        bool with_question) noexcept {
    Writer w(response.first(512));
    w.put_bytes(request.data(), wire::kHeaderSize);
    Counts c;
    const bool question = with_question && q.has_question && put_question(w, request, q);
    std::uint16_t flags = reply_flags(q, echo_rd);
    put_opt(w, q, v, code, c);
    return finish(w, q, flags, code, c, question);
}

/// Writes CH TXT records of one string each, formatted with snprintf into a
/// stack buffer (nothing allocated); sets `tc` when one does not fit.
class TxtLines {
public:
    TxtLines(Writer& w, Counts& c) noexcept : w_(w), c_(c) {}
    template <typename... Args>
    void operator()(const char* format, Args... args) noexcept {
        if (tc) return;
        const int n = std::snprintf(text_, sizeof text_, format, args...);
        if (n <= 0) return;
        const auto len = static_cast<std::size_t>(n < 255 ? n : 255);
        const auto m = w_.mark();
        if (w_.put16(0xC00C) && w_.put16(type::TXT) && w_.put16(wire::klass::CH) && w_.put32(0) &&
            w_.put16(static_cast<std::uint16_t>(len + 1)) && w_.put8(static_cast<std::uint8_t>(len)) &&
            w_.put_bytes(reinterpret_cast<const std::uint8_t*>(text_), len)) {
            ++c_.an;
        } else {
            w_.rollback(m);
            tc = true;
        }
    }
    bool tc = false;

private:
    Writer& w_;
    Counts& c_;
    char text_[256];
};

/// The end of a CH TXT reply: OPT, AA, and TC when a line did not fit.
std::size_t finish_txt(Writer& w, const Query& q, const View& v, std::size_t limit, Counts& c,
                       bool tc) noexcept {
    w.set_limit(limit);
    put_opt(w, q, v, rcode::NOERROR, c);
    auto flags = static_cast<std::uint16_t>(reply_flags(q, true) | flag::AA);
    if (tc) flags = static_cast<std::uint16_t>(flags | flag::TC);
    return finish(w, q, flags, rcode::NOERROR, c, true);
}

/// health.server CH TXT (SPEC 4): one string per site and per address.
/// Formatted with snprintf into a stack buffer: nothing is allocated.
std::size_t health_server(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                          const Query& q, const View& v, const Client& client, std::size_t limit) noexcept {
    if (!v.explain_allow().contains(client.address))
        return error_reply(request, response, q, v, rcode::REFUSED, true, true);
    const steer::Catalog& cat = v.catalog();
    const health::Snapshot& h = health_for(client, cat);
    Writer w(response.first(limit));
    start_reply(w, request, q, v, limit);
    Counts c;
    TxtLines put_txt(w, c);
    if (q.qtype == type::TXT || q.qtype == type::ANY) {
        for (std::uint32_t s = 0; s < cat.sites.size(); ++s) {
            const auto& site = cat.sites[s];
            const auto ov = s < h.overrides.size() ? h.overrides[s] : health::Override::none;
            if (!site.cname.empty()) {
                put_txt("site %s: cname, %s, override %s", site.name.c_str(),
                        ov == health::Override::down ? "down" : "up", health::to_string(ov));
                continue;
            }
            const auto v4 = steer::site_health(cat, s, Family::v4, h);
            const auto v6 = steer::site_health(cat, s, Family::v6, h);
            put_txt("site %s: IPv4 %s (%u/%u up), IPv6 %s (%u/%u up), override %s", site.name.c_str(),
                    v4.total ? (v4.is_up ? "up" : "down") : "none", v4.up, v4.total,
                    v6.total ? (v6.is_up ? "up" : "down") : "none", v6.up, v6.total, health::to_string(ov));
        }
        for (std::uint32_t a = 0; a < cat.addresses.size(); ++a) {
            char addr[64];
            address_text(cat.addresses[a], addr, sizeof addr);
            const bool up = a >= h.up.size() || h.up[a];
            const char* site = cat.sites[cat.address_site[a]].name.c_str();
            if (a >= h.info.size() || !h.info[a].probed) {
                put_txt("%s (%s): %s, not probed", addr, site, up ? "up" : "down");
                continue;
            }
            const auto& i = h.info[a];
            char since[32] = "start";
            if (i.since > 0) {
                // Calendar arithmetic with <chrono>, not gmtime_r: glibc's
                // first gmtime_r reads the time zone and allocates.
                using namespace std::chrono;
                const sys_seconds t{seconds{i.since}};
                const auto day = floor<days>(t);
                const year_month_day ymd{day};
                const hh_mm_ss hms{t - day};
                std::snprintf(since, sizeof since, "%04d-%02u-%02uT%02d:%02d:%02dZ",
                              static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                              static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                              static_cast<int>(hms.minutes().count()),
                              static_cast<int>(hms.seconds().count()));
            }
            if (!i.has_result)
                put_txt("%s (%s): %s since %s, no probe result yet", addr, site, up ? "up" : "down", since);
            else
                put_txt("%s (%s): %s since %s, last probe %s in %ums: %s", addr, site, up ? "up" : "down",
                        since, i.last_ok ? "passed" : "failed", i.latency_ms, i.message.c_str());
        }
    }
    return finish_txt(w, q, v, limit, c, put_txt.tc);
}

const char* policy_name(config::Service::Policy p) noexcept {
    switch (p) {
        case config::Service::Policy::nearest:
            return "nearest";
        case config::Service::Policy::failover:
            return "failover";
        case config::Service::Policy::weighted:
            return "weighted";
        case config::Service::Policy::all:
            return "all";
    }
    return "?";
}

/// The CH TXT explanation of a service's answer (SPEC 4), rendered from the
/// trace of the same decide() that answers A and AAAA: the client and where
/// its address came from, its location and the source of that, each site's
/// state, override, distance and verdict, and the answer with its TTL and
/// ECS scope, for each family.
std::size_t explain(std::span<const std::uint8_t> request, std::span<std::uint8_t> response, const Query& q,
                    const View& v, const Client& client, std::size_t limit, std::int32_t service) noexcept {
    if (!client.trusted && !v.explain_allow().contains(client.address))
        return error_reply(request, response, q, v, rcode::REFUSED, true, true);
    const steer::Catalog& cat = v.catalog();
    const steer::Service& svc = cat.services[static_cast<std::size_t>(service)];
    const health::Snapshot& h = health_for(client, cat);
    Writer w(response.first(limit));
    start_reply(w, request, q, v, limit);
    Counts c;
    TxtLines line(w, c);
    const Whereabouts where = locate_client(q, v, client);
    char addr[64];
    address_text(where.address, addr, sizeof addr);
    char from[64];
    address_text(client.address, from, sizeof from);
    if (where.by_ecs)
        line("client %s/%u (ECS, from %s)", addr, where.source_prefix, from);
    else
        line("client %s (source address)", addr);
    switch (where.located.source) {
        case geo::Located::Source::networks:
            line("location %.2f,%.2f (geo.networks, /%u)", where.located.location.lat,
                 where.located.location.lon, where.located.prefix);
            break;
        case geo::Located::Source::database:
            line("location %.2f,%.2f (database, /%u)", where.located.location.lat, where.located.location.lon,
                 where.located.prefix);
            break;
        case geo::Located::Source::unknown:
            line("location unknown%s",
                 v.locator() ? " (not in geo.networks or the databases)" : " (no [geo])");
            break;
    }
    line("policy %s, ttl %u, fallback %s", policy_name(svc.policy), svc.ttl,
         svc.fallback == config::Service::Fallback::all    ? "all"
         : svc.fallback == config::Service::Fallback::none ? "none"
                                                           : cat.sites[svc.fallback_site].name.c_str());
    if (h.quorum > 1 || h.vantage_points > 1)
        line("cluster: %u vantage points count, quorum %u%s", h.vantage_points, h.quorum,
             h.vantage_points < h.quorum ? " (degraded: deciding from those reachable)" : "");
    for (Family f : {Family::v4, Family::v6}) {
        const char* fam = f == Family::v4 ? "A" : "AAAA";
        // A copy of the worker's random source: explaining must not move
        // the rotation that real answers use.
        steer::Random random = client.random ? *client.random : steer::Random{};
        steer::Trace trace;
        steer::Choice choice;
        const bool depends = svc.policy == config::Service::Policy::nearest;
        steer::decide(cat, svc, f, depends ? where.client : steer::Client{}, h, random, &trace, choice);
        for (unsigned i = 0; i < trace.count; ++i) {
            const auto& e = trace.sites[i];
            char dist[32] = "distance unknown";
            if (e.distance_km >= 0) std::snprintf(dist, sizeof dist, "%.0f km", e.distance_km);
            line("%s site %s: %u/%u up, override %s, %s: %s", fam, cat.sites[e.site].name.c_str(), e.up,
                 e.total, health::to_string(e.override_state), dist, steer::to_string(e.verdict));
        }
        char answer[200] = "";
        std::size_t used = 0;
        if (choice.kind == steer::Choice::Kind::addresses) {
            for (unsigned k = 0; k < choice.count && used + 48 < sizeof answer; ++k) {
                char a[64];
                address_text(cat.addresses[choice.address[k]], a, sizeof a);
                used += static_cast<std::size_t>(
                    std::snprintf(answer + used, sizeof answer - used, "%s%s", k ? " " : "", a));
            }
        } else if (choice.kind == steer::Choice::Kind::cname) {
            std::snprintf(answer, sizeof answer, "CNAME of site %s", cat.sites[choice.site].name.c_str());
        } else {
            std::snprintf(answer, sizeof answer, "NODATA");
        }
        line("%s answer: %s%s, ttl %u, ECS scope %u", fam, answer, choice.fallback ? " (fallback)" : "",
             svc.ttl, depends && where.by_ecs ? where.scope : 0);
    }
    return finish_txt(w, q, v, limit, c, line.tc);
}

/// The service at the (lower-cased) question name, or -1.
std::int32_t service_named(const Query& q, const View& v) noexcept {
    unsigned suffix = 0;
    std::size_t index = 0;
    const Zone* zone =
        v.find_zone(q.qname_lower, q.qname_offsets, q.qname_labels, q.qname_size, suffix, index);
    if (!zone) return -1;
    const std::int32_t* services = v.services_of(index);
    if (!services) return -1;
    const std::int32_t node = zone->find(q.qname_lower, q.qname_size);
    return node == kNone ? -1 : services[node];
}

bool chaos_name(const Query& q, const char* wire_name, std::size_t size) noexcept {
    return q.qname_size == size && std::memcmp(q.qname_lower, wire_name, size) == 0;
}

std::size_t chaos(std::span<const std::uint8_t> request, std::span<std::uint8_t> response, const Query& q,
                  const View& v, std::size_t limit) noexcept {
    static constexpr char kIdServer[] = "\x02id\x06server";
    static constexpr char kHostnameBind[] =
        "\x08hostname\x04"
        "bind";
    static constexpr char kVersionServer[] = "\x07version\x06server";
    static constexpr char kVersionBind[] =
        "\x07version\x04"
        "bind";
    const std::string* text = nullptr;
    if (chaos_name(q, kIdServer, sizeof kIdServer) || chaos_name(q, kHostnameBind, sizeof kHostnameBind))
        text = &v.identity();
    else if (chaos_name(q, kVersionServer, sizeof kVersionServer) ||
             chaos_name(q, kVersionBind, sizeof kVersionBind))
        text = &v.version();
    if (!text || text->empty()) return error_reply(request, response, q, v, rcode::REFUSED, true, true);

    Writer w(response.first(limit));
    start_reply(w, request, q, v, limit);
    Counts c;
    TxtLines line(w, c);
    if (q.qtype == type::TXT || q.qtype == type::ANY) line("%s", text->c_str());
    return finish_txt(w, q, v, limit, c, line.tc);
}

}  // namespace

namespace {

Result answer_query(std::span<const std::uint8_t> request, std::span<std::uint8_t> response, const View& view,
                    const Client& client, Query& q) noexcept {
    switch (wire::parse_query(request, q)) {
        case wire::Verdict::drop:
            return {};
        case wire::Verdict::notimp:
            // RFC 1035 4.1.1; RD and TC are not echoed for an opcode we do not know.
            return {error_reply(request, response, q, view, rcode::NOTIMP, false, true)};
        case wire::Verdict::formerr:
            q.has_edns = false;  // the OPT may be what was malformed
            return {error_reply(request, response, q, view, rcode::FORMERR, true, true)};
        case wire::Verdict::ok:
            break;
    }
    if (q.has_edns && q.edns_version > 0)  // RFC 6891 6.1.3
        return {error_reply(request, response, q, view, rcode::BADVERS, true, true)};
    if (q.has_ecs && view.ecs()) {
        // A malformed option is FORMERR (RFC 7871 7.1.1); a good one comes
        // back in every reply, with scope 0 unless the answer depends on
        // the client.
        if (!q.ecs_valid) return {error_reply(request, response, q, view, rcode::FORMERR, true, true)};
        q.ecs_echo = true;
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

    if (q.qclass == wire::klass::CH) {
        static constexpr char kHealthServer[] = "\x06health\x06server";
        if (chaos_name(q, kHealthServer, sizeof kHealthServer))
            return {health_server(request, response, q, view, client, limit)};
        if (q.qtype == type::TXT || q.qtype == type::ANY) {
            if (const std::int32_t service = service_named(q, view); service >= 0)
                return {explain(request, response, q, view, client, limit, service)};
        }
        return {chaos(request, response, q, view, limit)};
    }
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
        if (suffix != 0) return {error_reply(request, response, q, view, rcode::NOTAUTH, true, true)};
        if (tcp) return {0, zone, 0, 0, static_cast<std::int32_t>(zone_index)};
        // IXFR over UDP: answer with the SOA only, telling the client to use TCP (RFC 1995 4).
    }

    Plan plan;
    Target t{q.qname_lower, q.qname_offsets, q.qname_labels, q.qname_size, nullptr, 0};
    if (q.qtype == type::IXFR) {
        plan.add_answer(Entry{zone, &zone->soa(), nullptr, 0});
    } else {
        resolve(q, *zone, t, plan, Steering{view, view.services_of(zone_index), client});
    }

    // Encode the plan.
    Writer w(response.first(limit));
    start_reply(w, request, q, view, limit);
    Counts c;
    bool tc = false;
    for (unsigned i = 0; i < plan.answers && !tc; ++i) tc = !put_entry(w, plan.answer[i], plan, c.an);
    for (unsigned i = 0; i < plan.authorities && !tc; ++i) tc = !put_entry(w, plan.authority[i], plan, c.ns);
    for (unsigned i = 0; i < plan.additionals && !tc; ++i) {
        if (!put_entry(w, plan.additional[i], plan, c.ar)) {
            // Optional additional data is simply left out; missing in-domain
            // glue would break the delegation, so that truncates (RFC 9471).
            if (i < plan.required) tc = true;
            break;
        }
    }
    w.set_limit(limit);
    q.ecs_scope = plan.ecs_scope;
    put_opt(w, q, view, plan.rcode, c);
    auto flags = reply_flags(q, true);
    if (plan.aa) flags = static_cast<std::uint16_t>(flags | flag::AA);
    if (tc) flags = static_cast<std::uint16_t>(flags | flag::TC);
    Result r{finish(w, q, flags, plan.rcode, c, true)};
    r.zone = static_cast<std::int32_t>(zone_index);
    if (plan.service >= 0) {
        r.service = plan.service;
        r.decision =
            decision_slot(view.catalog().services[static_cast<std::size_t>(plan.service)], plan.choice);
    }
    return r;
}

}  // namespace

Result answer(std::span<const std::uint8_t> request, std::span<std::uint8_t> response, const View& view,
              const Client& client) noexcept {
    Query q;
    Result r = answer_query(request, response, view, client, q);
    r.qtype = q.has_question ? q.qtype : 0;
    r.rcode = r.size >= 4 ? static_cast<std::uint8_t>(response[3] & 0xF) : 0;
    return r;
}

std::size_t truncated_reply(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                            const View& view) noexcept {
    Query q;
    if (wire::parse_query(request, q) != wire::Verdict::ok || !q.has_question) return 0;
    if (q.has_edns && q.edns_version > 0) return 0;
    q.has_ecs = q.ecs_echo = false;  // nothing in it depends on the client
    Writer w(response.first(512));
    w.put_bytes(request.data(), wire::kHeaderSize);
    Counts c;
    const bool question = put_question(w, request, q);
    put_opt(w, q, view, rcode::NOERROR, c);
    return finish(w, q, static_cast<std::uint16_t>(reply_flags(q, true) | flag::TC), rcode::NOERROR, c,
                  question);
}

// ---- AXFR ----

AxfrStream::AxfrStream(std::span<const std::uint8_t> request, const Query& query, const Zone& zone) noexcept
    : query_(query), zone_(zone) {
    const std::size_t n = query.question_end - wire::kHeaderSize;
    if (query.has_question && n <= sizeof question_ && query.question_end <= request.size()) {
        std::memcpy(question_, request.data() + wire::kHeaderSize, n);
        question_size_ = n;
    }
}

std::size_t AxfrStream::next(std::span<std::uint8_t> buffer) noexcept {
    if (phase_ == Phase::done) return 0;
    const std::size_t limit = buffer.size() < wire::kMaxMessage ? buffer.size() : wire::kMaxMessage;
    Writer w(buffer.first(limit));
    std::uint8_t header[wire::kHeaderSize] = {};
    w.put_bytes(header, sizeof header);
    const bool first = phase_ == Phase::first_soa;
    Counts c;
    // RFC 5936 2.2: the question appears in the first message only.
    if (first) {
        w.put_bytes(question_, question_size_);
        w.remember_name(wire::kHeaderSize, query_.qname_offsets, query_.qname_labels, query_.qname_size);
    }
    const Zone& z = zone_;
    auto put_one = [&](std::int32_t node, const zones::RRset& s, std::uint32_t k) {
        Entry e{&z, &s, z.name_bytes(node), z.node(node).name_size};
        const auto& d = z.rdatas(s)[k];
        const auto m = w.mark();
        bool ok = w.put_name(e.owner, e.owner_size) && w.put16(s.type) && w.put16(wire::klass::IN) &&
                  w.put32(s.ttl);
        const std::size_t len_at = w.size();
        ok = ok && w.put16(0) && put_rdata(w, s.type, z.bytes(d), d.size);
        if (!ok) {
            w.rollback(m);
            return false;
        }
        w.patch16(len_at, static_cast<std::uint16_t>(w.size() - len_at - 2));
        ++c.an;
        return true;
    };
    if (phase_ == Phase::first_soa) {
        put_one(z.apex(), z.soa(), 0);
        phase_ = Phase::records;
    }
    while (phase_ == Phase::records) {
        if (static_cast<std::size_t>(node_) >= z.node_count()) {
            phase_ = Phase::last_soa;
            break;
        }
        const auto sets = z.rrsets(node_);
        if (rrset_ >= sets.size()) {
            ++node_;
            rrset_ = 0;
            rdata_ = 0;
            continue;
        }
        const auto& s = sets[rrset_];
        if ((node_ == z.apex() && s.type == type::SOA) || rdata_ >= s.count) {
            ++rrset_;
            rdata_ = 0;
            continue;
        }
        if (!put_one(node_, s, rdata_)) {
            if (c.an == 0) {  // a single record larger than a message: give up
                phase_ = Phase::done;
                return 0;
            }
            break;
        }
        ++rdata_;
    }
    if (phase_ == Phase::last_soa && put_one(z.apex(), z.soa(), 0)) phase_ = Phase::done;
    std::uint16_t flags = static_cast<std::uint16_t>(flag::QR | flag::AA | (query_.flags & 0x7800));
    std::uint8_t* h = w.data();
    wire::put16(h, query_.id);
    wire::put16(h + 2, flags);
    wire::put16(h + 4, first ? 1 : 0);
    wire::put16(h + 6, static_cast<std::uint16_t>(c.an));
    wire::put16(h + 8, 0);
    wire::put16(h + 10, 0);
    return w.size();
}

}  // namespace dnsd::query
