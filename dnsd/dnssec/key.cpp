#include "dnsd/dnssec/key.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>

#include "dnsd/core/fd.hpp"
#include "dnsd/core/name.hpp"
#include "dnsd/dnssec/openssl.hpp"

namespace dnsd::dnssec {

const char* to_string(Algorithm algorithm) noexcept {
    switch (algorithm) {
        case Algorithm::ecdsa_p256_sha256:
            return "ECDSAP256SHA256";
        case Algorithm::ed25519:
            return "ED25519";
    }
    return "?";
}

std::optional<Algorithm> algorithm_from_number(unsigned number) noexcept {
    switch (number) {
        case 13:
            return Algorithm::ecdsa_p256_sha256;
        case 15:
            return Algorithm::ed25519;
        default:
            return std::nullopt;
    }
}

std::uint16_t key_tag(std::span<const std::uint8_t> rdata) noexcept {
    // RFC 4034 appendix B (algorithm 1, whose tag is computed otherwise,
    // is not one dnsd reads).
    std::uint32_t ac = 0;
    for (std::size_t i = 0; i < rdata.size(); ++i) ac += (i & 1) ? rdata[i] : std::uint32_t{rdata[i]} << 8;
    ac += (ac >> 16) & 0xFFFF;
    return static_cast<std::uint16_t>(ac & 0xFFFF);
}

bool Timing::published(std::int64_t now) const noexcept {
    return (!publish || *publish <= now) && (!deletion || now < *deletion);
}

bool Timing::active(std::int64_t now) const noexcept {
    return published(now) && (!activate || *activate <= now) && (!inactive || now < *inactive);
}

namespace {

constexpr std::size_t kMaxFileSize = 64 * 1024;

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

template <typename T>
std::optional<T> number(std::string_view s) noexcept {
    T v{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

/// Wipes a string holding secret material when it goes.
struct Wiped {
    std::string text;
    ~Wiped() { OPENSSL_cleanse(text.data(), text.size()); }
};

/// RFC 4648 base64 (blanks between groups allowed, as BIND splits long
/// keys), decoded by OpenSSL; nullopt on anything else.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
    Wiped wiped;
    std::string& digits = wiped.text;
    digits.reserve(text.size());  // one buffer, never moved: no copy left behind by growth
    for (const char c : text)
        if (!std::isspace(static_cast<unsigned char>(c))) digits += c;
    if (digits.empty() || digits.size() % 4 != 0) return std::nullopt;
    std::vector<std::uint8_t> out(digits.size() / 4 * 3);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(digits.data()),
                                  static_cast<int>(digits.size()));
    std::size_t pad = 0;
    while (pad < 2 && digits[digits.size() - 1 - pad] == '=') ++pad;
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
        OPENSSL_cleanse(out.data(), out.size());
        return std::nullopt;
    }
    out.resize(out.size() - pad);
    return out;
}

/// BIND's timestamps: YYYYMMDDHHMMSS in UTC.
std::optional<std::int64_t> parse_time(std::string_view text) noexcept {
    if (text.size() < 14) return std::nullopt;
    const std::string_view digits = text.substr(0, 14);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    if (text.size() > 14 && !std::isspace(static_cast<unsigned char>(text[14]))) return std::nullopt;
    auto field = [&](std::size_t at, std::size_t size) { return *number<int>(digits.substr(at, size)); };
    using namespace std::chrono;
    const year_month_day date{year{field(0, 4)}, month{static_cast<unsigned>(field(4, 2))},
                              day{static_cast<unsigned>(field(6, 2))}};
    const int hh = field(8, 2), mm = field(10, 2), ss = field(12, 2);
    if (!date.ok() || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    return sys_days(date).time_since_epoch().count() * std::int64_t{86400} + hh * 3600 + mm * 60 + ss;
}

/// The Timing field that BIND names `field` ("Publish", "Delete"), if any.
std::optional<std::int64_t>* timing_field(Timing& t, std::string_view field) noexcept {
    if (field == "Created") return &t.created;
    if (field == "Publish") return &t.publish;
    if (field == "Activate") return &t.activate;
    if (field == "Revoke") return &t.revoke;
    if (field == "Inactive") return &t.inactive;
    if (field == "Delete") return &t.deletion;
    if (field == "SyncPublish") return &t.sync_publish;
    if (field == "SyncDelete") return &t.sync_delete;
    return nullptr;
}

/// What a key file's name says: K<zone>+<alg>+<tag>.
struct Stem {
    std::string path;  ///< DIR/K<zone>+<alg>+<tag>
    std::string zone;  ///< wire
    unsigned algorithm = 0;
    unsigned tag = 0;
};

/// The stem of a key file's path (either suffix, or none); nullopt when the
/// file name is not of that form.
std::optional<Stem> parse_stem(std::string_view path) {
    for (const std::string_view suffix : {".key", ".private"}) {
        if (path.ends_with(suffix)) {
            path.remove_suffix(suffix.size());
            break;
        }
    }
    const std::size_t slash = path.rfind('/');
    const std::string_view base = path.substr(slash == std::string_view::npos ? 0 : slash + 1);
    const std::size_t tag_at = base.rfind('+');
    if (base.size() < 2 || base[0] != 'K' || tag_at == std::string_view::npos || tag_at == 0)
        return std::nullopt;
    const std::size_t alg_at = base.rfind('+', tag_at - 1);
    if (alg_at == std::string_view::npos || alg_at < 2) return std::nullopt;
    const auto alg = number<unsigned>(base.substr(alg_at + 1, tag_at - alg_at - 1));
    const auto tag = number<unsigned>(base.substr(tag_at + 1));
    const auto zone = name_from_text(base.substr(1, alg_at - 1));
    if (!alg || !tag || *tag > 0xFFFF || !zone || base[alg_at - 1] != '.') return std::nullopt;
    return Stem{std::string(path), name_lower(*zone), *alg, *tag};
}

/// What a failed open or read says, for messages.
std::string reason(int error) {
    return error == ENOENT ? "no such file" : std::strerror(error);
}

/// A file's text (at most kMaxFileSize) through an open descriptor;
/// nullopt after an error naming the file.
std::optional<std::string> read_all(int fd, const std::string& path, Diagnostics& diags) {
    std::string text;
    char buf[4096];
    text.reserve(kMaxFileSize + sizeof buf);  // never moved: a private key leaves no copy behind
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            diags.error(path, 0, "cannot read: " + reason(errno));
            return std::nullopt;
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > kMaxFileSize) {
            diags.error(path, 0, "too large to be a key file");
            return std::nullopt;
        }
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return text;
}

/// Calls `f(line_number, line)` for each line, '\r' removed.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
    int line_number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        f(++line_number, line);
    }
}

