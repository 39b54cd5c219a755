// parse_url(): webhook and peer URLs.

#include <cctype>
#include <string>

#include "dnsd/config/config.hpp"

namespace dnsd::config {
namespace {

bool lower_starts_with(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    return true;
}

// A DNS host name as URLs carry them: letters, digits, '-' and '_' (seen in
// internal names) in non-empty labels of at most 63, an optional final dot.
bool host_name(std::string_view host) {
    if (host.empty() || host.size() > 254) return false;
    if (host.back() == '.') host.remove_suffix(1);
    std::size_t label = 0;
    for (const char ch : host) {
        if (ch == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        const auto u = static_cast<unsigned char>(ch);
        if (!std::isalnum(u) && ch != '-' && ch != '_') return false;
        if (++label > 63) return false;
    }
    return label > 0;
}

}  // namespace

std::optional<Url> parse_url(std::string_view text) {
    Url url;
    if (lower_starts_with(text, "https://")) {
        url.tls = true;
        text.remove_prefix(8);
    } else if (lower_starts_with(text, "http://")) {
        text.remove_prefix(7);
    } else {
        return std::nullopt;
    }
    // Everything after this goes into the request line, where a space or a
    // control character would split or corrupt it.
    for (const char ch : text)
        if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) return std::nullopt;
    if (const auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    const auto end = text.find_first_of("/?");
    std::string_view authority = text.substr(0, end);
    const std::string_view rest = end == std::string_view::npos ? std::string_view() : text.substr(end);
    // Credentials in a URL would end up in logs; tokens belong in the path.
    if (authority.find('@') != std::string_view::npos) return std::nullopt;

    std::string_view host;
    std::optional<std::string_view> port;
    if (authority.starts_with("[")) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(1, close - 1);
        const auto after = authority.substr(close + 1);
        if (!after.empty() && !after.starts_with(":")) return std::nullopt;
        if (!after.empty()) port = after.substr(1);
        const auto a = Address::parse(host);
        if (!a || a->family != Family::v6) return std::nullopt;
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
        // All digits and dots is meant as an IPv4 address, never a name.
        const bool numeric = !host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos;
        if (numeric ? !Address::parse(host) : !host_name(host)) return std::nullopt;
    }
    url.host = std::string(host);
    url.port = url.tls ? 443 : 80;
    if (port) {
        if (port->empty() || port->size() > 5 ||
            port->find_first_not_of("0123456789") != std::string_view::npos)
            return std::nullopt;
        const unsigned long value = std::stoul(std::string(*port));
        if (value == 0 || value > 65535) return std::nullopt;
        url.port = static_cast<std::uint16_t>(value);
        url.default_port = false;
    }
    if (rest.empty())
        url.target = "/";
    else if (rest.front() == '?')
        url.target = "/" + std::string(rest);
    else
        url.target = std::string(rest);
    return url;
}

}  // namespace dnsd::config
