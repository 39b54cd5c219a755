#include "dnsd/net/tls_context.hpp"

#include <openssl/ssl.h>

#include <ctime>

#include <boost/system/error_code.hpp>

namespace dnsd::net {

namespace ssl = boost::asio::ssl;

namespace {

/// Sessions kept at most: one per probed https destination, for the
/// largest deployments; past it the first other key in order goes.
constexpr std::size_t kSessionsMax = 65536;

/// A resumed handshake does not check the certificate again: a session (or
/// the tickets of its resumptions) is offered for at most this long after
/// the full handshake that verified it, so that an expired or replaced
/// certificate fails a verified probe within minutes, not when the server
/// stops taking its ticket.
constexpr long kSessionMaxAgeSeconds = 300;

/// Where the new-session callback finds its TlsContext (on the SSL_CTX) and
/// the destination's key (on the SSL): indices of our own, as Asio uses the
/// app data slots.
int context_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}
int key_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

}  // namespace

TlsContext::TlsContext(std::string ca_file)
    : context_(ssl::context::tls_client), ca_file_(std::move(ca_file)) {
    boost::system::error_code ec;
    // Each stream sets its own mode too; this is the safe default for one
    // that would not.
    context_.set_verify_mode(ssl::verify_peer, ec);
    SSL_CTX_set_min_proto_version(context_.native_handle(), TLS1_2_VERSION);
    // A client cache of our own, by destination (OpenSSL's internal store
    // is for servers).
    SSL_CTX_set_session_cache_mode(context_.native_handle(),
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_set_ex_data(context_.native_handle(), context_index(), this);
    SSL_CTX_sess_set_new_cb(context_.native_handle(), &TlsContext::on_new_session);
}

TlsContext::~TlsContext() {
    for (auto& [key, s] : sessions_) SSL_SESSION_free(s.session);
}

void TlsContext::resume(SSL* ssl, const std::string& key) {
    SSL_set_ex_data(ssl, key_index(), const_cast<std::string*>(&key));
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return;
    if (!SSL_SESSION_is_resumable(it->second.session) ||
        static_cast<long>(std::time(nullptr)) - it->second.made > kSessionMaxAgeSeconds) {
        SSL_SESSION_free(it->second.session);
        sessions_.erase(it);
        return;
    }
    SSL_set_session(ssl, it->second.session);
}

int TlsContext::on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* self = static_cast<TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
    const auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, key_index()));
    if (!self || !key) return 0;  // not ours to keep: OpenSSL frees it
    // A ticket from a resumed handshake descends from the same full one.
    auto it = self->sessions_.find(*key);
    const long made = SSL_session_reused(ssl) && it != self->sessions_.end()
                          ? it->second.made
                          : static_cast<long>(std::time(nullptr));
    if (it != self->sessions_.end()) {
        SSL_SESSION_free(it->second.session);
        it->second = {session, made};
    } else {
        it = self->sessions_.emplace(*key, Session{session, made}).first;
        if (self->sessions_.size() > kSessionsMax) {
            auto other = self->sessions_.begin() == it ? std::next(it) : self->sessions_.begin();
            SSL_SESSION_free(other->second.session);
            self->sessions_.erase(other);
        }
    }
    return 1;  // the reference is ours now
}

ssl::context& TlsContext::get() {
    if (!trust_loaded_) {
        boost::system::error_code ec;
        if (ca_file_.empty())
            context_.set_default_verify_paths(ec);
        else
            context_.load_verify_file(ca_file_, ec);  // unreadable: nothing verifies, and peers say why
        trust_loaded_ = true;
    }
    return context_;
}

}  // namespace dnsd::net
