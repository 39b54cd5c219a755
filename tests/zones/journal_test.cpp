#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "dnsd/core/name.hpp"
#include "dnsd/wire/types.hpp"
#include "zones/journal.hpp"
#include "zones/reader.hpp"
#include "zones/zone.hpp"

using namespace dnsd;
using namespace dnsd::zones;

namespace {

std::shared_ptr<const Zone> build(const std::string& text) {
    Diagnostics diags;
    const auto o = *name_from_text("example.test.");
    auto records = read_zone_text(text, "t.zone", o, diags);
    auto zone = Zone::build(o, std::move(records), "t.zone", diags);
    std::string all;
    for (const auto& d : diags) all += d.str() + "\n";
    INFO(all);
    REQUIRE(zone);
    return zone;
}

std::string head(unsigned serial, unsigned soa_ttl = 300) {
    return "$TTL 300\n@ " + std::to_string(soa_ttl) + " SOA ns hostmaster " + std::to_string(serial) +
           " 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n";
}

/// A record as a comparable value: owner (lower-cased wire), type, TTL, rdata.
using Rec = std::tuple<std::string, std::uint16_t, std::uint32_t, std::string>;

/// Every record of a zone but its SOA.
std::multiset<Rec> records_of(const Zone& z) {
    std::multiset<Rec> out;
    for (std::int32_t i = 0; static_cast<std::size_t>(i) < z.node_count(); ++i)
        for (const RRset& s : z.rrsets(i)) {
            if (s.type == wire::type::SOA) continue;
            for (const Rdata& d : z.rdatas(s))
                out.emplace(std::string(z.lower_name(i)), s.type, s.ttl,
                            std::string(reinterpret_cast<const char*>(z.bytes(d)), d.size));
        }
    return out;
}

Rec rec(const Delta& d, const Change& c) {
    return {name_lower(std::string(reinterpret_cast<const char*>(d.bytes(c.owner)), c.owner_size)), c.type,
            c.ttl, std::string(reinterpret_cast<const char*>(d.bytes(c.rdata)), c.rdata_size)};
}

/// `from` with `d` applied as a secondary applies it, checking on the way
/// that it removes only what is there and adds only what is not, and that
/// each list is headed by its version's SOA.
std::multiset<Rec> apply(const Zone& from, const Delta& d) {
    auto out = records_of(from);
    REQUIRE(!d.removed().empty());
    REQUIRE(!d.added().empty());
    CHECK(d.removed()[0].type == wire::type::SOA);
    CHECK(d.added()[0].type == wire::type::SOA);
    for (const Change& c : d.removed().subspan(1)) {
        CHECK(c.type != wire::type::SOA);
        const auto it = out.find(rec(d, c));
        REQUIRE(it != out.end());
        out.erase(it);
    }
    for (const Change& c : d.added().subspan(1)) {
        CHECK(c.type != wire::type::SOA);
        CHECK(out.count(rec(d, c)) == 0);
        out.insert(rec(d, c));
    }
    return out;
}

std::vector<std::string> lines(const Delta& d, std::span<const Change> list) {
    std::vector<std::string> out;
    for (const Change& c : list)
        out.push_back(
            name_to_text(std::string(reinterpret_cast<const char*>(d.bytes(c.owner)), c.owner_size)) + " " +
            std::to_string(c.type) + " " + std::to_string(c.ttl) + " " + std::to_string(c.rdata_size));
    return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("diff: what was removed and added, each list headed by its SOA") {
    const auto a = build(head(1) + "a A 192.0.2.10\na A 192.0.2.11\nb TXT \"x\"\nc.d MX 10 mail\n");
    const auto b = build(head(2) + "a A 192.0.2.11\na A 192.0.2.12\nB TXT \"x\"\ne TXT \"new\"\n");
    const auto d = diff(*a, *b);
    CHECK(d->from_serial() == 1);
    CHECK(d->to_serial() == 2);
    CHECK(d->changes() == 4);
    // Each record's owner, type, class, TTL, length and rdata.
    CHECK(d->wire_bytes() == 2 * (14 + 10 + 62) + 16 + 10 + 4 + 18 + 10 + 21 + 16 + 10 + 4 + 16 + 10 + 4);
    CHECK(lines(*d, d->removed()) ==
          V{"example.test. 6 300 62", "a.example.test. 1 300 4", "c.d.example.test. 15 300 21"});
    CHECK(lines(*d, d->added()) ==
          V{"example.test. 6 300 62", "a.example.test. 1 300 4", "e.example.test. 16 300 4"});
    CHECK(apply(*a, *d) == records_of(*b));
    // The SOAs are the versions' own.
    const Change& old_soa = d->removed()[0];
    CHECK(wire::get32(d->bytes(old_soa.rdata) + old_soa.rdata_size - 20) == 1);
    const Change& new_soa = d->added()[0];
    CHECK(wire::get32(d->bytes(new_soa.rdata) + new_soa.rdata_size - 20) == 2);
}

TEST_CASE("diff: the same data in another order or case is no change; a TTL change replaces the RRset") {
    const auto a = build(head(1) + "a A 192.0.2.10\na A 192.0.2.11\nx TXT \"one\"\n");
    const auto b = build(head(2) + "A A 192.0.2.11\nA A 192.0.2.10\nx TXT \"one\"\n");
    const auto same = diff(*a, *b);
    CHECK(same->changes() == 0);
    CHECK(same->removed().size() == 1);
    CHECK(same->added().size() == 1);

    const auto c = build(head(3) + "a 60 A 192.0.2.10\na 60 A 192.0.2.11\nx TXT \"one\"\n");
    const auto d = diff(*b, *c);
    CHECK(lines(*d, d->removed()) ==
          V{"example.test. 6 300 62", "A.example.test. 1 300 4", "A.example.test. 1 300 4"});
    CHECK(lines(*d, d->added()) ==
          V{"example.test. 6 300 62", "a.example.test. 1 60 4", "a.example.test. 1 60 4"});
    CHECK(apply(*b, *d) == records_of(*c));

    // A change of the SOA's TTL or fields is in the heads alone.
    const auto e = build(head(4, 600) + "a 60 A 192.0.2.10\na 60 A 192.0.2.11\nx TXT \"one\"\n");
    const auto f = diff(*c, *e);
    CHECK(f->changes() == 0);
    CHECK(f->added()[0].ttl == 600);
    CHECK(f->removed()[0].ttl == 300);
}

TEST_CASE("diff: names and RRsets that come and go, delegations and empty non-terminals") {
    const auto a = build(head(1) + "sub NS ns.sub\nns.sub A 192.0.2.5\nx.y.z TXT \"deep\"\nm MX 10 a\n");
    const auto b = build(head(2) + "sub NS ns2.sub\nns2.sub A 192.0.2.6\nz TXT \"z\"\nm TXT \"m\"\n");
    const auto d = diff(*a, *b);
    CHECK(apply(*a, *d) == records_of(*b));
    const auto back = diff(*b, *a);
    CHECK(apply(*b, *back) == records_of(*a));
    CHECK(d->changes() == back->changes());
    // From and to an almost empty zone.
    const auto empty = build(head(3));
    CHECK(apply(*a, *diff(*a, *empty)) == records_of(*empty));
    CHECK(apply(*empty, *diff(*empty, *b)) == records_of(*b));
}

TEST_CASE("diff: random zones, applied, give the new zone") {
    std::mt19937 rng(20240611);
    auto pick = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
    const char* labels[] = {"a", "b", "B", "c", "a-1", "z", "0", "*", "\\000", "\\255", "xn--x"};
    auto random_zone = [&](unsigned serial) {
        std::string text = head(serial);
        const unsigned names = 1 + pick(40);
        for (unsigned i = 0; i < names; ++i) {
            std::string owner;
            const unsigned depth = 1 + pick(3);
            for (unsigned k = 0; k < depth; ++k) owner += std::string(labels[pick(std::size(labels))]) + ".";
            owner += "example.test.";
            const unsigned ttl = pick(3) == 0 ? 60 : 300;
            switch (pick(4)) {
                case 0:
                    text +=
                        owner + " " + std::to_string(ttl) + " A 192.0.2." + std::to_string(pick(4)) + "\n";
                    break;
                case 1:
                    text += owner + " " + std::to_string(ttl) + " AAAA 2001:db8::" + std::to_string(pick(4)) +
                            "\n";
                    break;
                case 2:
                    text += owner + " " + std::to_string(ttl) + " TXT \"t" + std::to_string(pick(3)) + "\"\n";
                    break;
                default:
                    text += owner + " " + std::to_string(ttl) + " MX " + std::to_string(pick(3)) + " mail\n";
                    break;
            }
        }
        return text;
    };
    for (int round = 0; round < 300; ++round) {
        // Zones whose RRsets disagree on TTLs only warn; the first wins.
        const auto a = build(random_zone(1));
        const auto b = build(random_zone(2));
        const auto d = diff(*a, *b);
        CHECK(apply(*a, *d) == records_of(*b));
        CHECK(diff(*a, *a)->changes() == 0);
    }
}

TEST_CASE("journal: a chain of deltas, bounded in versions and bytes") {
    std::vector<std::shared_ptr<const Zone>> zones;
    for (unsigned s = 1; s <= 6; ++s)
        zones.push_back(build(head(s) + "a TXT \"" + std::to_string(s) + "\"\n"));
    std::vector<std::shared_ptr<const Delta>> deltas;
    for (std::size_t i = 0; i + 1 < zones.size(); ++i) deltas.push_back(diff(*zones[i], *zones[i + 1]));

    JournalLimits limits;
    limits.versions = 3;
    Journal j;
    CHECK(j.find(1) == -1);
    for (const auto& d : deltas) j = j.appended(d, limits, 1u << 20);
    // The newest three: from 3, 4 and 5 to 6.
    REQUIRE(j.deltas().size() == 3);
    CHECK(j.find(2) == -1);
    CHECK(j.find(3) == 0);
    CHECK(j.find(5) == 2);
    CHECK(j.find(6) == -1);
    CHECK(j.deltas()[0].get() == deltas[2].get());  // shared, not copied
    CHECK(j.memory_bytes() ==
          deltas[2]->memory_bytes() + deltas[3]->memory_bytes() + deltas[4]->memory_bytes());

    // Bytes: room for two.
    limits.versions = 20;
    limits.bytes = deltas[3]->memory_bytes() + deltas[4]->memory_bytes();
    Journal k;
    for (const auto& d : deltas) k = k.appended(d, limits, 1u << 20);
    CHECK(k.deltas().size() == 2);
    CHECK(k.find(4) == 0);
    // No larger than the zone it leads to.
    Journal small;
    for (const auto& d : deltas) small = small.appended(d, JournalLimits{}, deltas[4]->wire_bytes());
    CHECK(small.deltas().size() == 1);
    // A diff past a bound is given up.
    CHECK(diff(*zones[0], *zones[1], 1000, 10) == nullptr);
    CHECK(diff(*zones[0], *zones[1], 10, 1000) == nullptr);
    CHECK(diff(*zones[0], *zones[1], 1000, 1000) != nullptr);
    CHECK(j.appended(nullptr, JournalLimits{}, 1u << 20).empty());
    // A delta larger than the bound alone: nothing kept.
    limits.bytes = 10;
    CHECK(j.appended(deltas[4], limits, 1u << 20).empty());
    // No versions at all.
    limits = JournalLimits{};
    limits.versions = 0;
    CHECK(Journal().appended(deltas[0], limits, 1u << 20).empty());
}

TEST_CASE("journal: a delta that does not continue the chain starts a new one; a serial seen again") {
    const auto z1 = build(head(1) + "a TXT \"1\"\n");
    const auto z2 = build(head(2) + "a TXT \"2\"\n");
    const auto z3 = build(head(3) + "a TXT \"3\"\n");
    const auto z9 = build(head(9) + "a TXT \"9\"\n");
    Journal j = Journal().appended(diff(*z1, *z2), {}, 1u << 20).appended(diff(*z2, *z3), {}, 1u << 20);
    CHECK(j.deltas().size() == 2);
    const Journal broken = j.appended(diff(*z9, *z1), {}, 1u << 20);
    REQUIRE(broken.deltas().size() == 1);
    CHECK(broken.find(9) == 0);
    // 1 -> 2 -> 3 -> 1 (through a wrap, say): the way from the first 1 is
    // dropped, so that every serial leads one way.
    const Journal again = j.appended(diff(*z3, *z1), {}, 1u << 20);
    REQUIRE(again.deltas().size() == 2);
    CHECK(again.find(2) == 0);
    CHECK(again.find(3) == 1);
    CHECK(again.find(1) == -1);
}

TEST_CASE("diff: a 1M-record zone", "[.][bench]") {
    // Measures the diff of two 1M-record zones one record apart (a
    // service's address, say), and of two whose every record differs:
    // run `unit_tests "[bench]"`.
    auto text = [](unsigned serial, const char* last, unsigned first_octet = 10) {
        std::string t = head(serial);
        t.reserve(30u << 20);
        char line[64];
        for (unsigned i = 0; i < 1'000'000; ++i) {
            std::snprintf(line, sizeof line, "h%u A %u.%u.%u.%u\n", i, first_octet, i >> 16 & 255,
                          i >> 8 & 255, i & 255);
            t += line;
        }
        t += std::string("www A ") + last + "\n";
        return t;
    };
    const auto a = build(text(1, "192.0.2.1"));
    const auto b = build(text(2, "192.0.2.2"));
    const auto t0 = std::chrono::steady_clock::now();
    const auto d = diff(*a, *b);
    const auto t1 = std::chrono::steady_clock::now();
    const auto size = transfer_bytes(*b);
    const auto t2 = std::chrono::steady_clock::now();
    CHECK(d->changes() == 2);
    CHECK(size > 20'000'000);
    std::printf("diff of two 1M-record zones (%zu nodes): %.1f ms, %zu changes; transfer_bytes %.1f ms\n",
                b->node_count(), std::chrono::duration<double, std::milli>(t1 - t0).count(), d->changes(),
                std::chrono::duration<double, std::milli>(t2 - t1).count());
    const auto c = build(text(3, "192.0.2.2", 11));
    const auto t3 = std::chrono::steady_clock::now();
    const auto all = diff(*b, *c);
    const auto t4 = std::chrono::steady_clock::now();
    CHECK(all->changes() == 2'000'000);
    const auto bounded = diff(*b, *c, JournalLimits{}.bytes, transfer_bytes(*c));
    const auto t5 = std::chrono::steady_clock::now();
    CHECK(bounded == nullptr);
    std::printf("every record changed: %.1f ms, %zu changes, %.1f MiB; given up at 16 MiB after %.1f ms\n",
                std::chrono::duration<double, std::milli>(t4 - t3).count(), all->changes(),
                static_cast<double>(all->memory_bytes()) / (1 << 20),
                std::chrono::duration<double, std::milli>(t5 - t4).count());
}
