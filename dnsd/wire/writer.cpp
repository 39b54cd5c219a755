#include "dnsd/wire/writer.hpp"

#include <cstring>

#include "dnsd/core/name.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::wire {

bool Writer::equal_at(std::size_t offset, const std::uint8_t* wire) const noexcept {
    // Walks the name in the buffer, following pointers (which only ever
    // point backwards in what we wrote, so this ends), comparing labels
    // case-insensitively with the uncompressed `wire`.
    std::size_t o = offset;
    std::size_t w = 0;
    for (int hops = 0; hops < 64;) {
        if (o >= pos_) return false;
        const std::uint8_t len = buf_[o];
        if ((len & 0xC0) == 0xC0) {
            if (o + 1 >= pos_) return false;
            const std::size_t target = static_cast<std::size_t>(((len & 0x3F) << 8) | buf_[o + 1]);
            if (target >= o) return false;
            o = target;
            ++hops;
            continue;
        }
        if (len != wire[w]) return false;
        if (len == 0) return true;
        if (o + 1u + len > pos_) return false;
        for (std::size_t i = 1; i <= len; ++i)
            if (lower(buf_[o + i]) != lower(wire[w + i])) return false;
        o += 1u + len;
        w += 1u + len;
    }
    return false;
}

std::size_t Writer::find(const std::uint8_t* wire, std::size_t size) const noexcept {
    for (unsigned i = 0; i < names_; ++i)
        if (names_at_[i].size == size && equal_at(names_at_[i].offset, wire)) return names_at_[i].offset;
    return 0;
}

void Writer::remember_name(std::size_t offset) noexcept {
    // Record every suffix of the name at `offset` that starts in place.
    std::size_t o = offset;
    // First compute the full uncompressed size by walking (pointers included).
    std::size_t sizes[128];
    std::size_t starts[128];
    unsigned n = 0;
    std::size_t walk = o;
    std::size_t total = 0;
    bool in_place = true;
    for (int hops = 0; hops < 64 && walk < pos_;) {
        const std::uint8_t len = buf_[walk];
        if ((len & 0xC0) == 0xC0) {
            if (walk + 1 >= pos_) return;
            walk = static_cast<std::size_t>(((len & 0x3F) << 8) | buf_[walk + 1]);
            in_place = false;
            ++hops;
            continue;
        }
        if (len == 0) {
            total += 1;
            break;
        }
        if (in_place && n < 128) {
            starts[n] = walk;
            sizes[n] = total;  // bytes before this label, fixed up below
            ++n;
        }
        total += 1u + len;
        walk += 1u + len;
    }
    for (unsigned i = 0; i < n && names_ < kMaxNames; ++i) {
        if (starts[i] > 0x3FFF) break;
        const std::size_t suffix = total - sizes[i];
        if (suffix <= 1) break;
        names_at_[names_++] = {static_cast<std::uint16_t>(starts[i]), static_cast<std::uint8_t>(suffix)};
    }
}

bool Writer::put_name(const std::uint8_t* wire, std::size_t size, bool compress) noexcept {
    const Mark before = mark();
    // Labels are written one at a time until the remaining suffix is found
    // earlier in the message.
    std::size_t w = 0;
    while (w < size) {
        const std::uint8_t len = wire[w];
        if (len == 0) {
            if (!put8(0)) {
                rollback(before);
                return false;
            }
            break;
        }
        if (compress) {
            const std::size_t at = find(wire + w, size - w);
            if (at != 0) {
                if (!put16(static_cast<std::uint16_t>(0xC000 | at))) {
                    rollback(before);
                    return false;
                }
                break;
            }
        }
        const std::size_t at = pos_;
        if (!put_bytes(wire + w, 1u + len)) {
            rollback(before);
            return false;
        }
        // The suffix written in place from here is a candidate for later
        // names. (Never for this name's own later labels: their sizes are
        // smaller, and the lookup compares sizes first.)
        if (names_ < kMaxNames && at <= 0x3FFF && size - w > 1)
            names_at_[names_++] = {static_cast<std::uint16_t>(at), static_cast<std::uint8_t>(size - w)};
        w += 1u + len;
    }
    return true;
}

}  // namespace dnsd::wire
