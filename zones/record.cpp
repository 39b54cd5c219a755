#include "zones/record.hpp"

#include <cstring>
#include <stdexcept>

#include "dnsd/core/name.hpp"

namespace dnsd::zones {

void ContentHash::mix(std::uint64_t word) noexcept {
    h_ = (h_ ^ word) * 0xBF58476D1CE4E5B9ull;
    h_ ^= h_ >> 31;
}

void ContentHash::update(const char* data, std::size_t size) noexcept {
    total_ += size;
    while (size > 0 && carried_ != 0) {
        carry_ |= std::uint64_t{static_cast<std::uint8_t>(*data++)} << (8 * carried_);
        --size;
        if (++carried_ == 8) {
            mix(carry_);
            carry_ = 0;
            carried_ = 0;
        }
    }
    for (; size >= 8; data += 8, size -= 8) {
        std::uint64_t w;
        std::memcpy(&w, data, 8);
        mix(w);
    }
    for (; size > 0; --size) carry_ |= std::uint64_t{static_cast<std::uint8_t>(*data++)} << (8 * carried_++);
}

std::uint64_t ContentHash::value() const noexcept {
    std::uint64_t h = (h_ ^ carry_ ^ (std::uint64_t{carried_} << 56)) * 0x94D049BB133111EBull;
    h ^= total_;
    return h ^ (h >> 29);
}

std::uint16_t Records::file_index(const std::string& name) {
    // A zone names a handful of files (its own and its $INCLUDEs, at most
    // ReadOptions::max_includes): a scan from the last one is enough.
    for (std::size_t i = files_.size(); i-- > 0;)
        if (files_[i] == name) return static_cast<std::uint16_t>(i);
    if (files_.size() > 0xffff) throw std::length_error("more than 65536 files in one zone");
    files_.push_back(name);
    return static_cast<std::uint16_t>(files_.size() - 1);
}

std::uint32_t Records::append(std::string_view s) {
    const std::size_t at = bytes_.size();
    if (at + s.size() > 0xffffffffu) throw std::length_error("zone data above 4 GiB");
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return static_cast<std::uint32_t>(at);
}

void Records::add(std::string_view owner, std::uint16_t type, std::uint32_t ttl, std::string_view rdata,
                  std::uint16_t file, int line) {
    Entry e;
    e.type = type;
    e.ttl = ttl;
    e.file = file;
    e.line = static_cast<std::uint32_t>(line);
    e.owner_size = static_cast<std::uint8_t>(owner.size());
    // Records of one name usually follow each other: they share its bytes.
    if (!entries_.empty() && this->owner(entries_.size() - 1) == owner) {
        const Entry& last = entries_.back();
        e.owner = last.owner;
        e.flags = static_cast<std::uint8_t>((last.flags & kWritten) | kShared);
    } else {
        e.owner = static_cast<std::uint32_t>(bytes_.size());
        bool upper = false;
        for (const char c : owner) {
            const auto b = static_cast<std::uint8_t>(c);
            bytes_.push_back(lower(b));
            upper |= lower(b) != b;
        }
        if (upper) {
            append(owner);
            e.flags = kWritten;
        }
    }
    e.rdata = append(rdata);
    e.rdata_size = static_cast<std::uint16_t>(rdata.size());
    entries_.push_back(e);
}

void Records::reserve(std::size_t bytes, std::size_t count) {
    bytes_.reserve(bytes);
    entries_.reserve(count);
}

Record Records::record(std::size_t i) const {
    Record r;
    r.owner = owner(i);
    r.type = type(i);
    r.ttl = ttl(i);
    r.rdata = rdata(i);
    r.file = file(i);
    r.line = line(i);
    return r;
}

std::vector<Record> Records::to_vector() const {
    std::vector<Record> out;
    out.reserve(size());
    for (std::size_t i = 0; i < size(); ++i) out.push_back(record(i));
    return out;
}

}  // namespace dnsd::zones
