#pragma once
/// Master-file text (RFC 1035 5.1) cut into entries and tokens, and the
/// tokens every entry may hold (TTLs, classes).
///
/// The zone reader's first stage: no ldns, no records, only text. Tokens
/// are views of the text being read and keep their quotes and escapes, so
/// that joining them with spaces gives ldns the same text back.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/diagnostic.hpp"

namespace dnsd::zones {

/// One logical entry of a master file: the tokens of one line, or of several
/// lines joined by parentheses. `blank_owner` is set when the entry began
/// with white space (RFC 1035 5.1: the owner is the previous one). Tokens
/// are views of the text being read, valid until the next entry.
struct Entry {
    std::vector<std::string_view> tokens;
    int line = 0;
    bool blank_owner = false;
};

/// Splits master-file text into entries.
///
/// The text comes in windows (a file is read a megabyte at a time, so that
/// reading a large zone does not hold the whole file): an entry that the
/// window ends in the middle of is given back (`more`), and read again from
/// its start once the window has been refilled. Diagnostics of an entry are
/// held until the entry is complete, so that a second reading does not
/// repeat them.
class Tokenizer {
public:
    enum Result { entry, end, more };

    /// `file` names the text in diagnostics; both must outlive the tokenizer.
    Tokenizer(const std::string& file, Diagnostics& diags) : file_(file), diags_(diags) {}

    /// A new window; `last`: no text follows it. The window starts where the
    /// entry given back (or the text) starts.
    void reset(std::string_view text, bool last) {
        text_ = text;
        last_ = last;
        pos_ = 0;
    }
    /// Where the window's unread text starts.
    std::size_t pos() const noexcept { return pos_; }

    /// The next entry into `e`; `more` when the window ends inside it, `end`
    /// when the last window holds no more.
    Result next(Entry& e);

private:
    Result done();
    std::string_view token();

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

/// `s` in upper case (ASCII).
std::string upper(std::string_view s);

/// Equal but for ASCII case.
bool iequals(std::string_view a, std::string_view b);

/// A TTL as RFC 1035 numbers or with BIND-style units ("1h30m", "2d"); none
/// for anything else or above 2^31 - 1 (RFC 2181 8).
std::optional<std::uint32_t> parse_ttl(std::string_view s);

/// IN, or its RFC 3597 spelling CLASS1.
bool class_is_in(std::string_view token);

/// Any class mnemonic, or CLASSn: the token is a class, supported or not.
bool is_class(std::string_view token);

}  // namespace dnsd::zones
