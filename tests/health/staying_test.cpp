#include <catch2/catch.hpp>

#include <cmath>

#include "health/staying.hpp"

using namespace dnsd::health;

// Hand-computed with the RFC 2439 defaults: 1000 per change, half-life
// 60 s, suppress above 2000, reuse below 750.
TEST_CASE("damping: the penalty decays by half every half-life, hand-computed") {
    const DampingFigures f;
    Penalty p;
    CHECK_FALSE(p.change(0, f));  // 1000
    CHECK(p.at(0, f) == Approx(1000));
    CHECK(p.at(60000, f) == Approx(500));
    CHECK(p.at(120000, f) == Approx(250));
    CHECK(p.at(30000, f) == Approx(1000 / std::sqrt(2.0)));  // 707.1
    CHECK_FALSE(p.change(60000, f));                         // 500 + 1000 = 1500: not above 2000
    CHECK(p.at(60000, f) == Approx(1500));
    CHECK_FALSE(p.suppressed());
    CHECK(p.change(60000, f));  // 2500: suppressed
    CHECK(p.suppressed());
    CHECK(p.at(60000, f) == Approx(2500));
    // Reused once 2500 * 2^(-t/60 s) < 750: t = 60 s * log2(2500/750) = 104.218 s.
    CHECK(p.reuse_at(f) == 60000 + 104218);
    CHECK_FALSE(p.update(60000 + 104000, f));  // 750.7: still suppressed
    CHECK(p.suppressed());
    CHECK(p.update(60000 + 104218, f));
    CHECK_FALSE(p.suppressed());
    CHECK(p.reuse_at(f) == 0);
    // Once reused, it takes more than one change to be suppressed again:
    // 750 + 1000 = 1750.
    CHECK_FALSE(p.change(60000 + 104218, f));
    CHECK(p.at(60000 + 104218, f) == Approx(1750).epsilon(0.001));
}

TEST_CASE("damping: figures of a service or probe") {
    // Half-life 2 s, suppress above 1500, reuse below 500, 1000 per change.
    const DampingFigures f{1000, 2000, 1500, 500};
    Penalty p;
    CHECK_FALSE(p.change(0, f));
    CHECK(p.change(1000, f));  // 707.1 + 1000 = 1707.1 > 1500
    // 1707.1 * 2^(-t/2 s) = 500: t = 2 s * log2(3.4142) = 3.5431 s, rounded up.
    CHECK(p.reuse_at(f) == 1000 + 3544);
    CHECK_FALSE(p.update(1000 + 3540, f));
    CHECK(p.update(1000 + 3544, f));
    CHECK(p.active(1000 + 3544, f));         // 500 left, decaying
    CHECK_FALSE(p.active(1000 + 30000, f));  // below 1 after nine half-lives more
}

TEST_CASE("hold-down: a site that comes back is held for the failback, going down is never held") {
    Hold h;
    CHECK_FALSE(h.update(true, 0, 30000, false));  // up at start: not held
    CHECK_FALSE(h.held());
    CHECK_FALSE(h.update(false, 1000, 30000, false));  // down: at once
    CHECK(h.update(true, 2000, 30000, false));         // back: held until 32000
    CHECK(h.held());
    CHECK(h.kind() == Hold::Kind::timed);
    CHECK(h.until_ms() == 32000);
    CHECK_FALSE(h.update(true, 31999, 30000, false));
    CHECK(h.held());
    CHECK(h.update(true, 32000, 30000, false));
    CHECK_FALSE(h.held());

    // Down again during a hold: the hold starts over when it comes back.
    h.update(false, 40000, 30000, false);
    h.update(true, 41000, 30000, false);
    CHECK(h.update(false, 50000, 30000, false));
    CHECK_FALSE(h.held());
    h.update(true, 52000, 30000, false);
    CHECK(h.until_ms() == 82000);

    // A site down at start and then up is held too.
    Hold late;
    late.update(false, 0, 30000, false);
    CHECK(late.update(true, 5000, 30000, false));
}

TEST_CASE("hold-down: manual failback waits for resume") {
    Hold h;
    h.update(true, 0, 0, true);
    h.update(false, 1000, 0, true);
    CHECK(h.update(true, 2000, 0, true));
    CHECK(h.kind() == Hold::Kind::manual);
    CHECK_FALSE(h.update(true, 10'000'000, 0, true));
    CHECK(h.held());
    CHECK(h.resume());
    CHECK_FALSE(h.held());
    CHECK_FALSE(h.update(true, 10'000'001, 0, true));
    CHECK_FALSE(h.resume());
    // A hold read back from the state file is of a site that was up.
    Hold r = Hold::restored(Hold::Kind::timed, 5000);
    CHECK(r.held());
    CHECK_FALSE(r.update(true, 4000, 30000, false));
    CHECK(r.update(true, 5000, 30000, false));
}
