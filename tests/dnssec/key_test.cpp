#include "dnsd/dnssec/key.hpp"

#include <ldns/ldns.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "dnsd/core/name.hpp"
#include "tests/dnssec/keygen.hpp"
#include "tests/messages.hpp"

using namespace dnsd;
using namespace dnsd::dnssec;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void spit(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
}

/// The DNSKEY rdata of a .key file as ldns reads it (an independent reader).
std::vector<std::uint8_t> ldns_dnskey_rdata(const std::string& key_file) {
    ldns_rr* rr = ldns_read_anchor_file(key_file.c_str());
    REQUIRE(rr);
    REQUIRE(ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY);
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
        const ldns_rdf* f = ldns_rr_rdf(rr, i);
        out.insert(out.end(), ldns_rdf_data(f), ldns_rdf_data(f) + ldns_rdf_size(f));
    }
    ldns_rr_free(rr);
    return out;
}

/// The tag in a stem's file name: K<zone>+<alg>+<tag>.
unsigned tag_of(const std::string& stem) {
    return static_cast<unsigned>(std::stoul(stem.substr(stem.rfind('+') + 1)));
}

std::int64_t utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
    using namespace std::chrono;
    return sys_days(year_month_day{year{y}, month{m}, day{d}}).time_since_epoch().count() *
               std::int64_t{86400} +
           hh * 3600 + mm * 60 + ss;
}

