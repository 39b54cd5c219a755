#include "zones/tokenizer.hpp"

#include <cctype>

namespace dnsd::zones {

Tokenizer::Result Tokenizer::next(Entry& e) {
    e.tokens.clear();
    e.line = 0;
    e.blank_owner = false;
    stray_.clear();
    const std::size_t mark = pos_;
    const int mark_line = line_;
    while (pos_ < text_.size()) {
        const bool at_line_start = pos_ == 0 || text_[pos_ - 1] == '\n';
        if (at_line_start && depth_ == 0) {
            e.line = line_;
            e.blank_owner = text_[pos_] == ' ' || text_[pos_] == '\t';
        }
        const char c = text_[pos_];
        if (c == '\n') {
            ++pos_;
            ++line_;
            if (depth_ == 0 && !e.tokens.empty()) return done();
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            ++pos_;
            continue;
        }
        if (c == ';') {
            while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
            continue;
        }
        if (c == '(') {
            if (depth_ == 0) paren_line_ = line_;
            ++depth_;
            ++pos_;
            continue;
        }
        if (c == ')') {
            if (depth_ == 0) {
                stray_.push_back(line_);
            } else {
                --depth_;
            }
            ++pos_;
            continue;
        }
        if (e.tokens.empty() && e.line == 0) e.line = line_;
        e.tokens.push_back(token());
    }
    if (!last_) {
        pos_ = mark;
        line_ = mark_line;
        depth_ = 0;
        return more;
    }
    if (depth_ > 0) {
        diags_.error(file_, paren_line_, "syntax: '(' not closed before the end of the file");
        depth_ = 0;
    }
    done();
    return e.tokens.empty() ? end : entry;
}

Tokenizer::Result Tokenizer::done() {
    for (const int line : stray_) diags_.error(file_, line, "syntax: ')' without '('");
    stray_.clear();
    return entry;
}

// The text of one token, quotes and escapes included.
std::string_view Tokenizer::token() {
    const std::size_t start = pos_;
    if (text_[pos_] == '"') {
        const int start_line = line_;
        ++pos_;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
            if (text_[pos_] == '\n') ++line_;
            ++pos_;
        }
        if (pos_ >= text_.size()) {
            if (last_) diags_.error(file_, start_line, "syntax: quoted string not closed");
            return text_.substr(start);
        }
        ++pos_;
        return text_.substr(start, pos_ - start);
    }
    while (pos_ < text_.size()) {
        const char c = text_[pos_];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '(' || c == ')' || c == '"')
            break;
        if (c == '\\' && pos_ + 1 < text_.size()) ++pos_;
        ++pos_;
    }
    return text_.substr(start, pos_ - start);
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::optional<std::uint32_t> parse_ttl(std::string_view s) {
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return std::nullopt;
    std::uint64_t total = 0, value = 0;
    bool digits = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
        if (c >= '0' && c <= '9') {
            value = value * 10 + static_cast<unsigned>(c - '0');
            digits = true;
            if (value > 0xffffffffULL) return std::nullopt;
            continue;
        }
        if (!digits) return std::nullopt;
        std::uint64_t unit = 0;
        switch (c) {
            case 's':
                unit = 1;
                break;
            case 'm':
                unit = 60;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'd':
                unit = 86400;
                break;
            case 'w':
                unit = 604800;
                break;
            default:
                return std::nullopt;
        }
        total += value * unit;
        value = 0;
        digits = false;
    }
    total += value;
    // RFC 2181 8: TTLs are 31-bit values.
    if (total > 0x7fffffffULL) return std::nullopt;
    return static_cast<std::uint32_t>(total);
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

bool class_is_in(std::string_view token) {
    if (iequals(token, "IN")) return true;
    if (token.size() <= 5 || !iequals(token.substr(0, 5), "CLASS")) return false;
    unsigned value = 0;
    for (const char c : token.substr(5)) {
        if (c < '0' || c > '9' || value > 65535) return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value == 1;
}

bool is_class(std::string_view token) {
    return iequals(token, "IN") || iequals(token, "CH") || iequals(token, "CS") || iequals(token, "HS") ||
           iequals(token, "ANY") || (token.size() > 5 && iequals(token.substr(0, 5), "CLASS"));
}

}  // namespace dnsd::zones
