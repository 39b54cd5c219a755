#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/messages.hpp"

#include "dnsd/core/name.hpp"
#include "dnsd/wire/types.hpp"
#include "zones/reader.hpp"
#include "zones/zone.hpp"

using namespace dnsd;
using namespace dnsd::zones;

namespace {
struct Built {
    std::shared_ptr<const Zone> zone;
    Diagnostics diags;
    std::vector<std::string> messages() const { return test::messages(diags); }
};
Built build(const std::string& text, const std::string& origin = "example.test.") {
    Built b;
    const auto o = *name_from_text(origin);
    auto records = read_zone_text(text, "t.zone", o, b.diags);
    b.zone = Zone::build(o, std::move(records), "t.zone", b.diags);
    return b;
}
std::int32_t find(const Zone& z, const char* text) {
    const auto n = name_lower(*name_from_text(text));
    return z.find(reinterpret_cast<const std::uint8_t*>(n.data()), n.size());
}
std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s.push_back(static_cast<char>(c));
    return s;
}
const std::string kHead = "$TTL 300\n@ SOA ns hostmaster 7 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n";
}  // namespace

TEST_CASE("the store holds every name, empty non-terminals included") {
    auto b = build(kHead + "a.b.c A 192.0.2.2\n*.w TXT \"x\"\nSub NS ns.sub\nns.sub A 192.0.2.3\n");
    REQUIRE(b.zone);
    const Zone& z = *b.zone;
    CHECK(z.serial() == 7);
    CHECK(z.negative_ttl() == 60);
    const auto abc = find(z, "a.b.c.example.test.");
    const auto bc = find(z, "B.C.example.test.");
    REQUIRE(abc != kNone);
    REQUIRE(bc != kNone);
    CHECK(z.rrsets(bc).empty());
    CHECK(z.node(abc).parent == bc);
    CHECK(find(z, "c.example.test.") != kNone);
    CHECK(find(z, "d.example.test.") == kNone);
    const auto w = find(z, "w.example.test.");
    REQUIRE(w != kNone);
    CHECK(z.node(w).wildcard == find(z, "*.w.example.test."));
    const auto sub = find(z, "sub.example.test.");
    CHECK(z.node(sub).cut == sub);
    CHECK(z.node(find(z, "ns.sub.example.test.")).cut == sub);
    CHECK(z.node(z.apex()).cut == kNone);
    CHECK(z.name(sub) == *name_from_text("Sub.example.test."));  // case as written
    // the NS target is resolved for glue
    const auto* ns = z.rrset(sub, wire::type::NS);
    REQUIRE(ns);
    CHECK(z.rdatas(*ns)[0].target == find(z, "ns.sub.example.test."));
}

TEST_CASE("duplicate records collapse and differing TTLs warn") {
    auto b = build(kHead + "x A 192.0.2.9\nx A 192.0.2.9\nx 60 A 192.0.2.10\n");
    REQUIRE(b.zone);
    const auto x = find(*b.zone, "x.example.test.");
    CHECK(b.zone->rrset(x, wire::type::A)->count == 2);
    CHECK(b.messages() ==
          std::vector<std::string>{
              "t.zone:7: warning: TTL 60 differs from the RRset's TTL 300; using 300 (RFC 2181 5.2)"});
}

