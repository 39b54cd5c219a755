#pragma once
// Test helper: key pairs made by the real tools (BIND's dnssec-keygen from
// bind9-utils, ldns-keygen from ldnsutils) into a test's directory, and
// their other outputs (dnssec-dsfromkey).

#include <stdio.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <string>

#include "tests/temp_dir.hpp"

namespace dnsd::test {

struct Command {
    int status = -1;  ///< the exit status; -1 when it did not run or end normally
    std::string output;
};

/// Runs `command` with sh; its standard output (standard error too when
/// the command says 2>&1).
inline Command run_command(const std::string& command) {
    Command out;
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.output.append(buf, n);
    const int status = ::pclose(p);
    out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

inline bool have_command(const std::string& name) {
    return run_command("command -v " + name + " >/dev/null 2>&1").status == 0;
}

/// The first line of `text`, without its newline.
inline std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

/// dnssec-keygen `args` `zone` run in `dir`: the key's stem,
/// "DIR/K<zone>+<alg>+<tag>". dnssec-keygen is required (tools/deps
/// installs bind9-utils).
inline std::string dnssec_keygen(const TempDir& dir, const std::string& args, const std::string& zone) {
    INFO("dnssec-keygen comes with bind9-utils (tools/deps installs it)");
    REQUIRE(have_command("dnssec-keygen"));
    const auto r =
        run_command("dnssec-keygen -q -K " + dir.path.string() + " " + args + " " + zone + " 2>&1");
    INFO(r.output);
    REQUIRE(r.status == 0);
    return dir / first_line(r.output);
}

/// ldns-keygen `args` `zone` run in `dir`: the key's stem; empty when
/// ldns-keygen is not installed.
inline std::string ldns_keygen(const TempDir& dir, const std::string& args, const std::string& zone) {
    if (!have_command("ldns-keygen")) return {};
    const auto r = run_command("cd " + dir.path.string() + " && ldns-keygen " + args + " " + zone + " 2>&1");
    INFO(r.output);
    REQUIRE(r.status == 0);
    return dir / first_line(r.output);
}

}  // namespace dnsd::test
