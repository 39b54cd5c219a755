#include "zones/plain.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

#include "dnsd/core/name.hpp"
#include "dnsd/wire/types.hpp"
#include "zones/tokenizer.hpp"

namespace dnsd::zones {
namespace {

// A name of letters, digits, '-', '_' and '*' only (no escapes, no '@'):
// what ldns and name_from_text read alike.
bool plain_name(std::string_view token) {
    if (token.empty()) return false;
    for (const char c : token)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '*' && c != '.')
            return false;
    return true;
}

// Text of a character-string without escapes or quotes (and printable;
// unquoted, the tokenizer has cut it at spaces, ';' and parentheses).
bool plain_text(std::string_view text) {
    for (const char c : text)
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
    return true;
}

}  // namespace

bool PlainRdata::put(const void* p, std::size_t n) {
    if (size_ + n > sizeof data_) return false;
    std::memcpy(data_ + size_, p, n);
    size_ += n;
    return true;
}

bool PlainRdata::put_name(std::string_view token, const std::string& origin) {
    if (!plain_name(token)) return false;
    std::uint8_t wire[kMaxNameLength];
    const std::size_t n = name_from_text(token, origin, wire);
    return n != 0 && put(wire, n);
}

bool PlainRdata::parse(std::string_view type, std::span<const std::string_view> tokens,
                       const std::string& origin) {
    size_ = 0;
    if (iequals(type, "A") || iequals(type, "AAAA")) {
        const bool a = type.size() == 1;
        if (tokens.size() != 1 || tokens[0].size() >= 64) return false;
        char text[64];
        std::memcpy(text, tokens[0].data(), tokens[0].size());
        text[tokens[0].size()] = '\0';
        unsigned char address[16];
        if (::inet_pton(a ? AF_INET : AF_INET6, text, address) != 1) return false;
        type_ = a ? wire::type::A : wire::type::AAAA;
        return put(address, a ? 4 : 16);
    }
    if (iequals(type, "NS") || iequals(type, "CNAME") || iequals(type, "PTR")) {
        type_ = iequals(type, "NS")    ? wire::type::NS
                : iequals(type, "PTR") ? wire::type::PTR
                                       : wire::type::CNAME;
        return tokens.size() == 1 && put_name(tokens[0], origin);
    }
    if (iequals(type, "MX")) {
        type_ = wire::type::MX;
        if (tokens.size() != 2 || tokens[0].empty() || tokens[0].size() > 5) return false;
        unsigned value = 0;
        for (const char c : tokens[0]) {
            if (c < '0' || c > '9') return false;
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (value > 65535) return false;
        const std::uint8_t pref[2] = {static_cast<std::uint8_t>(value >> 8),
                                      static_cast<std::uint8_t>(value)};
        return put(pref, 2) && put_name(tokens[1], origin);
    }
    if (iequals(type, "TXT")) {
        type_ = wire::type::TXT;
        if (tokens.empty()) return false;
        for (std::string_view t : tokens) {
            if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
            if (t.empty() || t.size() > 255 || !plain_text(t)) return false;
            const auto len = static_cast<std::uint8_t>(t.size());
            if (!put(&len, 1) || !put(t.data(), t.size())) return false;
        }
        return true;
    }
    return false;
}

}  // namespace dnsd::zones
