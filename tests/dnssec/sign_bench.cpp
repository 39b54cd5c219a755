// Signing rate and allocations, per algorithm, on one thread: keys made by
// dnssec-keygen, a warm Signer, the RRset of a steered answer (two A
// records) signed again and again for --seconds of CPU time.
//
// Counts allocations two ways: operator new, replaced here, through which
// all of dnsd's own allocations go (the run fails when a warm Signer makes
// any), and OpenSSL's, through CRYPTO_set_mem_functions (reported only:
// they happen inside OpenSSL's signing). Rates are printed, not asserted:
// a shared machine drifts.

#include <openssl/crypto.h>
#include <stdlib.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>
#include <string>

#include "dnsd/core/name.hpp"
#include "dnsd/dnssec/signer.hpp"

namespace {
std::atomic<long> g_news{0};
std::atomic<long> g_openssl{0};

void* openssl_malloc(std::size_t n, const char*, int) {
    g_openssl.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n);
}
void* openssl_realloc(void* p, std::size_t n, const char*, int) {
    g_openssl.fetch_add(1, std::memory_order_relaxed);
    return std::realloc(p, n);
}
void openssl_free(void* p, const char*, int) {
    std::free(p);
}
}  // namespace

// The other forms of operator new call this one (libstdc++).
void* operator new(std::size_t n) {
    g_news.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace {

double cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// dnssec-keygen `args` example.com in `dir`: the key's stem, or empty.
std::string keygen(const std::string& dir, const std::string& args) {
    const std::string command = "dnssec-keygen -q -K " + dir + " " + args + " example.com";
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) return {};
    char line[256] = {};
    const bool got = std::fgets(line, sizeof line, p) != nullptr;
    if (::pclose(p) != 0 || !got) return {};
    line[std::strcspn(line, "\n")] = '\0';
    return dir + "/" + line;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace dnsd;
    using namespace dnsd::dnssec;
    // Before OpenSSL allocates anything.
    if (!CRYPTO_set_mem_functions(openssl_malloc, openssl_realloc, openssl_free)) {
        std::fprintf(stderr, "OpenSSL allocated before main: its allocations cannot be counted\n");
        return 1;
    }
    // The count counts (the replacement is the one linked).
    const long before = g_news.load();
    int* volatile probe = new int(1);  // volatile: the pair is not elided
    delete probe;
    if (g_news.load() != before + 1) {
        std::fprintf(stderr, "operator new is not the counting one\n");
        return 1;
    }
    double seconds = 1.0;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);

    std::string dir = (std::filesystem::temp_directory_path() / "dnsd-sign-bench-XXXXXX").string();
    if (!::mkdtemp(dir.data())) {
        std::perror("mkdtemp");
        return 1;
    }
    int status = 0;
    for (const char* args : {"-a ECDSAP256SHA256", "-a ED25519"}) {
        const std::string stem = keygen(dir, args);
        Diagnostics diags;
        const auto key = stem.empty() ? std::nullopt : read_key(stem, diags);
        if (!key) {
            std::fprintf(stderr, "no key from dnssec-keygen %s (bind9-utils installed?)\n", args);
            for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.str().c_str());
            status = 1;
            continue;
        }
        Signer signer(*key);
        const auto owner = *name_from_text("www.example.com.");
        const std::uint8_t a1[] = {192, 0, 2, 1}, a2[] = {198, 51, 100, 7};
        const Rdata rdatas[] = {a1, a2};
        const Rrset rrset{{reinterpret_cast<const std::uint8_t*>(owner.data()), owner.size()}, 1, 60, rdatas};
        const Validity validity{1'800'000'000u, 1'800'604'800u};
        std::uint8_t out[Signer::kMaxRrsigRdata];
        for (int i = 0; i < 200; ++i) signer.sign(rrset, validity, out);  // warm

        const long news = g_news.load(), openssl = g_openssl.load();
        const double start = cpu_seconds();
        long count = 0, failed = 0;
        double used = 0;
        do {
            for (int i = 0; i < 100; ++i, ++count)
                if (signer.sign(rrset, validity, out) == 0) ++failed;
            used = cpu_seconds() - start;
        } while (used < seconds);
        const long our_allocations = g_news.load() - news;
        const double openssl_allocations =
            static_cast<double>(g_openssl.load() - openssl) / static_cast<double>(count);
        std::printf("%-16s %8.0f signatures/s per core (%ld in %.2f s of CPU); ", to_string(key->algorithm()),
                    static_cast<double>(count) / used, count, used);
        std::printf("operator new: %ld; OpenSSL's allocations: %.1f per signature\n", our_allocations,
                    openssl_allocations);
        if (failed > 0) {
            std::fprintf(stderr, "%s: %ld signatures failed\n", to_string(key->algorithm()), failed);
            status = 1;
        }
        if (our_allocations > 0) {
            std::fprintf(stderr, "%s: the warm Signer allocated %ld times with operator new\n",
                         to_string(key->algorithm()), our_allocations);
            status = 1;
        }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return status;
}
