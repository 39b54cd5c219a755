#include <catch2/catch.hpp>

#include "health/cluster.hpp"

using dnsd::health::merge;
using dnsd::health::Verdict;

namespace {
constexpr auto U = Verdict::up;
constexpr auto D = Verdict::down;
constexpr auto X = Verdict::unknown;
}  // namespace

TEST_CASE("cluster merge: an address is down when quorum vantage points see it down") {
    // Three vantage points, quorum 2: own view first, then two peers.
    const std::vector<Verdict> own = {D, D, U, U, X, D};
    const std::vector<std::vector<Verdict>> peers = {{U, D, U, D, X, X}, {U, U, U, D, X, X}};
    const auto m = merge(own, peers, 2);
    CHECK(m.vantage_points == 3);
    CHECK_FALSE(m.degraded);
    CHECK(m.up[0] == 1);  // only this instance sees it down: a false failover avoided
    CHECK(m.up[1] == 0);  // two of three
    CHECK(m.up[2] == 1);
    CHECK(m.up[3] == 0);  // the peers outvote this instance's "up"
    CHECK(m.up[4] == 1);  // no verdict anywhere: up (not probed)
    CHECK(m.up[5] == 0);  // one verdict only: the quorum shrinks to the vantage points that have one
}

TEST_CASE("cluster merge: with fewer vantage points than the quorum, those reachable decide") {
    const std::vector<Verdict> own = {D, U, D};
    SECTION("no peer reachable: this instance's own view, degraded") {
        const auto m = merge(own, {}, 2);
        CHECK(m.degraded);
        CHECK(m.vantage_points == 1);
        CHECK(m.up == std::vector<std::uint8_t>{0, 1, 0});
    }
    SECTION("one of two peers, quorum 3: both must agree") {
        const auto m = merge(own, {{D, D, U}}, 3);
        CHECK(m.degraded);
        CHECK(m.up == std::vector<std::uint8_t>{0, 1, 1});
    }
    SECTION("quorum 1: any vantage point that sees it down") {
        const auto m = merge(own, {{U, D, U}}, 1);
        CHECK_FALSE(m.degraded);
        CHECK(m.up == std::vector<std::uint8_t>{0, 0, 0});
    }
    SECTION("a peer that knows fewer addresses (another config): unknown past its end") {
        const auto m = merge(own, {{D}}, 2);
        CHECK(m.up == std::vector<std::uint8_t>{0, 1, 0});
    }
}
