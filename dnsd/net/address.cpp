#include "dnsd/net/address.hpp"

#include <algorithm>

namespace dnsd::net {

boost::asio::ip::address to_asio(const Address& a) {
    if (a.family == Family::v4) {
        boost::asio::ip::address_v4::bytes_type b;
        std::copy_n(a.bytes.begin(), b.size(), b.begin());
        return boost::asio::ip::address_v4(b);
    }
    boost::asio::ip::address_v6::bytes_type b;
    std::copy_n(a.bytes.begin(), b.size(), b.begin());
    return boost::asio::ip::address_v6(b);
}

}  // namespace dnsd::net
