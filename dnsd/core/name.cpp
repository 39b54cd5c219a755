#include "dnsd/core/name.hpp"

namespace dnsd {

std::optional<std::string> name_from_text(std::string_view text, std::string_view origin_wire) {
    if (text.empty()) return std::nullopt;
    if (text == "@") {
        if (origin_wire.empty()) return std::nullopt;
        return std::string(origin_wire);
    }
    if (text == ".") return std::string(1, '\0');
    std::string out;
    std::string label;
    bool absolute = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '.') {
            if (label.empty()) return std::nullopt;  // empty label
            if (label.size() > kMaxLabelLength) return std::nullopt;
            out += static_cast<char>(label.size());
            out += label;
            label.clear();
            if (i + 1 == text.size()) absolute = true;
            continue;
        }
        if (c == '\\') {
            if (i + 1 >= text.size()) return std::nullopt;
            if (text[i + 1] >= '0' && text[i + 1] <= '9') {
                if (i + 3 >= text.size()) return std::nullopt;  // \DDD needs three digits
                int v = 0;
                for (int k = 1; k <= 3; ++k) {
                    char d = text[i + static_cast<std::size_t>(k)];
                    if (d < '0' || d > '9') return std::nullopt;
                    v = v * 10 + (d - '0');
                }
                if (v > 255) return std::nullopt;
                label += static_cast<char>(v);
                i += 3;
            } else {
                label += text[i + 1];
                i += 1;
            }
            continue;
        }
        label += c;
    }
    if (!label.empty()) {
        if (label.size() > kMaxLabelLength) return std::nullopt;
        out += static_cast<char>(label.size());
        out += label;
    }
    if (absolute) {
        out += '\0';
    } else {
        if (origin_wire.empty()) return std::nullopt;
        out += origin_wire;
    }
    if (out.size() > kMaxNameLength) return std::nullopt;
    return out;
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
