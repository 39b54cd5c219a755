#pragma once
/// Records as read from zone files, before the zone is built.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dnsd::zones {

/// One record, unpacked: what tests and small callers build and read.
struct Record {
    std::string owner;  ///< uncompressed wire name, case as written
    std::uint16_t type = 0;
    std::uint16_t rclass = 1;
    std::uint32_t ttl = 0;
    std::string rdata;  ///< uncompressed wire rdata (names as written)
    std::string file;   ///< where it came from, for diagnostics
    int line = 0;
};

/// A file a zone was read from, as it was when read: a reload that finds
/// every file of a zone the same (by identity, else by content) reuses the
/// zone built from them.
struct Source {
    std::string path;
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t content = 0;  ///< ContentHash of its bytes
};

/// What a built zone was made of, kept beside it (query::View) so that a
/// reload can tell whether building it again would give the same zone.
struct ZoneSource {
    std::string origin;  ///< as configured
    std::string file;    ///< as configured
    std::vector<Source> files;
    std::uint64_t file_digest = 0;      ///< content digest of the files' records (dnsd/load/serial.hpp)
    std::uint64_t service_digest = 0;   ///< and of the service records added to them
    std::uint64_t service_names = 0;    ///< a hash of the names of the zone's services
    std::vector<std::string> services;  ///< those names, lower-cased wire, sorted
    std::string soa_file;               ///< where the SOA is written, for warnings
    int soa_line = 0;
};

/// A 64-bit hash of a byte stream, the same however the stream is split
/// (eight bytes a step, a multiply-xorshift mix): it tells whether a file
/// touched or copied back still holds what was loaded, at memory speed.
/// Not collision resistant: whoever can write zone files controls the
/// zone anyway.
class ContentHash {
public:
    void update(const char* data, std::size_t size) noexcept;
    std::uint64_t value() const noexcept;

private:
    void mix(std::uint64_t word) noexcept;
    std::uint64_t h_ = 0x9E3779B97F4A7C15ull;
    std::uint64_t carry_ = 0;  ///< bytes of an unfinished word
    unsigned carried_ = 0;
    std::uint64_t total_ = 0;
};

/// Every record of a zone, packed: one arena of bytes holding each owner
/// (lower-cased, then as written when that differs) and each rdata, and a
/// fixed-size entry per record. A million records read from a file cost
/// their bytes and 32 bytes each, with no allocation per record, and the
/// arena becomes the built zone's bytes (Zone::build) without a copy.
class Records {
public:
    struct Entry {
        std::uint64_t key = 0;    ///< Zone::build's sort key
        std::uint32_t owner = 0;  ///< offset of the lower-cased owner
        std::uint32_t rdata = 0;  ///< offset of the rdata
        std::uint32_t ttl = 0;
        std::uint32_t line = 0;
        std::uint16_t type = 0;
        std::uint16_t rdata_size = 0;
        std::uint16_t file = 0;  ///< index into the file names
        std::uint8_t owner_size = 0;
        std::uint8_t flags = 0;  ///< kWritten, kShared, kDropped, kOutside
    };
    static constexpr std::uint8_t kWritten = 1;  ///< the owner as written follows the lower-cased one
    static constexpr std::uint8_t kShared = 2;   ///< the owner's bytes are an earlier entry's
    static constexpr std::uint8_t kDropped = 4;  ///< left out of the zone (Zone::build)
    static constexpr std::uint8_t kOutside = 8;  ///< a name outside the zone (Zone::build)

    /// The index of a file name for add(); the same name gives the same index.
    std::uint16_t file_index(const std::string& name);
    /// Appends a record. `owner` is a wire name as written (at most 255
    /// bytes), `rdata` at most 65535 bytes (callers check).
    void add(std::string_view owner, std::uint16_t type, std::uint32_t ttl, std::string_view rdata,
             std::uint16_t file, int line);
    void add(const Record& r) { add(r.owner, r.type, r.ttl, r.rdata, file_index(r.file), r.line); }
    /// Room for `bytes` of names and rdata and `count` records: capacity is
    /// only address space until written, and growing later copies it all.
    void reserve(std::size_t bytes, std::size_t count);

    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    std::uint16_t type(std::size_t i) const noexcept { return entries_[i].type; }
    std::uint32_t ttl(std::size_t i) const noexcept { return entries_[i].ttl; }
    int line(std::size_t i) const noexcept { return static_cast<int>(entries_[i].line); }
    const std::string& file(std::size_t i) const noexcept { return files_[entries_[i].file]; }
    std::string_view owner_lower(std::size_t i) const noexcept {
        const Entry& e = entries_[i];
        return view(e.owner, e.owner_size);
    }
    /// The owner as written (case preserved).
    std::string_view owner(std::size_t i) const noexcept {
        const Entry& e = entries_[i];
        return view((e.flags & kWritten) ? e.owner + e.owner_size : e.owner, e.owner_size);
    }
    std::string_view rdata(std::size_t i) const noexcept {
        const Entry& e = entries_[i];
        return view(e.rdata, e.rdata_size);
    }
    /// Record i unpacked.
    Record record(std::size_t i) const;
    std::vector<Record> to_vector() const;

    /// The files read, in the order they were opened (the reader fills it).
    std::vector<Source> sources;

private:
    std::string_view view(std::uint32_t offset, std::size_t size) const noexcept {
        return {reinterpret_cast<const char*>(bytes_.data() + offset), size};
    }
    std::uint32_t append(std::string_view s);

    std::vector<std::uint8_t> bytes_;
    std::vector<Entry> entries_;
    std::vector<std::string> files_;

    friend class Builder;
};

}  // namespace dnsd::zones
