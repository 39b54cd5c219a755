#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <map>
#include <thread>
#include <vector>

#include "dnsd/steer/demand.hpp"

using namespace dnsd;
using namespace dnsd::steer;

namespace {

std::uint64_t v4_word(std::uint32_t net24) {
    Address a;
    a.family = Family::v4;
    a.bytes[0] = static_cast<std::uint8_t>(net24 >> 16);
    a.bytes[1] = static_cast<std::uint8_t>(net24 >> 8);
    a.bytes[2] = static_cast<std::uint8_t>(net24);
    return demand_word(Prefix::of(a, 24));
}

/// Harvests `t` into `d` (the worker side synced first, as an idle worker does).
void harvest(DemandTable& t, Demand& d, double now, const std::vector<std::uint32_t>& keep) {
    DemandTable::Epoch e;
    d.advance(now);
    t.sync();
    REQUIRE(t.harvest(e));  // the epoch before: now readable
    d.add(e);
    t.sync();  // the worker takes up the next epoch
    REQUIRE(t.harvest(e));
    d.add(e);
    d.settle(keep);
}

}  // namespace

TEST_CASE("demand: a prefix is one word, both ways") {
    for (const char* text : {"198.51.100.0/24", "10.0.0.0/8", "0.0.0.0/0", "2001:db8:1:200::/56",
                             "2001:db8::/32", "::/0", "203.0.113.7/32"}) {
        INFO(text);
        const Prefix p = *Prefix::parse(text);
        CHECK(demand_prefix(demand_word(p)) == p);
    }
    // Neither family's words collide with the other's.
    CHECK(demand_word(*Prefix::parse("0.0.0.0/0")) != demand_word(*Prefix::parse("::/0")));
    CHECK(demand_word(*Prefix::parse("10.1.2.0/24")) != demand_word(*Prefix::parse("10.1.2.0/25")));
}

TEST_CASE("demand: the word of an address cut to a length is its prefix's word") {
    std::uint64_t x = 0x243F6A8885A308D3ull;
    for (int i = 0; i < 2000; ++i) {
        Address a;
        a.family = i % 2 ? Family::v6 : Family::v4;
        for (unsigned b = 0; b < (i % 2 ? 16u : 4u); ++b) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            a.bytes[b] = static_cast<std::uint8_t>(x >> 56);
        }
        const unsigned length = static_cast<unsigned>(i % (i % 2 ? 129 : 33));
        const unsigned most = i % 2 ? 56 : 32;
        INFO(a.str() << "/" << length);
        CHECK(demand_word(a.family, a.bytes.data(), length) ==
              demand_word(Prefix::of(a, length < most ? length : most)));
    }
}

TEST_CASE("demand: the state thread reads an epoch only once the worker has left it") {
    DemandTable t;
    DemandTable::Epoch e;
    t.record(7, v4_word(1));
    CHECK(t.harvest(e));  // asks for epoch 1; epoch 0 is still the worker's
    CHECK(e.slots.empty());
    CHECK_FALSE(t.harvest(e));  // the worker has not taken up epoch 1 yet
    t.record(7, v4_word(2));    // takes it up: epoch 0 is done
    CHECK(t.harvest(e));
    REQUIRE(e.slots.size() == 1);
    CHECK(e.slots[0].prefix == v4_word(1));
    CHECK(e.slots[0].service == 7u);
    CHECK(e.slots[0].count == 1u);
}

