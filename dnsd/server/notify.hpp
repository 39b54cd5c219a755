#pragma once
/// NOTIFY (RFC 1996): tells secondaries that a zone changed, so that they
/// ask for its SOA and transfer it without waiting for their refresh timer.
///
/// Runs on the state thread's io_context. Each (zone, secondary) pair is
/// sent on its own and retried with a doubling wait until the secondary
/// acknowledges, refuses, or the attempts run out; outcomes are logged.

#include <boost/asio.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"

namespace dnsd::server {

struct NotifyPolicy {
    unsigned attempts = 5;
    unsigned first_wait_ms = 1000;  ///< doubled after each unanswered attempt
};

/// Sends NOTIFY for the zone `origin` (wire format) with `serial` to every
/// target, signed with `key` (server.transfer_key, copied) unless null.
/// Returns at once; the work runs on `io`.
void send_notify(boost::asio::io_context& io, const std::vector<Endpoint>& targets, const std::string& origin,
                 std::uint32_t serial, const config::TsigKey* key = nullptr, NotifyPolicy policy = {});

}  // namespace dnsd::server
