// Holds the query path to "no heap allocation": replaces the global
// allocation functions with counting ones, then runs thousands of mixed
// queries (hits, misses, wildcards, CNAME chains, referrals, ANY, EDNS,
// NSID, truncation, CH, malformed packets) through answer().

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include "tests/query/fixture.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    return operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
    return operator new(n, t);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}

int main() {
    using namespace dnsd;
    using namespace dnsd::test;
    config::Server server;
    server.identity = "ns1.test";
    server.transfer_allow.prefixes.push_back(*Prefix::parse("127.0.0.1"));
    const auto view = load_view("tests/query/data/example.test.zone", "example.test.", server);

    std::vector<Packet> packets;
    const char* names[] = {"www.example.test.",       "WWW.EXAMPLE.TEST.",     "nope.example.test.",
                           "b.c.example.test.",       "x.wild.example.test.",  "a.b.wild.example.test.",
                           "chain1.example.test.",    "loop1.example.test.",   "dangling.example.test.",
                           "deep.sub.example.test.",  "sibling.example.test.", "example.test.",
                           "big.example.test.",       "srv.example.test.",     "other.org.",
                           "any.wcname.example.test."};
    const std::uint16_t types[] = {1, 28, 2, 15, 16, 33, 43, 255, 6, 5, 252, 251};
    for (const char* n : names)
        for (auto t : types) {
            packets.push_back(make_query(n, t));
            packets.push_back(make_query(n, t, 1, true, 512));
            packets.push_back(make_query(n, t, 1, true, 4096, std::string("\x00\x03\x00\x00", 4)));
        }
    packets.push_back(make_query("id.server.", 16, 3));
    packets.push_back(make_query("version.bind.", 16, 3));
    Packet bad;
    bad.header(1, 0, 2, 0, 0, 0).name("a.").u16(1).u16(1);
    packets.push_back(bad);
    Packet notimp;
    notimp.header(1, 0x2800, 1, 0, 0, 0).name("www.example.test.").u16(1).u16(1);
    packets.push_back(notimp);
    Packet badvers = make_query("www.example.test.", 1);
    badvers.bytes[11] = 1;
    badvers.opt(1232, 3);
    packets.push_back(badvers);

    std::vector<std::uint8_t> out(65535);
    const Address client = *Address::parse("127.0.0.1");
    std::size_t answered = 0, bytes = 0;
    const long before = g_allocations.load();
    for (int round = 0; round < 6; ++round)
        for (const auto& p : packets)
            for (auto t : {query::Transport::udp, query::Transport::tcp}) {
                const auto r =
                    query::answer({p.bytes.data(), p.bytes.size()}, out, *view, query::Client{client, t});
                answered += r.size ? 1 : 0;
                bytes += r.size;
            }
    const long allocations = g_allocations.load() - before;
    std::printf("%zu answers (%zu bytes) from %zu packets x 12, %ld heap allocations\n", answered, bytes,
                packets.size(), allocations);
    if (answered < 5000 || allocations != 0) {
        std::printf("FAIL: the query path must not allocate\n");
        return 1;
    }
    return 0;
}
