#pragma once
/// Domain names in uncompressed wire format (length-prefixed labels ending
/// with the root label). Load-time code holds them in std::string; the query
/// path works on byte spans and never allocates.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dnsd {

inline constexpr std::size_t kMaxNameLength = 255;
inline constexpr std::size_t kMaxLabelLength = 63;

/// ASCII-only lower-casing, as DNS name comparison requires (RFC 4343).
constexpr std::uint8_t lower(std::uint8_t c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + 32) : c;
}

/// lower() on the 8 bytes of a word at once (the query parser lower-cases
/// every question name: a byte at a time cost it about 80 instructions per
/// query). Adds 0x20 to the bytes in 'A'..'Z' and to no other: each byte's
/// low 7 bits plus a constant carry into its top bit exactly when the byte
/// is >= 'A' (or > 'Z'), and never into the next byte.
constexpr std::uint64_t lower8(std::uint64_t x) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    const std::uint64_t low7 = x & (0x7F * ones);
    const std::uint64_t ge_a = low7 + (0x80 - 'A') * ones;
    const std::uint64_t gt_z = low7 + (0x7F - 'Z') * ones;
    const std::uint64_t upper = ge_a & ~gt_z & ~x & (0x80 * ones);
    return x | (upper >> 2);
}

/// Presentation text ("www.example.com." or relative to origin when the text
/// lacks the final dot and origin is given; "@" is the origin) to wire.
/// Understands \DDD and \X escapes. nullopt on syntax or length errors.
std::optional<std::string> name_from_text(std::string_view text, std::string_view origin_wire = {});

/// name_from_text into `out`, without allocating (the zone reader parses
/// a name per record): the size written, 0 on syntax or length errors.
std::size_t name_from_text(std::string_view text, std::string_view origin_wire,
                           std::uint8_t (&out)[kMaxNameLength]) noexcept;

/// Wire to presentation text, always absolute ("." for the root); bytes
/// outside the printable set and the special characters are escaped.
std::string name_to_text(std::string_view wire);

/// Lower-cased copy of a wire name.
std::string name_lower(std::string_view wire);

/// Number of labels, not counting the root label.
unsigned name_label_count(std::string_view wire) noexcept;

/// True when `name` equals `ancestor` or lies below it (case-insensitive).
bool name_is_subdomain(std::string_view name, std::string_view ancestor) noexcept;

}  // namespace dnsd
