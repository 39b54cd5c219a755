#pragma once
/// The TLS context of a client that verifies its peers (https probes,
/// https webhooks, https cluster peers): TLS 1.2 or later, the system's
/// trust store or a CA file of the operator's.
///
/// Threads: a TlsContext belongs to one thread (the one running the
/// exchanges that use it); it must outlive every stream made from it.

#include <boost/asio/ssl/context.hpp>
#include <string>

namespace dnsd::net {

class TlsContext {
public:
    /// `ca_file`: PEM certificates to trust instead of the system's store.
    explicit TlsContext(std::string ca_file = {});
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    /// The context, with the system's trust store (OpenSSL's default paths,
    /// which honour SSL_CERT_FILE and SSL_CERT_DIR) loaded at the first
    /// call, not at construction: parsing every CA certificate costs tens
    /// of milliseconds, which a server without https checks (and every
    /// reload) need not pay. Without a trust store every verified handshake
    /// fails: the safe way to fail, so a load error is not reported.
    boost::asio::ssl::context& get();

private:
    boost::asio::ssl::context context_;
    std::string ca_file_;
    bool trust_loaded_ = false;
};

}  // namespace dnsd::net
