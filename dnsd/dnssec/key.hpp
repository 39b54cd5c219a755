#pragma once
/// DNSSEC key pairs in BIND's file format: `K<zone>+<alg>+<tag>.key` (the
/// DNSKEY record, timing metadata in comments) and `.private` (the private
/// key, timing metadata as fields), as dnssec-keygen and ldns-keygen write
/// them. Algorithms 13 (ECDSAP256SHA256) and 15 (ED25519) only.
///
/// Reading is load-time work: every problem becomes a Diagnostic naming the
/// file (and the line, where there is one). A Key, once read, is immutable
/// and may be shared by every thread; OpenSSL stays out of this header.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/diagnostic.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace dnsd::dnssec {

/// The DNSSEC algorithms dnsd signs with (RFC 8624 recommends both).
enum class Algorithm : std::uint8_t { ecdsa_p256_sha256 = 13, ed25519 = 15 };

/// "ECDSAP256SHA256", "ED25519": the mnemonics BIND writes.
const char* to_string(Algorithm algorithm) noexcept;
/// The algorithm of that number; nullopt for any other.
std::optional<Algorithm> algorithm_from_number(unsigned number) noexcept;
/// Bytes of a signature of either algorithm (RFC 6605: r||s; RFC 8080).
inline constexpr std::size_t kSignatureSize = 64;
/// Bytes of a public key in DNSKEY rdata (RFC 6605: X||Y; RFC 8080: raw).
constexpr std::size_t public_key_size(Algorithm algorithm) noexcept {
    switch (algorithm) {
        case Algorithm::ecdsa_p256_sha256:
            return 64;
        case Algorithm::ed25519:
            return 32;
    }
    return 0;
}

/// DNSKEY flags (RFC 4034 2.1.1, RFC 5011 7).
inline constexpr std::uint16_t kZoneKeyFlag = 0x0100;
inline constexpr std::uint16_t kRevokeFlag = 0x0080;
inline constexpr std::uint16_t kSepFlag = 0x0001;

/// RFC 4034 appendix B: the key tag of a DNSKEY rdata (flags, protocol,
/// algorithm, public key), the checksum that names the key in its files,
/// in RRSIG and in DS.
std::uint16_t key_tag(std::span<const std::uint8_t> dnskey_rdata) noexcept;

/// A key's timing metadata, in seconds since the epoch (UTC), as BIND's
/// tools set them (-P, -A, -I, -D, -R, -P sync, -D sync). Unset means no
/// limit: a key without any (ldns-keygen's, dnssec-keygen -C) is published
/// and active from the start and never retired.
struct Timing {
    std::optional<std::int64_t> created;
    std::optional<std::int64_t> publish;       ///< DNSKEY in the zone from then
    std::optional<std::int64_t> activate;      ///< signs from then
    std::optional<std::int64_t> revoke;        ///< REVOKE flag set from then (RFC 5011)
    std::optional<std::int64_t> inactive;      ///< signs no more from then
    std::optional<std::int64_t> deletion;      ///< "Delete": out of the zone from then
    std::optional<std::int64_t> sync_publish;  ///< CDS/CDNSKEY from then
    std::optional<std::int64_t> sync_delete;   ///< no CDS/CDNSKEY from then

    /// Publish <= now < Delete (unset bounds do not limit).
    bool published(std::int64_t now) const noexcept;
    /// Activate <= now < Inactive, and published.
    bool active(std::int64_t now) const noexcept;
};

/// One key pair, read and checked: the DNSKEY and its private half agree,
/// the key tag is the one in the file name. Copies share the private key.
class Key {
public:
    /// The zone's wire name, lower-cased.
    const std::string& zone() const noexcept { return zone_; }
    Algorithm algorithm() const noexcept { return algorithm_; }
    std::uint16_t flags() const noexcept { return flags_; }
    std::uint16_t tag() const noexcept { return tag_; }
    /// The SEP flag (257): a key-signing key, the one a DS points at.
    bool ksk() const noexcept { return (flags_ & kSepFlag) != 0; }
    bool revoked() const noexcept { return (flags_ & kRevokeFlag) != 0; }
    /// DNSKEY (and CDNSKEY) rdata: flags, protocol 3, algorithm, public key.
    std::span<const std::uint8_t> dnskey_rdata() const noexcept { return dnskey_; }
    std::span<const std::uint8_t> public_key() const noexcept {
        return std::span<const std::uint8_t>(dnskey_).subspan(4);
    }
    /// The TTL written in the .key file (dnssec-keygen -L), if any.
    std::optional<std::uint32_t> ttl() const noexcept { return ttl_; }
    const Timing& timing() const noexcept { return timing_; }
    const std::string& key_file() const noexcept { return key_file_; }
    const std::string& private_file() const noexcept { return private_file_; }

    /// The private key, for Signer; owned by this Key and its copies.
    evp_pkey_st* pkey() const noexcept { return pkey_.get(); }

private:
    friend struct KeyReader;
    Key() = default;
    std::string zone_;
    Algorithm algorithm_ = Algorithm::ecdsa_p256_sha256;
    std::uint16_t flags_ = 0;
    std::uint16_t tag_ = 0;
    std::vector<std::uint8_t> dnskey_;
    std::optional<std::uint32_t> ttl_;
    Timing timing_;
    std::string key_file_;
    std::string private_file_;
    std::shared_ptr<evp_pkey_st> pkey_;
};

struct ReadOptions {
    /// A .private file readable by its group is refused unless this is set
    /// (e.g. for keys kept root:dnsd 0640, as docs/DEPLOYMENT.md keeps TSIG
    /// secrets); one readable by everyone is always refused.
    bool allow_group_read = false;
};

/// Reads one key pair. `path` names either file or their common stem
/// ("DIR/Kexample.com.+013+12345", with or without .key/.private). On any
/// problem: nullopt, and errors naming the file (and line) in `diags`.
std::optional<Key> read_key(const std::string& path, Diagnostics& diags, const ReadOptions& options = {});

/// Every key pair of `zone` (wire name, any case) in directory `dir`, in
/// file name order: each K<zone>+*.key or .private file, with its other
/// half. A half without the other, a bad pair, or a directory without any
/// key of the zone is an error in `diags`; the good pairs are returned.
std::vector<Key> read_keys(const std::string& dir, std::string_view zone, Diagnostics& diags,
                           const ReadOptions& options = {});

}  // namespace dnsd::dnssec
