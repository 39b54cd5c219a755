#pragma once
/// Zone transfers: the messages of an AXFR (RFC 5936), or of an IXFR
/// (RFC 1995) answered from a zone's journal, one at a time.
///
/// noexcept, no allocation; used by the TCP worker that streams them.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "dnsd/core/name.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/wire/parser.hpp"
#include "dnsd/wire/writer.hpp"
#include "zones/journal.hpp"
#include "zones/zone.hpp"

namespace dnsd::query {

/// The question of a transfer request as asked (case kept), which the
/// first message of the transfer carries (RFC 5936 2.2).
class TransferQuestion {
public:
    TransferQuestion(std::span<const std::uint8_t> request, const wire::Query& query) noexcept;
    /// Writes it and remembers its name for compression.
    void put(wire::Writer& w, const wire::Query& query) const noexcept;

private:
    std::uint8_t bytes_[kMaxNameLength + 4];  ///< name, type, class
    std::size_t size_ = 0;
};

/// Produces the messages of a zone transfer one at a time (RFC 5936): the
/// SOA, every other record, the SOA again, packed into messages of up to
/// 64 KiB with name compression. Keeps a reference to the zone: the caller
/// keeps the View alive while streaming. Also the full transfer that
/// answers an IXFR the journal cannot (RFC 1995 4).
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
    TransferQuestion question_;
    enum class Phase : std::uint8_t { first_soa, records, last_soa, done } phase_ = Phase::first_soa;
    std::int32_t node_ = 0;
    std::uint32_t rrset_ = 0;
    std::uint32_t rdata_ = 0;
};

/// The messages of an incremental zone transfer (RFC 1995 4): the current
/// SOA; for each Delta of `deltas` (oldest first, the last one leading to
/// `zone`), its old SOA and the records removed, its new SOA and the
/// records added; the current SOA again. Packed and compressed as
/// AxfrStream's. Keeps references to the zone and the Deltas: the caller
/// keeps the View alive while streaming.
class IxfrStream {
public:
    IxfrStream(std::span<const std::uint8_t> request, const wire::Query& query, const zones::Zone& zone,
               std::span<const std::shared_ptr<const zones::Delta>> deltas) noexcept;
    /// As AxfrStream::next().
    std::size_t next(std::span<std::uint8_t> buffer) noexcept;

private:
    const wire::Query& query_;
    const zones::Zone& zone_;
    std::span<const std::shared_ptr<const zones::Delta>> deltas_;
    TransferQuestion question_;
    enum class Phase : std::uint8_t { first_soa, removed, added, last_soa, done } phase_ = Phase::first_soa;
    std::size_t delta_ = 0;
    std::size_t change_ = 0;
};

/// An AXFR's or an IXFR's stream, as answer() decided: what the TCP
/// worker drives.
class TransferStream {
public:
    /// The transfer of `result` (Result::transfer set), an answer from
    /// `view` to `request` (parsed as `query`): incremental from the
    /// journal when Result::ixfr_from says so, otherwise the whole zone.
    TransferStream(std::span<const std::uint8_t> request, const wire::Query& query, const View& view,
                   const Result& result) noexcept
        : TransferStream(request, query, *result.transfer,
                         result.ixfr_from < 0 ? std::span<const std::shared_ptr<const zones::Delta>>()
                                              : view.journal(static_cast<std::size_t>(result.zone))
                                                    .deltas()
                                                    .subspan(static_cast<std::size_t>(result.ixfr_from))) {}
    /// `deltas` empty: a full transfer.
    TransferStream(std::span<const std::uint8_t> request, const wire::Query& query, const zones::Zone& zone,
                   std::span<const std::shared_ptr<const zones::Delta>> deltas) noexcept
        : incremental_(!deltas.empty()), axfr_(request, query, zone), ixfr_(request, query, zone, deltas) {}
    std::size_t next(std::span<std::uint8_t> buffer) noexcept {
        return incremental_ ? ixfr_.next(buffer) : axfr_.next(buffer);
    }

private:
    bool incremental_;
    AxfrStream axfr_;
    IxfrStream ixfr_;
};

}  // namespace dnsd::query