TEST_CASE("zone checks report every problem with its line") {
    SECTION("no SOA, no NS") {
        auto b = build("$TTL 300\nwww A 192.0.2.1\n");
        CHECK_FALSE(b.zone);
        CHECK(b.messages() ==
              std::vector<std::string>{"t.zone: zone example.test. has no SOA record at its apex",
                                       "t.zone: zone example.test. has no NS records at its apex"});
    }
    SECTION("CNAME beside other data, data below a delegation, a second SOA") {
        auto b = build(kHead +
                       "alias CNAME www\n"                            // 5
                       "alias A 192.0.2.7\n"                          // 6
                       "sub NS ns.other.\n"                           // 7
                       "deep.sub MX 10 mail\n"                        // 8
                       "x SOA ns hostmaster 1 2 3 4 5\n"              // 9
                       "@ SOA ns hostmaster 8 3600 600 86400 60\n");  // 10
        CHECK_FALSE(b.zone);
        const auto m = b.messages();
        CHECK(std::find(m.begin(), m.end(),
                        "t.zone:6: CNAME and other data at alias.example.test. (RFC 1034 3.6.2)") != m.end());
        CHECK(std::find(m.begin(), m.end(),
                        "t.zone:8: data below the delegation sub.example.test. must be glue (A or AAAA): "
                        "deep.sub.example.test.") != m.end());
        CHECK(std::find(m.begin(), m.end(), "t.zone:9: SOA record outside the zone apex: x.example.test.") !=
              m.end());
        CHECK(std::find(m.begin(), m.end(), "t.zone:10: zone example.test. has more than one SOA record") !=
              m.end());
    }
}

TEST_CASE("same_name and name_hash: every length, a difference at every byte") {
    // The comparison and the hash read eight bytes a step, the last step
    // overlapping; names shorter than eight bytes go byte by byte.
    for (std::size_t size = 0; size <= 40; ++size) {
        std::vector<std::uint8_t> a(size), b(size);
        for (std::size_t i = 0; i < size; ++i) a[i] = b[i] = static_cast<std::uint8_t>('a' + i % 26);
        CHECK(same_name(a.data(), b.data(), size));
        CHECK(name_hash(a.data(), size) == name_hash(b.data(), size));
        for (std::size_t i = 0; i < size; ++i) {
            b[i] ^= 0x20;
            CHECK_FALSE(same_name(a.data(), b.data(), size));
            CHECK(name_hash(a.data(), size) != name_hash(b.data(), size));
            b[i] = a[i];
        }
    }
}

TEST_CASE("names of every length up to 40 bytes are found, and their near misses are not") {
    std::string text = kHead;
    std::vector<std::string> names;
    for (int n = 1; n <= 20; ++n) {
        names.push_back(std::string(static_cast<std::size_t>(n), 'x') + ".example.test.");
        text += names.back() + " A 192.0.2.9\n";
    }
    const auto b = build(text);
    REQUIRE(b.zone);
    for (const auto& name : names) {
        CHECK(find(*b.zone, name.c_str()) >= 0);
        std::string miss = name;
        miss[miss.size() / 2 - 1] = 'y';  // one byte off, in the middle or the label
        if (miss != name) CHECK(find(*b.zone, miss.c_str()) < 0);
    }
    CHECK(find(*b.zone, ".") < 0);
}

namespace {
// Canonical order (RFC 4034 6.1) written the plain way, to hold the
// builder's sort keys to: labels from the root, lower-cased bytes compared
// unsigned, a name before its descendants.
std::vector<std::string> labels_from_root(const std::string& lower_wire) {
    std::vector<std::string> out;
    for (std::size_t i = 0; lower_wire[i] != 0; i += 1u + static_cast<std::uint8_t>(lower_wire[i]))
        out.insert(out.begin(), lower_wire.substr(i + 1, static_cast<std::uint8_t>(lower_wire[i])));
    return out;
}
bool canonical_less(const std::string& a, const std::string& b) {
    return labels_from_root(a) < labels_from_root(b);  // std::string compares bytes as unsigned char
}
}  // namespace

