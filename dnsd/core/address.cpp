#include "dnsd/core/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace dnsd {

std::optional<Address> Address::parse(std::string_view text) {
    char buf[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    Address a;
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        a.family = Family::v4;
        return a;
    }
    if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
        a.family = Family::v6;
        return a;
    }
    return std::nullopt;
}

std::optional<Address> Address::from_sockaddr(const sockaddr* sa) noexcept {
    Address a;
    if (sa->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        a.family = Family::v4;
        std::memcpy(a.bytes.data(), &in->sin_addr, 4);
        return a;
    }
    if (sa->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        const auto* b = reinterpret_cast<const std::uint8_t*>(&in6->sin6_addr);
        static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(b, kMapped, 12) == 0) {
            a.family = Family::v4;
            std::memcpy(a.bytes.data(), b + 12, 4);
        } else {
            a.family = Family::v6;
            std::memcpy(a.bytes.data(), b, 16);
        }
        return a;
    }
    return std::nullopt;
}

unsigned Endpoint::to_sockaddr(sockaddr_storage& out) const noexcept {
    std::memset(&out, 0, sizeof out);
    if (address.family == Family::v4) {
        auto* in = reinterpret_cast<sockaddr_in*>(&out);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        std::memcpy(&in->sin_addr, address.bytes.data(), 4);
        return sizeof *in;
    }
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, address.bytes.data(), 16);
    return sizeof *in6;
}

Address Address::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
    Address r;
    r.bytes[0] = a;
    r.bytes[1] = b;
    r.bytes[2] = c;
    r.bytes[3] = d;
    return r;
}

std::string Address::str() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(family == Family::v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

namespace {
bool bits_match(const std::uint8_t* a, const std::uint8_t* b, unsigned length) noexcept {
    const unsigned whole = length / 8;
    if (std::memcmp(a, b, whole) != 0) return false;
    const unsigned rest = length % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}
}  // namespace

std::optional<Prefix> Prefix::parse(std::string_view text) {
    const auto slash = text.find('/');
    auto addr = Address::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    Prefix p{*addr, static_cast<std::uint8_t>(addr->bits())};
    if (slash != std::string_view::npos) {
        auto len_text = text.substr(slash + 1);
        unsigned len = 0;
        auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
        if (ec != std::errc{} || ptr != len_text.data() + len_text.size() || len > addr->bits() ||
            len_text.empty())
            return std::nullopt;
        p.length = static_cast<std::uint8_t>(len);
    }
    // Host bits must be clear: "10.1.2.3/8" is almost always a typo.
    if (!(of(p.address, p.length) == p)) return std::nullopt;
    return p;
}

Prefix Prefix::of(const Address& a, unsigned length) noexcept {
    if (length > a.bits()) length = a.bits();
    Prefix p{Address{a.family, {}}, static_cast<std::uint8_t>(length)};
    const unsigned whole = length / 8;
    std::memcpy(p.address.bytes.data(), a.bytes.data(), whole);
    if (length % 8)
        p.address.bytes[whole] = static_cast<std::uint8_t>(a.bytes[whole] & (0xff << (8 - length % 8)));
    return p;
}

bool Prefix::contains(const Address& a) const noexcept {
    return a.family == address.family && bits_match(a.bytes.data(), address.bytes.data(), length);
}

std::string Prefix::str() const {
    return address.str() + "/" + std::to_string(length);
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
    std::string_view host, port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
    }
    auto addr = Address::parse(host);
    if (!addr) return std::nullopt;
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || ptr != port.data() + port.size() || port.empty() || p > 65535)
        return std::nullopt;
    return Endpoint{*addr, static_cast<std::uint16_t>(p)};
}

std::string Endpoint::str() const {
    if (address.family == Family::v6) return "[" + address.str() + "]:" + std::to_string(port);
    return address.str() + ":" + std::to_string(port);
}

}  // namespace dnsd
