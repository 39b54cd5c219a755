#pragma once
// Where MaxMind's test databases are: $DNSD_GEO_TEST_DIR, else ../shared/geo
// beside the checkout, else /work/shared/geo (the development machines'
// shared folder, for a clone made elsewhere). Empty when none has them.

#include <cstdlib>
#include <filesystem>
#include <string>

namespace dnsd::test {
inline std::string geo_dir() {
    if (const char* env = std::getenv("DNSD_GEO_TEST_DIR")) return env;
    for (std::string dir : {std::string(DNSD_SOURCE_DIR) + "/../shared/geo", std::string("/work/shared/geo")})
        if (std::filesystem::exists(dir + "/GeoIP2-City-Test.mmdb")) return dir;
    return {};
}
}  // namespace dnsd::test
