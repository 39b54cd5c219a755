#pragma once
/// TableReader: reads one TOML table of the configuration. Its typed
/// getters report what is wrong with a value as `KEY: message` at the
/// value's line, and record the keys they were asked for; when the reader
/// goes, every other key of the table is reported as an unknown key. An
/// option is therefore one getter call: no list of known keys to keep in
/// step with the getters.
///
/// Private to dnsd/config, and the only header that includes toml++. A
/// reader lives on the stack of the function reading its table, on the
/// reading thread.

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/config/names.hpp"
#include "dnsd/config/report.hpp"
#include "dnsd/core/duration.hpp"

namespace dnsd::config {

/// What a getter found.
enum class Got : std::uint8_t {
    absent,      ///< no such key: the field keeps its default
    value,       ///< stored in the field
    wrong_type,  ///< reported; the field is unchanged
    bad_value,   ///< the right type but refused (range, syntax): reported; the field is unchanged
};

/// False when the value was there and refused.
constexpr bool good(Got got) noexcept {
    return got == Got::absent || got == Got::value;
}

/// One string of a list, with its line.
struct Item {
    std::string text;
    int line = 0;
};

/// The line a node starts on.
inline int line_of(const toml::node& node) {
    return static_cast<int>(node.source().begin.line);
}

/// "'TEXT' is not WHAT": the message of most refused strings.
inline auto is_not(std::string what) {
    return [what = std::move(what)](std::string_view text) {
        return "'" + std::string(text) + "' is not " + what;
    };
}

/// `text` with a final dot added when it lacks one, as wire format: the
/// configuration writes absolute names, with or without the final dot.
/// nullopt for an empty or malformed name, and for the root unless
/// `root_allowed`.
std::optional<std::string> absolute_name(std::string_view text, bool root_allowed);

class TableReader {
public:
    /// Reads `table`, whose keys findings name `prefix.KEY` (`KEY` with an
    /// empty prefix: the top level). The unknown keys will be reported in
    /// the place that is current now, before whatever the getters report.
    TableReader(const toml::table& table, std::string prefix, Report& report);
    /// Reports every key that no getter asked for as an unknown key.
    ~TableReader();
    TableReader(const TableReader&) = delete;
    TableReader& operator=(const TableReader&) = delete;

    const std::string& prefix() const noexcept { return prefix_; }
    /// The table's own line.
    int line() const noexcept { return line_of(table_); }
    Report& report() noexcept { return report_; }
    /// `prefix.name`, as findings name the key.
    std::string key(std::string_view name) const;

    /// Whether the table has `name`. Does not count as asking for it.
    bool has(std::string_view name) const { return table_.contains(name); }
    /// The value of `name`, or nullptr; either way `name` is a known key
    /// from now on.
    const toml::node* get(std::string_view name);

    /// The table at `name`, or nullptr: absent, or not a table (then
    /// reported with `expected` as the message).
    const toml::table* table(std::string_view name, std::string_view expected);
    /// The [[name]] entries at `name`, or nullptr: absent, or not an array
    /// of tables (then reported). Every element of the result is a table.
    const toml::array* tables(std::string_view name);

    /// From now on findings about values are dropped: the table is refused
    /// already (say, for an unknown type) and the rest would be noise. The
    /// getters still record their keys, so only the unknown keys are
    /// reported.
    void quiet() noexcept { quiet_ = true; }

    /// Whether the table has `name`; when not, reports `prefix.name:
    /// missing (WHAT)` at the table's line. Does not count as asking for it.
    bool require(std::string_view name, std::string_view what);

    /// `prefix.name: message` at the table's line, at `node`'s, or at `line`.
    void error(std::string_view name, std::string_view message);
    void error(const toml::node& at, std::string_view name, std::string_view message);
    void error(int line, std::string_view name, std::string_view message);
    /// A spot for findings a later step makes (Report::spot) about the
    /// value at `line`, or about the value of `name` (which the table has).
    Spot spot(int line) { return report_.spot(line); }
    Spot spot_at(std::string_view name) { return spot(line_of(*get(name))); }

    // The getters. When `name` is absent they leave the field alone and
    // return Got::absent. When its value is acceptable they store it and
    // return Got::value. Otherwise they report why and return wrong_type
    // or bad_value, leaving the field alone.

