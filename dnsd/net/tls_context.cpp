#include "dnsd/net/tls_context.hpp"

#include <openssl/ssl.h>

#include <boost/system/error_code.hpp>

namespace dnsd::net {

namespace ssl = boost::asio::ssl;

namespace {

/// Sessions kept at most: one per probed https destination, for the
/// largest deployments; past it the first other key in order goes.
constexpr std::size_t kSessionsMax = 65536;

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
    for (auto& [key, session] : sessions_) SSL_SESSION_free(session);
}

void TlsContext::resume(SSL* ssl, const std::string& key) {
    SSL_set_ex_data(ssl, key_index(), const_cast<std::string*>(&key));
    if (auto it = sessions_.find(key); it != sessions_.end() && SSL_SESSION_is_resumable(it->second))
        SSL_set_session(ssl, it->second);
}

int TlsContext::on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* self = static_cast<TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
    const auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, key_index()));
    if (!self || !key) return 0;  // not ours to keep: OpenSSL frees it
    auto [it, added] = self->sessions_.try_emplace(*key, session);
    if (!added) {
        SSL_SESSION_free(it->second);
        it->second = session;
    } else if (self->sessions_.size() > kSessionsMax) {
        auto oldest = self->sessions_.begin() == it ? std::next(it) : self->sessions_.begin();
        SSL_SESSION_free(oldest->second);
        self->sessions_.erase(oldest);
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
