#pragma once
/// IP addresses, prefixes and endpoints as plain values. No allocation in the
/// matching functions, so they can be used on the query path (ACL checks).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct sockaddr;
struct sockaddr_storage;

namespace dnsd {

enum class Family : std::uint8_t { v4, v6 };

/// An IPv4 or IPv6 address. IPv4 uses the first 4 bytes of bytes_.
struct Address {
    Family family = Family::v4;
    std::array<std::uint8_t, 16> bytes{};

    static std::optional<Address> parse(std::string_view text);
    /// From a sockaddr_in / sockaddr_in6; IPv4-mapped IPv6 becomes IPv4.
    static std::optional<Address> from_sockaddr(const sockaddr* sa) noexcept;
    static Address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept;

    unsigned bits() const noexcept { return family == Family::v4 ? 32 : 128; }
    std::span<const std::uint8_t> view() const noexcept {
        return {bytes.data(), family == Family::v4 ? 4u : 16u};
    }
    std::string str() const;
    friend bool operator==(const Address&, const Address&) = default;
};

/// A network: address with the bits past `length` cleared.
struct Prefix {
    Address address;
    std::uint8_t length = 0;

    /// "10.0.0.0/8", "::1/128", or a bare address (full length). Host bits
    /// set past the length are an error (returns nullopt), as in most ACLs.
    static std::optional<Prefix> parse(std::string_view text);
    /// The network of `a` with its first `length` bits (at most the
    /// family's bits), the others cleared.
    static Prefix of(const Address& a, unsigned length) noexcept;
    bool contains(const Address& a) const noexcept;
    std::string str() const;
    friend bool operator==(const Prefix&, const Prefix&) = default;
};

/// A list of prefixes; contains() is a linear scan, fine for short ACLs.
struct Acl {
    std::vector<Prefix> prefixes;
    bool contains(const Address& a) const noexcept {
        for (const auto& p : prefixes)
            if (p.contains(a)) return true;
        return false;
    }
    bool empty() const noexcept { return prefixes.empty(); }
};

/// An address with a port: "127.0.0.1:5353", "[::1]:5353".
struct Endpoint {
    Address address;
    std::uint16_t port = 0;

    static std::optional<Endpoint> parse(std::string_view text);
    std::string str() const;
    /// As a sockaddr_in / sockaddr_in6 in `out`; returns its length.
    unsigned to_sockaddr(sockaddr_storage& out) const noexcept;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace dnsd
