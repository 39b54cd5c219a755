#pragma once
/// The TLS context of a client that verifies its peers (https probes,
/// https webhooks, https cluster peers): TLS 1.2 or later, the system's
/// trust store or a CA file of the operator's.
///
/// Threads: a TlsContext belongs to one thread (the one running the
/// exchanges that use it); it must outlive every stream made from it.

#include <boost/asio/ssl/context.hpp>
#include <map>
#include <string>

struct ssl_st;
struct ssl_session_st;

namespace dnsd::net {

class TlsContext {
public:
    /// `ca_file`: PEM certificates to trust instead of the system's store.
    explicit TlsContext(std::string ca_file = {});
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    /// The context, with the system's trust store (OpenSSL's default paths,
    /// which honour SSL_CERT_FILE and SSL_CERT_DIR) loaded at the first
    /// call, not at construction: parsing every CA certificate costs tens
    /// of milliseconds, which a server without https checks (and every
    /// reload) need not pay. Without a trust store every verified handshake
    /// fails: the safe way to fail, so a load error is not reported.
    boost::asio::ssl::context& get();

    /// Session resumption (TLS 1.3 tickets, TLS 1.2 tickets or ids): the
    /// connection `ssl`, about to handshake, offers the last session of
    /// `key` (its destination: endpoint, name and whether it is verified,
    /// so that a session is never offered where it was not made), and the
    /// sessions the peer issues on it are kept under `key`. `key` must
    /// outlive the connection. A probe of one target every second then
    /// costs a resumed handshake instead of a full one.
    void resume(ssl_st* ssl, const std::string& key);

private:
    static int on_new_session(ssl_st* ssl, ssl_session_st* session);

    boost::asio::ssl::context context_;
    std::string ca_file_;
    bool trust_loaded_ = false;
    struct Session {
        ssl_session_st* session;  ///< an owned reference
        long made;                ///< time(2) of the full handshake it descends from
    };
    std::map<std::string, Session> sessions_;
};

}  // namespace dnsd::net
