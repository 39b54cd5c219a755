#include "zones/reader.hpp"

#include <arpa/inet.h>
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
#include "dnsd/wire/types.hpp"
#include "zones/ldns.hpp"

namespace dnsd::zones {
namespace {

// One logical entry of a master file: the tokens of one line, or of several
// lines joined by parentheses. `blank_owner` is set when the entry began
// with white space (RFC 1035 5.1: the owner is the previous one). Tokens
// are views of the text being read, valid until the next entry.
struct Entry {
    std::vector<std::string_view> tokens;
    int line = 0;
    bool blank_owner = false;
};

// Splits master-file text into entries. Tokens keep their escapes and
// quotes, so that joining them with spaces gives ldns the same text back.
//
// The text comes in windows (a file is read a megabyte at a time, so that
// reading a large zone does not hold the whole file): an entry that the
// window ends in the middle of is given back (`more`), and read again from
// its start once the window has been refilled. Diagnostics of an entry are
// held until the entry is complete, so that a second reading does not
// repeat them.
class Tokenizer {
public:
    enum Result { entry, end, more };

    Tokenizer(const std::string& file, Diagnostics& diags) : file_(file), diags_(diags) {}

    // A new window; `last`: no text follows it. The window starts where the
    // entry given back (or the text) starts.
    void reset(std::string_view text, bool last) {
        text_ = text;
        last_ = last;
        pos_ = 0;
    }
    // Where the window's unread text starts.
    std::size_t pos() const noexcept { return pos_; }

    Result next(Entry& e) {
        e.tokens.clear();
        e.line = 0;
        e.blank_owner = false;
        stray_.clear();
        const std::size_t mark = pos_;
        const int mark_line = line_;
        while (pos_ < text_.size()) {
            const bool at_line_start = pos_ == 0 || text_[pos_ - 1] == '\n';
            if (at_line_start && depth_ == 0) {
                e.line = line_;
                e.blank_owner = text_[pos_] == ' ' || text_[pos_] == '\t';
            }
            const char c = text_[pos_];
            if (c == '\n') {
                ++pos_;
                ++line_;
                if (depth_ == 0 && !e.tokens.empty()) return done();
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\r') {
                ++pos_;
                continue;
            }
            if (c == ';') {
                while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
                continue;
            }
            if (c == '(') {
                if (depth_ == 0) paren_line_ = line_;
                ++depth_;
                ++pos_;
                continue;
            }
            if (c == ')') {
                if (depth_ == 0) {
                    stray_.push_back(line_);
                } else {
                    --depth_;
                }
                ++pos_;
                continue;
            }
            if (e.tokens.empty() && e.line == 0) e.line = line_;
            e.tokens.push_back(token());
        }
        if (!last_) {
            pos_ = mark;
            line_ = mark_line;
            depth_ = 0;
            return more;
        }
        if (depth_ > 0) {
            diags_.error(file_, paren_line_, "syntax: '(' not closed before the end of the file");
            depth_ = 0;
        }
        done();
        return e.tokens.empty() ? end : entry;
    }

private:
    Result done() {
        for (const int line : stray_) diags_.error(file_, line, "syntax: ')' without '('");
        stray_.clear();
        return entry;
    }

    // The text of one token, quotes and escapes included.
    std::string_view token() {
        const std::size_t start = pos_;
        if (text_[pos_] == '"') {
            const int start_line = line_;
            ++pos_;
            while (pos_ < text_.size() && text_[pos_] != '"') {
                if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
                if (text_[pos_] == '\n') ++line_;
                ++pos_;
            }
            if (pos_ >= text_.size()) {
                if (last_) diags_.error(file_, start_line, "syntax: quoted string not closed");
                return text_.substr(start);
            }
            ++pos_;
            return text_.substr(start, pos_ - start);
        }
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '(' || c == ')' ||
                c == '"')
                break;
            if (c == '\\' && pos_ + 1 < text_.size()) ++pos_;
            ++pos_;
        }
        return text_.substr(start, pos_ - start);
    }

