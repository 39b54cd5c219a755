#include "zones/reader.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "dnsd/core/name.hpp"
#include "zones/ldns.hpp"

namespace dnsd::zones {
namespace {

// One logical entry of a master file: the tokens of one line, or of several
// lines joined by parentheses. `blank_owner` is set when the entry began
// with white space (RFC 1035 5.1: the owner is the previous one).
struct Entry {
    std::vector<std::string> tokens;
    int line = 0;
    bool blank_owner = false;
};

// Splits master-file text into entries. Tokens keep their escapes and
// quotes, so that joining them with spaces gives ldns the same text back.
class Tokenizer {
public:
    Tokenizer(std::string_view text, const std::string& file, Diagnostics& diags)
        : text_(text), file_(file), diags_(diags) {}

    // False at the end of the text.
    bool next(Entry& entry) {
        entry = Entry{};
        while (pos_ < text_.size()) {
            const bool at_line_start = pos_ == 0 || text_[pos_ - 1] == '\n';
            if (at_line_start && depth_ == 0) {
                entry.line = line_;
                entry.blank_owner = text_[pos_] == ' ' || text_[pos_] == '\t';
            }
            const char c = text_[pos_];
            if (c == '\n') {
                ++pos_;
                ++line_;
                if (depth_ == 0 && !entry.tokens.empty()) return true;
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
                    diags_.error(file_, line_, "syntax: ')' without '('");
                } else {
                    --depth_;
                }
                ++pos_;
                continue;
            }
            if (entry.tokens.empty() && entry.line == 0) entry.line = line_;
            entry.tokens.push_back(token());
        }
        if (depth_ > 0) {
            diags_.error(file_, paren_line_, "syntax: '(' not closed before the end of the file");
            depth_ = 0;
        }
        return !entry.tokens.empty();
    }

private:
    std::string token() {
        std::string out;
        if (text_[pos_] == '"') {
            const int start_line = line_;
            out.push_back('"');
            ++pos_;
            while (pos_ < text_.size() && text_[pos_] != '"') {
                if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) out.push_back(text_[pos_++]);
                if (text_[pos_] == '\n') ++line_;
                out.push_back(text_[pos_++]);
            }
            if (pos_ >= text_.size()) {
                diags_.error(file_, start_line, "syntax: quoted string not closed");
            } else {
                ++pos_;
            }
            out.push_back('"');
            return out;
        }
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '(' || c == ')' ||
                c == '"')
                break;
            if (c == '\\' && pos_ + 1 < text_.size()) out.push_back(text_[pos_++]);
            out.push_back(text_[pos_++]);
        }
        return out;
    }

    std::string_view text_;
    const std::string& file_;
    Diagnostics& diags_;
    std::size_t pos_ = 0;
    int line_ = 1;
    int depth_ = 0;
    int paren_line_ = 0;
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