std::vector<std::string_view> split_blanks(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        const std::size_t start = i;
        while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

/// The .key file's record and comments.
struct PublicPart {
    std::string owner;  ///< wire, as written
    std::optional<std::uint32_t> ttl;
    std::uint16_t flags = 0;
    unsigned protocol = 0;
    unsigned algorithm = 0;
    std::vector<std::uint8_t> public_key;
    Timing timing;
    int line = 0;  ///< of the record
};

constexpr std::string_view kRecordForm = "`NAME [TTL] [IN] DNSKEY FLAGS 3 ALGORITHM PUBLIC-KEY`";

/// Parses one DNSKEY record line into `out`; false after an error.
bool parse_record(std::string_view line, int n, const std::string& file, PublicPart& out,
                  Diagnostics& diags) {
    const auto fields = split_blanks(line.substr(0, line.find(';')));
    auto fail = [&](const std::string& message) {
        diags.error(file, n, message);
        return false;
    };
    if (fields.size() < 5) return fail("expected " + std::string(kRecordForm));
    const auto owner = fields[0].ends_with('.') ? name_from_text(fields[0]) : std::nullopt;
    if (!owner) return fail("expected the key's absolute zone name, found `" + std::string(fields[0]) + "`");
    out.owner = *owner;
    std::size_t i = 1;
    for (int k = 0; k < 2 && i < fields.size(); ++k) {
        if (const auto ttl = number<std::uint32_t>(fields[i]); ttl && *ttl <= 0x7FFFFFFF) {
            out.ttl = *ttl;
            ++i;
        } else if (iequals(fields[i], "IN")) {
            ++i;
        }
    }
    if (i >= fields.size() || !iequals(fields[i], "DNSKEY"))
        return fail("expected a DNSKEY record of class IN " + std::string(kRecordForm) + ", found `" +
                    std::string(i < fields.size() ? fields[i] : "") + "`");
    if (fields.size() < i + 5)
        return fail("a DNSKEY record without its public key: expected " + std::string(kRecordForm));
    const auto flags = number<std::uint16_t>(fields[i + 1]);
    const auto protocol = number<unsigned>(fields[i + 2]);
    auto algorithm = number<unsigned>(fields[i + 3]);
    for (const Algorithm a : {Algorithm::ecdsa_p256_sha256, Algorithm::ed25519})
        if (iequals(fields[i + 3], to_string(a))) algorithm = static_cast<unsigned>(a);
    if (!flags)
        return fail("expected the DNSKEY flags (256 or 257), found `" + std::string(fields[i + 1]) + "`");
    if (!protocol) return fail("expected the DNSKEY protocol 3, found `" + std::string(fields[i + 2]) + "`");
    if (!algorithm || *algorithm > 255)
        return fail("expected the DNSKEY algorithm number, found `" + std::string(fields[i + 3]) + "`");
    std::string encoded;
    for (std::size_t k = i + 4; k < fields.size(); ++k) encoded += fields[k];
    auto key = base64_decode(encoded);
    if (!key) return fail("the DNSKEY public key is not base64");
    out.flags = *flags;
    out.protocol = *protocol;
    out.algorithm = *algorithm;
    out.public_key = std::move(*key);
    out.line = n;
    return true;
}

/// The .key file: its one DNSKEY record, and the timing in its comments.
std::optional<PublicPart> parse_public(std::string_view text, const std::string& file, Diagnostics& diags) {
    PublicPart out;
    bool ok = true;
    for_each_line(text, [&](int n, std::string_view raw) {
        const std::string_view line = trim(raw);
        if (line.empty()) return;
        if (line.front() == ';') {
            // "; Publish: 20261207192534 (Mon Dec  7 19:25:34 2026)"
            const std::string_view comment = trim(line.substr(1));
            const std::size_t colon = comment.find(':');
            if (colon == std::string_view::npos) return;
            auto* field = timing_field(out.timing, comment.substr(0, colon));
            if (!field) return;
            *field = parse_time(trim(comment.substr(colon + 1)));
            if (!*field) {
                diags.error(file, n,
                            "expected a time YYYYMMDDHHMMSS after `" +
                                std::string(comment.substr(0, colon + 1)) + "`");
                ok = false;
            }
            return;
        }
        if (out.line != 0) {
            diags.error(file, n,
                        "a second record: a .key file holds one DNSKEY record (the first is on line " +
                            std::to_string(out.line) + ")");
            ok = false;
            return;
        }
        if (!parse_record(line, n, file, out, diags)) {
            ok = false;
            out.line = -1;  // a record was there, though bad
        }
    });
    if (out.line == 0) {
        diags.error(file, 0, "no DNSKEY record: expected " + std::string(kRecordForm));
        return std::nullopt;
    }
    if (!ok) return std::nullopt;
    return out;
}

/// The .private file's fields.
struct PrivatePart {
    unsigned algorithm = 0;
    int algorithm_line = 0;
    std::vector<std::uint8_t> private_key;  ///< wiped when it goes
    int private_key_line = 0;
    Timing timing;
    ~PrivatePart() { OPENSSL_cleanse(private_key.data(), private_key.size()); }
};

std::optional<PrivatePart> parse_private(std::string_view text, const std::string& file, Diagnostics& diags) {
    PrivatePart out;
    bool ok = true, format = false;
    for_each_line(text, [&](int n, std::string_view raw) {
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == ';') return;
        auto fail = [&](const std::string& message) {
            diags.error(file, n, message);
            ok = false;
        };
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return fail("expected `Field: value`");
        const std::string_view field = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        if (field == "Private-key-format") {
            // v1.2 (ldns), v1.3 (BIND 9.18); a later v1.x only adds fields.
            if (!value.starts_with("v1."))
                return fail("Private-key-format " + std::string(value) + " is not v1.x");
            format = true;
        } else if (field == "Algorithm") {
            // "13 (ECDSAP256SHA256)"
            const auto number_end = value.find_first_not_of("0123456789");
            const auto algorithm = number<unsigned>(value.substr(0, number_end));
            if (!algorithm) return fail("expected `Algorithm: NUMBER (NAME)`");
            out.algorithm = *algorithm;
            out.algorithm_line = n;
        } else if (field == "PrivateKey") {
            auto key = base64_decode(value);
            if (!key) return fail("the private key is not base64");
            out.private_key = std::move(*key);
            out.private_key_line = n;
        } else if (auto* t = timing_field(out.timing, field)) {
            *t = parse_time(value);
            if (!*t) fail("expected a time YYYYMMDDHHMMSS after `" + std::string(field) + ":`");
        }
        // Other fields (BIND's Lifetime, Successor, ..., RSA's Modulus) are
        // not dnsd's concern, or are refused below by the algorithm.
    });
    if (!ok) return std::nullopt;
    if (!format) {
        diags.error(file, 0, "no `Private-key-format: v1.x` line: not a private key file of BIND or ldns");
        return std::nullopt;
    }
    if (out.algorithm_line == 0) {
        diags.error(file, 0, "no `Algorithm:` line");
        return std::nullopt;
    }
    return out;
}

