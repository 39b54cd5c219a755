#pragma once
/// The HTTP control endpoint (SPEC section 6) on Boost.Beast: `GET /` (a
/// status page, self-contained HTML), `GET /metrics`, `GET /status`
/// (JSON), `GET /demand`, `GET /simulate?down=&drain=&up=&service=` (SPEC
/// 10), `GET /explain?name=&client=` (the CH TXT explanation as JSON
/// lines), `POST /sites/NAME/override` with `{"state": "up|down|drain|auto"}`,
/// `POST /services/NAME/resume` with `{"site": "NAME"}` (optional),
/// `POST /reload`. Requests that change state need `Authorization: Bearer
/// TOKEN` (401 without, 403 with a wrong one; compared in constant time).
///
/// `[control] listen` is an address with a port, or `unix:PATH` (a Unix
/// domain socket, mode 0660); with tls_cert and tls_key it speaks HTTPS.
/// `GET /explain` needs the token unless the client is in explain_allow.
///
/// Runs on the state thread's io_context, where the health board lives: the
/// hooks are called there and may touch it directly, and configure() is
/// called there too.

#include <boost/asio.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"

namespace dnsd::server {

struct ControlHooks {
    /// The /status document.
    std::function<std::string()> status;
    /// Prometheus text exposition (GET /metrics).
    std::function<std::string()> metrics;
    /// The status page (GET /): HTML.
    std::function<std::string()> page;
    /// Sets an override, until Unix time `until` (0: until changed); returns
    /// an HTTP status (200, 404 unknown site, 409 refused by a guard unless
    /// `force`) and fills `body`.
    std::function<int(const std::string& site, const std::string& state, std::int64_t until, bool force,
                      std::string& body)>
        set_override;
    /// GET /demand: the demand per service (SPEC 10), JSON.
    std::function<std::string()> demand;
    /// GET /simulate?down=&drain=&up=&service=: the what-if (SPEC 10) of
    /// the query string's pairs; returns an HTTP status (400 naming
    /// unknown sites or services) and fills `body`.
    std::function<int(const std::vector<std::pair<std::string, std::string>>& params, std::string& body)>
        simulate;
    /// Ends the hold-down of `site` (every held site when empty) for
    /// `service` (SPEC 9); returns an HTTP status and fills `body`.
    std::function<int(const std::string& service, const std::string& site, std::string& body)> resume;
    /// The explanation of `name` for a client at `client` (empty: the
    /// endpoint's own view), as lines, of one family when `type` is A or
    /// AAAA; fills an error and returns 404/400.
    std::function<int(const std::string& name, const std::string& client, const std::string& type,
                      std::string& body)>
        explain;
    /// GET /cluster/verdicts: this instance's own probe verdicts, JSON;
    /// nothing without [cluster] (404).
    std::function<std::optional<std::string>()> verdicts;
    /// Starts a reload; `done(ok, message)` is called later, on any thread.
    std::function<void(std::function<void(bool, std::string)> done)> reload;
};

/// What the endpoint is set up with: `[control]`, the peers' token and
/// who may ask for explanations without a token.
struct ControlSettings {
    config::Control control;
    /// What peers must show to read /cluster/verdicts (empty: anyone).
    std::string peer_token;
    /// Clients that may GET /explain without a token (server.explain_allow,
    /// as for CH TXT explanations). Over a unix: socket everyone may: its
    /// file mode says who can connect.
    Acl explain_allow;
};

/// The endpoint: its listener and the requests in flight. Bounded like the
/// DNS TCP path: at most kMaxConnections at once (more are closed at
/// accept), a request's header and body within kHeaderLimit and
/// kBodyLimit bytes, read within kReadTime (TLS handshake included), the
/// response written within kWriteTime.
class ControlEndpoint {
public:
    static constexpr unsigned kMaxConnections = 64;
    static constexpr std::size_t kHeaderLimit = 8 * 1024;
    static constexpr std::size_t kBodyLimit = 64 * 1024;
    static constexpr std::chrono::seconds kReadTime{5};
    static constexpr std::chrono::seconds kWriteTime{10};

    ControlEndpoint(boost::asio::io_context& io, ControlHooks hooks);
    ~ControlEndpoint();  ///< closes the listener; requests in flight finish
    ControlEndpoint(const ControlEndpoint&) = delete;
    ControlEndpoint& operator=(const ControlEndpoint&) = delete;

    /// Applies `settings`: tokens and explain_allow from the next request
    /// on; a new listener when the address or the TLS files changed (the
    /// new one is set up before the old one closes). Throws
    /// std::runtime_error, saying why, when the new listener cannot be set
    /// up; the old one then keeps serving, with the new tokens.
    void configure(const ControlSettings& settings);
    /// Where it listens now ("127.0.0.1:8053", "unix:/run/dnsd.sock"), or "".
    std::string where() const;

    struct Shared;  // control.cpp

private:
    boost::asio::io_context& io_;
    std::shared_ptr<Shared> shared_;
};

}  // namespace dnsd::server
