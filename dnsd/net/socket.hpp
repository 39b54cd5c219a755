#pragma once
/// Opening a client socket from a chosen local address (probes' `source`).
/// Any thread; the socket is the caller's.

#include <boost/system/error_code.hpp>
#include <optional>
#include <string>

#include "dnsd/core/address.hpp"
#include "dnsd/net/address.hpp"

namespace dnsd::net {

/// Opens `socket` (TCP or UDP, closed) for `peer`'s protocol and, when
/// `source` is set, binds it there (any port). The error text ("socket:
/// ...", "source ::1 is not an IPv4 address", "bind ...: ..."), or nullopt.
template <class Socket>
std::optional<std::string> open_from(Socket& socket, const typename Socket::endpoint_type& peer,
                                     const std::optional<Address>& source) {
    boost::system::error_code ec;
    socket.open(peer.protocol(), ec);
    if (ec) return "socket: " + ec.message();
    if (source) {
        const bool v4 = peer.address().is_v4();
        if ((source->family == Family::v4) != v4)
            return "source " + source->str() + " is not an " + (v4 ? "IPv4" : "IPv6") + " address";
        socket.bind({to_asio(*source), 0}, ec);
        if (ec) return "bind " + source->str() + ": " + ec.message();
    }
    return std::nullopt;
}

}  // namespace dnsd::net
