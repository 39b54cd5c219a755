#pragma once
/// The rdata of the common record types in their plain text forms, encoded
/// here rather than by ldns.
///
/// ldns gives the same bytes, but only after reading the entry's text again
/// and allocating a record, which made it most of the time of loading a
/// million records. Only forms that ldns reads the same way are taken: A and
/// AAAA addresses as `inet_pton` reads them, NS/CNAME/PTR/MX targets of
/// letters, digits, '-', '_', '*' and dots, TXT strings of printable
/// characters without escapes. Anything else (other types, escapes, RFC 3597
/// form, a bad address, an error to word) is declined and goes to ldns. The
/// zone fuzzer reads every input both ways and requires the same result;
/// tests/zones/ldns_diff_test.cpp holds both to ldns's own zone reader.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dnsd::zones {

class PlainRdata {
public:
    /// Encodes the rdata `tokens` of `type` (its mnemonic as written) with
    /// names relative to `origin` (wire form); false when the type or the
    /// form is not one taken here. Then type() and rdata() hold the record.
    bool parse(std::string_view type, std::span<const std::string_view> tokens, const std::string& origin);

    std::uint16_t type() const noexcept { return type_; }
    std::string_view rdata() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }

private:
    bool put(const void* p, std::size_t n);
    bool put_name(std::string_view token, const std::string& origin);

    std::uint8_t data_[512];
    std::size_t size_ = 0;
    std::uint16_t type_ = 0;
};

}  // namespace dnsd::zones
