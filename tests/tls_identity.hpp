#pragma once
// Test helper: a self-signed certificate and its key, made in memory with
// OpenSSL, for the tests that run real TLS listeners on loopback (probes,
// the HTTP client, webhooks).

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>
#include <catch2/catch.hpp>

#include <memory>

namespace dnsd::test {

struct Identity {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
    std::unique_ptr<X509, decltype(&X509_free)> cert{nullptr, X509_free};
};

/// A self-signed P-256 certificate with the subject alternative names `san`
/// (OpenSSL's syntax), valid from an hour ago for a day.
inline Identity self_signed(const char* san = "IP:127.0.0.1,DNS:localhost") {
    Identity id;
    id.key.reset(EVP_EC_gen("P-256"));
    REQUIRE(id.key);
    id.cert.reset(X509_new());
    X509* x = id.cert.get();
    REQUIRE(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, id.key.get());
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("dnsd test"),
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san);
    REQUIRE(ext);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    REQUIRE(X509_sign(x, id.key.get(), EVP_sha256()) > 0);
    return id;
}

/// A server TLS context presenting `id`.
inline std::shared_ptr<boost::asio::ssl::context> server_tls(const Identity& id) {
    auto tls = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    REQUIRE(SSL_CTX_use_certificate(tls->native_handle(), id.cert.get()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(tls->native_handle(), id.key.get()) == 1);
    return tls;
}

}  // namespace dnsd::test
