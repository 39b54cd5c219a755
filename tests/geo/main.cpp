// geo_tests needs the geo test databases that the ctest fixture geo_data
// builds from tests/geo/data/networks.json (see geo_data.hpp). Without them
// the run fails: a checkout that cannot build them must not pass quietly.
// The [maxmind] cases need MaxMind's test databases too, an optional second
// source; without them they are left out, and the run says so.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "tests/geo/geo_data.hpp"

int main(int argc, char* argv[]) {
    if (const std::string missing = dnsd::test::missing_geo_data(); !missing.empty()) {
        std::printf("FAIL: %s\n", missing.c_str());
        return 1;
    }
    Catch::Session session;
    if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
    if (dnsd::test::maxmind_test_dir().empty() && session.configData().testsOrTags.empty()) {
        std::printf(
            "note: MaxMind's test databases not found (set DNSD_MAXMIND_TEST_DIR): the [maxmind] cases are "
            "left out\n");
        session.configData().testsOrTags.push_back("~[maxmind]");
    }
    return session.run();
}
