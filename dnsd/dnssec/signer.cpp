#include "dnsd/dnssec/signer.hpp"

#include <openssl/ec.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "dnsd/dnssec/canonical.hpp"
#include "dnsd/dnssec/openssl.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::dnssec {

/// Made once per Signer, reused for every signature: fetching the digest
/// and making the contexts is the costly part of a small signature that
/// does not depend on what is signed.
struct Signer::Contexts {
    // ECDSA: SHA-256 of the data, then the digest signed, then the DER
    // signature decoded into a reused ECDSA_SIG to take r and s from.
    MdPtr sha256;
    MdCtxPtr digest;
    PkeyCtxPtr sign;
    EcdsaSigPtr der;
    // Ed25519: a one-shot signature over the data (RFC 8032 PureEdDSA).
    MdCtxPtr eddsa;
};

Signer::Signer(Key key) : key_(std::move(key)), contexts_(std::make_unique<Contexts>()) {
    Contexts& c = *contexts_;
    bool ok = key_.pkey() != nullptr;
    switch (key_.algorithm()) {
        case Algorithm::ecdsa_p256_sha256:
            c.sha256.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
            c.digest.reset(EVP_MD_CTX_new());
            c.sign.reset(ok ? EVP_PKEY_CTX_new_from_pkey(nullptr, key_.pkey(), nullptr) : nullptr);
            c.der.reset(ECDSA_SIG_new());
            ok = ok && c.sha256 && c.digest && c.sign && c.der && EVP_PKEY_sign_init(c.sign.get()) == 1;
            break;
        case Algorithm::ed25519:
            c.eddsa.reset(EVP_MD_CTX_new());
            ok = ok && c.eddsa &&
                 EVP_DigestSignInit_ex(c.eddsa.get(), nullptr, nullptr, nullptr, nullptr, key_.pkey(),
                                       nullptr) == 1;
            break;
    }
    if (!ok) throw std::runtime_error("OpenSSL could not prepare to sign with " + key_.private_file());
}

Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;
Signer::~Signer() = default;

bool Signer::canonical_rdatas(const Rrset& rrset) {
    rdatas_.clear();
    order_.clear();
    for (const Rdata& rdata : rrset.rdatas) {
        if (rdata.size() > 0xFFFF) return false;
        const std::size_t offset = rdatas_.size();
        if (offset + rdata.size() > 0xFFFFFFFFu) return false;
        rdatas_.insert(rdatas_.end(), rdata.begin(), rdata.end());
        if (!canonicalize_rdata(rrset.type, std::span(rdatas_).subspan(offset, rdata.size()))) return false;
        order_.push_back({static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(rdata.size())});
    }
    auto bytes = [this](Slice s) { return std::span<const std::uint8_t>(rdatas_).subspan(s.offset, s.size); };
    std::sort(order_.begin(), order_.end(),
              [&](Slice a, Slice b) { return compare_rdata(bytes(a), bytes(b)) < 0; });
    order_.erase(std::unique(order_.begin(), order_.end(),
                             [&](Slice a, Slice b) { return compare_rdata(bytes(a), bytes(b)) == 0; }),
                 order_.end());
    return true;
}

std::size_t Signer::sign(const Rrset& rrset, Validity validity, std::span<std::uint8_t> out) noexcept {
    if (rrset.rdatas.empty() || rrset.type == wire::type::RRSIG) return 0;
    std::uint8_t owner[kMaxNameLength];
    const std::size_t owner_size = rrset.owner.size();
    if (owner_size == 0 || owner_size > sizeof owner) return 0;
    std::memcpy(owner, rrset.owner.data(), owner_size);
    if (canonicalize_name(std::span(owner, owner_size)) != owner_size) return 0;
    const std::string_view owner_view(reinterpret_cast<const char*>(owner), owner_size);
    if (!name_is_subdomain(owner_view, key_.zone())) return 0;
    const std::string& signer = key_.zone();
    const std::size_t head = 18 + signer.size();
    if (out.size() < head + kSignatureSize) return 0;

    try {
        if (!canonical_rdatas(rrset)) return 0;
        std::size_t total = head;
        for (const Slice s : order_) total += owner_size + 10 + s.size;
        data_.resize(total);
    } catch (...) {  // out of memory for an RRset larger than any before
        return 0;
    }
    // RFC 4034 3.1.8.1: the RRSIG rdata without its signature, then each
    // record in canonical form and order.
    std::uint8_t* p = data_.data();
    wire::put16(p, rrset.type);
    p[2] = static_cast<std::uint8_t>(key_.algorithm());
    p[3] = static_cast<std::uint8_t>(rrsig_labels(std::span(owner, owner_size)));
    wire::put32(p + 4, rrset.ttl);
    wire::put32(p + 8, validity.expiration);
    wire::put32(p + 12, validity.inception);
    wire::put16(p + 16, key_.tag());
    std::memcpy(p + 18, signer.data(), signer.size());
    p += head;
    for (const Slice s : order_) {
        std::memcpy(p, owner, owner_size);
        p += owner_size;
        wire::put16(p, rrset.type);
        wire::put16(p + 2, wire::klass::IN);
        wire::put32(p + 4, rrset.ttl);
        wire::put16(p + 8, static_cast<std::uint16_t>(s.size));
        p += 10;
        if (s.size > 0) std::memcpy(p, rdatas_.data() + s.offset, s.size);
        p += s.size;
    }
    std::memcpy(out.data(), data_.data(), head);
    const std::size_t signature = finish(out.subspan(head, kSignatureSize));
    return signature == 0 ? 0 : head + signature;
}

std::size_t Signer::finish(std::span<std::uint8_t> signature) noexcept {
    Contexts& c = *contexts_;
    switch (key_.algorithm()) {
        case Algorithm::ecdsa_p256_sha256: {
            std::uint8_t digest[32];
            unsigned digest_size = 0;
            if (EVP_DigestInit_ex2(c.digest.get(), c.sha256.get(), nullptr) != 1 ||
                EVP_DigestUpdate(c.digest.get(), data_.data(), data_.size()) != 1 ||
                EVP_DigestFinal_ex(c.digest.get(), digest, &digest_size) != 1 || digest_size != sizeof digest)
                return 0;
            // OpenSSL gives ECDSA signatures in DER (at most 72 bytes for
            // P-256); DNSSEC wants r and s as two 32-byte numbers.
            std::uint8_t der[80];
            std::size_t der_size = sizeof der;
            if (EVP_PKEY_sign(c.sign.get(), der, &der_size, digest, sizeof digest) != 1) return 0;
            const std::uint8_t* in = der;
            ECDSA_SIG* decoded = c.der.get();
            if (d2i_ECDSA_SIG(&decoded, &in, static_cast<long>(der_size)) == nullptr) return 0;
            const BIGNUM* r = nullptr;
            const BIGNUM* s = nullptr;
            ECDSA_SIG_get0(decoded, &r, &s);
            if (BN_bn2binpad(r, signature.data(), 32) != 32 ||
                BN_bn2binpad(s, signature.data() + 32, 32) != 32)
                return 0;
            return 64;
        }
        case Algorithm::ed25519: {
            std::size_t size = signature.size();
            if (EVP_DigestSign(c.eddsa.get(), signature.data(), &size, data_.data(), data_.size()) != 1 ||
                size != 64)
                return 0;
            return size;
        }
    }
    return 0;
}

}  // namespace dnsd::dnssec
