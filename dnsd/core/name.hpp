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

/// Presentation text ("www.example.com." or relative to origin when the text
/// lacks the final dot and origin is given; "@" is the origin) to wire.
/// Understands \DDD and \X escapes. nullopt on syntax or length errors.
std::optional<std::string> name_from_text(std::string_view text, std::string_view origin_wire = {});

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
