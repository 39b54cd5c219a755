#pragma once
/// Zone transfers (RFC 5936): the messages of an AXFR, one at a time.
///
/// noexcept, no allocation; used by the TCP worker that streams them.

#include <cstddef>
#include <cstdint>
#include <span>

#include "dnsd/core/name.hpp"
#include "dnsd/wire/parser.hpp"
#include "zones/zone.hpp"

namespace dnsd::query {

/// Produces the messages of a zone transfer one at a time (RFC 5936): the
/// SOA, every other record, the SOA again, packed into messages of up to
/// 64 KiB with name compression. Keeps a reference to the zone: the caller
/// keeps the View alive while streaming.
class AxfrStream {
public:
    /// `request` is the query's bytes (its question is copied, case kept).
    AxfrStream(std::span<const std::uint8_t> request, const wire::Query& query,
               const zones::Zone& zone) noexcept;
    /// Writes the next message into `buffer` (at least 65535 bytes) and
    /// returns its size, or 0 when the transfer is complete.
    std::size_t next(std::span<std::uint8_t> buffer) noexcept;

private:
    const wire::Query& query_;
    const zones::Zone& zone_;
    std::uint8_t question_[kMaxNameLength + 4];  ///< name, type, class as asked
    std::size_t question_size_ = 0;
    enum class Phase : std::uint8_t { first_soa, records, last_soa, done } phase_ = Phase::first_soa;
    std::int32_t node_ = 0;
    std::uint32_t rrset_ = 0;
    std::uint32_t rdata_ = 0;
};

}  // namespace dnsd::query
