#include <catch2/catch.hpp>

#include <array>

#include "dnsd/core/name.hpp"
#include "dnsd/wire/writer.hpp"

using namespace dnsd;
using dnsd::wire::Writer;

namespace {
std::string wire_of(const char* text) {
    return *name_from_text(text);
}
bool put(Writer& w, const std::string& n) {
    return w.put_name(reinterpret_cast<const std::uint8_t*>(n.data()), n.size());
}
std::string written(std::array<std::uint8_t, 512>& buf, const Writer& w, std::size_t from) {
    return std::string(reinterpret_cast<const char*>(buf.data() + from), w.size() - from);
}
}  // namespace

TEST_CASE("names are compressed against earlier names, case-insensitively") {
    std::array<std::uint8_t, 512> buf{};
    Writer w(buf);
    std::array<std::uint8_t, 12> header{};
    REQUIRE(w.put_bytes(header.data(), header.size()));
    REQUIRE(put(w, wire_of("www.Example.com.")));
    CHECK(w.size() == 12 + 17);

    SECTION("the same name becomes one pointer") {
        const auto at = w.size();
        REQUIRE(put(w, wire_of("WWW.example.COM.")));
        CHECK(written(buf, w, at) == std::string("\xC0\x0C", 2));
    }
    SECTION("a sibling shares the parent") {
        const auto at = w.size();
        REQUIRE(put(w, wire_of("mail.example.com.")));
        CHECK(written(buf, w, at) == std::string("\x04mail\xC0\x10", 7));
        // and the new name is itself a target now
        const auto at2 = w.size();
        REQUIRE(put(w, wire_of("x.mail.example.com.")));
        CHECK(written(buf, w, at2) == std::string("\x01x\xC0", 3) + std::string(1, static_cast<char>(at)));
    }
    SECTION("no false match on a partial label") {
        const auto at = w.size();
        REQUIRE(put(w, wire_of("ample.com.")));
        CHECK(written(buf, w, at) == std::string("\x05"
                                                 "ample\xC0\x18",
                                                 8));
    }
    SECTION("the root is a single zero byte") {
        const auto at = w.size();
        REQUIRE(put(w, std::string(1, '\0')));
        CHECK(written(buf, w, at) == std::string(1, '\0'));
    }
    SECTION("compression can be turned off") {
        const auto at = w.size();
        const auto n = wire_of("www.example.com.");
        REQUIRE(w.put_name(reinterpret_cast<const std::uint8_t*>(n.data()), n.size(), false));
        CHECK(written(buf, w, at) == n);
    }
}

TEST_CASE("writes past the limit fail without writing and rollback forgets names") {
    std::array<std::uint8_t, 512> buf{};
    Writer w(buf);
    w.set_limit(40);
    std::array<std::uint8_t, 12> header{};
    REQUIRE(w.put_bytes(header.data(), header.size()));
    const auto m = w.mark();
    REQUIRE(put(w, wire_of("www.example.com.")));
    CHECK_FALSE(w.put_bytes(header.data(), 12));  // 29 + 12 > 40
    CHECK(w.size() == 29);
    CHECK_FALSE(put(w, wire_of("a.very.long.name.that.does.not.fit.")));
    CHECK(w.size() == 29);
    w.rollback(m);
    CHECK(w.size() == 12);
    // the rolled-back name must not be used as a compression target
    REQUIRE(put(w, wire_of("example.com.")));
    CHECK(written(buf, w, 12) == wire_of("example.com."));
    CHECK(w.put16(1));
    w.patch16(12, 0xABCD);
    CHECK(buf[12] == 0xAB);
}
