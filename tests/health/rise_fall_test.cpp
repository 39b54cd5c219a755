#include <catch2/catch.hpp>

#include "health/rise_fall.hpp"

using dnsd::health::RiseFall;

namespace {
// What rise/fall means, said plainly: the state flips exactly when the last
// `fall` results (while up) were all failures, or the last `rise` results
// (while down) were all passes, counted since the previous flip.
bool expected_after(bool start_up, unsigned bits, unsigned length, unsigned rise, unsigned fall) {
    bool up = start_up;
    unsigned run = 0;
    for (unsigned i = 0; i < length; ++i) {
        const bool ok = (bits >> i) & 1u;
        if (ok == up) {
            run = 0;
            continue;
        }
        if (++run == (up ? fall : rise)) {
            up = !up;
            run = 0;
        }
    }
    return up;
}
}  // namespace

TEST_CASE("rise/fall over every sequence of up to 12 results") {
    for (unsigned rise = 1; rise <= 4; ++rise)
        for (unsigned fall = 1; fall <= 4; ++fall)
            for (bool start : {true, false})
                for (unsigned length = 0; length <= 12; ++length)
                    for (unsigned bits = 0; bits < (1u << length); ++bits) {
                        RiseFall rf(start);
                        unsigned changes = 0;
                        bool last = start;
                        for (unsigned i = 0; i < length; ++i) {
                            const bool changed = rf.observe((bits >> i) & 1u, rise, fall);
                            changes += changed;
                            CHECK(changed == (rf.up() != last));
                            last = rf.up();
                        }
                        REQUIRE(rf.up() == expected_after(start, bits, length, rise, fall));
                    }
}

TEST_CASE("rise/fall: one lost probe does not flip, fall in a row does") {
    RiseFall rf;
    CHECK_FALSE(rf.observe(false, 3, 3));
    CHECK_FALSE(rf.observe(true, 3, 3));  // resets
    CHECK_FALSE(rf.observe(false, 3, 3));
    CHECK_FALSE(rf.observe(false, 3, 3));
    CHECK(rf.streak() == 2);
    CHECK(rf.observe(false, 3, 3));
    CHECK_FALSE(rf.up());
    CHECK_FALSE(rf.observe(true, 2, 3));
    CHECK(rf.observe(true, 2, 3));
    CHECK(rf.up());
}
