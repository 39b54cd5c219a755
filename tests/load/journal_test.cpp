#include <catch2/catch.hpp>

#include <string>

#include "dnsd/core/name.hpp"
#include "dnsd/load/journal.hpp"
#include "zones/reader.hpp"

using namespace dnsd;

namespace {

/// A zone large enough that several small deltas are smaller than it
/// (Journal::appended()).
std::shared_ptr<const zones::Zone> zone(unsigned serial, const std::string& body,
                                        const std::string& origin = "example.test.") {
    std::string filler;
    for (int i = 0; i < 30; ++i) filler += "f" + std::to_string(i) + " TXT \"filler\"\n";
    Diagnostics diags;
    const auto o = *name_from_text(origin);
    auto records = zones::read_zone_text("$TTL 300\n@ SOA ns hostmaster " + std::to_string(serial) +
                                             " 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n" + filler + body,
                                         "t.zone", o, diags);
    auto z = zones::Zone::build(o, std::move(records), "t.zone", diags);
    REQUIRE(z);
    return z;
}

}  // namespace

TEST_CASE("next_journal: kept, grown, or started again, by the serial") {
    const zones::JournalLimits limits;
    const auto v1 = zone(1, "a TXT \"1\"\n");
    const auto v2 = zone(2, "a TXT \"2\"\n");
    const zones::Journal none;
    // New zone: nothing to diff against.
    CHECK(load::next_journal(nullptr, none, v1, limits).empty());
    // Serial ahead: one delta.
    const auto j2 = load::next_journal(v1.get(), none, v2, limits);
    REQUIRE(j2.deltas().size() == 1);
    CHECK(j2.find(1) == 0);
    // The same zone (reused by the reload): the same journal, shared.
    const auto same = load::next_journal(v2.get(), j2, v2, limits);
    REQUIRE(same.deltas().size() == 1);
    CHECK(same.deltas()[0].get() == j2.deltas()[0].get());
    // Built again, same serial, same data: kept.
    const auto v2again = zone(2, "a TXT \"2\"\n");
    CHECK(load::next_journal(v2.get(), j2, v2again, limits).deltas().size() == 1);
    // Same serial, other data: the deltas no longer lead to it.
    CHECK(load::next_journal(v2.get(), j2, zone(2, "a TXT \"other\"\n"), limits).empty());
    // A serial that went back.
    CHECK(load::next_journal(v2.get(), j2, zone(1, "a TXT \"2\"\n"), limits).empty());
    // Ahead again: the chain grows, the first delta shared.
    const auto j3 = load::next_journal(v2.get(), j2, zone(3, "a TXT \"3\"\n"), limits);
    REQUIRE(j3.deltas().size() == 2);
    CHECK(j3.deltas()[0].get() == j2.deltas()[0].get());
    CHECK(j3.find(2) == 1);
    // Same serial, with the sources' digests: they decide, no diff.
    zones::ZoneSource built, rebuilt;
    built.file_digest = 1;
    rebuilt.file_digest = 2;
    CHECK(load::next_journal(v2.get(), j2, zone(2, "a TXT \"other\"\n"), limits, &built, &built)
              .deltas()
              .size() == 1);
    CHECK(load::next_journal(v2.get(), j2, v2again, limits, &built, &rebuilt).empty());
    // RFC 1982: 4294967295 -> 5 is ahead.
    const auto top = zone(4294967295u, "a TXT \"1\"\n");
    CHECK(load::next_journal(top.get(), none, zone(5, "a TXT \"2\"\n"), limits).find(4294967295u) == 0);
}

TEST_CASE("journals: matched to the running view's zones by origin") {
    const auto a1 = zone(1, "x TXT \"1\"\n");
    const auto b1 = zone(7, "x TXT \"1\"\n", "other.test.");
    query::View::Parts parts;
    parts.zones = {a1, b1};
    const auto running = query::View::make(std::move(parts), config::Server{});
    CHECK(running->journal(0).empty());
    const auto a2 = zone(2, "x TXT \"2\"\n");
    const auto c1 = zone(1, "x TXT \"1\"\n", "third.test.");
    // Another order, a zone gone, one new.
    const auto js = load::journals({c1, b1, a2}, {}, running.get(), {});
    REQUIRE(js.size() == 3);
    CHECK(js[0].empty());
    CHECK(js[1].empty());
    REQUIRE(js[2].deltas().size() == 1);
    CHECK(js[2].deltas()[0]->from_serial() == 1);
    CHECK(load::journals({a2}, {}, nullptr, {})[0].empty());
}
