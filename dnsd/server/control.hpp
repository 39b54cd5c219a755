#pragma once
/// The HTTP control endpoint (SPEC section 6) on Boost.Beast: `GET /` (a
/// status page, self-contained HTML), `GET /metrics`, `GET /status`
/// (JSON), `GET /explain?name=&client=` (the CH TXT explanation as JSON
/// lines), `POST /sites/NAME/override` with `{"state": "up|down|drain|auto"}`,
/// `POST /reload`. Requests that change state need `Authorization: Bearer
/// TOKEN` (401 without, 403 with a wrong one; compared in constant time).
///
/// Runs on the state thread's io_context, where the health board lives: the
/// hooks are called there and may touch it directly.

#include <boost/asio.hpp>
#include <functional>
#include <string>

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
    /// an HTTP status (200, 404 unknown site) and fills `body`.
    std::function<int(const std::string& site, const std::string& state, std::int64_t until,
                      std::string& body)>
        set_override;
    /// The explanation of `name` for a client at `client` (empty: the
    /// endpoint's own view), as lines, of one family when `type` is A or
    /// AAAA; fills an error and returns 404/400.
    std::function<int(const std::string& name, const std::string& client, const std::string& type,
                      std::string& body)>
        explain;
    /// GET /cluster/verdicts (with [cluster]): this instance's own probe
    /// verdicts, JSON. Empty function: no such resource.
    std::function<std::string()> verdicts;
    /// Starts a reload; `done(ok, message)` is called later, on any thread.
    std::function<void(std::function<void(bool, std::string)> done)> reload;
};

/// Accepts connections on `endpoint` until the io_context stops. Throws
/// std::runtime_error when the address cannot be bound.
/// `peer_token`: what peers must show to read /cluster/verdicts (empty: anyone).
void start_control(boost::asio::io_context& io, const Endpoint& endpoint, std::string token,
                   std::string peer_token, ControlHooks hooks);

}  // namespace dnsd::server
