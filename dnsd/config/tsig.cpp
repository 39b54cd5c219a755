// [tsig.NAME]: TSIG keys (RFC 8945) for zone transfers and NOTIFY, and
// the reading of their secret files.

#include <cctype>

#include "dnsd/config/names.hpp"
#include "dnsd/config/sections.hpp"
#include "dnsd/core/name.hpp"

namespace dnsd::config {

const char* to_string(TsigKey::Algorithm algorithm) noexcept {
    return kTsigAlgorithms.name(algorithm);
}
std::optional<TsigKey::Algorithm> parse_tsig_algorithm(std::string_view text) noexcept {
    return kTsigAlgorithms.parse(text);
}

namespace {

int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/// RFC 4648 base64 with its padding, blanks between groups allowed (BIND
/// splits long secrets); nothing when anything else is found.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
    std::string digits;
    for (const char c : text)
        if (!std::isspace(static_cast<unsigned char>(c))) digits += c;
    if (digits.empty() || digits.size() % 4 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < digits.size(); i += 4) {
        const bool last = i + 4 == digits.size();
        int v[4];
        unsigned pad = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = digits[i + k];
            if (c == '=' && last && k >= 2) {
                ++pad;
                v[k] = 0;
                continue;
            }
            if (pad > 0) return std::nullopt;  // a digit after padding
            v[k] = base64_value(c);
            if (v[k] < 0) return std::nullopt;
        }
        const auto word = static_cast<std::uint32_t>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        out.push_back(static_cast<std::uint8_t>(word >> 16));
        if (pad < 2) out.push_back(static_cast<std::uint8_t>(word >> 8));
        if (pad < 1) out.push_back(static_cast<std::uint8_t>(word));
    }
    return out;
}

/// The text after `keyword` in a BIND key block: up to the next ';', with
/// the quotes around it dropped.
std::optional<std::string_view> statement(std::string_view text, std::string_view keyword) {
    std::size_t at = 0;
    while ((at = text.find(keyword, at)) != std::string_view::npos) {
        const bool starts = at == 0 || std::isspace(static_cast<unsigned char>(text[at - 1])) ||
                            text[at - 1] == '{' || text[at - 1] == ';';
        const std::size_t after = at + keyword.size();
        if (starts && after < text.size() && std::isspace(static_cast<unsigned char>(text[after]))) {
            const std::size_t end = text.find(';', after);
            if (end == std::string_view::npos) return std::nullopt;
            std::string_view value = text.substr(after, end - after);
            while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
                value.remove_prefix(1);
            while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
                value.remove_suffix(1);
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            return value;
        }
        at = after;
    }
    return std::nullopt;
}

}  // namespace

TsigSecret parse_tsig_secret(std::string_view text) {
    TsigSecret out;
    std::string_view encoded = text;
    if (text.find("key") != std::string_view::npos && text.find('{') != std::string_view::npos) {
        // BIND: key "name" { algorithm hmac-sha256; secret "..."; };
        const auto secret = statement(text, "secret");
        if (!secret) {
            out.error = "a key block without `secret \"...\";`";
            return out;
        }
        encoded = *secret;
        if (const auto algorithm = statement(text, "algorithm")) out.algorithm = std::string(*algorithm);
    } else if (const auto at = text.find("Key:"); at != std::string_view::npos) {
        // A private key file: "Private-key-format: v1.3", "Algorithm: ...", "Key: ...".
        const std::size_t end = text.find('\n', at);
        encoded = text.substr(at + 4, end == std::string_view::npos ? std::string_view::npos : end - at - 4);
    }
    auto secret = base64_decode(encoded);
    if (!secret) {
        out.error =
            "expected the base64 secret, a BIND key block (key \"NAME\" { algorithm ...; secret "
            "\"...\"; };) or a private key file's Key: line";
        return out;
    }
    if (secret->empty()) {
        out.error = "the secret is empty";
        return out;
    }
    out.secret = std::move(*secret);
    return out;
}

void read_tsig_keys(const toml::table& t, Draft& d, Report& report) {
    for (const auto& [k, v] : t) {
        const std::string name(k.str());
        const std::string key = "tsig." + name;
        const auto* table = v.as_table();
        if (!table) {
            report.error(line_of(v), key, "expected a table ([" + key + "])");
            continue;
        }
        TableReader r(*table, key, report);
        TsigKey tk;
        tk.name = name;
        tk.line = r.line();
        const auto wire = absolute_name(name, false);
        if (!wire) {
            report.error(r.line(), key,
                         "the key's name must be a domain name ([tsig.xfr], [tsig.\"ns1.example\"])");
            continue;
        }
        tk.wire = name_lower(*wire);
        r.enum_value("algorithm", kTsigAlgorithms, tk.algorithm);
        TsigDraft draft;
        if (r.path("secret_file", tk.secret_file) == Got::value)
            draft.secret_file = r.spot_at("secret_file");
        else if (!r.has("secret_file"))
            r.error(r.line(), "secret_file", "expected the file holding the key's base64 secret");
        draft.key = std::move(tk);
        d.tsig.push_back(std::move(draft));
    }
}

}  // namespace dnsd::config
