#include "dnsd/dnssec/ds.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "dnsd/core/name.hpp"
#include "tests/dnssec/keygen.hpp"
#include "tests/messages.hpp"

using namespace dnsd;
using namespace dnsd::dnssec;

namespace {

/// `text` with its first field (the owner) lower-cased and the last (the
/// digest) upper-cased, and the fields joined by single blanks.
std::string normalized(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> fields;
    for (std::string f; in >> f;) fields.push_back(f);
    REQUIRE(fields.size() >= 2);
    for (char& c : fields.front()) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : fields.back()) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string out;
    for (const auto& f : fields) out += (out.empty() ? "" : " ") + f;
    return out;
}

Key read(const std::string& stem) {
    Diagnostics diags;
    auto key = read_key(stem, diags);
    INFO(Catch::Detail::stringify(test::messages(diags)));
    REQUIRE(key);
    return std::move(*key);
}

}  // namespace

TEST_CASE("dnssec ds: the DS of a KSK is what dnssec-dsfromkey -2 prints") {
    test::TempDir dir("dnsd-dnssec-ds");
    for (const char* args : {"-a ECDSAP256SHA256 -f KSK", "-a ED25519 -f KSK", "-a ED25519"}) {
        for (const char* zone : {"example.com", "Mixed.Case.EXAMPLE"}) {
            const auto stem = test::dnssec_keygen(dir, args, zone);
            const Key key = read(stem);
            const auto bind = test::run_command("dnssec-dsfromkey -2 " + stem + ".key 2>&1");
            INFO(bind.output);
            REQUIRE(bind.status == 0);
            const std::string text = ds_text(key);
            CHECK(text == normalized(test::first_line(bind.output)));
            CHECK(text.starts_with(name_to_text(key.zone()) + " IN DS " + std::to_string(key.tag()) + " "));
            const auto rdata = ds_rdata(key);
            REQUIRE(rdata.size() == 36);
            CHECK(rdata[0] == key.tag() >> 8);
            CHECK(rdata[1] == (key.tag() & 0xFF));
            CHECK(rdata[2] == static_cast<std::uint8_t>(key.algorithm()));
            CHECK(rdata[3] == 2);
        }
    }
}

TEST_CASE("dnssec ds: the DS of an ldns-keygen KSK is the one in its .ds file") {
    test::TempDir dir("dnsd-dnssec-ds-ldns");
    for (const char* args : {"-a ECDSAP256SHA256 -k", "-a ED25519 -k"}) {
        const auto stem = test::ldns_keygen(dir, args, "example.org");
        if (stem.empty()) {
            WARN("ldns-keygen is not installed (ldnsutils): its keys are not tried");
            return;
        }
        std::ifstream in(stem + ".ds");
        std::string line;
        REQUIRE(std::getline(in, line));
        CHECK(ds_text(read(stem)) == normalized(line));
    }
}