TEST_CASE("demand: fixed memory under 10 million distinct prefixes, heavy ones within the bound") {
    DemandTable t;
    Demand d(1e12);  // no decay to speak of: the truth is the plain count
    const std::vector<std::uint32_t> keep{1, 2};
    // 20 heavy prefixes of service 1, from 1 % of all queries down to 0.05 %,
    // among 10 million prefixes seen once each (services 1 and 2).
    std::map<std::uint64_t, std::uint64_t> truth;
    std::uint64_t total1 = 0, total2 = 0;
    std::size_t largest = 0;
    const std::uint32_t kDistinct = 10'000'000;
    std::uint32_t next = 0x100000;  // distinct /24s, above the heavy ones
    double now = 0;
    for (std::uint32_t i = 0; i < kDistinct; ++i) {
        const std::uint32_t svc = i % 3 ? 1 : 2;
        t.record(svc, v4_word(next++));
        ++(svc == 1 ? total1 : total2);
        for (std::uint32_t h = 0; h < 20; ++h)
            if (i % (100 * (h + 1)) == 0) {
                t.record(1, v4_word(h));
                ++truth[v4_word(h)];
                ++total1;
            }
        if (i % 500'000 == 499'999) {
            harvest(t, d, now += 1, keep);
            std::size_t kept = 0;
            for (auto s : keep)
                if (const auto* svc_demand = d.service(s)) kept += svc_demand->top.size();
            largest = std::max(largest, kept);
            CHECK(d.memory_bytes() <= 2 * 2 * Demand::kTop * sizeof(Demand::Entry));
        }
    }
    harvest(t, d, now += 1, keep);
    CHECK(largest <= 2 * Demand::kTop);
    CHECK(DemandTable::memory_bytes() < 200 * 1024);
    const Demand::Service* s = d.service(1);
    REQUIRE(s);
    // Totals are exact, dropped queries included.
    CHECK(std::abs(s->total - static_cast<double>(total1)) < 1e-3 * static_cast<double>(total1) + 1);
    CHECK(std::abs(d.service(2)->total - static_cast<double>(total2)) <
          1e-3 * static_cast<double>(total2) + 1);
    // The documented bound holds, and is small next to the heavy counts.
    INFO("error bound " << s->error);
    CHECK(s->error < 0.002 * static_cast<double>(total1));
    for (const auto& [word, n] : truth) {
        double estimate = 0;
        for (const auto& e : s->top)
            if (e.prefix == word) estimate = e.count;
        INFO(demand_prefix(word).str() << " true " << n << " estimate " << estimate);
        CHECK(estimate <= static_cast<double>(n) * (1 + 1e-9));
        CHECK(static_cast<double>(n) - estimate <= s->error * (1 + 1e-9));
        CHECK(estimate > 0);  // kept
    }
    // Largest first.
    for (std::size_t i = 1; i < s->top.size(); ++i) CHECK(s->top[i - 1].count >= s->top[i].count);
}

TEST_CASE("demand: counts decay with the time constant; rates over the window so far") {
    DemandTable t;
    Demand d(100);
    for (int i = 0; i < 1000; ++i) t.record(5, v4_word(42));
    harvest(t, d, 1000, {5});
    const double before = d.service(5)->total;
    CHECK(before == Approx(1000));
    d.advance(1000 + 100 * std::log(2.0));
    d.settle({5});
    CHECK(d.service(5)->total == Approx(500).epsilon(1e-6));
    CHECK(d.service(5)->top.at(0).count == Approx(500).epsilon(1e-6));
    // A service no longer configured is forgotten.
    d.settle({6});
    CHECK(d.service(5) == nullptr);
}

TEST_CASE("demand: a worker records while the state thread harvests (no lock, no race)") {
    DemandTable t;
    Demand d(1e12);
    std::atomic<bool> done{false};
    const std::uint32_t kQueries = 2'000'000;
    std::thread worker([&] {
        for (std::uint32_t i = 0; i < kQueries; ++i) t.record(3, v4_word(i % 64));
        done.store(true);
        // Idle from here: syncs as the worker's receive timeout would.
        for (int i = 0; i < 1000 && done.load(); ++i) {
            t.sync();
            std::this_thread::yield();
        }
    });
    DemandTable::Epoch e;
    double now = 0;
    while (!done.load()) {
        d.advance(now += 1);
        if (t.harvest(e)) d.add(e);
        d.settle({3});
    }
    worker.join();
    for (int i = 0; i < 3; ++i) {
        t.sync();
        if (t.harvest(e)) d.add(e);
    }
    d.settle({3});
    REQUIRE(d.service(3));
    CHECK(d.service(3)->total == Approx(kQueries));
    CHECK(d.service(3)->top.size() == 64);
    CHECK(d.service(3)->error == 0);
}
