#pragma once
/// One resource record as read from a zone file, before the zone is built.

#include <cstdint>
#include <string>

namespace dnsd::zones {

struct Record {
    std::string owner;  ///< uncompressed wire name, case as written
    std::uint16_t type = 0;
    std::uint16_t rclass = 1;
    std::uint32_t ttl = 0;
    std::string rdata;  ///< uncompressed wire rdata (names as written)
    std::string file;   ///< where it came from, for diagnostics
    int line = 0;
};

}  // namespace dnsd::zones
