#include "zones/reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <system_error>

#include "dnsd/core/name.hpp"
#include "zones/ldns.hpp"
#include "zones/plain.hpp"
#include "zones/tokenizer.hpp"

namespace dnsd::zones {
namespace {

struct RdfDeleter {
    void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct RrDeleter {
    void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
struct BufferDeleter {
    void operator()(ldns_buffer* b) const { ldns_buffer_free(b); }
};

Source stamp(const std::string& path, const struct stat& st) {
    Source s;
    s.path = path;
    s.device = static_cast<std::uint64_t>(st.st_dev);
    s.inode = static_cast<std::uint64_t>(st.st_ino);
    s.size = static_cast<std::uint64_t>(st.st_size);
    s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    return s;
}

class Reader {
public:
    Reader(Diagnostics& diags, const ReadOptions& options) : diags_(diags), options_(options) {}

    void read_file(const std::string& path, std::string origin, unsigned depth, const std::string& from,
                   int from_line) {
        // Only regular files: /dev/zero would be read until memory runs
        // out, a FIFO would block the loader (hence O_NONBLOCK to open
        // it), a directory reads as empty.
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct stat st {};
        std::string why;
        if (fd < 0 || ::fstat(fd, &st) != 0)
            why = std::error_code(errno, std::generic_category()).message();
        else if (!S_ISREG(st.st_mode))
            why = "not a regular file";
        if (!why.empty()) {
            if (fd >= 0) ::close(fd);
            if (from.empty()) {
                diags_.error(path, 0, "cannot read zone file: " + why);
            } else {
                diags_.error(from, from_line, "$INCLUDE " + path + ": cannot read: " + why);
            }
            return;
        }
        // The top file's size is about what its records take (wire bytes
        // are fewer than their text, an entry per 24 bytes of text is more
        // than most zones have): reserved, it is address space until
        // written, where growing copies everything read so far.
        if (depth == 0) {
            const auto size = static_cast<std::size_t>(st.st_size);
            records_.reserve(size + 4096, size / 24 + 64);
        }
        Source source = stamp(path, st);
        ContentHash hash;
        read_fd(fd, path, std::move(origin), depth, hash);
        ::close(fd);
        source.content = hash.value();
        records_.sources.push_back(std::move(source));
    }

    void read_text(std::string_view text, const std::string& file, std::string origin, unsigned depth) {
        Tokenizer tokenizer(file, diags_);
        tokenizer.reset(text, true);
        const std::uint16_t file_index = records_.file_index(file);
        Entry e;
        while (tokenizer.next(e) == Tokenizer::entry) handle(e, file, file_index, origin, depth);
    }

    Records take() { return std::move(records_); }

private:
    // Reads a file a window at a time (kWindow, more for an entry that does
    // not fit), so that a large zone's text is never all in memory.
    void read_fd(int fd, const std::string& file, std::string origin, unsigned depth, ContentHash& hash) {
        constexpr std::size_t kWindow = 1 << 20;
        Tokenizer tokenizer(file, diags_);
        const std::uint16_t file_index = records_.file_index(file);
        std::string buffer;
        std::size_t filled = 0;
        bool last = false;
        Entry e;
        while (!last) {
            // The entry given back moves to the front; the rest is refilled.
            const std::size_t keep = filled - tokenizer.pos();
            std::memmove(buffer.data(), buffer.data() + tokenizer.pos(), keep);
            if (buffer.size() < keep + kWindow) buffer.resize(std::max(2 * buffer.size(), keep + kWindow));
            filled = keep;
            while (filled < buffer.size()) {
                const ssize_t n = ::read(fd, buffer.data() + filled, buffer.size() - filled);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) {
                    diags_.error(file, 0,
                                 "cannot read zone file: " +
                                     std::error_code(errno, std::generic_category()).message());
                    return;
                }
                if (n == 0) {
                    last = true;
                    break;
                }
                hash.update(buffer.data() + filled, static_cast<std::size_t>(n));
                filled += static_cast<std::size_t>(n);
            }
            tokenizer.reset(std::string_view(buffer.data(), filled), last);
            Tokenizer::Result r;
            while ((r = tokenizer.next(e)) == Tokenizer::entry) handle(e, file, file_index, origin, depth);
            if (r == Tokenizer::end) return;
        }
    }

    void handle(const Entry& e, const std::string& file, std::uint16_t file_index, std::string& origin,
                unsigned depth) {
        if (!e.blank_owner && e.tokens[0].starts_with("$")) {
            directive(e, file, origin, depth);
        } else {
            record(e, file, file_index, origin);
        }
    }

    void directive(const Entry& e, const std::string& file, std::string& origin, unsigned depth) {
        const std::string keyword = upper(e.tokens[0]);
        const std::string first = e.tokens.size() > 1 ? std::string(e.tokens[1]) : std::string();
        if (keyword == "$ORIGIN") {
            if (e.tokens.size() != 2) {
                diags_.error(file, e.line, "$ORIGIN: expected one domain name");
                return;
            }
            auto name = name_from_text(e.tokens[1], origin);
            if (!name) {
                diags_.error(file, e.line, "$ORIGIN: bad domain name '" + first + "'");
                return;
            }
            origin = *name;
        } else if (keyword == "$TTL") {
            std::optional<std::uint32_t> ttl;
            if (e.tokens.size() == 2) ttl = parse_ttl(e.tokens[1]);
            if (!ttl) {
                diags_.error(file, e.line, "$TTL: expected a TTL (seconds, or units like 1h30m) below 2^31");
                return;
            }
            default_ttl_ = *ttl;
        } else if (keyword == "$INCLUDE") {
            if (e.tokens.size() < 2 || e.tokens.size() > 3) {
                diags_.error(file, e.line, "$INCLUDE: expected a file name and an optional origin");
                return;
            }
            // Files that include each other several times would be read
            // a number of times exponential in the depth: cap the total.
            // Every $INCLUDE line counts, also those refused for depth.
            if (includes_ >= options_.max_includes) {
                if (includes_++ == options_.max_includes)
                    diags_.error(file, e.line,
                                 "$INCLUDE " + first + ": more than " +
                                     std::to_string(options_.max_includes) +
                                     " files included in one zone (the rest are not read)");
                return;
            }
            ++includes_;
            if (depth >= options_.max_include_depth) {
                diags_.error(file, e.line,
                             "$INCLUDE " + first + ": nested more than " +
                                 std::to_string(options_.max_include_depth) + " levels deep");
                return;
            }
            std::string inner_origin = origin;
            if (e.tokens.size() == 3) {
                auto name = name_from_text(e.tokens[2], origin);
                if (!name) {
                    diags_.error(file, e.line, "$INCLUDE: bad origin '" + std::string(e.tokens[2]) + "'");
                    return;
                }
                inner_origin = *name;
            }
            std::filesystem::path target(first);
            if (target.is_relative()) target = std::filesystem::path(file).parent_path() / target;
            // RFC 1035 5.1: the origin (and the previous owner) return to
            // their values in the including file once the include is done.
            const Owner saved_owner = last_owner_;
            read_file(target.lexically_normal().string(), inner_origin, depth + 1, file, e.line);
            last_owner_ = saved_owner;
        } else if (keyword == "$GENERATE") {
            diags_.error(file, e.line, "$GENERATE is not supported; list the records instead");
        } else {
            diags_.error(file, e.line, "unknown directive " + std::string(e.tokens[0]));
        }
    }

    // The previous record's owner, for blank owners.
    struct Owner {
        std::uint8_t wire[kMaxNameLength];
        std::size_t size = 0;
        std::string_view view() const { return {reinterpret_cast<const char*>(wire), size}; }
    };

    void record(const Entry& e, const std::string& file, std::uint16_t file_index,
                const std::string& origin) {
        std::size_t i = 0;
        if (e.blank_owner) {
            if (last_owner_.size == 0) {
                diags_.error(file, e.line, "bad record: no owner name and no previous owner to repeat");
                return;
            }
        } else {
            last_owner_.size = name_from_text(e.tokens[0], origin, last_owner_.wire);
            if (last_owner_.size == 0) {
                diags_.error(file, e.line, "bad record: bad owner name '" + std::string(e.tokens[0]) + "'");
                return;
            }
            i = 1;
        }
        const std::string_view owner = last_owner_.view();
        // [TTL] [CLASS] TYPE RDATA, with TTL and CLASS in either order.
        std::optional<std::uint32_t> ttl;
        std::string_view rclass = "IN";
        for (int k = 0; k < 2 && i < e.tokens.size(); ++k) {
            if (!ttl && (ttl = parse_ttl(e.tokens[i]))) {
                ++i;
            } else if (is_class(e.tokens[i])) {
                rclass = e.tokens[i];
                ++i;
            } else if (std::isdigit(static_cast<unsigned char>(e.tokens[i][0]))) {
                diags_.error(file, e.line, "bad record: bad TTL '" + std::string(e.tokens[i]) + "'");
                return;
            }
        }
        if (i >= e.tokens.size()) {
            diags_.error(file, e.line, "bad record: no type");
            return;
        }
        if (!class_is_in(rclass)) {
            diags_.error(file, e.line, "bad record: class " + upper(rclass) + " is not supported (only IN)");
            return;
        }
        if (!ttl) {
            if (default_ttl_) {
                ttl = default_ttl_;
            } else if (last_ttl_) {
                ttl = last_ttl_;
            } else {
                diags_.error(file, e.line, "bad record: no TTL, and no $TTL before it");
                return;
            }
        }
        last_ttl_ = ttl;
        const std::size_t type_index = i;

        // The common types in their plain forms are encoded by PlainRdata
        // (plain.hpp says why); the rest goes to ldns.
        if (options_.fast_types) {
            const std::span<const std::string_view> rdata(e.tokens.data() + i + 1, e.tokens.size() - i - 1);
            if (plain_.parse(e.tokens[i], rdata, origin)) {
                records_.add(owner, plain_.type(), *ttl, plain_.rdata(), file_index, e.line);
                return;
            }
        }

        const std::string type = upper(e.tokens[i]);
        if (ldns_get_rr_type_by_name(type.c_str()) == 0) {
            diags_.error(file, e.line, "bad record: unknown type '" + std::string(e.tokens[i]) + "'");
            return;
        }

        // ldns is given the root for owner (the owner is ours, parsed
        // above; ldns reads no owner text longer than 255 characters, which
        // an escaped name can be), and the origin as wire data, for the
        // names in the rdata.
        std::string text = ". " + std::to_string(*ttl) + " IN";
        for (; i < e.tokens.size(); ++i) {
            text += ' ';
            text += e.tokens[i];
        }

        if (!origin_rdf_ || origin != origin_of_rdf_) {
            origin_rdf_.reset(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, origin.size(), origin.data()));
            if (!origin_rdf_) {
                diags_.error(file, e.line, "bad record: origin cannot be used");
                return;
            }
            origin_of_rdf_ = origin;
        }
        ldns_rr* raw = nullptr;
        const ldns_status status = ldns_rr_new_frm_str(&raw, text.c_str(), *ttl, origin_rdf_.get(), nullptr);
        std::unique_ptr<ldns_rr, RrDeleter> rr(raw);
        if (status != LDNS_STATUS_OK || !rr) {
            std::string rdata;
            for (std::size_t k = type_index + 1; k < e.tokens.size(); ++k) {
                if (!rdata.empty()) rdata += ' ';
                rdata += e.tokens[k];
            }
            diags_.error(file, e.line,
                         "bad record: " + std::string(ldns_get_errorstr_by_id(status)) + " (" + type + " " +
                             rdata + ")");
            return;
        }
        if (!buffer_) buffer_.reset(ldns_buffer_new(512));
        ldns_buffer_clear(buffer_.get());
        if (ldns_rr_rdata2buffer_wire(buffer_.get(), rr.get()) != LDNS_STATUS_OK) {
            diags_.error(file, e.line, "bad record: rdata cannot be encoded");
            return;
        }
        const std::size_t size = ldns_buffer_position(buffer_.get());
        if (size > 0xffff) {
            diags_.error(file, e.line, "bad record: rdata longer than 65535 bytes");
            return;
        }
        records_.add(owner, static_cast<std::uint16_t>(ldns_rr_get_type(rr.get())), *ttl,
                     {reinterpret_cast<const char*>(ldns_buffer_begin(buffer_.get())), size}, file_index,
                     e.line);
    }

