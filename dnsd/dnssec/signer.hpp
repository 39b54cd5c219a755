#pragma once
/// RRSIGs over RRsets (RFC 4034 3, 6), made by OpenSSL: ECDSA P-256 with
/// SHA-256 (RFC 6605: the 64-byte r||s, not DER) and Ed25519 (RFC 8080).
///
/// A Signer belongs to one thread (a worker keeps one per key): it owns the
/// OpenSSL contexts and the scratch buffers, and reuses them, so that once
/// it has signed an RRset as large as the next one its own code allocates
/// nothing (OpenSSL's signing allocates inside; see README.md).

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dnsd/core/name.hpp"
#include "dnsd/dnssec/key.hpp"

namespace dnsd::dnssec {

/// One record's rdata in uncompressed wire form.
using Rdata = std::span<const std::uint8_t>;

/// An RRset of class IN to sign, as the zone holds it.
struct Rrset {
    /// Uncompressed wire name, any case. A wildcard's RRset is signed under
    /// its own owner ("*.example.com"), and the RRSIG then answers for
    /// every name the wildcard expands to (RFC 4034 3.1.3, RFC 4035 5.3.4).
    std::span<const std::uint8_t> owner;
    std::uint16_t type = 0;
    std::uint32_t ttl = 0;  ///< the original TTL, as the zone has it
    /// Any case (the names in them are lower-cased for the types RFC 4034
    /// 6.2 lists), any order; duplicates count once.
    std::span<const Rdata> rdatas;
};

/// An RRSIG's validity period: seconds since the epoch modulo 2^32 (RFC
/// 4034 3.1.5).
struct Validity {
    std::uint32_t inception = 0;
    std::uint32_t expiration = 0;
};

class Signer {
public:
    /// The largest RRSIG rdata: 18 fixed bytes, the signer's name, the signature.
    static constexpr std::size_t kMaxRrsigRdata = 18 + kMaxNameLength + 64;

    /// Prepares the OpenSSL contexts for `key`. Throws std::runtime_error
    /// when OpenSSL cannot make them (out of memory).
    explicit Signer(Key key);
    /// A moved-from Signer may only be assigned to or destroyed.
    Signer(Signer&&) noexcept;
    Signer& operator=(Signer&&) noexcept;
    ~Signer();

    const Key& key() const noexcept { return key_; }

    /// Writes the RRSIG rdata for `rrset` into `out` (type covered,
    /// algorithm, labels, original TTL, the validity, key tag, the key's
    /// zone as signer, signature) and returns its size. 0, with nothing
    /// meaningful in `out`, when: `out` is shorter than the RRSIG, the
    /// owner or an rdata is malformed, the RRset is empty or of type RRSIG,
    /// the owner is outside the key's zone, or OpenSSL fails.
    std::size_t sign(const Rrset& rrset, Validity validity, std::span<std::uint8_t> out) noexcept;

private:
    struct Slice {
        std::uint32_t offset;
        std::uint32_t size;
    };
    struct Contexts;  // OpenSSL's, defined in signer.cpp

    bool canonical_rdatas(const Rrset& rrset);
    std::size_t finish(std::span<std::uint8_t> signature) noexcept;

    Key key_;
    std::unique_ptr<Contexts> contexts_;
    std::vector<std::uint8_t> rdatas_;  ///< canonical rdatas, one after another
    std::vector<Slice> order_;          ///< into rdatas_, in canonical order
    std::vector<std::uint8_t> data_;    ///< what is signed (RFC 4034 3.1.8.1)
};

}  // namespace dnsd::dnssec
