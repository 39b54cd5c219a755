#pragma once
/// Messages dnsd sends as a client (NOTIFY to secondaries, DNS probes), and
/// the names of rcodes, written once.
///
/// noexcept, no allocation; any thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace dnsd::wire {

/// A message with one question and no other records into `out`: `flags`
/// is the header's second word (opcode, AA, RD). Returns its size, or 0
/// when `qname` (wire format) is not a name or `out` is too small.
std::size_t build_question(std::span<std::uint8_t> out, std::uint16_t id, std::uint16_t flags,
                           std::string_view qname, std::uint16_t qtype, std::uint16_t qclass) noexcept;

/// The header of a reply, as a client checks it.
struct ReplyHeader {
    std::uint16_t id = 0;
    std::uint8_t opcode = 0;
    std::uint8_t rcode = 0;  ///< the header's 4 bits
};

/// The header of `message` when it is a response (QR set); nothing for a
/// query or a message shorter than a header.
std::optional<ReplyHeader> reply_header(std::span<const std::uint8_t> message) noexcept;

/// "NOERROR", "FORMERR", ... for the rcodes of RFC 1035 and RFC 2136 (0 to
/// 10); null for the others.
const char* rcode_name(unsigned rcode) noexcept;

/// The rcode named `name` (as rcode_name() prints it), or nothing.
std::optional<unsigned> parse_rcode(std::string_view name) noexcept;

}  // namespace dnsd::wire
