#pragma once
/// TSIG (RFC 8945): reading a message's TSIG record, checking a request's
/// key, MAC and time, and signing what dnsd sends (replies, each message of
/// a transfer, NOTIFY).
///
/// The record layout and the MAC input (RFC 8945 4.3) are written here; the
/// HMAC itself is OpenSSL's (EVP_MAC) and MACs are compared with
/// CRYPTO_memcmp. ldns_pkt_tsig_sign/verify do not fit: they work on
/// ldns_pkt objects (a parse and a re-encode of every message, which gives
/// neither our bytes nor our compression back, and allocates per record),
/// and ldns_pkt_tsig_verify_next only verifies. Keys come from the
/// configuration (config::TsigKey).
///
/// noexcept, and nothing allocated here (OpenSSL allocates its HMAC
/// context); any thread.

#include <cstddef>
#include <cstdint>
#include <span>

#include "dnsd/config/config.hpp"
#include "dnsd/core/name.hpp"

namespace dnsd::query {

inline constexpr std::size_t kMaxMac = 64;        ///< HMAC-SHA512
inline constexpr std::uint16_t kTsigFudge = 300;  ///< seconds, RFC 8945 10

/// TSIG errors (RFC 8945 3), in the TSIG record's Error field.
namespace tsig_error {
inline constexpr std::uint16_t BADSIG = 16, BADKEY = 17, BADTIME = 18, BADTRUNC = 22;
}

/// A TSIG record as found in a message. The spans point into the message.
/// No member has a default value: read_tsig sets them all, and a reply's
/// state (answer.cpp) holds one for every query without paying to clear it.
struct TsigRecord {
    std::size_t start;                  ///< the record's offset: the message it signs ends there
    std::uint8_t name[kMaxNameLength];  ///< the key's name, lower-case, uncompressed
    std::size_t name_size;
    std::uint8_t algorithm[kMaxNameLength];  ///< lower-case
    std::size_t algorithm_size;
    std::uint64_t time_signed;  ///< 48 bits, seconds since the epoch
    std::uint16_t fudge;
    std::span<const std::uint8_t> mac;
    std::uint16_t original_id;
    std::uint16_t error;
    std::span<const std::uint8_t> other;
};

/// Reads the TSIG record at `start`, which must end the message. false when
/// it is malformed (the request is then answered FORMERR). Every member of
/// `r` is set either way.
bool read_tsig(std::span<const std::uint8_t> message, std::size_t start, TsigRecord& r) noexcept;

/// What checking a request's TSIG found, in the order of RFC 8945 5.2.
enum class TsigCheck : std::uint8_t {
    ok,
    formerr,   ///< a MAC size out of range (5.2.2.1)
    badkey,    ///< no key of that name and algorithm (5.2.1)
    badsig,    ///< the MAC is wrong (5.2.2)
    badtrunc,  ///< a right but truncated MAC: we want it whole (5.2.2.1)
    badtime,   ///< signed too long before or after `now`, beyond its fudge (5.2.3)
};

/// Why a request's TSIG was not good enough, for the server's log.
enum class TsigFault : std::uint8_t {
    none,
    missing,    ///< a transfer without the transfer key's TSIG
    other_key,  ///< a transfer signed with another key than the transfer key
    malformed,  ///< FORMERR
    badkey,
    badsig,
    badtrunc,
    badtime,
};
/// "missing", "BADKEY", ...: what a log line says.
const char* to_string(TsigFault fault) noexcept;

/// Checks the TSIG record `r` of the request `message`. `key` receives the
/// key of that name and algorithm among `keys` (null when none).
TsigCheck check_tsig(std::span<const std::uint8_t> message, const TsigRecord& r,
                     std::span<const config::TsigKey> keys, std::uint64_t now,
                     const config::TsigKey*& key) noexcept;

/// Whether `r`'s MAC is that of `message` signed with `key`, after `prior`
/// (the request's MAC, for a reply; the previous message's, for a later
/// message of a transfer), over the timers only when `timers_only` (RFC
/// 8945 5.3.1). The MAC must be whole.
bool tsig_mac_ok(std::span<const std::uint8_t> message, const TsigRecord& r, const config::TsigKey& key,
                 std::span<const std::uint8_t> prior, bool timers_only) noexcept;

/// How to sign a message dnsd sends.
struct TsigSigning {
    /// Null: an unsigned error reply (MAC size 0, RFC 8945 5.3.2), named
    /// with `name` and `algorithm`.
    const config::TsigKey* key = nullptr;
    std::span<const std::uint8_t> name;       ///< wire; empty: the key's
    std::span<const std::uint8_t> algorithm;  ///< wire; empty: the key's
    /// The request's MAC (a reply) or the previous message's (5.3.1);
    /// empty for a request.
    std::span<const std::uint8_t> prior;
    bool timers_only = false;  ///< a later message of a transfer: the MAC covers only time and fudge
    std::uint64_t time_signed = 0;
    std::uint16_t error = 0;
    std::span<const std::uint8_t> other;  ///< BADTIME: the server's time
};

/// The bytes a TSIG record signed with `key` takes, with `other` bytes of
/// other data: what a reply keeps free for it.
std::size_t tsig_size(const config::TsigKey& key, std::size_t other = 0) noexcept;

/// Appends a TSIG record to the message in buffer[0, size) (its header
/// with the ID as sent and an ARCOUNT without the TSIG) and counts it in
/// ARCOUNT. Returns the new size, or 0 when it does not fit or the MAC
/// cannot be computed (the message is then as it was). `mac` (kMaxMac
/// bytes) receives the MAC and `mac_size` its size (0 when unsigned).
std::size_t append_tsig(std::span<std::uint8_t> buffer, std::size_t size, const TsigSigning& s,
                        std::uint8_t* mac, std::size_t& mac_size) noexcept;

/// The current time in seconds since the epoch, as TSIG counts it.
std::uint64_t tsig_now() noexcept;

/// Signs the messages of one multi-message reply in turn (RFC 8945 5.3.1):
/// the first after the request's MAC with all the variables, each later one
/// after the MAC of the one before, with the timers only. Keeps a
/// reference to the key: the caller keeps it (its View) alive.
class TsigChain {
public:
    TsigChain(const config::TsigKey& key, std::span<const std::uint8_t> request_mac) noexcept;
    /// Bytes to keep free at the end of each message.
    std::size_t reserve() const noexcept { return tsig_size(key_); }
    /// append_tsig() for the next message.
    std::size_t sign(std::span<std::uint8_t> buffer, std::size_t size, std::uint64_t now) noexcept;

private:
    const config::TsigKey& key_;
    std::uint8_t prior_[kMaxMac];
    std::size_t prior_size_ = 0;
    bool first_ = true;
};

}  // namespace dnsd::query
