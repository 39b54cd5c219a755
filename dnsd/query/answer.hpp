#pragma once
/// The authoritative algorithm: request bytes in, response bytes out.
///
/// answer() is a pure function of the request, the View and the client; it
/// is noexcept, takes no lock, allocates nothing and logs nothing, so every
/// worker thread calls it directly on its own buffers. Transport (sockets,
/// TCP framing, transfer streaming) stays in the server module; transfers
/// are produced by TransferStream (transfer.hpp).
///
/// The steps: parse and gate (opcode, EDNS version, ECS, class), the CH
/// class (chaos.hpp), find the zone, transfers, lookup (here: a named
/// Outcome and a Plan of sections, plan.hpp), encode (encode.hpp).

#include <cstddef>
#include <cstdint>
#include <span>

#include "dnsd/core/address.hpp"
#include "dnsd/query/signatures.hpp"
#include "dnsd/query/tsig.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/steer/decide.hpp"
#include "dnsd/wire/parser.hpp"
#include "health/snapshot.hpp"

namespace dnsd::query {

enum class Transport : std::uint8_t { udp, tcp };

/// Address RRsets (A, AAAA) one reply's additional section holds. A
/// referral must carry all its in-domain glue (RFC 9471), so a zone with a
/// delegation that needs more is refused (load::runtime).
inline constexpr unsigned kMaxAdditional = 40;

/// Who asks, and the per-worker state a steered answer needs.
struct Client {
    Address address;
    Transport transport = Transport::udp;
    /// The current health snapshot; null: every address counts as up.
    const health::Snapshot* health = nullptr;
    /// The worker's random source and rotation counter (weighted policy,
    /// max_answers); null: a fixed one (tests).
    steer::Random* random = nullptr;
    /// The worker's cache of client locations; null: every lookup goes to
    /// the databases.
    geo::Cache* geo_cache = nullptr;
    /// Asked through the control endpoint (which has its own access
    /// control): explain_allow does not apply.
    bool trusted = false;
    /// Seconds since the epoch, for TSIG's time check and DNSSEC
    /// signatures; 0: the clock.
    std::uint64_t now = 0;
    /// The worker's DNSSEC signatures (SPEC 11); null: replies of signed
    /// zones go out unsigned.
    SignatureCache* signatures = nullptr;
};

struct Result {
    /// Bytes of `response` to send; 0 means send nothing (drop).
    std::size_t size = 0;
    /// Set for an allowed AXFR/IXFR over TCP: the caller streams this zone
    /// with a TransferStream instead of sending `response`.
    const zones::Zone* transfer = nullptr;
    /// For counters: the question's type (0 without a question) and the
    /// reply's rcode (NOERROR for a transfer).
    std::uint16_t qtype = 0;
    std::uint8_t rcode = 0;
    /// For View::counters(): the zone answered from (index in zones(), -1
    /// for none), and the service that decided with its decision slot.
    std::int32_t zone = -1;
    std::int32_t service = -1;
    std::uint16_t decision = 0;
    /// For the worker's demand table (steer/demand.hpp), when `service` is
    /// set: the service's demand key and the client's prefix (the ECS
    /// prefix, else the source's /24 or /56) as a demand_word().
    std::uint32_t demand_service = 0;
    std::uint64_t demand_prefix = 0;
    /// The key of the request's good TSIG (RFC 8945): the reply is signed
    /// with it; for a transfer, the caller signs each message (TsigChain).
    const config::TsigKey* tsig = nullptr;
    /// What was wrong with the request's TSIG, or with its absence for a
    /// transfer that needs one (for the server's log).
    TsigFault tsig_fault = TsigFault::none;
    /// For a transfer: an IXFR answered from the zone's journal
    /// (View::journal(zone)) from this Delta on; -1: a full transfer (an
    /// AXFR, or an IXFR from a serial the journal does not reach back to).
    std::int32_t ixfr_from = -1;
};

/// `response` must hold at least 512 bytes; for TCP it should hold 65535.
/// UDP answers are limited to min(client EDNS size, view.udp_payload()),
/// or 512 without EDNS.
Result answer(std::span<const std::uint8_t> request, std::span<std::uint8_t> response, const View& view,
              const Client& client) noexcept;

/// The reply answer() would send with its sections emptied and TC set
/// (rate limiting: "ask again over TCP"): header, question and OPT as in
/// the full reply, ECS with the same scope; 0 when answer() would send
/// nothing. `response` as for answer().
std::size_t truncated_reply(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                            const View& view, const Client& client) noexcept;

}  // namespace dnsd::query
