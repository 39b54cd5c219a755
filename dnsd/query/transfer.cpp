#include "dnsd/query/transfer.hpp"

#include <cstring>

#include "dnsd/query/encode.hpp"

namespace dnsd::query {

namespace type = wire::type;
namespace flag = wire::flag;
using wire::Query;
using wire::Writer;
using zones::Zone;

TransferQuestion::TransferQuestion(std::span<const std::uint8_t> request, const Query& query) noexcept {
    const std::size_t n = query.question_end - wire::kHeaderSize;
    if (query.has_question && n <= sizeof bytes_ && query.question_end <= request.size()) {
        std::memcpy(bytes_, request.data() + wire::kHeaderSize, n);
        size_ = n;
    }
}

void TransferQuestion::put(Writer& w, const Query& query) const noexcept {
    w.put_bytes(bytes_, size_);
    w.remember_name(wire::kHeaderSize, query.qname_offsets, query.qname_labels, query.qname_size);
}

namespace {

/// A message of at most 64 KiB in `buffer`: room for its header, and the
/// question in the first one.
Writer start_message(std::span<std::uint8_t> buffer, const TransferQuestion& question, const Query& query,
                     bool first) noexcept {
    Writer w(buffer.first(buffer.size() < wire::kMaxMessage ? buffer.size() : wire::kMaxMessage));
    std::uint8_t header[wire::kHeaderSize] = {};
    w.put_bytes(header, sizeof header);
    if (first) question.put(w, query);  // RFC 5936 2.2: in the first message only
    return w;
}

std::size_t finish_message(Writer& w, const Query& query, const Counts& c, bool first) noexcept {
    const auto flags = static_cast<std::uint16_t>(flag::QR | flag::AA | (query.flags & 0x7800));
    return finish(w, query.id, flags, wire::rcode::NOERROR, c, first);
}

/// The zone's SOA, as the first and last record of a transfer.
bool put_soa(Writer& w, const Zone& z, Counts& c) noexcept {
    const auto m = w.mark();
    const auto& soa = z.soa();
    if (!put_zone_record(w, z, soa, z.rdatas(soa)[0], z.name_bytes(z.apex()), z.node(z.apex()).name_size,
                         soa.ttl)) {
        w.rollback(m);
        return false;
    }
    ++c.an;
    return true;
}

}  // namespace

AxfrStream::AxfrStream(std::span<const std::uint8_t> request, const Query& query, const Zone& zone) noexcept
    : query_(query), zone_(zone), question_(request, query) {}

std::size_t AxfrStream::next(std::span<std::uint8_t> buffer) noexcept {
    if (phase_ == Phase::done) return 0;
    const bool first = phase_ == Phase::first_soa;
    Writer w = start_message(buffer, question_, query_, first);
    Counts c;
    const Zone& z = zone_;
    auto put_one = [&](std::int32_t node, const zones::RRset& s, std::uint32_t k) {
        const auto m = w.mark();
        if (!put_zone_record(w, z, s, z.rdatas(s)[k], z.name_bytes(node), z.node(node).name_size, s.ttl)) {
            w.rollback(m);
            return false;
        }
        ++c.an;
        return true;
    };
    if (phase_ == Phase::first_soa) {
        put_soa(w, z, c);
        phase_ = Phase::records;
    }
    while (phase_ == Phase::records) {
        if (static_cast<std::size_t>(node_) >= z.node_count()) {
            phase_ = Phase::last_soa;
            break;
        }
        const auto sets = z.rrsets(node_);
        if (rrset_ >= sets.size()) {
            ++node_;
            rrset_ = 0;
            rdata_ = 0;
            continue;
        }
        const auto& s = sets[rrset_];
        if ((node_ == z.apex() && s.type == type::SOA) || rdata_ >= s.count) {
            ++rrset_;
            rdata_ = 0;
            continue;
        }
        if (!put_one(node_, s, rdata_)) {
            if (c.an == 0) {  // a single record larger than a message: give up
                phase_ = Phase::done;
                return 0;
            }
            break;
        }
        ++rdata_;
    }
    if (phase_ == Phase::last_soa && put_soa(w, z, c)) phase_ = Phase::done;
    return finish_message(w, query_, c, first);
}

IxfrStream::IxfrStream(std::span<const std::uint8_t> request, const Query& query, const Zone& zone,
                       std::span<const std::shared_ptr<const zones::Delta>> deltas) noexcept
    : query_(query), zone_(zone), deltas_(deltas), question_(request, query) {}

std::size_t IxfrStream::next(std::span<std::uint8_t> buffer) noexcept {
    if (phase_ == Phase::done) return 0;
    const bool first = phase_ == Phase::first_soa;
    Writer w = start_message(buffer, question_, query_, first);
    Counts c;
    if (phase_ == Phase::first_soa) {
        put_soa(w, zone_, c);
        phase_ = deltas_.empty() ? Phase::last_soa : Phase::removed;
    }
    // Each Delta's lists are headed by their SOAs (the old version's, the
    // new one's): removed, then added, is the RFC's order.
    while (phase_ == Phase::removed || phase_ == Phase::added) {
        const zones::Delta& d = *deltas_[delta_];
        const auto list = phase_ == Phase::removed ? d.removed() : d.added();
        if (change_ >= list.size()) {
            change_ = 0;
            if (phase_ == Phase::removed) {
                phase_ = Phase::added;
            } else if (++delta_ < deltas_.size()) {
                phase_ = Phase::removed;
            } else {
                phase_ = Phase::last_soa;
            }
            continue;
        }
        const zones::Change& r = list[change_];
        const auto m = w.mark();
        if (!put_record(w, d.bytes(r.owner), r.owner_size, r.type, wire::klass::IN, r.ttl, [&](Writer& out) {
                return put_rdata(out, r.type, d.bytes(r.rdata), r.rdata_size);
            })) {
            w.rollback(m);
            if (c.an == 0) {  // a single record larger than a message: give up
                phase_ = Phase::done;
                return 0;
            }
            break;
        }
        ++c.an;
        ++change_;
    }
    if (phase_ == Phase::last_soa && put_soa(w, zone_, c)) phase_ = Phase::done;
    return finish_message(w, query_, c, first);
}

}  // namespace dnsd::query