TEST_CASE("nodes come in canonical order with every ancestor, for names with any bytes") {
    // Labels that share prefixes, differ in case, hold 0x00, 0x01, 0x02 and
    // 0xff bytes (which the sort key escapes), and names long enough that
    // their keys tie and the full comparison decides.
    const std::vector<std::string> labels = {
        "a",     "A", "ab",        "a\\000",    "a\\001",   "a\\002", "\\000",   "\\001",
        "\\255", "b", "aaaaaaaaa", "aaaaaaaab", "aaaaaaaa", "*",      "z\\000a", "z\\001"};
    std::string text = kHead;
    std::uint32_t seed = 12345;
    auto next = [&seed] {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 16) & 0x7fff;
    };
    for (int i = 0; i < 400; ++i) {
        std::string name;
        const unsigned depth = 1 + next() % 3;
        for (unsigned d = 0; d < depth; ++d) name += labels[next() % labels.size()] + ".";
        text += name + "example.test. TXT \"" + std::to_string(i) + "\"\n";
        if (i % 7 == 0) text += " A 192.0.2." + std::to_string(i % 250) + "\n";  // the same owner, shared
    }
    auto b = build(text);
    for (const auto& m : b.messages()) INFO(m);
    REQUIRE(b.zone);
    const Zone& z = *b.zone;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < z.node_count(); ++i)
        names.emplace_back(z.lower_name(static_cast<std::int32_t>(i)));
    CHECK(names.front() == name_lower(*name_from_text("example.test.")));
    CHECK(std::is_sorted(names.begin(), names.end(), canonical_less));
    CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
    for (std::size_t i = 1; i < z.node_count(); ++i) {
        const auto n = static_cast<std::int32_t>(i);
        const std::string& lower = names[i];
        const std::string parent = lower.substr(1u + static_cast<std::uint8_t>(lower[0]));
        REQUIRE(z.node(n).parent != kNone);
        CHECK(names[static_cast<std::size_t>(z.node(n).parent)] == parent);
        CHECK(z.find(reinterpret_cast<const std::uint8_t*>(lower.data()), lower.size()) == n);
        CHECK(name_lower(z.name(n)) == lower);
        if (lower[0] == 1 && lower[1] == '*') CHECK(z.node(z.node(n).parent).wildcard == n);
    }
    // Every record landed at its name, in file order within its RRset.
    Diagnostics diags;
    const auto records = read_zone_text(text, "t.zone", *name_from_text("example.test."), diags).to_vector();
    for (const auto& r : records) {
        const std::string lower = name_lower(r.owner);
        const auto n = z.find(reinterpret_cast<const std::uint8_t*>(lower.data()), lower.size());
        REQUIRE(n != kNone);
        const RRset* set = z.rrset(n, r.type);
        REQUIRE(set);
        bool found = false;
        for (const auto& d : z.rdatas(*set))
            found |= std::string_view(reinterpret_cast<const char*>(z.bytes(d)), d.size) == r.rdata;
        CHECK(found);
    }
}

TEST_CASE("a node is named as first written; its empty ancestors as their first child writes them") {
    auto b = build(kHead + "x.MiXed A 192.0.2.9\nX.mixed A 192.0.2.10\n");
    REQUIRE(b.zone);
    const Zone& z = *b.zone;
    CHECK(name_to_text(z.name(find(z, "x.mixed.example.test."))) == "x.MiXed.example.test.");
    CHECK(name_to_text(z.name(find(z, "mixed.example.test."))) == "MiXed.example.test.");
    CHECK(z.rdatas(*z.rrset(find(z, "x.mixed.example.test."), wire::type::A)).size() == 2);
}

namespace {
// Everything a query can see of a zone, as text, to compare two zones.
std::string dump(const Zone& z) {
    std::string out = std::to_string(z.serial()) + " " + std::to_string(z.negative_ttl()) + " " +
                      std::to_string(z.soa().count) + "\n";
    for (std::size_t i = 0; i < z.node_count(); ++i) {
        const auto n = static_cast<std::int32_t>(i);
        const Node& node = z.node(n);
        out += name_to_text(z.name(n)) + " p" + std::to_string(node.parent) + " w" +
               std::to_string(node.wildcard) + " c" + std::to_string(node.cut) + " f" +
               std::to_string(z.find(reinterpret_cast<const std::uint8_t*>(z.lower_name(n).data()),
                                     z.lower_name(n).size())) +
               "\n";
        for (const RRset& s : z.rrsets(n)) {
            out += "  " + std::to_string(s.type) + " " + std::to_string(s.ttl) + ":";
            for (const Rdata& d : z.rdatas(s))
                out += " " + std::string(reinterpret_cast<const char*>(z.bytes(d)), d.size) + "/" +
                       std::to_string(d.target);
            out += "\n";
        }
    }
    return out;
}
}  // namespace

