#pragma once
/// Owners for the OpenSSL objects this module uses (module-private: only
/// dnsd/dnssec/*.cpp include it).

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>

namespace dnsd::dnssec {

template <auto Free>
struct OpensslFree {
    template <typename T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};

using BignumPtr = std::unique_ptr<BIGNUM, OpensslFree<BN_clear_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpensslFree<ECDSA_SIG_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpensslFree<EVP_MD_CTX_free>>;
using MdPtr = std::unique_ptr<EVP_MD, OpensslFree<EVP_MD_free>>;
using ParamBuildPtr = std::unique_ptr<OSSL_PARAM_BLD, OpensslFree<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, OpensslFree<OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpensslFree<EVP_PKEY_CTX_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslFree<EVP_PKEY_free>>;

}  // namespace dnsd::dnssec