bool is_class(std::string_view token) {
    const std::string u = upper(token);
    return u == "IN" || u == "CH" || u == "CS" || u == "HS" || u == "ANY" ||
           (u.size() > 5 && u.starts_with("CLASS"));
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

class Reader {
public:
    Reader(Diagnostics& diags, const ReadOptions& options) : diags_(diags), options_(options) {}

    void read_file(const std::string& path, std::string origin, unsigned depth, const std::string& from,
                   int from_line) {
        // Only regular files: /dev/zero would be read until memory runs
        // out, a FIFO would block the loader, a directory reads as empty.
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        const bool special = std::filesystem::exists(status) && !std::filesystem::is_regular_file(status);
        std::ifstream in;
        if (!special) in.open(path, std::ios::binary);
        if (special || !in) {
            const std::string why = special ? std::string("not a regular file")
                                            : std::error_code(errno, std::generic_category()).message();
            if (from.empty()) {
                diags_.error(path, 0, "cannot read zone file: " + why);
            } else {
                diags_.error(from, from_line, "$INCLUDE " + path + ": cannot read: " + why);
            }
            return;
        }
        std::ostringstream buffer;
        buffer << in.rdbuf();
        read_text(buffer.str(), path, std::move(origin), depth);
    }

    void read_text(std::string_view text, const std::string& file, std::string origin, unsigned depth) {
        Tokenizer tokenizer(text, file, diags_);
        Entry entry;
        while (tokenizer.next(entry)) {
            const std::string& first = entry.tokens[0];
            if (!entry.blank_owner && first.starts_with("$")) {
                directive(entry, file, origin, depth);
            } else {
                record(entry, file, origin);
            }
        }
    }

    std::vector<Record> take() { return std::move(records_); }

private:
    void directive(const Entry& e, const std::string& file, std::string& origin, unsigned depth) {
        const std::string keyword = upper(e.tokens[0]);
        if (keyword == "$ORIGIN") {
            if (e.tokens.size() != 2) {
                diags_.error(file, e.line, "$ORIGIN: expected one domain name");
                return;
            }
            auto name = name_from_text(e.tokens[1], origin);
            if (!name) {
                diags_.error(file, e.line, "$ORIGIN: bad domain name '" + e.tokens[1] + "'");
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
                                 "$INCLUDE " + e.tokens[1] + ": more than " +
                                     std::to_string(options_.max_includes) +
                                     " files included in one zone (the rest are not read)");
                return;
            }
            ++includes_;
            if (depth >= options_.max_include_depth) {
                diags_.error(file, e.line,
                             "$INCLUDE " + e.tokens[1] + ": nested more than " +
                                 std::to_string(options_.max_include_depth) + " levels deep");
                return;
            }
            std::string inner_origin = origin;
            if (e.tokens.size() == 3) {
                auto name = name_from_text(e.tokens[2], origin);
                if (!name) {
                    diags_.error(file, e.line, "$INCLUDE: bad origin '" + e.tokens[2] + "'");
                    return;
                }
                inner_origin = *name;
            }
            std::filesystem::path target(e.tokens[1]);
            if (target.is_relative()) target = std::filesystem::path(file).parent_path() / target;
            // RFC 1035 5.1: the origin (and the previous owner) return to
            // their values in the including file once the include is done.
            const std::string saved_owner = last_owner_;
            read_file(target.lexically_normal().string(), inner_origin, depth + 1, file, e.line);
            last_owner_ = saved_owner;
        } else if (keyword == "$GENERATE") {
            diags_.error(file, e.line, "$GENERATE is not supported; list the records instead");
        } else {
            diags_.error(file, e.line, "unknown directive " + e.tokens[0]);
        }
    }

    void record(const Entry& e, const std::string& file, const std::string& origin) {
        std::size_t i = 0;
        std::string owner;
        if (e.blank_owner) {
            if (last_owner_.empty()) {
                diags_.error(file, e.line, "bad record: no owner name and no previous owner to repeat");
                return;
            }
            owner = last_owner_;
        } else {
            auto name = name_from_text(e.tokens[0], origin);
            if (!name) {
                diags_.error(file, e.line, "bad record: bad owner name '" + e.tokens[0] + "'");
                return;
            }
            owner = *name;
            last_owner_ = owner;
            i = 1;
        }
        // [TTL] [CLASS] TYPE RDATA, with TTL and CLASS in either order.
        std::optional<std::uint32_t> ttl;
        std::string rclass = "IN";
        for (int k = 0; k < 2 && i < e.tokens.size(); ++k) {
            if (!ttl && (ttl = parse_ttl(e.tokens[i]))) {
                ++i;
            } else if (is_class(e.tokens[i])) {
                rclass = upper(e.tokens[i]);
                ++i;
            } else if (std::isdigit(static_cast<unsigned char>(e.tokens[i][0]))) {
                diags_.error(file, e.line, "bad record: bad TTL '" + e.tokens[i] + "'");
                return;
            }
        }
        if (i >= e.tokens.size()) {
            diags_.error(file, e.line, "bad record: no type");
            return;
        }
        if (rclass != "IN") {
            diags_.error(file, e.line, "bad record: class " + rclass + " is not supported (only IN)");
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
        const std::string type = upper(e.tokens[i]);
        if (ldns_get_rr_type_by_name(type.c_str()) == 0) {
            diags_.error(file, e.line, "bad record: unknown type '" + e.tokens[i] + "'");
            return;
        }

        // The owner is given to ldns absolute, so only rdata names are
        // completed with the origin (passed separately).
        std::string text = name_to_text(owner) + " " + std::to_string(*ttl) + " IN";
        for (; i < e.tokens.size(); ++i) text += " " + e.tokens[i];

        std::unique_ptr<ldns_rdf, RdfDeleter> origin_rdf;
        {
            const std::string origin_text = name_to_text(origin);
            ldns_rdf* r = nullptr;
            if (ldns_str2rdf_dname(&r, origin_text.c_str()) != LDNS_STATUS_OK) {
                diags_.error(file, e.line, "bad record: origin cannot be used");
                return;
            }
            origin_rdf.reset(r);
        }
        ldns_rr* raw = nullptr;
        const ldns_status status = ldns_rr_new_frm_str(&raw, text.c_str(), *ttl, origin_rdf.get(), nullptr);
        std::unique_ptr<ldns_rr, RrDeleter> rr(raw);
        if (status != LDNS_STATUS_OK || !rr) {
            std::string rdata;
            for (std::size_t k = type_index + 1; k < e.tokens.size(); ++k)
                rdata += (rdata.empty() ? "" : " ") + e.tokens[k];
            diags_.error(file, e.line,
                         "bad record: " + std::string(ldns_get_errorstr_by_id(status)) + " (" + type + " " +
                             rdata + ")");
            return;
        }
        std::unique_ptr<ldns_buffer, BufferDeleter> buf(ldns_buffer_new(512));
        if (ldns_rr_rdata2buffer_wire(buf.get(), rr.get()) != LDNS_STATUS_OK) {
            diags_.error(file, e.line, "bad record: rdata cannot be encoded");
            return;
        }
        const std::size_t size = ldns_buffer_position(buf.get());
        if (size > 0xffff) {
            diags_.error(file, e.line, "bad record: rdata longer than 65535 bytes");
            return;
        }
        Record record;
        record.owner = owner;
        record.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr.get()));
        record.rclass = 1;
        record.ttl = *ttl;
        record.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(buf.get())), size);
        record.file = file;
        record.line = e.line;
        records_.push_back(std::move(record));
    }

    Diagnostics& diags_;
    const ReadOptions& options_;
    std::vector<Record> records_;
    unsigned includes_ = 0;  ///< $INCLUDE files read so far
    std::string last_owner_;
    std::optional<std::uint32_t> default_ttl_;
    std::optional<std::uint32_t> last_ttl_;
};

}  // namespace

std::vector<Record> read_zone_file(const std::string& path, std::string_view origin_wire, Diagnostics& diags,
                                   const ReadOptions& options) {
    Reader reader(diags, options);
    reader.read_file(path, std::string(origin_wire), 0, {}, 0);
    return reader.take();
}

std::vector<Record> read_zone_text(std::string_view text, const std::string& name,
                                   std::string_view origin_wire, Diagnostics& diags,
                                   const ReadOptions& options) {
    Reader reader(diags, options);
    reader.read_text(text, name, std::string(origin_wire), 0);
    return reader.take();
}

std::string type_name(std::uint16_t type) {
    const ldns_rr_descriptor* d = ldns_rr_descript(type);
    if (d && d->_name) return d->_name;
    return "TYPE" + std::to_string(type);
}

}  // namespace dnsd::zones