    Diagnostics& diags_;
    const ReadOptions& options_;
    Records records_;
    unsigned includes_ = 0;  ///< $INCLUDE files read so far
    Owner last_owner_;
    std::optional<std::uint32_t> default_ttl_;
    std::optional<std::uint32_t> last_ttl_;
    std::unique_ptr<ldns_rdf, RdfDeleter> origin_rdf_;  ///< ldns's copy of origin_of_rdf_
    std::string origin_of_rdf_;
    std::unique_ptr<ldns_buffer, BufferDeleter> buffer_;
    PlainRdata plain_;
};

}  // namespace

Records read_zone_file(const std::string& path, std::string_view origin_wire, Diagnostics& diags,
                       const ReadOptions& options) {
    Reader reader(diags, options);
    reader.read_file(path, std::string(origin_wire), 0, {}, 0);
    return reader.take();
}

Records read_zone_text(std::string_view text, const std::string& name, std::string_view origin_wire,
                       Diagnostics& diags, const ReadOptions& options) {
    Reader reader(diags, options);
    reader.read_text(text, name, std::string(origin_wire), 0);
    return reader.take();
}

bool unchanged(const Source& source) {
    struct stat st {};
    if (::stat(source.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    const Source now = stamp(source.path, st);
    if (now.size != source.size) return false;
    if (now.device == source.device && now.inode == source.inode && now.mtime_ns == source.mtime_ns)
        return true;
    // Touched, or written again: the same bytes are the same zone.
    const int fd = ::open(source.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return false;
    ContentHash hash;
    std::vector<char> buffer(1 << 20);
    bool ok = true;
    while (true) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        hash.update(buffer.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return ok && hash.value() == source.content;
}

std::string type_name(std::uint16_t type) {
    const ldns_rr_descriptor* d = ldns_rr_descript(type);
    if (d && d->_name) return d->_name;
    return "TYPE" + std::to_string(type);
}

}  // namespace dnsd::zones
