// Holds the query path to "no heap allocation": replaces the global
// allocation functions with counting ones, then runs thousands of mixed
// queries (hits, misses, wildcards, CNAME chains, referrals, ANY, EDNS,
// NSID, truncation, CH, malformed packets, steered names with ECS and geo
// lookups in both database layouts, see tests/geo/geo_data.hpp) through
// answer(). Fails when the geo test databases are missing. Outside sanitizer builds, C's malloc is
// counted too (libraries such as libmaxminddb allocate with it).

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <vector>

#include "dnsd/load/runtime.hpp"
#include "dnsd/query/signatures.hpp"
#include "dnsd/steer/demand.hpp"
#include "tests/geo/geo_data.hpp"
#include "tests/query/fixture.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

#if !defined(__SANITIZE_ADDRESS__)
// glibc's own entry points, to which the counting versions forward.
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void* malloc(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t n, std::size_t size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(n, size);
}
extern "C" void* realloc(void* p, std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
#endif

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
    // IXFR with the client's SOA (RFC 1995): up to date, behind, ahead.
    for (const std::uint32_t serial : {2026112301u, 2026112300u, 2026112302u})
        packets.push_back(make_ixfr("example.test.", serial));
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

    // Steered names: views with sites and services (one per geo database
    // layout), a health snapshot with some addresses down, and health.server.
    if (const std::string missing = dnsd::test::missing_geo_data(); !missing.empty()) {
        std::printf("FAIL: %s\n", missing.c_str());
        return 1;
    }
    const std::string zone = std::string(DNSD_SOURCE_DIR) + "/tests/query/data/example.test.zone";
    std::vector<std::shared_ptr<const query::View>> steered;
    // The steered views' config; `zone_extra`: more keys of the [[zone]].
    const auto steered_config = [&](GeoLayout layout, const std::string& zone_extra) {
        return std::string("[[zone]]\norigin = \"example.test.\"\nfile = \"" + zone + "\"\n" + zone_extra) +
               "[probes.web]\ntype = \"http\"\n"
               "[sites.a]\nlocation = { lat = 52.4, lon = 4.9 }\n"
               "addresses = [\"192.0.2.1\", \"192.0.2.2\", \"2001:db8::1\"]\nprobe = \"web\"\n"
               "[sites.b]\nlocation = { lat = 1.3, lon = 103.8 }\naddresses = [\"198.51.100.1\"]\nprobe = "
               "\"web\"\n"
               "[sites.cdn]\ncname = \"edge.cdn.example.net.\"\n"
               "[[service]]\nname = \"svc.example.test.\"\nsites = [\"a\", \"b\"]\npolicy = \"weighted\"\n"
               "max_answers = 1\n"
               "[[service]]\nname = \"all.example.test.\"\nsites = [\"a\", \"b\"]\npolicy = \"all\"\n"
               "[[service]]\nname = \"cn.example.test.\"\nsites = [\"b\", \"cdn\"]\nfallback = \"none\"\n"
               "[[geo.networks]]\nprefix = \"10.20.0.0/16\"\nlocation = { lat = 1.3, lon = 103.8 }\n"
               "[[geo.networks]]\nprefix = \"10.20.2.0/24\"\nlocation = { lat = 40.7, lon = -74.0 }\n"
               "[[service]]\nname = \"near.example.test.\"\nsites = [\"a\", \"b\"]\npolicy = \"nearest\"\n"
               "[[service]]\nname = \"stick.example.test.\"\nsites = [\"a\", \"b\"]\npolicy = \"weighted\"\n"
               "max_answers = 1\nstickiness = \"client\"\n"
               "[[service]]\nname = \"nstick.example.test.\"\nsites = [\"a\", \"b\"]\npolicy = \"nearest\"\n"
               "max_answers = 1\nstickiness = \"client\"\n"
               "[geo]\ndatabase = " +
               geo_database(layout) + "\n";
    };
    for (const auto layout : {GeoLayout::city, GeoLayout::dbip}) {
        Diagnostics diags;
        const auto cfg = config::read_config_text(steered_config(layout, ""), "/alloc.toml", diags);
        auto loaded = diags.has_errors() ? nullptr : load::runtime(cfg, diags);
        if (!loaded) {
            for (const auto& d : diags) std::printf("%s\n", d.str().c_str());
            return 1;
        }
        steered.push_back(std::move(loaded));
    }
    std::vector<health::Snapshot> healths(steered.size());  // one per view, for its catalog
    for (std::size_t i = 0; i < steered.size(); ++i) {
        auto& health = healths[i];
        health.up = {1, 0, 1, 0};
        health.overrides = {health::Override::none, health::Override::none, health::Override::none};
        health.info.resize(4);
        health.info[1] = {true, 1764000000, true, false, 12, "connect: Connection refused"};
        health.catalog_id = steered[i]->catalog().id;
    }
    geo::Cache cache;  // allocated once, as a worker's
    steer::Random random;
    std::vector<Packet> steered_packets;
    for (const char* n : {"svc.example.test.", "all.example.test.", "cn.example.test.", "nope.example.test.",
                          "stick.example.test."})
        for (int t : {1, 28, 255, 16})
            for (int k = 0; k < 4; ++k)
                steered_packets.push_back(make_query(n, static_cast<std::uint16_t>(t), 1, k % 2 == 0, 1232));
    steered_packets.push_back(make_query("health.server.", 16, 3));
    // ECS for networks entries, database hits (v4 and v6, nested, without
    // coordinates), misses, /0; the addresses are in tests/geo/data/networks.json
    const std::string subnets[] = {
        std::string("\x00\x01\x18\x00\x0a\x14\x02", 7),                   // 10.20.2.0/24 (networks)
        std::string("\x00\x01\x10\x00\x0a\x14", 6),                       // 10.20.0.0/16 (networks)
        std::string("\x00\x01\x20\x00\x0a\x01\x02\xc8", 8),               // 10.1.2.200/32
        std::string("\x00\x01\x1a\x00\xc6\x33\x64\x40", 8),               // 198.51.100.64/26
        std::string("\x00\x01\x18\x00\x0a\xc8\x00", 7),                   // 10.200.0.0/24 (no coordinates)
        std::string("\x00\x02\x30\x00\xfd\x12\x34\x56\x00\x07", 10),      // fd12:3456:7::/48
        std::string("\x00\x02\x38\x00\x20\x01\x0d\xb8\xff\x00\x01", 11),  // 2001:db8:ff00:100::/56
        std::string("\x00\x01\x18\x00\xcb\x00\x71", 7),                   // 203.0.113.0/24 (miss)
        std::string("\x00\x01\x00\x00", 4),                               // /0
    };
    for (const auto& data : subnets) {
        std::string opt("\x00\x08\x00", 3);
        opt.push_back(static_cast<char>(data.size()));
        opt += data;
        for (const char* n :
             {"near.example.test.", "svc.example.test.", "stick.example.test.", "nstick.example.test."}) {
            for (int t : {1, 28})
                steered_packets.push_back(make_query(n, static_cast<std::uint16_t>(t), 1, true, 1232, opt));
            // the CH TXT explanation of the same name
            steered_packets.push_back(make_query(n, 16, 3, true, 1232, opt));
        }
    }

    // A signed zone (SPEC 11): the same steered zone with keys made by
    // dnssec-keygen, asked with DO. Signing allocates inside OpenSSL, so
    // the worker's signature cache is warmed first; answers from it must
    // not allocate.
    char key_dir[] = "/tmp/dnsd-alloc-keys-XXXXXX";
    if (!::mkdtemp(key_dir)) return 1;
    const std::string keygen = std::string("dnssec-keygen -q -K ") + key_dir + " -a 13 ";
    if (std::system(
            (keygen + "-f KSK example.test >/dev/null && " + keygen + "example.test >/dev/null").c_str()) !=
        0) {
        std::printf("FAIL: dnssec-keygen (bind9-utils, tools/deps installs it) did not make keys\n");
        return 1;
    }
    std::shared_ptr<const query::View> signed_view;
    {
        Diagnostics diags;
        const auto cfg = config::read_config_text(
            steered_config(GeoLayout::city, std::string("dnssec = \"") + key_dir + "\"\n"), "/alloc.toml",
            diags);
        signed_view = diags.has_errors() ? nullptr : load::runtime(cfg, diags);
        std::filesystem::remove_all(key_dir);
        if (!signed_view) {
            for (const auto& d : diags) std::printf("%s\n", d.str().c_str());
            return 1;
        }
    }
    health::Snapshot signed_health = healths[0];
    signed_health.catalog_id = signed_view->catalog().id;
    query::SignatureCache signatures;
    std::vector<Packet> signed_packets;
    for (const char* n :
         {"www.example.test.", "nope.example.test.", "x.wild.example.test.", "chain1.example.test.",
          "deep.sub.example.test.", "example.test.", "svc.example.test.", "all.example.test.",
          "cn.example.test.", "near.example.test.", "stick.example.test."})
        for (int t : {1, 28, 2, 16, 43, 48, 59, 255}) {
            Packet p;
            p.header(7, 0x0100, 1, 0, 0, 1)
                .name(n)
                .u16(static_cast<std::uint16_t>(t))
                .u16(1)
                .opt(1232, 0, true);
            signed_packets.push_back(p);
        }

    std::vector<std::uint8_t> out(65535);
    const Address client = *Address::parse("127.0.0.1");
    std::size_t answered = 0, bytes = 0, signed_bytes = 0;
    // A worker's demand table (allocated once, as the worker's): every
    // steered answer is counted into it, as the worker does.
    steer::DemandTable demand;
    std::size_t demanded = 0;
    const auto ask_signed = [&](query::Transport t) {
        for (const auto& p : signed_packets) {
            query::Client c{client, t, &signed_health, &random, &cache};
            c.signatures = &signatures;
            const auto r = query::answer({p.bytes.data(), p.bytes.size()}, out, *signed_view, c);
            signed_bytes += r.size;
        }
    };
    for (int round = 0; round < 40; ++round) ask_signed(query::Transport::udp);
    const auto warm = signatures.stats();
    const long before = g_allocations.load();
    for (int round = 0; round < 6; ++round)
        for (auto t : {query::Transport::udp, query::Transport::tcp}) {
            ask_signed(t);
            for (const auto& p : packets) {
                const auto r =
                    query::answer({p.bytes.data(), p.bytes.size()}, out, *view, query::Client{client, t});
                answered += r.size ? 1 : 0;
                bytes += r.size;
            }
            // the DB-IP layout every third round, with and without the cache
            const std::size_t v = round % 3 == 2 ? 1 : 0;
            for (const auto& p : steered_packets) {
                const auto r = query::answer(
                    {p.bytes.data(), p.bytes.size()}, out, *steered[v],
                    query::Client{client, t, &healths[v], &random, round % 2 ? &cache : nullptr});
                if (r.service >= 0) {
                    demand.record(r.demand_service, r.demand_prefix);
                    ++demanded;
                }
                answered += r.size ? 1 : 0;
                bytes += r.size;
            }
        }
    // The truncated replies of rate limiting, for every packet.
    std::size_t truncated = 0;
    for (const auto& p : packets)
        truncated +=
            query::truncated_reply({p.bytes.data(), p.bytes.size()}, out, *view, query::Client{client}) ? 1
                                                                                                        : 0;
    for (std::size_t v = 0; v < steered.size(); ++v)
        for (const auto& p : steered_packets)
            truncated += query::truncated_reply(
                             {p.bytes.data(), p.bytes.size()}, out, *steered[v],
                             query::Client{client, query::Transport::udp, &healths[v], &random, &cache})
                             ? 1
                             : 0;
    const long allocations = g_allocations.load() - before;
    std::printf(
        "%zu answers (%zu bytes) from %zu packets x 12, %zu truncated replies, %zu counted as demand, %ld "
        "heap "
        "allocations\n",
        answered, bytes, packets.size() + steered_packets.size(), truncated, demanded, allocations);
    const auto& st = signatures.stats();
    std::printf(
        "signed: %zu packets x 12 after warming (%llu signatures made then), %llu hits, %llu made since, "
        "%llu failures\n",
        signed_packets.size(), static_cast<unsigned long long>(warm.made),
        static_cast<unsigned long long>(st.hits - warm.hits),
        static_cast<unsigned long long>(st.made - warm.made), static_cast<unsigned long long>(st.failures));
    if (st.hits - warm.hits < 12 * signed_packets.size() || st.failures != 0) {
        std::printf("FAIL: signed answers were not taken from the signature cache\n");
        return 1;
    }
    if (answered < 5000 || truncated < 100 || demanded < 500 || allocations != 0) {
        std::printf("FAIL: the query path must not allocate\n");
        return 1;
    }
    return 0;
}