    const std::string& file_;
    Diagnostics& diags_;
    std::string_view text_;
    bool last_ = true;
    std::size_t pos_ = 0;
    int line_ = 1;
    int depth_ = 0;
    int paren_line_ = 0;
    std::vector<int> stray_;  ///< lines of ')' without '(' in the current entry
};

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// A TTL as RFC 1035 numbers or with BIND-style units ("1h30m", "2d").
std::optional<std::uint32_t> parse_ttl(std::string_view s) {
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return std::nullopt;
    std::uint64_t total = 0, value = 0;
    bool digits = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
        if (c >= '0' && c <= '9') {
            value = value * 10 + static_cast<unsigned>(c - '0');
            digits = true;
            if (value > 0xffffffffULL) return std::nullopt;
            continue;
        }
        if (!digits) return std::nullopt;
        std::uint64_t unit = 0;
        switch (c) {
            case 's':
                unit = 1;
                break;
            case 'm':
                unit = 60;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'd':
                unit = 86400;
                break;
            case 'w':
                unit = 604800;
                break;
            default:
                return std::nullopt;
        }
        total += value * unit;
        value = 0;
        digits = false;
    }
    total += value;
    // RFC 2181 8: TTLs are 31-bit values.
    if (total > 0x7fffffffULL) return std::nullopt;
    return static_cast<std::uint32_t>(total);
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// IN, or its RFC 3597 spelling CLASS1.
bool class_is_in(std::string_view token) {
    if (iequals(token, "IN")) return true;
    if (token.size() <= 5 || !iequals(token.substr(0, 5), "CLASS")) return false;
    unsigned value = 0;
    for (const char c : token.substr(5)) {
        if (c < '0' || c > '9' || value > 65535) return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value == 1;
}

bool is_class(std::string_view token) {
    return iequals(token, "IN") || iequals(token, "CH") || iequals(token, "CS") || iequals(token, "HS") ||
           iequals(token, "ANY") || (token.size() > 5 && iequals(token.substr(0, 5), "CLASS"));
}

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

        // The common types in their plain forms are parsed here; ldns
        // would give the same bytes, but only after reading the whole line
        // again and allocating a record, which made it most of the time of
        // loading a million records. Anything else (other types, escapes,
        // RFC 3597 form, a bad address, an error to word) goes to ldns.
        // The zone fuzzer reads every input both ways and requires the same
        // result; tests/zones/ldns_diff_test.cpp holds both to ldns's own
        // zone reader.
        if (options_.fast_types) {
            const std::span<const std::string_view> rdata(e.tokens.data() + i + 1, e.tokens.size() - i - 1);
            if (fast_rdata(e.tokens[i], rdata, origin)) {
                records_.add(owner, fast_type_, *ttl, fast_.view(), file_index, e.line);
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

    // Rdata being put together by fast_rdata().
    struct Bytes {
        std::uint8_t data[512];
        std::size_t size = 0;
        bool put(const void* p, std::size_t n) {
            if (size + n > sizeof data) return false;
            std::memcpy(data + size, p, n);
            size += n;
            return true;
        }
        std::string_view view() const { return {reinterpret_cast<const char*>(data), size}; }
    };

    // A name of letters, digits, '-', '_' and '*' only (no escapes, no
    // '@'): what ldns and name_from_text read alike.
    static bool plain_name(std::string_view token) {
        if (token.empty()) return false;
        for (const char c : token)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '*' && c != '.')
                return false;
        return true;
    }
    bool put_name(std::string_view token, const std::string& origin) {
        if (!plain_name(token)) return false;
        std::uint8_t wire[kMaxNameLength];
        const std::size_t n = name_from_text(token, origin, wire);
        return n != 0 && fast_.put(wire, n);
    }
    // Text of a character-string without escapes or quotes (and printable;
    // unquoted, the tokenizer has cut it at spaces, ';' and parentheses).
    static bool plain_text(std::string_view text) {
        for (const char c : text)
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
        return true;
    }

    // The rdata of `type` written as `tokens`, into fast_ and fast_type_,
    // when both are in a plain form of a common type; false otherwise.
    bool fast_rdata(std::string_view type, std::span<const std::string_view> tokens,
                    const std::string& origin) {
        fast_.size = 0;
        if (iequals(type, "A") || iequals(type, "AAAA")) {
            const bool a = type.size() == 1;
            if (tokens.size() != 1 || tokens[0].size() >= 64) return false;
            char text[64];
            std::memcpy(text, tokens[0].data(), tokens[0].size());
            text[tokens[0].size()] = '\0';
            unsigned char address[16];
            if (::inet_pton(a ? AF_INET : AF_INET6, text, address) != 1) return false;
            fast_type_ = a ? wire::type::A : wire::type::AAAA;
            return fast_.put(address, a ? 4 : 16);
        }
        if (iequals(type, "NS") || iequals(type, "CNAME") || iequals(type, "PTR")) {
            fast_type_ = iequals(type, "NS")    ? wire::type::NS
                         : iequals(type, "PTR") ? wire::type::PTR
                                                : wire::type::CNAME;
            return tokens.size() == 1 && put_name(tokens[0], origin);
        }
        if (iequals(type, "MX")) {
            fast_type_ = wire::type::MX;
            if (tokens.size() != 2 || tokens[0].empty() || tokens[0].size() > 5) return false;
            unsigned value = 0;
            for (const char c : tokens[0]) {
                if (c < '0' || c > '9') return false;
                value = value * 10 + static_cast<unsigned>(c - '0');
            }
            if (value > 65535) return false;
            const std::uint8_t pref[2] = {static_cast<std::uint8_t>(value >> 8),
                                          static_cast<std::uint8_t>(value)};
            return fast_.put(pref, 2) && put_name(tokens[1], origin);
        }
        if (iequals(type, "TXT")) {
            fast_type_ = wire::type::TXT;
            if (tokens.empty()) return false;
            for (std::string_view t : tokens) {
                if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
                if (t.empty() || t.size() > 255 || !plain_text(t)) return false;
                const auto len = static_cast<std::uint8_t>(t.size());
                if (!fast_.put(&len, 1) || !fast_.put(t.data(), t.size())) return false;
            }
            return true;
        }
        return false;
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
    Bytes fast_;
    std::uint16_t fast_type_ = 0;
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
