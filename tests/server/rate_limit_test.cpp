#include <catch2/catch.hpp>

#include "dnsd/server/rate_limit.hpp"

using dnsd::Address;
using dnsd::server::RateLimiter;
using Action = RateLimiter::Action;

namespace {
int count(RateLimiter& rl, const char* client, std::uint64_t now, const dnsd::config::RateLimit& s,
          Action want, int n) {
    int got = 0;
    for (int i = 0; i < n; ++i) got += rl.check(*Address::parse(client), now, s) == want;
    return got;
}
}  // namespace

TEST_CASE("rate limit: a burst, then the rate, per /24 and /56") {
    RateLimiter rl;
    dnsd::config::RateLimit s;
    s.per_second = 10;
    s.burst = 5;
    s.slip = 2;
    // The burst is answered at once; of the rest every second one truncated.
    CHECK(count(rl, "192.0.2.1", 1000, s, Action::answer, 5) == 5);
    CHECK(rl.check(*Address::parse("192.0.2.200"), 1000, s) == Action::drop);  // same /24
    CHECK(rl.check(*Address::parse("192.0.2.7"), 1000, s) == Action::truncate);
    CHECK(rl.check(*Address::parse("192.0.2.7"), 1000, s) == Action::drop);
    // Another /24 has its own bucket.
    CHECK(rl.check(*Address::parse("192.0.3.1"), 1000, s) == Action::answer);
    // 300 ms later: 3 more tokens.
    CHECK(count(rl, "192.0.2.1", 1300, s, Action::answer, 10) == 3);
    // Never more than the burst, however long the pause.
    CHECK(count(rl, "192.0.2.1", 100'000, s, Action::answer, 20) == 5);
    // IPv6: the /56 decides.
    CHECK(count(rl, "2001:db8:0:100::1", 1000, s, Action::answer, 10) == 5);
    CHECK(rl.check(*Address::parse("2001:db8:0:1ff::9"), 1000, s) != Action::answer);  // same /56
    CHECK(rl.check(*Address::parse("2001:db8:0:200::1"), 1000, s) == Action::answer);  // another /56
}

TEST_CASE("rate limit: slip 0 drops all, slip 1 truncates all, 0 per second is off") {
    RateLimiter rl;
    dnsd::config::RateLimit s;
    s.per_second = 1;
    s.slip = 0;
    CHECK(count(rl, "198.51.100.1", 5, s, Action::answer, 10) == 1);
    CHECK(count(rl, "198.51.100.1", 5, s, Action::drop, 10) == 10);
    s.slip = 1;
    CHECK(count(rl, "198.51.100.1", 5, s, Action::truncate, 10) == 10);
    s.per_second = 0;
    CHECK(count(rl, "198.51.100.1", 5, s, Action::answer, 100) == 100);
}

TEST_CASE("rate limit: a flood of distinct networks does not grow the table or starve a steady client") {
    RateLimiter rl;
    dnsd::config::RateLimit s;
    s.per_second = 100;
    for (std::uint64_t t = 0; t < 2000; ++t) {
        // 100 new networks per ms, and one steady client at 50 per second.
        for (unsigned i = 0; i < 100; ++i) {
            const auto a = Address::v4(10, static_cast<std::uint8_t>((t * 100 + i) >> 16),
                                       static_cast<std::uint8_t>((t * 100 + i) >> 8), 1);
            rl.check(a, t, s);
        }
        if (t % 20 == 0) CHECK(rl.check(*Address::parse("203.0.113.9"), t, s) == Action::answer);
    }
}
