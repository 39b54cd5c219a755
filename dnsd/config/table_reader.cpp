#include "dnsd/config/table_reader.hpp"

#include "dnsd/core/name.hpp"

namespace dnsd::config {

std::optional<std::string> absolute_name(std::string_view text, bool root_allowed) {
    if (text.empty()) return std::nullopt;
    std::string absolute(text);
    if (absolute.back() != '.') absolute += '.';
    auto wire = name_from_text(absolute);
    // Only "." is the root: every other name has a label.
    if (!wire || (!root_allowed && text == ".")) return std::nullopt;
    return wire;
}

TableReader::TableReader(const toml::table& table, std::string prefix, Report& report)
    : table_(table), prefix_(std::move(prefix)), report_(report), unknown_(report.spot(line_of(table))) {}

TableReader::~TableReader() {
    for (const auto& [k, v] : table_) {
        const std::string_view name = k.str();
        if (std::find(asked_.begin(), asked_.end(), name) != asked_.end()) continue;
        report_.error(Spot{line_of(v), unknown_.place}, key(name), "unknown key");
    }
}

std::string TableReader::key(std::string_view name) const {
    return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
}

const toml::node* TableReader::get(std::string_view name) {
    if (std::find(asked_.begin(), asked_.end(), name) == asked_.end()) asked_.emplace_back(name);
    return table_.get(name);
}

const toml::table* TableReader::table(std::string_view name, std::string_view expected) {
    const auto* n = get(name);
    if (!n) return nullptr;
    if (const auto* t = n->as_table()) return t;
    error(*n, name, expected);
    return nullptr;
}

const toml::array* TableReader::tables(std::string_view name) {
    const auto* n = get(name);
    if (!n) return nullptr;
    if (const auto* a = n->as_array(); a && a->is_array_of_tables()) return a;
    error(*n, name, "expected [[" + key(name) + "]] entries");
    return nullptr;
}

bool TableReader::require(std::string_view name, std::string_view what) {
    if (has(name)) return true;
    error(name, "missing (" + std::string(what) + ")");
    return false;
}

void TableReader::error(std::string_view name, std::string_view message) {
    error(line(), name, message);
}

void TableReader::error(const toml::node& at, std::string_view name, std::string_view message) {
    error(line_of(at), name, message);
}

void TableReader::error(int line, std::string_view name, std::string_view message) {
    if (!quiet_) report_.error(line, key(name), message);
}

Got TableReader::string(std::string_view name, std::string& field) {
    return string(
        name, field, [](std::string_view text) { return std::optional<std::string>(text); },
        [](std::string_view) { return std::string(); });
}

Got TableReader::integers(std::string_view name, std::int64_t min, std::int64_t max,
                          std::vector<unsigned>& field) {
    const auto* n = get(name);
    if (!n) return Got::absent;
    std::vector<unsigned> out;
    auto one = [&](const toml::node& item) {
        const auto* i = item.as_integer();
        if (!i)
            error(item, name, "expected an integer");
        else if (i->get() < min || i->get() > max)
            error(item, name,
                  "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
        else
            out.push_back(static_cast<unsigned>(i->get()));
    };
    if (n->is_integer()) {
        one(*n);
    } else if (const auto* a = n->as_array(); a && !a->empty()) {
        for (const auto& item : *a) one(item);
    } else {
        error(*n, name, "expected an integer or a non-empty list of integers");
    }
    field = std::move(out);
    return field.empty() ? Got::bad_value : Got::value;
}

Got TableReader::duration(std::string_view name, Duration min, Duration& field) {
    const auto* n = get(name);
    if (!n) return Got::absent;
    const auto* s = n->as_string();
    const auto d = s ? parse_duration(s->get()) : std::nullopt;
    if (!d) {
        error(*n, name, "expected a duration such as \"500ms\", \"2s\" or \"1m\"");
        return s ? Got::bad_value : Got::wrong_type;
    }
    if (*d < min) {
        error(*n, name, "must be at least " + std::to_string(min.count()) + "ms");
        return Got::bad_value;
    }
    field = *d;
    return Got::value;
}

Got TableReader::boolean(std::string_view name, bool& field) {
    const auto* n = get(name);
    if (!n) return Got::absent;
    const auto* b = n->as_boolean();
    if (!b) {
        error(*n, name, "expected true or false");
        return Got::wrong_type;
    }
    field = b->get();
    return Got::value;
}

Got TableReader::domain_name(std::string_view name, bool root_allowed, std::string& wire) {
    return string(
        name, wire, [&](std::string_view text) { return absolute_name(text, root_allowed); },
        is_not("a domain name"));
}

namespace {
std::optional<std::string> non_empty(std::string_view text) {
    return text.empty() ? std::nullopt : std::optional<std::string>(text);
}
std::string empty_path(std::string_view) {
    return "empty path";
}
}  // namespace

Got TableReader::path(std::string_view name, std::string& field) {
    return string(name, field, non_empty, empty_path);
}

Got TableReader::paths(std::string_view name, std::vector<std::string>& field) {
    return list(name, field, non_empty, empty_path);
}

Got TableReader::command(std::string_view name, bool empty_script_allowed, std::vector<std::string>& argv) {
    const auto* n = get(name);
    if (!n) return Got::absent;
    std::vector<std::string> out;
    const auto* script = n->as_string();
    if (script) {
        out = {"/bin/sh", "-c", script->get()};
    } else {
        for (auto& item : strings(*n, name)) out.push_back(std::move(item.text));
    }
    if (out.empty() || out[0].empty() || (script && script->get().empty() && !empty_script_allowed)) {
        error(*n, name, "expected a command line or a non-empty list (argv)");
        return Got::bad_value;
    }
    argv = std::move(out);
    return Got::value;
}

Got TableReader::string_table(std::string_view name,
                              const std::function<void(const Item&, const Item&)>& take) {
    const auto* n = get(name);
    if (!n) return Got::absent;
    const auto* t = n->as_table();
    if (!t) {
        error(*n, name, "expected a table of strings ({ \"KEY\" = \"VALUE\" })");
        return Got::wrong_type;
    }
    // toml++ keeps keys sorted; findings follow the file.
    std::vector<std::pair<const toml::key*, const toml::node*>> pairs;
    for (const auto& [k, v] : *t) pairs.emplace_back(&k, &v);
    std::stable_sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
        const auto &x = a.first->source().begin, &y = b.first->source().begin;
        return x.line != y.line ? x.line < y.line : x.column < y.column;
    });
    for (const auto& [k, v] : pairs) {
        const std::string key(k->str());
        if (const auto* s = v->as_string())
            take({key, static_cast<int>(k->source().begin.line)}, {s->get(), line_of(*v)});
        else
            error(*v, name, "expected a string for '" + key + "'");
    }
    return Got::value;
}

std::vector<Item> TableReader::strings(const toml::node& node, std::string_view name) {
    std::vector<Item> out;
    if (const auto* s = node.as_string()) {
        out.push_back({s->get(), line_of(node)});
    } else if (const auto* a = node.as_array()) {
        for (const auto& item : *a) {
            if (const auto* s2 = item.as_string())
                out.push_back({s2->get(), line_of(item)});
            else
                error(item, name, "expected a string");
        }
    } else {
        error(node, name, "expected a list of strings");
    }
    return out;
}

}  // namespace dnsd::config
