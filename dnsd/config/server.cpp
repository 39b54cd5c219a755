// [server] and [rate_limit].

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

#include "dnsd/config/sections.hpp"

namespace dnsd::config {
namespace {

// Each address once. An empty list is refused rather than read as "no
// sockets"; when every address is refused, the default stays (parse()).
void read_listen(TableReader& r, std::vector<Endpoint>& listen) {
    r.list("listen", listen, Endpoint::parse,
           is_not("an address with a port (\"127.0.0.1:53\", \"[::1]:53\")"), true);
    const auto* n = r.get("listen");
    if (const auto* a = n ? n->as_array() : nullptr;
        a && std::none_of(a->begin(), a->end(), [](const toml::node& item) { return item.is_string(); }))
        r.error(*n, "listen", "expected at least one address");
}

// It is sent as one TXT string.
std::optional<std::string> identity(std::string_view text) {
    return text.size() > 255 ? std::nullopt : std::optional<std::string>(text);
}

// A secondary's address, with its port or the DNS port.
std::optional<Endpoint> secondary(std::string_view text) {
    auto ep = Endpoint::parse(text);
    if (!ep)
        if (auto a = Address::parse(text)) ep = Endpoint{*a, 53};
    return ep;
}

// "16MiB", "512KiB", "1GiB" or a number of bytes; at most 64 GiB.
std::optional<std::uint64_t> size(std::string_view text) {
    std::uint64_t n = 0;
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
        if (n > (std::uint64_t{64} << 30)) return std::nullopt;
    }
    if (i == 0) return std::nullopt;
    const std::string_view unit = text.substr(i);
    const unsigned shift = unit.empty()    ? 0
                           : unit == "KiB" ? 10
                           : unit == "MiB" ? 20
                           : unit == "GiB" ? 30
                                           : 99;
    if (shift == 99 || n > (std::uint64_t{64} << 30) >> shift) return std::nullopt;
    return n << shift;
}

}  // namespace

void read_server(TableReader& r, Draft& d) {
    Server& s = d.config.server;
    const auto acl = is_not("an address or network (\"192.0.2.0/24\", \"::1\")");
    read_listen(r, s.listen);
    r.integer("threads", 0, 1024, s.threads);
    r.string("identity", s.identity, identity,
             [](std::string_view) { return "longer than 255 bytes (it is sent as one TXT string)"; });
    r.integer("udp_payload", 512, 4096, s.udp_payload);
    r.list("transfer_allow", s.transfer_allow.prefixes, Prefix::parse, acl);
    r.list("explain_allow", s.explain_allow.prefixes, Prefix::parse, acl);
    r.list("notify", s.notify, secondary,
           is_not("an address, with or without a port (\"192.0.2.53\", \"[::1]:5300\")"));
    if (r.string("transfer_key", s.transfer_key) == Got::value) d.transfer_key = r.spot_at("transfer_key");
    if (r.string("user", s.user) == Got::value) d.user = r.spot_at("user");
    r.integer("tcp_connections", 1, 65'535, s.tcp_connections);
    r.integer("tcp_per_client", 1, 65'535, s.tcp_per_client);
    r.duration("tcp_idle_timeout", Duration{100}, s.tcp_idle_timeout);
    r.duration("tcp_lifetime", Duration{1000}, s.tcp_lifetime);
    r.integer("ixfr_versions", 0, 10'000, s.ixfr_versions);
    r.string("ixfr_memory", s.ixfr_memory, size,
             is_not("a size up to 64GiB (\"16MiB\", \"512KiB\", \"1GiB\", or bytes)"));
    r.integer("query_log", 0, 1'000'000'000, s.query_log);
    r.string("state_file", s.state_file);  // empty: none; resolve() makes it absolute
}

void read_rate_limit(TableReader& r, Draft& d) {
    RateLimit& rate_limit = d.config.rate_limit;
    rate_limit.line = r.line();
    r.integer("responses_per_second", 0, 1'000'000, rate_limit.per_second);
    r.integer("burst", 0, 10'000'000, rate_limit.burst);
    r.integer("slip", 0, 10, rate_limit.slip);
}

}  // namespace dnsd::config
