#include <sys/stat.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/messages.hpp"
#include "tests/temp_dir.hpp"

#include "dnsd/config/config.hpp"

using namespace dnsd;
using namespace dnsd::config;

namespace {

std::string write(const test::TempDir& dir, const char* name, const std::string& text, mode_t mode) {
    const auto path = dir / name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
}

const std::string kZone = "[[zone]]\norigin = \"example.test.\"\nfile = \"example.test.zone\"\n";

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

}  // namespace

TEST_CASE("config tsig: secret files as tsig-keygen, ldns-keygen and operators write them") {
    // "secret-of-16byte" in base64.
    const auto bare = parse_tsig_secret("c2VjcmV0LW9mLTE2Ynl0ZQ==\n");
    CHECK(bare.error.empty());
    CHECK(bare.secret == bytes("secret-of-16byte"));
    CHECK(bare.algorithm.empty());
    const auto bind = parse_tsig_secret(
        "key \"xfr\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0LW9mLTE2Ynl0ZQ==\";\n};\n");
    CHECK(bind.error.empty());
    CHECK(bind.secret == bytes("secret-of-16byte"));
    CHECK(bind.algorithm == "hmac-sha256");
    const auto ldns = parse_tsig_secret(
        "Private-key-format: v1.2\nAlgorithm: 159 (HMAC_SHA256)\nKey: c2VjcmV0LW9mLTE2Ynl0ZQ==\n");
    CHECK(ldns.error.empty());
    CHECK(ldns.secret == bytes("secret-of-16byte"));
    // Padding, and a base64 split by blanks.
    CHECK(parse_tsig_secret("YWI=").secret == bytes("ab"));
    CHECK(parse_tsig_secret("YWJj ZGVm").secret == bytes("abcdef"));
    CHECK_FALSE(parse_tsig_secret("not base64!").error.empty());
    CHECK_FALSE(parse_tsig_secret("YW=I").error.empty());
    CHECK_FALSE(parse_tsig_secret("").error.empty());
    CHECK_FALSE(parse_tsig_secret("key \"x\" { algorithm hmac-sha256; };").error.empty());
}

TEST_CASE("config tsig: keys, transfer_key and their errors") {
    test::TempDir dir("dnsd-tsig-config");
    const auto good = write(dir, "xfr.tsig", "c2VjcmV0LW9mLTE2Ynl0ZQ==\n", 0600);
    const auto path = dir / "dnsd.toml";
    Diagnostics diags;
    auto c = read_config_text(
        "[server]\ntransfer_key = \"xfr\"\n"
        "[tsig.xfr]\nalgorithm = \"hmac-sha384\"\nsecret_file = \"xfr.tsig\"\n" +
            kZone,
        path, diags);
    INFO(test::messages(diags).size());
    REQUIRE_FALSE(diags.has_errors());
    REQUIRE(c.tsig.size() == 1);
    CHECK(c.tsig[0].name == "xfr");
    CHECK(c.tsig[0].wire == std::string("\3xfr\0", 5));
    CHECK(c.tsig[0].algorithm == TsigKey::Algorithm::hmac_sha384);
    CHECK(c.tsig[0].secret_file == good);
    CHECK(c.tsig[0].secret == bytes("secret-of-16byte"));
    CHECK(c.server.transfer_key == "xfr");

    write(dir, "loose.tsig", "c2VjcmV0LW9mLTE2Ynl0ZQ==\n", 0644);
    write(dir, "bind512.tsig", "key \"x\" { algorithm hmac-sha512; secret \"c2VjcmV0LW9mLTE2Ynl0ZQ==\"; };\n",
          0640);
    write(dir, "junk.tsig", "hello, world\n", 0600);
    Diagnostics bad;
    read_config_text(
        "[server]\ntransfer_key = \"nope\"\n"
        "[tsig.loose]\nsecret_file = \"loose.tsig\"\n"
        "[tsig.mismatch]\nsecret_file = \"bind512.tsig\"\n"
        "[tsig.junk]\nsecret_file = \"junk.tsig\"\n"
        "[tsig.missing]\nsecret_file = \"missing.tsig\"\n"
        "[tsig.noalg]\nalgorithm = \"hmac-md5\"\nsecret_file = \"xfr.tsig\"\n"
        "[tsig.nofile]\n" +
            kZone,
        path, bad);
    const auto got = test::messages(bad);
    const auto p = path + ":";
    const std::vector<std::string> want{
        p + "2: server.transfer_key: no TSIG key named 'nope' ([tsig.nope])",
        p + "8: tsig.junk.secret_file: " + (dir / "junk.tsig") +
            ": expected the base64 secret, a BIND key block (key \"NAME\" { algorithm ...; secret \"...\"; "
            "};) "
            "or a private key file's Key: line",
        p + "4: tsig.loose.secret_file: " + (dir / "loose.tsig") +
            " is readable by everyone (mode 0644): a TSIG secret must not be; chmod o-rwx " +
            (dir / "loose.tsig"),
        p + "6: tsig.mismatch.secret_file: " + (dir / "bind512.tsig") +
            " is a key for hmac-sha512, but tsig.mismatch.algorithm is hmac-sha256",
        p + "10: tsig.missing.secret_file: cannot read " + (dir / "missing.tsig"),
        p + "14: tsig.nofile.secret_file: expected the file holding the key's base64 secret",
        p + "12: tsig.noalg.algorithm: 'hmac-md5' is not a TSIG algorithm (hmac-sha256, hmac-sha384 or "
            "hmac-sha512)",
    };
    for (const auto& w : want) {
        INFO(w);
        CHECK(std::find(got.begin(), got.end(), w) != got.end());
    }
    for (const auto& g : got) INFO(g);
    CHECK(got.size() == want.size());
}