/// The private key as OpenSSL holds it, checked against the public key
/// of the DNSKEY; nullptr when they are not two halves of one key.
PkeyPtr make_pkey(Algorithm algorithm, std::span<const std::uint8_t> private_key,
                  std::span<const std::uint8_t> public_key) {
    switch (algorithm) {
        case Algorithm::ed25519: {
            PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, private_key.data(),
                                                      private_key.size()));
            std::uint8_t derived[32];
            std::size_t size = sizeof derived;
            if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), derived, &size) != 1 ||
                size != public_key.size() || std::memcmp(derived, public_key.data(), size) != 0)
                return nullptr;
            return pkey;
        }
        case Algorithm::ecdsa_p256_sha256: {
            // The public point in SEC1's uncompressed form: 04 || X || Y.
            std::uint8_t point[65] = {0x04};
            std::memcpy(point + 1, public_key.data(), 64);
            // A "secure" BIGNUM: OSSL_PARAM_BLD keeps it apart and clears
            // it when the parameters are freed.
            BignumPtr d(BN_secure_new());
            if (d && !BN_bin2bn(private_key.data(), static_cast<int>(private_key.size()), d.get())) d.reset();
            ParamBuildPtr build(OSSL_PARAM_BLD_new());
            if (!d || !build ||
                !OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
                !OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) ||
                !OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point))
                return nullptr;
            const ParamPtr params(OSSL_PARAM_BLD_to_param(build.get()));
            PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
            EVP_PKEY* raw = nullptr;
            if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
                EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1)
                return nullptr;
            PkeyPtr pkey(raw);
            // The point on the curve, the scalar in range, and the point
            // the scalar's: EVP_PKEY_check checks all three.
            PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
            if (!check || EVP_PKEY_check(check.get()) != 1) return nullptr;
            return pkey;
        }
    }
    return nullptr;
}

