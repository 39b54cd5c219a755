#pragma once
/// Conversions between dnsd's own addresses and Asio's, for the modules
/// that open sockets (server, health, alerts). Any thread.

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "dnsd/core/address.hpp"

namespace dnsd::net {

boost::asio::ip::address to_asio(const Address& a);

inline boost::asio::ip::tcp::endpoint tcp_endpoint(const Endpoint& e) {
    return {to_asio(e.address), e.port};
}
inline boost::asio::ip::udp::endpoint udp_endpoint(const Endpoint& e) {
    return {to_asio(e.address), e.port};
}

}  // namespace dnsd::net
