#pragma once
// Test helper: a temporary directory, removed with everything in it.

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <string_view>

namespace dnsd::test {

struct TempDir {
    std::filesystem::path path;
    /// A new directory named `prefix`-XXXXXX in the system's temporary directory.
    explicit TempDir(const std::string& prefix) {
        std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        REQUIRE(::mkdtemp(pattern.data()));
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(std::string_view name) const { return (path / name).string(); }
};

}  // namespace dnsd::test
