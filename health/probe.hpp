#pragma once
/// One check of one address: the probes of SPEC section 2 (http, https, tcp,
/// dns, exec) as Asio coroutines.
///
/// A Prober runs on the state thread's io_context (never on a worker's);
/// every probe is bounded by its `timeout` and never throws: failures are
/// results with a message. Thread safety: one Prober per io_context thread.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/net/tls_context.hpp"

namespace dnsd::health {

struct ProbeResult {
    bool ok = false;
    std::chrono::microseconds latency{0};  ///< from start to verdict
    std::string message;                   ///< why it failed, or a short success note ("HTTP 200")
};

class Prober {
public:
    /// The system's trusted certificates are loaded at the first https probe.
    Prober() = default;

    /// Probes `target` as `probe` says: the address connected to (and an
    /// exec probe's DNSD_ADDRESS), which is a probe target of the site's
    /// (a NAT, a VIP) when probe_targets names one. Completes within probe.timeout (plus
    /// scheduling delay); exec probes are killed at the timeout (their
    /// process group, reaped in the background on the same executor).
    /// Never throws: every failure is a result. `probe` and the Prober must
    /// outlive the returned awaitable; it runs on the caller's executor.
    boost::asio::awaitable<ProbeResult> run(const config::Probe& probe, Address target);

private:
    net::TlsContext tls_;
};

}  // namespace dnsd::health
