#pragma once
/// Name tables: the names the configuration file gives the values of a
/// closed set, one table per set. Reading a value, printing it (config.hpp's
/// parse_* and to_string) and the messages that list the accepted names all
/// read the same table, so none of them can drift from the others.
/// Private to dnsd/config. Immutable: safe from any thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/config/config.hpp"

namespace dnsd::config {

/// One value of a set and its name.
template <class Value>
struct Named {
    Value value;
    const char* name;
    /// False for a value the file writes some other way (a fallback site is
    /// written as the site's own name): printed by this name, never read.
    bool keyword = true;
};

/// "a", "a or b", "a, b or c" (`last` = " or ").
std::string join(const std::vector<std::string>& names, std::string_view last);

template <class Value, std::size_t N>
struct NameTable {
    const char* what;  ///< a value of the set with its article ("a policy"), for messages
    std::array<Named<Value>, N> entries;

    /// The value whose keyword is `text` (case-sensitive), or nothing.
    constexpr std::optional<Value> parse(std::string_view text) const noexcept {
        for (const auto& e : entries)
            if (e.keyword && text == e.name) return e.value;
        return std::nullopt;
    }

    /// The value's name; "?" only for a value missing from the table, which
    /// the tests rule out.
    constexpr const char* name(Value value) const noexcept {
        for (const auto& e : entries)
            if (e.value == value) return e.name;
        return "?";
    }

    /// The keywords in the table's order, for a message: "http, https, tcp,
    /// dns or exec"; `quoted`: "\"all\", \"none\"".
    std::string list(std::string_view last, bool quoted = false) const {
        std::vector<std::string> names;
        for (const auto& e : entries)
            if (e.keyword) names.push_back(quoted ? "\"" + std::string(e.name) + "\"" : e.name);
        return join(names, last);
    }

    /// The names of `values`, in the table's order: "http and https".
    std::string list(std::initializer_list<Value> values, std::string_view last) const {
        std::vector<std::string> names;
        for (const auto& e : entries)
            for (const auto v : values)
                if (e.value == v) names.push_back(e.name);
        return join(names, last);
    }
};

inline constexpr NameTable<Probe::Kind, 5> kProbeKinds{"a probe type",
                                                       {{{Probe::Kind::http, "http"},
                                                         {Probe::Kind::https, "https"},
                                                         {Probe::Kind::tcp, "tcp"},
                                                         {Probe::Kind::dns, "dns"},
                                                         {Probe::Kind::exec, "exec"}}}};

inline constexpr NameTable<Service::Policy, 4> kPolicies{"a policy",
                                                         {{{Service::Policy::nearest, "nearest"},
                                                           {Service::Policy::failover, "failover"},
                                                           {Service::Policy::weighted, "weighted"},
                                                           {Service::Policy::all, "all"}}}};

inline constexpr NameTable<Service::Fallback, 3> kFallbacks{"a fallback",
                                                            {{{Service::Fallback::all, "all"},
                                                              {Service::Fallback::none, "none"},
                                                              {Service::Fallback::site, "site", false}}}};

/// Without the key there is none: "none" is no keyword (SPEC 9 has one value).
inline constexpr NameTable<Service::Stickiness, 2> kStickiness{
    "a stickiness mode",
    {{{Service::Stickiness::none, "none", false}, {Service::Stickiness::client, "client"}}}};

inline constexpr NameTable<Alert::Kind, 2> kAlertKinds{
    "an alert type", {{{Alert::Kind::webhook, "webhook"}, {Alert::Kind::exec, "exec"}}}};

inline constexpr NameTable<TsigKey::Algorithm, 3> kTsigAlgorithms{
    "a TSIG algorithm",
    {{{TsigKey::Algorithm::hmac_sha256, "hmac-sha256"},
      {TsigKey::Algorithm::hmac_sha384, "hmac-sha384"},
      {TsigKey::Algorithm::hmac_sha512, "hmac-sha512"}}}};

/// dns probes: the query types they may ask, by name.
inline constexpr NameTable<std::uint16_t, 6> kQueryTypes{
    "a query type", {{{1, "A"}, {28, "AAAA"}, {2, "NS"}, {6, "SOA"}, {15, "MX"}, {16, "TXT"}}}};

/// dns probes: the rcodes they may expect, by name.
inline constexpr NameTable<unsigned, 6> kRcodes{
    "an rcode",
    {{{0, "NOERROR"}, {1, "FORMERR"}, {2, "SERVFAIL"}, {3, "NXDOMAIN"}, {4, "NOTIMP"}, {5, "REFUSED"}}}};

}  // namespace dnsd::config
