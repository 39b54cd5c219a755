// geo_tests needs MaxMind's test databases (see geo_dir.hpp). Without them the whole binary reports
// "skipped" (exit 77, which ctest shows as Skipped), never a silent pass.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/geo/geo_dir.hpp"

int main(int argc, char* argv[]) {
    const std::string dir = dnsd::test::geo_dir();
    if (dir.empty() || !std::filesystem::exists(dir + "/GeoIP2-City-Test.mmdb")) {
        std::printf(
            "SKIP: MaxMind test databases not found (../shared/geo beside the checkout, or set "
            "DNSD_GEO_TEST_DIR)\n");
        return 77;
    }
    return Catch::Session().run(argc, argv);
}
