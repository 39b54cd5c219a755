#pragma once
/// Rendezvous (highest random weight) hashing for `stickiness = "client"`
/// (SPEC 9). Every function is a fixed function of its arguments, with no
/// per-process seed and independent of byte order, so that every instance
/// (and every catalog one instance builds) ranks a client's sites and
/// addresses alike. Sites are keyed by name and addresses by their bytes,
/// never by index, so that listing sites in another order or adding one
/// does not move the other sites' clients.
///
/// Pure, no allocation; any thread.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dnsd/core/address.hpp"

namespace dnsd::steer {

/// The murmur3 64-bit finalizer: every input bit reaches every output bit.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/// 64-bit FNV-1a, byte by byte, continued from `h`.
constexpr std::uint64_t fnv1a(const std::uint8_t* p, std::size_t n,
                              std::uint64_t h = 0xcbf29ce484222325ull) noexcept {
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/// A site's key: its name.
inline std::uint64_t key_of(std::string_view name) noexcept {
    return mix(fnv1a(reinterpret_cast<const std::uint8_t*>(name.data()), name.size()));
}

/// An address's key: its family and bytes.
inline std::uint64_t key_of(const Address& a) noexcept {
    const std::uint8_t family = a.family == Family::v4 ? 4 : 6;
    const auto bytes = a.view();
    return mix(fnv1a(bytes.data(), bytes.size(), fnv1a(&family, 1)));
}

/// A client's key: its prefix's family, length and bytes (the bits past
/// the length are clear in a Prefix).
inline std::uint64_t key_of(const Prefix& p) noexcept {
    const std::uint8_t head[2] = {static_cast<std::uint8_t>(p.address.family == Family::v4 ? 4 : 6),
                                  p.length};
    const auto bytes = p.address.view();
    return mix(fnv1a(bytes.data(), bytes.size(), fnv1a(head, 2)));
}

/// How much a client wants an item (a site or an address key): the one
/// with the highest rank wins, and each client ranks the items in its own
/// order, independently of the others.
constexpr std::uint64_t rank(std::uint64_t client, std::uint64_t item) noexcept {
    return mix(client ^ item);
}

/// The bits of a rank that weighted_score() uses: u grows with them.
constexpr std::uint64_t unit_bits(std::uint64_t rank) noexcept {
    return rank >> 12;
}

/// The weighted rendezvous score, -weight / ln(u) with u the rank mapped
/// into (0, 1): the highest score wins, and a site wins the share of
/// clients its weight is of the total (the u^(1/weight) of weighted
/// random sampling, as a logarithm). For one weight it grows with
/// unit_bits(). `weight` > 0.
inline double weighted_score(std::uint64_t rank, unsigned weight) noexcept {
    // 52 bits and a half: exact in a double, so u never rounds to 1.
    const double u = (static_cast<double>(unit_bits(rank)) + 0.5) * 0x1p-52;
    return -static_cast<double>(weight) / std::log(u);
}

}  // namespace dnsd::steer