/// Ed25519 private keys are 32 bytes, and so are P-256 scalars as BIND
/// writes them; ldns drops a scalar's leading zero bytes (one key in 256
/// has one), and fewer than 24 left would be a one in 2^64 chance.
bool private_key_size_ok(Algorithm algorithm, std::size_t size) noexcept {
    switch (algorithm) {
        case Algorithm::ecdsa_p256_sha256:
            return size >= 24 && size <= 32;
        case Algorithm::ed25519:
            return size == 32;
    }
    return false;
}

std::string algorithm_text(unsigned number) {
    const auto a = algorithm_from_number(number);
    return std::to_string(number) + (a ? std::string(" (") + to_string(*a) + ")" : std::string());
}

}  // namespace

/// Reads and checks one pair (Key's friend).
struct KeyReader {
    static std::optional<Key> read(const Stem& stem, Diagnostics& diags, const ReadOptions& options);
};

std::optional<Key> KeyReader::read(const Stem& stem, Diagnostics& diags, const ReadOptions& options) {
    const std::string key_file = stem.path + ".key";
    const std::string private_file = stem.path + ".private";
    const std::size_t errors_before = diags.size();

    // The .key file.
    std::optional<PublicPart> pub;
    {
        Fd fd(::open(key_file.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) {
            diags.error(key_file, 0, "cannot read: " + reason(errno));
        } else if (const auto text = read_all(fd.get(), key_file, diags)) {
            pub = parse_public(*text, key_file, diags);
        }
    }
    const auto algorithm = algorithm_from_number(stem.algorithm);
    if (pub) {
        auto fail = [&](const std::string& message) { diags.error(key_file, pub->line, message); };
        if (name_lower(pub->owner) != stem.zone)
            fail("the key is for " + name_to_text(pub->owner) + ", but the file is named for " +
                 name_to_text(stem.zone));
        const bool same_algorithm = pub->algorithm == stem.algorithm;
        if (!same_algorithm)
            fail("the key's algorithm is " + algorithm_text(pub->algorithm) + ", but the file is named for " +
                 algorithm_text(stem.algorithm));
        else if (!algorithm)
            fail("algorithm " + algorithm_text(pub->algorithm) +
                 " is not supported: dnsd signs with 13 (ECDSAP256SHA256) or 15 (ED25519)");
        if (pub->protocol != 3) fail("the DNSKEY protocol is " + std::to_string(pub->protocol) + ", not 3");
        if ((pub->flags & kZoneKeyFlag) == 0)
            fail("the DNSKEY flags " + std::to_string(pub->flags) +
                 " lack the zone key bit (256): it cannot sign a zone");
        if (same_algorithm && algorithm && pub->public_key.size() != public_key_size(*algorithm))
            fail("the public key has " + std::to_string(pub->public_key.size()) + " bytes; " +
                 to_string(*algorithm) + " keys have " + std::to_string(public_key_size(*algorithm)) +
                 " (a truncated or damaged file?)");
    }

    // The .private file: no one but its owner (and, if allowed, its group)
    // may read it; checked on the open file, so no other file slips in
    // between the check and the read.
    std::optional<PrivatePart> secret;
    {
        Fd fd(::open(private_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        struct stat st {};
        if (fd.get() < 0 && errno == ELOOP) {
            diags.error(private_file, 0, "cannot read: a symbolic link (name the file itself)");
        } else if (fd.get() < 0) {
            diags.error(private_file, 0, "cannot read: " + reason(errno));
        } else if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
            diags.error(private_file, 0, "cannot read: not a regular file");
        } else if ((st.st_mode & S_IROTH) || (!options.allow_group_read && (st.st_mode & S_IRGRP))) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
            const bool everyone = (st.st_mode & S_IROTH) != 0;
            diags.error(private_file, 0,
                        std::string("readable by ") + (everyone ? "everyone" : "its group") + " (mode " +
                            mode + "): a private key must not be; chmod " +
                            (options.allow_group_read ? "o" : "go") + "-rwx " + private_file);
        } else if (auto text = read_all(fd.get(), private_file, diags)) {
            const Wiped wiped{std::move(*text)};
            secret = parse_private(wiped.text, private_file, diags);
        }
    }
    if (secret) {
        if (secret->algorithm != stem.algorithm) {
            diags.error(private_file, secret->algorithm_line,
                        "the private key's algorithm is " + algorithm_text(secret->algorithm) +
                            ", but the file is named for " + algorithm_text(stem.algorithm));
        } else if (algorithm && secret->private_key_line == 0) {
            diags.error(private_file, 0, "no `PrivateKey:` line");
        } else if (algorithm && !private_key_size_ok(*algorithm, secret->private_key.size())) {
            diags.error(private_file, secret->private_key_line,
                        "the private key has " + std::to_string(secret->private_key.size()) + " bytes; " +
                            to_string(*algorithm) + " keys have 32 (a truncated or damaged file?)");
        }
    }
    if (diags.size() != errors_before || !pub || !secret || !algorithm) return std::nullopt;

    Key key;
    key.zone_ = stem.zone;
    key.algorithm_ = *algorithm;
    key.flags_ = pub->flags;
    key.dnskey_ = {static_cast<std::uint8_t>(pub->flags >> 8), static_cast<std::uint8_t>(pub->flags), 3,
                   static_cast<std::uint8_t>(stem.algorithm)};
    key.dnskey_.insert(key.dnskey_.end(), pub->public_key.begin(), pub->public_key.end());
    key.tag_ = key_tag(key.dnskey_);
    if (key.tag_ != stem.tag) {
        diags.error(key_file, pub->line,
                    "the key's tag is " + std::to_string(key.tag_) + ", but the file is named for " +
                        std::to_string(stem.tag) + " (a damaged file, or one renamed?)");
        return std::nullopt;
    }
    PkeyPtr pkey = make_pkey(*algorithm, secret->private_key, key.public_key());
    if (!pkey) {
        diags.error(private_file, secret->private_key_line,
                    "the private key is not the private half of the public key in " + key_file);
        return std::nullopt;
    }
    key.pkey_ = std::shared_ptr<evp_pkey_st>(pkey.release(), EVP_PKEY_free);
    key.ttl_ = pub->ttl;
    // BIND keeps the timing in .private (the .key comments repeat it);
    // ldns writes neither. A time only in the comments still counts.
    key.timing_ = secret->timing;
    for (const char* field :
         {"Created", "Publish", "Activate", "Revoke", "Inactive", "Delete", "SyncPublish", "SyncDelete"}) {
        auto& mine = *timing_field(key.timing_, field);
        if (!mine) mine = *timing_field(pub->timing, field);
    }
    key.key_file_ = key_file;
    key.private_file_ = private_file;
    return key;
}

std::optional<Key> read_key(const std::string& path, Diagnostics& diags, const ReadOptions& options) {
    const auto stem = parse_stem(path);
    if (!stem) {
        diags.error(path, 0, "not a key file name: expected K<zone>+<algorithm>+<tag>.key (or .private)");
        return std::nullopt;
    }
    return KeyReader::read(*stem, diags, options);
}

std::vector<Key> read_keys(const std::string& dir, std::string_view zone, Diagnostics& diags,
                           const ReadOptions& options) {
    const std::string wanted = name_lower(zone);
    // Each stem, and which of its halves are there (1: .key, 2: .private).
    std::map<std::string, std::pair<Stem, int>> stems;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec), end;
    if (ec) {
        diags.error(dir, 0, "cannot read the key directory: " + ec.message());
        return {};
    }
    for (; it != end; it.increment(ec)) {
        const std::string file = it->path().filename().string();
        const int half = file.ends_with(".key") ? 1 : file.ends_with(".private") ? 2 : 0;
        if (half == 0 || !file.starts_with('K')) continue;
        auto stem = parse_stem(it->path().string());
        if (!stem || stem->zone != wanted) continue;
        auto& entry = stems.try_emplace(stem->path, std::move(*stem), 0).first->second;
        entry.second |= half;
    }
    if (ec) diags.error(dir, 0, "cannot read the key directory: " + ec.message());
    std::vector<Key> keys;
    for (const auto& [path, entry] : stems) {
        if (entry.second == 1) {
            diags.error(path + ".private", 0,
                        "cannot read: no such file (the private half of " + path + ".key)");
            continue;
        }
        if (entry.second == 2) {
            diags.error(path + ".key", 0,
                        "cannot read: no such file (the public half of " + path + ".private)");
            continue;
        }
        if (auto key = KeyReader::read(entry.first, diags, options)) keys.push_back(std::move(*key));
    }
    if (stems.empty())
        diags.error(dir, 0,
                    "no key of " + name_to_text(wanted) + " here (K" + name_to_text(wanted) +
                        "+<algorithm>+<tag>.key and .private, as dnssec-keygen or ldns-keygen write them)");
    return keys;
}

}  // namespace dnsd::dnssec
