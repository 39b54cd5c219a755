#pragma once
// dnsd's own geo test data: tests/geo/data/networks.json, built into mmdb
// files by tests/geo/make_mmdb.pl at test time (the ctest fixture
// `geo_data`) in DNSD_GEO_DATA_DIR, inside the build tree. Two layouts:
// MaxMind City (city.mmdb: one IPv6 tree, coordinates under location.*) and
// DB-IP City Lite (dbip-ipv4.mmdb and dbip-ipv6.mmdb: top-level
// coordinates, given to dnsd as a list of databases).

#include <cstdlib>
#include <filesystem>
#include <string>

#ifndef DNSD_SOURCE_DIR
#define DNSD_SOURCE_DIR "."
#endif
#ifndef DNSD_GEO_DATA_DIR
#error "DNSD_GEO_DATA_DIR: the build tree's folder for the geo test databases (tests/CMakeLists.txt)"
#endif

namespace dnsd::test {

enum class GeoLayout { city, dbip };

inline std::string geo_data_file(const char* name) {
    return std::string(DNSD_GEO_DATA_DIR) + "/" + name;
}

/// The value of `[geo] database` that serves the test data in `layout`.
inline std::string geo_database(GeoLayout layout) {
    switch (layout) {
        case GeoLayout::city:
            return "\"" + geo_data_file("city.mmdb") + "\"";
        case GeoLayout::dbip:
            return "[\"" + geo_data_file("dbip-ipv4.mmdb") + "\", \"" + geo_data_file("dbip-ipv6.mmdb") +
                   "\"]";
    }
    return {};
}

/// Empty when every test database is there; else which is missing and how
/// to make it. A missing file is a failure, never a skip.
inline std::string missing_geo_data() {
    for (const char* name : {"city.mmdb", "dbip-ipv4.mmdb", "dbip-ipv6.mmdb"})
        if (!std::filesystem::exists(geo_data_file(name)))
            return geo_data_file(name) +
                   " is missing: run the tests through ctest (its fixture geo_data builds it), or "
                   "tests/geo/make_mmdb.pl tests/geo/data/networks.json " DNSD_GEO_DATA_DIR
                   " (needs libmaxmind-db-writer-perl, which tools/deps installs)";
    return {};
}

/// MaxMind's own test databases, an optional second source ([maxmind]
/// cases): $DNSD_MAXMIND_TEST_DIR, else ../shared/geo beside the checkout;
/// empty when neither holds GeoIP2-City-Test.mmdb.
inline std::string maxmind_test_dir() {
    std::string dir;
    if (const char* env = std::getenv("DNSD_MAXMIND_TEST_DIR"))
        dir = env;
    else
        dir = std::string(DNSD_SOURCE_DIR) + "/../shared/geo";
    return std::filesystem::exists(dir + "/GeoIP2-City-Test.mmdb") ? dir : std::string();
}

}  // namespace dnsd::test
