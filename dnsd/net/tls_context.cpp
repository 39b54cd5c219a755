#include "dnsd/net/tls_context.hpp"

#include <openssl/ssl.h>

#include <boost/system/error_code.hpp>

namespace dnsd::net {

namespace ssl = boost::asio::ssl;

TlsContext::TlsContext(std::string ca_file)
    : context_(ssl::context::tls_client), ca_file_(std::move(ca_file)) {
    boost::system::error_code ec;
    // Each stream sets its own mode too; this is the safe default for one
    // that would not.
    context_.set_verify_mode(ssl::verify_peer, ec);
    SSL_CTX_set_min_proto_version(context_.native_handle(), TLS1_2_VERSION);
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
