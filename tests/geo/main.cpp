// geo_tests needs MaxMind's test databases (../shared/geo beside the
// checkout, or DNSD_GEO_TEST_DIR). Without them the whole binary reports
// "skipped" (exit 77, which ctest shows as Skipped), never a silent pass.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

int main(int argc, char* argv[]) {
    const char* env = std::getenv("DNSD_GEO_TEST_DIR");
    const std::string dir = env ? env : std::string(DNSD_SOURCE_DIR) + "/../shared/geo";
    if (!std::filesystem::exists(dir + "/GeoIP2-City-Test.mmdb")) {
        std::printf("SKIP: MaxMind test databases not found in %s (set DNSD_GEO_TEST_DIR)\n", dir.c_str());
        return 77;
    }
    return Catch::Session().run(argc, argv);
}