TEST_CASE("with_services gives what build gives from the same files and the new service records") {
    const std::string origin = *name_from_text("example.test.");
    const std::string text = kHead + "www TXT \"kept\"\nmail MX 10 www\n*.w A 192.0.2.7\napi.v1 TXT \"v1\"\n";
    auto services = [&](std::initializer_list<std::tuple<const char*, std::uint16_t, std::string>> records) {
        Records out;
        const auto file = out.file_index("dnsd.toml");
        for (const auto& [name, type, rdata] : records)
            out.add(*name_from_text(name), type, 30, rdata, file, 7);
        return out;
    };
    auto built = [&](const Records& added) {
        Diagnostics diags;
        auto records = read_zone_text(text, "t.zone", origin, diags);
        for (std::size_t i = 0; i < added.size(); ++i) records.add(added.record(i));
        auto z = Zone::build(origin, std::move(records), "t.zone", diags);
        REQUIRE(z);
        return z;
    };
    const std::vector<std::string> names = {name_lower(*name_from_text("www.example.test.")),
                                            name_lower(*name_from_text("api.v1.example.test.")),
                                            name_lower(*name_from_text("example.test."))};
    const std::string a1 = bytes({192, 0, 2, 1}), a2 = bytes({192, 0, 2, 2});
    const std::string six(16, '\x01');
    const auto before = services({{"www.example.test.", wire::type::A, a1},
                                  {"api.v1.example.test.", wire::type::A, a1},
                                  {"example.test.", wire::type::A, a2}});
    const auto base = built(before);
    // New addresses, a new type at one name, one type fewer at another,
    // duplicates collapsing: the same zone as built from scratch.
    const auto after = services({{"www.example.test.", wire::type::A, a2},
                                 {"www.example.test.", wire::type::AAAA, six},
                                 {"www.example.test.", wire::type::A, a1},
                                 {"www.example.test.", wire::type::A, a2},
                                 {"api.v1.example.test.", wire::type::AAAA, six},
                                 {"example.test.", wire::type::AAAA, six}});
    const auto patched = Zone::with_services(*base, names, after);
    REQUIRE(patched);
    CHECK(dump(*patched) == dump(*built(after)));
    CHECK(dump(*Zone::with_services(*patched, names, before)) == dump(*base));

    // What build() would refuse or lay out otherwise is left to it.
    CHECK_FALSE(Zone::with_services(
        *base, names,
        services({{"www.example.test.", wire::type::CNAME, *name_from_text("cdn.example.net.")}})));
    CHECK_FALSE(Zone::with_services(*base, names, services({{"new.example.test.", wire::type::A, a1}})));
    CHECK_FALSE(Zone::with_services(*base, {}, services({{"www.example.test.", wire::type::A, a1}})));
    CHECK_FALSE(Zone::with_services(*base, names, services({{"www.example.test.", wire::type::A, a1}})));
}

TEST_CASE("names outside the zone, shorter or longer than its origin, are reported and left out") {
    // The last record's owner is the arena's last bytes: its sort key must
    // not read past them (found by the zone fuzzer under ASan).
    auto b = build(kHead + "$ORIGIN other.test.\nlonger.name A 192.0.2.1\n$ORIGIN .\nt A 192.0.2.2\n");
    CHECK_FALSE(b.zone);
    CHECK(b.messages() == std::vector<std::string>{
                              "t.zone:6: name outside zone example.test.: longer.name.other.test.",
                              "t.zone:8: name outside zone example.test.: t.",
                          });
}
