#include "dnsd/query/transfer.hpp"

#include <cstring>

#include "dnsd/query/encode.hpp"

namespace dnsd::query {

namespace type = wire::type;
namespace flag = wire::flag;
using wire::Query;
using wire::Writer;
using zones::Zone;

AxfrStream::AxfrStream(std::span<const std::uint8_t> request, const Query& query, const Zone& zone) noexcept
    : query_(query), zone_(zone) {
    const std::size_t n = query.question_end - wire::kHeaderSize;
    if (query.has_question && n <= sizeof question_ && query.question_end <= request.size()) {
        std::memcpy(question_, request.data() + wire::kHeaderSize, n);
        question_size_ = n;
    }
}

std::size_t AxfrStream::next(std::span<std::uint8_t> buffer) noexcept {
    if (phase_ == Phase::done) return 0;
    const std::size_t limit = buffer.size() < wire::kMaxMessage ? buffer.size() : wire::kMaxMessage;
    Writer w(buffer.first(limit));
    std::uint8_t header[wire::kHeaderSize] = {};
    w.put_bytes(header, sizeof header);
    const bool first = phase_ == Phase::first_soa;
    Counts c;
    // RFC 5936 2.2: the question appears in the first message only.
    if (first) {
        w.put_bytes(question_, question_size_);
        w.remember_name(wire::kHeaderSize, query_.qname_offsets, query_.qname_labels, query_.qname_size);
    }
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
        put_one(z.apex(), z.soa(), 0);
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
    if (phase_ == Phase::last_soa && put_one(z.apex(), z.soa(), 0)) phase_ = Phase::done;
    const auto flags = static_cast<std::uint16_t>(flag::QR | flag::AA | (query_.flags & 0x7800));
    return finish(w, query_.id, flags, wire::rcode::NOERROR, c, first);
}

}  // namespace dnsd::query