/// The only message of `diags`, or a failure listing them all.
std::string only_message(const Diagnostics& diags) {
    const auto all = test::messages(diags);
    INFO(Catch::Detail::stringify(all));
    REQUIRE(all.size() == 1);
    return all.front();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("dnssec key: dnssec-keygen's keys, both algorithms, ZSK and KSK, with their timing") {
    test::TempDir dir("dnsd-dnssec-keys");
    const auto zsk = test::dnssec_keygen(dir, "-a ECDSAP256SHA256", "example.com");
    const auto ksk = test::dnssec_keygen(
        dir,
        "-a ED25519 -f KSK -L 3600 -P 20300101000000 -A 20300102030405 -I 20300201000000 -D 20300301000000",
        "Example.COM");

    Diagnostics diags;
    const auto z = read_key(zsk + ".key", diags);
    const auto k = read_key(ksk, diags);  // the stem, without a suffix
    INFO(Catch::Detail::stringify(test::messages(diags)));
    REQUIRE(diags.size() == 0);
    REQUIRE(z);
    REQUIRE(k);

    CHECK(z->zone() == std::string("\7example\3com\0", 13));
    CHECK(k->zone() == z->zone());  // lower-cased
    CHECK(z->algorithm() == Algorithm::ecdsa_p256_sha256);
    CHECK(k->algorithm() == Algorithm::ed25519);
    CHECK(z->flags() == 256);
    CHECK(k->flags() == 257);
    CHECK_FALSE(z->ksk());
    CHECK(k->ksk());
    CHECK(z->tag() == tag_of(zsk));
    CHECK(k->tag() == tag_of(ksk));
    CHECK(key_tag(z->dnskey_rdata()) == z->tag());
    CHECK(z->public_key().size() == 64);
    CHECK(k->public_key().size() == 32);
    const auto zr = z->dnskey_rdata(), kr = k->dnskey_rdata();
    CHECK(std::vector<std::uint8_t>(zr.begin(), zr.end()) == ldns_dnskey_rdata(zsk + ".key"));
    CHECK(std::vector<std::uint8_t>(kr.begin(), kr.end()) == ldns_dnskey_rdata(ksk + ".key"));
    CHECK_FALSE(z->ttl());
    CHECK(k->ttl() == 3600u);
    CHECK(z->key_file() == zsk + ".key");
    CHECK(z->private_file() == zsk + ".private");
    CHECK(z->pkey() != nullptr);

    // dnssec-keygen sets Created, Publish and Activate to now by default.
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    REQUIRE(z->timing().created);
    CHECK(std::abs(*z->timing().created - now) < 60);
    CHECK(z->timing().publish == z->timing().created);
    CHECK(z->timing().activate == z->timing().created);
    CHECK_FALSE(z->timing().inactive);
    CHECK_FALSE(z->timing().deletion);
    CHECK(z->timing().active(now + 10));

    const Timing& t = k->timing();
    CHECK(t.publish == utc(2030, 1, 1));
    CHECK(t.activate == utc(2030, 1, 2, 3, 4, 5));
    CHECK(t.inactive == utc(2030, 2, 1));
    CHECK(t.deletion == utc(2030, 3, 1));
    CHECK_FALSE(t.published(utc(2029, 12, 31, 23, 59, 59)));
    CHECK(t.published(utc(2030, 1, 1)));
    CHECK_FALSE(t.active(utc(2030, 1, 2)));
    CHECK(t.active(utc(2030, 1, 2, 3, 4, 5)));
    CHECK_FALSE(t.active(utc(2030, 2, 1)));
    CHECK(t.published(utc(2030, 2, 15)));
    CHECK_FALSE(t.published(utc(2030, 3, 1)));
}

TEST_CASE("dnssec key: timing only in the .key comments counts; the .private's wins") {
    test::TempDir dir("dnsd-dnssec-timing");
    const auto stem = test::dnssec_keygen(dir, "-a ECDSAP256SHA256 -I 20310101000000", "example.net");
    // Drop Inactive from .private: the .key's comment still says it.
    std::string secret = slurp(stem + ".private");
    const auto at = secret.find("Inactive:");
    REQUIRE(at != std::string::npos);
    secret.erase(at, secret.find('\n', at) + 1 - at);
    spit(stem + ".private", secret);
    // And a .private Publish that differs from the comment: it wins.
    spit(stem + ".private", slurp(stem + ".private") + "Publish: 20300601000000\n");
    Diagnostics diags;
    const auto key = read_key(stem, diags);
    INFO(Catch::Detail::stringify(test::messages(diags)));
    REQUIRE(key);
    CHECK(key->timing().inactive == utc(2031, 1, 1));
    CHECK(key->timing().publish == utc(2030, 6, 1));
}

TEST_CASE("dnssec key: ldns-keygen's keys (no timing: always published and active)") {
    test::TempDir dir("dnsd-dnssec-ldns");
    const auto zsk = test::ldns_keygen(dir, "-a ECDSAP256SHA256", "example.org");
    if (zsk.empty()) {
        WARN("ldns-keygen is not installed (ldnsutils): its keys are not tried");
        return;
    }
    const auto ksk = test::ldns_keygen(dir, "-a ED25519 -k", "example.org");
    Diagnostics diags;
    const auto keys = read_keys(dir.path.string(), std::string("\7EXAMPLE\3org\0", 13), diags);
    INFO(Catch::Detail::stringify(test::messages(diags)));
    CHECK(diags.size() == 0);
    REQUIRE(keys.size() == 2);
    for (const Key& key : keys) {
        const std::string stem = key.key_file().substr(0, key.key_file().size() - 4);
        CHECK(key.tag() == tag_of(stem));
        const auto rdata = key.dnskey_rdata();
        CHECK(std::vector<std::uint8_t>(rdata.begin(), rdata.end()) == ldns_dnskey_rdata(key.key_file()));
        CHECK_FALSE(key.timing().created);
        CHECK(key.timing().published(0));
        CHECK(key.timing().active(0));
        CHECK(key.timing().active(std::numeric_limits<std::int64_t>::max()));
        CHECK(key.ksk() == (stem == ksk));
        CHECK(key.algorithm() == (stem == ksk ? Algorithm::ed25519 : Algorithm::ecdsa_p256_sha256));
    }
}

TEST_CASE("dnssec key: read_keys finds a zone's pairs and names what is missing") {
    test::TempDir dir("dnsd-dnssec-dir");
    const auto a = test::dnssec_keygen(dir, "-a ECDSAP256SHA256", "example.com");
    const auto b = test::dnssec_keygen(dir, "-a ED25519 -f KSK", "example.com");
    test::dnssec_keygen(dir, "-a ED25519", "other.example.com");  // another zone: not ours
    test::dnssec_keygen(dir, "-a ED25519", "com");                // nor this one
    spit(dir / "README", "not a key\n");

    Diagnostics diags;
    auto keys = read_keys(dir.path.string(), std::string("\7example\3com\0", 13), diags);
    INFO(Catch::Detail::stringify(test::messages(diags)));
    CHECK(diags.size() == 0);
    REQUIRE(keys.size() == 2);
    CHECK(keys[0].key_file() < keys[1].key_file());  // in file name order
    std::set<unsigned> tags{keys[0].tag(), keys[1].tag()};
    CHECK(tags == std::set<unsigned>{tag_of(a), tag_of(b)});

    // A .key without its .private, and a .private without its .key.
    std::filesystem::remove(a + ".private");
    std::filesystem::remove(b + ".key");
    Diagnostics missing;
    keys = read_keys(dir.path.string(), std::string("\7example\3com\0", 13), missing);
    CHECK(keys.empty());
    const auto all = test::messages(missing);
    REQUIRE(all.size() == 2);
    CHECK(all[0] == a + ".private: cannot read: no such file (the private half of " + a + ".key)");
    CHECK(all[1] == b + ".key: cannot read: no such file (the public half of " + b + ".private)");

    Diagnostics none;
    CHECK(read_keys(dir.path.string(), std::string("\7example\3net\0", 13), none).empty());
    CHECK(only_message(none) == dir.path.string() +
                                    ": no key of example.net. here (Kexample.net.+<algorithm>+<tag>.key and "
                                    ".private, as dnssec-keygen or ldns-keygen write them)");

    Diagnostics nodir;
    CHECK(read_keys(dir / "nope", std::string("\7example\3net\0", 13), nodir).empty());
    CHECK(contains(only_message(nodir), dir / "nope" + ": cannot read the key directory: "));

    // read_key on a missing .private.
    Diagnostics one;
    CHECK_FALSE(read_key(a, one));
    CHECK(only_message(one) == a + ".private: cannot read: no such file");
}

TEST_CASE("dnssec key: a private key others may read is refused") {
    test::TempDir dir("dnsd-dnssec-mode");
    const auto stem = test::dnssec_keygen(dir, "-a ECDSAP256SHA256", "example.com");
    const std::string file = stem + ".private";

    ::chmod(file.c_str(), 0640);
    Diagnostics group;
    CHECK_FALSE(read_key(stem, group));
    CHECK(only_message(group) ==
          file + ": readable by its group (mode 0640): a private key must not be; chmod go-rwx " + file);
    Diagnostics allowed;
    CHECK(read_key(stem, allowed, ReadOptions{.allow_group_read = true}));
    CHECK(allowed.size() == 0);

    ::chmod(file.c_str(), 0604);
    for (const bool allow_group : {false, true}) {
        Diagnostics everyone;
        CHECK_FALSE(read_key(stem, everyone, ReadOptions{.allow_group_read = allow_group}));
        CHECK(only_message(everyone) ==
              file + ": readable by everyone (mode 0604): a private key must not be; chmod " +
                  (allow_group ? "o" : "go") + "-rwx " + file);
    }

    // A symbolic link is not followed (its target's mode is not what we
    // would have checked).
    ::chmod(file.c_str(), 0600);
    std::filesystem::rename(file, dir / "elsewhere");
    std::filesystem::create_symlink(dir / "elsewhere", file);
    Diagnostics link;
    CHECK_FALSE(read_key(stem, link));
    CHECK(only_message(link) == file + ": cannot read: a symbolic link (name the file itself)");
}

TEST_CASE("dnssec key: damaged, foreign and mismatched files are named with their line") {
    test::TempDir dir("dnsd-dnssec-bad");
    const auto stem = test::dnssec_keygen(dir, "-a ECDSAP256SHA256", "example.com");
    const auto other = test::dnssec_keygen(dir, "-a ECDSAP256SHA256", "example.com");
    const std::string key_text = slurp(stem + ".key");
    const std::string private_text = slurp(stem + ".private");
    // dnssec-keygen writes the record after four comment lines.
    const int record_line = 5;
    const std::string record = key_text.substr(key_text.find("example.com. IN DNSKEY"));

    auto read = [&](const std::string& key, const std::string& secret) {
        spit(stem + ".key", key);
        spit(stem + ".private", secret);
        Diagnostics diags;
        const auto k = read_key(stem, diags);
        CHECK_FALSE(k);
        return only_message(diags);
    };
    const std::string kf = stem + ".key:", pf = stem + ".private:";

    SECTION("a truncated public key") {
        // dnssec-keygen ends the record with the key's last base64 group.
        const std::string whole = key_text.substr(0, key_text.size() - 1);  // without the newline
        CHECK(
            read(whole.substr(0, whole.size() - 4) + "\n", private_text) ==
            kf + std::to_string(record_line) +
                ": the public key has 63 bytes; ECDSAP256SHA256 keys have 64 (a truncated or damaged file?)");
        CHECK(read(whole.substr(0, whole.size() - 30) + "\n", private_text) ==
              kf + std::to_string(record_line) + ": the DNSKEY public key is not base64");
    }
    SECTION("a .key without its record") {
        CHECK(read("; nothing here\n", private_text) ==
              stem +
                  ".key: no DNSKEY record: expected `NAME [TTL] [IN] DNSKEY FLAGS 3 ALGORITHM PUBLIC-KEY`");
    }
    SECTION("two records") {
        CHECK(read(record + record, private_text) ==
              kf + "2: a second record: a .key file holds one DNSKEY record (the first is on line 1)");
    }
    SECTION("another type") {
        CHECK(contains(read("example.com. IN DS 1 13 2 AB\n", private_text),
                       kf + "1: expected a DNSKEY record of class IN"));
    }
    SECTION("a key for another zone") {
        CHECK(read("example.net. IN DNSKEY" + record.substr(record.find(" 256")), private_text) ==
              kf + "1: the key is for example.net., but the file is named for example.com.");
    }
    SECTION("protocol and flags") {
        std::string r = record;
        r.replace(r.find(" 256 3 "), 7, " 1 2 ");
        const auto diags_text = [&] {
            spit(stem + ".key", r);
            spit(stem + ".private", private_text);
            Diagnostics diags;
            CHECK_FALSE(read_key(stem, diags));
            return test::messages(diags);
        }();
        REQUIRE(diags_text.size() == 2);
        CHECK(diags_text[0] == kf + "1: the DNSKEY protocol is 2, not 3");
        CHECK(diags_text[1] ==
              kf + "1: the DNSKEY flags 1 lack the zone key bit (256): it cannot sign a zone");
    }
    SECTION("a bad time in a comment") {
        CHECK(read("; Publish: 2030-01-01\n" + record, private_text) ==
              kf + "1: expected a time YYYYMMDDHHMMSS after `Publish:`");
    }
    SECTION("a bad time in .private") {
        CHECK(read(key_text, private_text + "Inactive: 20301301000000\n") ==
              pf + "7: expected a time YYYYMMDDHHMMSS after `Inactive:`");
    }
    SECTION("a truncated private key") {
        std::string cut = private_text;
        const auto at = cut.find("PrivateKey: ") + 12;
        cut.replace(at, 44, "AAAA");
        CHECK(read(key_text, cut) == pf + "3: the private key has 3 bytes; ECDSAP256SHA256 keys have 32 (a "
                                          "truncated or damaged file?)");
    }
    SECTION("not a private key file") {
        CHECK(read(key_text, "hello\n") == pf + "1: expected `Field: value`");
        CHECK(read(key_text, "Algorithm: 13 (ECDSAP256SHA256)\n") ==
              stem + ".private: no `Private-key-format: v1.x` line: not a private key file of BIND or ldns");
        CHECK(read(key_text, "Private-key-format: v2.0\n") == pf + "1: Private-key-format v2.0 is not v1.x");
        CHECK(read(key_text, "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\n") ==
              stem + ".private: no `PrivateKey:` line");
    }
    SECTION("the private half of another key") {
        CHECK(read(key_text, slurp(other + ".private")) ==
              pf + "3: the private key is not the private half of the public key in " + stem + ".key");
    }
    SECTION("a private key of another algorithm") {
        std::string secret = private_text;
        secret.replace(secret.find("13 (ECDSAP256SHA256)"), 20, "15 (ED25519)");
        CHECK(read(key_text, secret) == pf + "2: the private key's algorithm is 15 (ED25519), but the file "
                                             "is named for 13 (ECDSAP256SHA256)");
    }
}

TEST_CASE("dnssec key: algorithms other than 13 and 15, and names that are not the key's") {
    test::TempDir dir("dnsd-dnssec-alg");
    Diagnostics diags;

    const auto rsa = test::dnssec_keygen(dir, "-a RSASHA256 -b 1024", "example.com");
    CHECK_FALSE(read_key(rsa, diags));
    CHECK(only_message(diags) ==
          rsa + ".key:5: algorithm 8 is not supported: dnsd signs with 13 (ECDSAP256SHA256) or 15 (ED25519)");

    // A file renamed: its name no longer says its algorithm, or its tag.
    const auto ec = test::dnssec_keygen(dir, "-a ECDSAP256SHA256", "example.com");
    const unsigned tag = tag_of(ec);
    const std::string zone_part = ec.substr(0, ec.find('+'));
    char renamed[16];
    std::snprintf(renamed, sizeof renamed, "+015+%05u", tag);
    for (const char* suffix : {".key", ".private"})
        std::filesystem::copy_file(ec + suffix, zone_part + renamed + suffix);
    Diagnostics alg;
    CHECK_FALSE(read_key(zone_part + renamed, alg));
    const auto all = test::messages(alg);
    REQUIRE(all.size() == 2);
    CHECK(all[0] ==
          zone_part + renamed +
              ".key:5: the key's algorithm is 13 (ECDSAP256SHA256), but the file is named for 15 (ED25519)");
    CHECK(all[1] ==
          zone_part + renamed +
              ".private:2: the private key's algorithm is 13 (ECDSAP256SHA256), but the file is named for "
              "15 (ED25519)");

    std::snprintf(renamed, sizeof renamed, "+013+%05u", (tag + 1) % 65536);
    for (const char* suffix : {".key", ".private"})
        std::filesystem::copy_file(ec + suffix, zone_part + renamed + suffix);
    Diagnostics wrong_tag;
    CHECK_FALSE(read_key(zone_part + renamed, wrong_tag));
    CHECK(only_message(wrong_tag) == zone_part + renamed + ".key:5: the key's tag is " + std::to_string(tag) +
                                         ", but the file is named for " + std::to_string((tag + 1) % 65536) +
                                         " (a damaged file, or one renamed?)");

    Diagnostics not_key;
    CHECK_FALSE(read_key(dir / "example.com.key", not_key));
    CHECK(only_message(not_key) ==
          dir / "example.com.key" +
              ": not a key file name: expected K<zone>+<algorithm>+<tag>.key (or .private)");
}

TEST_CASE("dnssec key: key tags (RFC 4034 appendix B)") {
    // RFC 4034 5.4's example DNSKEY (dskey.example.com., algorithm 5,
    // tag 60485).
    const char* text =
        "dskey.example.com. 86400 IN DNSKEY 256 3 5 AQOeiiR0GOMYkDshWoSKz9Xz"
        "fwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvx"
        "egXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/r"
        "ljwvFw==";
    ldns_rr* rr = nullptr;
    REQUIRE(ldns_rr_new_frm_str(&rr, text, 0, nullptr, nullptr) == LDNS_STATUS_OK);
    std::vector<std::uint8_t> rdata;
    for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
        const ldns_rdf* f = ldns_rr_rdf(rr, i);
        rdata.insert(rdata.end(), ldns_rdf_data(f), ldns_rdf_data(f) + ldns_rdf_size(f));
    }
    CHECK(key_tag(rdata) == 60485);
    CHECK(key_tag(rdata) == ldns_calc_keytag(rr));
    ldns_rr_free(rr);
}
