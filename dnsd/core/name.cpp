#include "dnsd/core/name.hpp"

#include <cstring>

namespace dnsd {

std::size_t name_from_text(std::string_view text, std::string_view origin_wire,
                           std::uint8_t (&out)[kMaxNameLength]) noexcept {
    if (text.empty()) return 0;
    if (text == "@") {
        if (origin_wire.empty() || origin_wire.size() > kMaxNameLength) return 0;
        std::memcpy(out, origin_wire.data(), origin_wire.size());
        return origin_wire.size();
    }
    if (text == ".") {
        out[0] = 0;
        return 1;
    }
    // out[at] is the length byte of the label being read, its bytes follow.
    std::size_t at = 0, size = 0;
    bool absolute = false;
    auto put = [&](std::uint8_t c) {
        if (at + 1 + size >= kMaxNameLength) return false;
        out[at + 1 + size++] = c;
        return true;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '.') {
            if (size == 0 || size > kMaxLabelLength) return 0;  // empty or long label
            out[at] = static_cast<std::uint8_t>(size);
            at += 1 + size;
            size = 0;
            if (i + 1 == text.size()) absolute = true;
            continue;
        }
        if (c == '\\') {
            if (i + 1 >= text.size()) return 0;
            if (text[i + 1] >= '0' && text[i + 1] <= '9') {
                if (i + 3 >= text.size()) return 0;  // \DDD needs three digits
                int v = 0;
                for (std::size_t k = 1; k <= 3; ++k) {
                    const char d = text[i + k];
                    if (d < '0' || d > '9') return 0;
                    v = v * 10 + (d - '0');
                }
                if (v > 255 || !put(static_cast<std::uint8_t>(v))) return 0;
                i += 3;
            } else {
                if (!put(static_cast<std::uint8_t>(text[i + 1]))) return 0;
                i += 1;
            }
            continue;
        }
        if (!put(static_cast<std::uint8_t>(c))) return 0;
    }
    if (size != 0) {
        if (size > kMaxLabelLength) return 0;
        out[at] = static_cast<std::uint8_t>(size);
        at += 1 + size;
    }
    if (absolute) {
        if (at + 1 > kMaxNameLength) return 0;
        out[at++] = 0;
        return at;
    }
    if (origin_wire.empty() || at + origin_wire.size() > kMaxNameLength) return 0;
    std::memcpy(out + at, origin_wire.data(), origin_wire.size());
    return at + origin_wire.size();
}

std::optional<std::string> name_from_text(std::string_view text, std::string_view origin_wire) {
    std::uint8_t buf[kMaxNameLength];
    const std::size_t n = name_from_text(text, origin_wire, buf);
    if (n == 0) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(buf), n);
}

std::string name_to_text(std::string_view wire) {
    std::string out;
    std::size_t i = 0;
    while (i < wire.size()) {
        const auto len = static_cast<std::uint8_t>(wire[i]);
        if (len == 0) break;
        for (std::size_t k = 1; k <= len && i + k < wire.size(); ++k) {
            const auto c = static_cast<unsigned char>(wire[i + k]);
            if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' ||
                c == '$') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c <= 0x20 || c >= 0x7f) {
                char buf[5];
                buf[0] = '\\';
                buf[1] = static_cast<char>('0' + c / 100);
                buf[2] = static_cast<char>('0' + (c / 10) % 10);
                buf[3] = static_cast<char>('0' + c % 10);
                buf[4] = '\0';
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
        out += '.';
        i += 1u + len;
    }
    if (out.empty()) out = ".";
    return out;
}

std::string name_lower(std::string_view wire) {
    std::string out(wire);
    // Length bytes are < 64, so lower-casing them is a no-op.
    for (auto& c : out) c = static_cast<char>(lower(static_cast<std::uint8_t>(c)));
    return out;
}

unsigned name_label_count(std::string_view wire) noexcept {
    unsigned n = 0;
    std::size_t i = 0;
    while (i < wire.size() && wire[i] != 0) {
        ++n;
        i += 1u + static_cast<std::uint8_t>(wire[i]);
    }
    return n;
}

bool name_is_subdomain(std::string_view name, std::string_view ancestor) noexcept {
    if (ancestor.size() > name.size()) return false;
    // Walk label boundaries of `name` until the remaining suffix has the
    // ancestor's length, then compare; comparing at a boundary is required
    // so that "xexample.com" is not taken for a child of "example.com".
    std::size_t i = 0;
    while (name.size() - i > ancestor.size()) {
        i += 1u + static_cast<std::uint8_t>(name[i]);
        if (i >= name.size()) return false;
    }
    if (name.size() - i != ancestor.size()) return false;
    for (std::size_t k = 0; k < ancestor.size(); ++k)
        if (lower(static_cast<std::uint8_t>(name[i + k])) != lower(static_cast<std::uint8_t>(ancestor[k])))
            return false;
    return true;
}

}  // namespace dnsd
