#include "dnsd/wire/message.hpp"

#include <array>
#include <cstring>

#include "dnsd/wire/types.hpp"

namespace dnsd::wire {

namespace {
constexpr std::array<const char*, 11> kRcodeNames = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                     "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                     "NXRRSET", "NOTAUTH", "NOTZONE"};
}

std::size_t build_question(std::span<std::uint8_t> out, std::uint16_t id, std::uint16_t flags,
                           std::string_view qname, std::uint16_t qtype, std::uint16_t qclass) noexcept {
    // A wire name: labels of 1 to 63 bytes ending in the root label.
    std::size_t i = 0;
    while (i < qname.size() && qname[i] != 0) {
        const auto len = static_cast<std::uint8_t>(qname[i]);
        if (len > 63) return 0;
        i += 1u + len;
    }
    if (i + 1 != qname.size() || qname.size() > 255) return 0;
    const std::size_t size = kHeaderSize + qname.size() + 4;
    if (out.size() < size) return 0;
    std::uint8_t* p = out.data();
    std::memset(p, 0, kHeaderSize);
    put16(p, id);
    put16(p + 2, flags);
    put16(p + 4, 1);  // one question
    std::memcpy(p + kHeaderSize, qname.data(), qname.size());
    put16(p + kHeaderSize + qname.size(), qtype);
    put16(p + kHeaderSize + qname.size() + 2, qclass);
    return size;
}

std::optional<ReplyHeader> reply_header(std::span<const std::uint8_t> message) noexcept {
    if (message.size() < kHeaderSize || !(message[2] & 0x80)) return std::nullopt;
    return ReplyHeader{get16(message.data()), static_cast<std::uint8_t>((message[2] >> 3) & 0xF),
                       static_cast<std::uint8_t>(message[3] & 0xF)};
}

const char* rcode_name(unsigned rcode) noexcept {
    return rcode < kRcodeNames.size() ? kRcodeNames[rcode] : nullptr;
}

std::optional<unsigned> parse_rcode(std::string_view name) noexcept {
    for (unsigned i = 0; i < kRcodeNames.size(); ++i)
        if (name == kRcodeNames[i]) return i;
    return std::nullopt;
}

}  // namespace dnsd::wire
