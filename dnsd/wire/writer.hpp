#pragma once
/// The response writer: appends to a caller-owned buffer with a size limit,
/// compresses names against those already written, and can roll back to a
/// saved mark (for truncation). noexcept and allocation-free: the
/// compression table is a fixed array of offsets.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "dnsd/wire/types.hpp"

namespace dnsd::wire {

class Writer {
public:
    /// Writes into `buffer`; nothing is ever written past buffer.size().
    explicit Writer(std::span<std::uint8_t> buffer) noexcept
        : buf_(buffer.data()), cap_(buffer.size()), limit_(buffer.size()) {}

    /// Caps how much the sections may use (the caller reserves room for OPT).
    void set_limit(std::size_t limit) noexcept { limit_ = limit < cap_ ? limit : cap_; }
    std::size_t limit() const noexcept { return limit_; }
    std::size_t size() const noexcept { return pos_; }
    std::uint8_t* data() noexcept { return buf_; }

    struct Mark {
        std::size_t pos;
        unsigned names;
    };
    Mark mark() const noexcept { return {pos_, names_}; }
    /// Forgets everything written after `m`, compression entries included.
    void rollback(Mark m) noexcept {
        pos_ = m.pos;
        names_ = m.names;
    }

    // Each put returns false, writing nothing, when the limit would be passed.
    // Inline: they are most of what an answer is made of.
    bool put8(std::uint8_t v) noexcept {
        if (!room(1)) return false;
        buf_[pos_++] = v;
        return true;
    }
    bool put16(std::uint16_t v) noexcept {
        if (!room(2)) return false;
        wire::put16(buf_ + pos_, v);
        pos_ += 2;
        return true;
    }
    bool put32(std::uint32_t v) noexcept {
        if (!room(4)) return false;
        wire::put32(buf_ + pos_, v);
        pos_ += 4;
        return true;
    }
    bool put_bytes(const std::uint8_t* data, std::size_t size) noexcept {
        if (!room(size)) return false;
        if (size) std::memcpy(buf_ + pos_, data, size);
        pos_ += size;
        return true;
    }
    /// Overwrites a 16-bit value already written (e.g. RDLENGTH, counts).
    void patch16(std::size_t offset, std::uint16_t v) noexcept {
        if (offset + 2 <= cap_) wire::put16(buf_ + offset, v);
    }

    /// Appends an uncompressed wire name; when `compress`, the longest suffix
    /// already in the message is replaced by a pointer. The suffixes written
    /// become candidates for later names either way.
    bool put_name(const std::uint8_t* wire, std::size_t size, bool compress = true) noexcept;
    /// Registers a name already in the buffer (e.g. the question) for compression.
    void remember_name(std::size_t offset) noexcept;
    /// The same for an uncompressed name written at `offset` whose label
    /// offsets (relative to the name) are known, as the parser's are:
    /// `label_offsets[0..labels]`, the last being the root label.
    void remember_name(std::size_t offset, const std::uint8_t* label_offsets, unsigned labels,
                       std::size_t size) noexcept {
        for (unsigned i = 0; i < labels && names_ < kMaxNames; ++i) {
            const std::size_t at = offset + label_offsets[i];
            if (at > 0x3FFF) break;
            names_at_[names_++] = {static_cast<std::uint16_t>(at),
                                   static_cast<std::uint8_t>(size - label_offsets[i])};
        }
    }

private:
    bool room(std::size_t n) const noexcept { return pos_ + n <= limit_; }
    /// Offset of an earlier occurrence of the name `wire` (uncompressed, of
    /// `size` bytes), or 0 when none.
    std::size_t find(const std::uint8_t* wire, std::size_t size) const noexcept;
    bool equal_at(std::size_t offset, const std::uint8_t* wire) const noexcept;

    static constexpr unsigned kMaxNames = 96;

    std::uint8_t* buf_;
    std::size_t cap_;
    std::size_t limit_;
    std::size_t pos_ = 0;
    /// Offsets of names (or name suffixes) written so far, with the size of
    /// the uncompressed name found there: comparing sizes first makes most
    /// lookups cheap misses.
    struct Entry {
        std::uint16_t offset;
        std::uint8_t size;
    };
    Entry names_at_[kMaxNames];
    unsigned names_ = 0;
};

}  // namespace dnsd::wire