    Got string(std::string_view name, std::string& field);
    /// A string that `accept` (text -> std::optional<T>, T assignable to
    /// the field) takes; when it returns nothing, `why(text)` is the message.
    template <class Field, class Accept, class Why>
    Got string(std::string_view name, Field& field, Accept accept, Why why);
    /// An integer within min..max.
    template <class Int>
    Got integer(std::string_view name, std::int64_t min, std::int64_t max, Int& field);
    /// An integer, or a non-empty list of them, within min..max. Refused
    /// items are reported and left out; bad_value when none is left.
    Got integers(std::string_view name, std::int64_t min, std::int64_t max, std::vector<unsigned>& field);
    /// A duration string ("500ms", "2s", "1m") of at least `min`.
    Got duration(std::string_view name, Duration min, Duration& field);
    Got boolean(std::string_view name, bool& field);
    /// One of the table's keywords.
    template <class Value, std::size_t N>
    Got enum_value(std::string_view name, const NameTable<Value, N>& names, Value& field);
    /// { lat = DEGREES, lon = DEGREES }; Field is Location or an optional of it.
    template <class Field>
    Got location(std::string_view name, Field& field);
    /// An absolute domain name (absolute_name()), as wire format.
    Got domain_name(std::string_view name, bool root_allowed, std::string& wire);
    /// A command: a string is run by /bin/sh -c, a list is the argv.
    /// Refused when there is no program. An empty shell string is refused
    /// too unless `empty_script_allowed`.
    Got command(std::string_view name, bool empty_script_allowed, std::vector<std::string>& argv);
    /// A non-empty path, as written: resolve() makes it absolute.
    Got path(std::string_view name, std::string& field);
    /// A list of them (list()).
    Got paths(std::string_view name, std::vector<std::string>& field);
    /// A list of strings (a single string is a list of one), each taken by
    /// `accept` (as for string()) and, when `unique`, not listed twice. The
    /// taken values replace the field; bad_value when any was refused.
    /// Items that are not strings are reported and left out; a value that
    /// is neither a list nor a string is reported and reads as no items.
    template <class T, class Accept, class Why>
    Got list(std::string_view name, std::vector<T>& field, Accept accept, Why why, bool unique = false);

    /// A table of strings (`{ "KEY" = "VALUE", ... }`): `take(key, value)`
    /// is called for each pair, with their lines, in the order of the file
    /// (it reports what it refuses); values that are not strings are
    /// reported in their place and skipped. A value that is not a table is
    /// reported (wrong_type).
    Got string_table(std::string_view name, const std::function<void(const Item&, const Item&)>& take);

    /// The strings of a list at `node` (a single string is a list of one),
    /// with their lines; what is not a string is reported and left out.
    std::vector<Item> strings(const toml::node& node, std::string_view name);

private:
    const toml::table& table_;
    std::string prefix_;
    Report& report_;
    Spot unknown_;  ///< where the unknown keys are reported
    std::vector<std::string> asked_;
    bool quiet_ = false;
};

template <class Field, class Accept, class Why>
Got TableReader::string(std::string_view name, Field& field, Accept accept, Why why) {
    const auto* n = get(name);
    if (!n) return Got::absent;
    const auto* s = n->as_string();
    if (!s) {
        error(*n, name, "expected a string");
        return Got::wrong_type;
    }
    auto value = accept(s->get());
    if (!value) {
        error(*n, name, why(s->get()));
        return Got::bad_value;
    }
    field = std::move(*value);
    return Got::value;
}

template <class Int>
Got TableReader::integer(std::string_view name, std::int64_t min, std::int64_t max, Int& field) {
    const auto* n = get(name);
    if (!n) return Got::absent;
    const auto* i = n->as_integer();
    if (!i) {
        error(*n, name, "expected an integer");
        return Got::wrong_type;
    }
    if (i->get() < min || i->get() > max) {
        error(*n, name, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
        return Got::bad_value;
    }
    field = static_cast<Int>(i->get());
    return Got::value;
}

template <class Value, std::size_t N>
Got TableReader::enum_value(std::string_view name, const NameTable<Value, N>& names, Value& field) {
    return string(
        name, field, [&](std::string_view text) { return names.parse(text); },
        [&](std::string_view text) {
            return "'" + std::string(text) + "' is not " + names.what + " (" + names.list(" or ") + ")";
        });
}

template <class Field>
Got TableReader::location(std::string_view name, Field& field) {
    const auto* n = get(name);
    if (!n) return Got::absent;
    const auto* t = n->as_table();
    auto number = [](const toml::node* x) -> std::optional<double> {
        if (!x) return std::nullopt;
        if (const auto* f = x->as_floating_point()) return f->get();
        if (const auto* i = x->as_integer()) return static_cast<double>(i->get());
        return std::nullopt;
    };
    const auto lat = number(t ? t->get("lat") : nullptr), lon = number(t ? t->get("lon") : nullptr);
    if (!t || !lat || !lon || t->size() != 2) {
        error(*n, name, "expected { lat = DEGREES, lon = DEGREES }");
        return Got::wrong_type;
    }
    if (*lat < -90 || *lat > 90 || *lon < -180 || *lon > 180) {
        error(*n, name, "lat must be within -90..90 and lon within -180..180");
        return Got::bad_value;
    }
    field = Location{*lat, *lon};
    return Got::value;
}

template <class T, class Accept, class Why>
Got TableReader::list(std::string_view name, std::vector<T>& field, Accept accept, Why why, bool unique) {
    const auto* n = get(name);
    if (!n) return Got::absent;
    Got got = Got::value;
    std::vector<T> taken;
    for (const auto& item : strings(*n, name)) {
        auto value = accept(item.text);
        if (!value) {
            error(item.line, name, why(item.text));
            got = Got::bad_value;
            continue;
        }
        if (unique && std::find(taken.begin(), taken.end(), *value) != taken.end()) {
            error(item.line, name, "'" + item.text + "' is listed twice");
            got = Got::bad_value;
            continue;
        }
        taken.push_back(std::move(*value));
    }
    field = std::move(taken);
    return got;
}

}  // namespace dnsd::config
