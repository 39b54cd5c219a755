#include "dnsd/dnssec/canonical.hpp"

#include <algorithm>
#include <cstring>

#include "dnsd/core/name.hpp"

namespace dnsd::dnssec {

namespace {

constexpr std::size_t kFailed = static_cast<std::size_t>(-1);

/// Lower-cases the name at rdata[at]; the offset after it, kFailed when
/// there is no whole name there.
std::size_t lower_name_at(std::span<std::uint8_t> rdata, std::size_t at) noexcept {
    if (at == kFailed || at > rdata.size()) return kFailed;
    const std::size_t size = canonicalize_name(rdata.subspan(at));
    return size == 0 ? kFailed : at + size;
}

/// Skips `n` fixed bytes; kFailed when they are not there.
std::size_t skip(std::span<std::uint8_t> rdata, std::size_t at, std::size_t n) noexcept {
    if (at == kFailed || n > rdata.size() - at) return kFailed;
    return at + n;
}

/// Skips one <character-string> (a length byte, then that many bytes).
std::size_t skip_string(std::span<std::uint8_t> rdata, std::size_t at) noexcept {
    if (at == kFailed || at >= rdata.size()) return kFailed;
    return skip(rdata, at + 1, rdata[at]);
}

// RR type numbers (RFC 1035, 1183, 2163, 2230, 2535, 2782, 2874, 3403,
// 4034, 6672), the ones whose rdata carries names.
enum : std::uint16_t {
    NS = 2,
    MD = 3,
    MF = 4,
    CNAME = 5,
    SOA = 6,
    MB = 7,
    MG = 8,
    MR = 9,
    PTR = 12,
    MINFO = 14,
    MX = 15,
    RP = 17,
    AFSDB = 18,
    RT = 21,
    SIG = 24,
    PX = 26,
    NXT = 30,
    SRV = 33,
    NAPTR = 35,
    KX = 36,
    A6 = 38,
    DNAME = 39,
    RRSIG = 46
};

}  // namespace

std::size_t canonicalize_name(std::span<std::uint8_t> wire) noexcept {
    std::size_t i = 0;
    while (i < wire.size()) {
        const std::uint8_t len = wire[i];
        if (len == 0) return i + 1 <= kMaxNameLength ? i + 1 : 0;
        if (len > kMaxLabelLength || len >= wire.size() - i) return 0;
        for (std::size_t k = i + 1; k <= i + len; ++k) wire[k] = lower(wire[k]);
        i += 1u + len;
        if (i >= kMaxNameLength) return 0;
    }
    return 0;
}

bool canonicalize_rdata(std::uint16_t type, std::span<std::uint8_t> rdata) noexcept {
    std::size_t at = 0;
    switch (type) {
        case NS:
        case MD:
        case MF:
        case CNAME:
        case MB:
        case MG:
        case MR:
        case PTR:
        case DNAME:
            at = lower_name_at(rdata, 0);
            break;
        case SOA:
            at = skip(rdata, lower_name_at(rdata, lower_name_at(rdata, 0)), 20);
            break;
        case MINFO:
        case RP:
            at = lower_name_at(rdata, lower_name_at(rdata, 0));
            break;
        case MX:
        case AFSDB:
        case RT:
        case KX:
            at = lower_name_at(rdata, skip(rdata, 0, 2));
            break;
        case PX:
            at = lower_name_at(rdata, lower_name_at(rdata, skip(rdata, 0, 2)));
            break;
        case SRV:
            at = lower_name_at(rdata, skip(rdata, 0, 6));
            break;
        case NAPTR:
            at = lower_name_at(rdata,
                               skip_string(rdata, skip_string(rdata, skip_string(rdata, skip(rdata, 0, 4)))));
            break;
        case SIG:
        case RRSIG:
            // The signer's name, then the signature to the end.
            return lower_name_at(rdata, skip(rdata, 0, 18)) != kFailed;
        case NXT:
            // The next name, then the type bitmap to the end.
            return lower_name_at(rdata, 0) != kFailed;
        case A6: {
            // A prefix length, the address suffix it leaves, the prefix's
            // name when there is a prefix (RFC 2874 3.1).
            if (rdata.empty() || rdata[0] > 128) return false;
            at = skip(rdata, 1, (128u - rdata[0] + 7) / 8);
            if (rdata[0] > 0) at = lower_name_at(rdata, at);
            break;
        }
        default:
            return true;
    }
    return at == rdata.size();
}

int compare_rdata(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
    const std::size_t common = std::min(a.size(), b.size());
    if (common > 0)
        if (const int c = std::memcmp(a.data(), b.data(), common); c != 0) return c;
    return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

unsigned rrsig_labels(std::span<const std::uint8_t> owner) noexcept {
    const std::string_view wire(reinterpret_cast<const char*>(owner.data()), owner.size());
    const unsigned labels = name_label_count(wire);
    const bool wildcard = owner.size() >= 2 && owner[0] == 1 && owner[1] == '*';
    return wildcard ? labels - 1 : labels;
}

}  // namespace dnsd::dnssec
