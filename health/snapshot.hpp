#pragma once
/// The immutable health view the query path reads: one bit per probed
/// address and the operator's override per site. Built by the state thread
/// on every change and published through a SnapshotSlot; workers only read.
///
/// Part of the pure health model (with rise_fall.hpp and cluster.hpp): no
/// I/O, no Asio; steering reads it, the board writes it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dnsd::health {

/// An operator's override of a site (SPEC section 3). `none` is "auto":
/// the probes decide.
enum class Override : std::uint8_t { none, up, down, drain };

inline const char* to_string(Override o) noexcept {
    switch (o) {
        case Override::none:
            return "auto";
        case Override::up:
            return "up";
        case Override::down:
            return "down";
        case Override::drain:
            return "drain";
    }
    return "auto";
}

/// The override named `text` as to_string() prints it ("auto", "up",
/// "down", "drain"), or nothing.
inline std::optional<Override> parse_override(std::string_view text) noexcept {
    for (Override o : {Override::none, Override::up, Override::down, Override::drain})
        if (text == to_string(o)) return o;
    return std::nullopt;
}

/// What health.server and the status page show of one address.
struct AddressInfo {
    bool probed = false;
    std::int64_t since = 0;   ///< Unix time of the last change of state (or of start)
    bool has_result = false;  ///< a probe has completed
    bool last_ok = false;
    std::uint32_t latency_ms = 0;
    std::string message;  ///< the last probe's message
};

/// A site's state for one address family, as steering reads it. Computed
/// once per snapshot by steering (steer::fill_site_states, called by the
/// publisher) so that a query does not
/// count a site's addresses up again. No member initializers on purpose:
/// decide() keeps an array of these on the stack, filled as it goes.
struct SiteState {
    Override ov;
    bool is_cname;
    bool usable;          ///< up, not drained (nor forced down)
    bool drained;         ///< up but drained
    std::uint32_t up;     ///< addresses of the family up (all of them under override up)
    std::uint32_t total;  ///< addresses of the family
};

struct Snapshot {
    std::vector<std::uint8_t> up;     ///< per address index of the steer::Catalog: 1 when up
    std::vector<Override> overrides;  ///< per site index of the steer::Catalog
    std::vector<AddressInfo> info;    ///< per address index; may be empty (tests)
    std::uint64_t generation = 0;     ///< increases with every published change
    std::uint64_t catalog_id = 0;     ///< the steer::Catalog::id the indices refer to
    /// With a [cluster]: the vantage points whose verdicts counted, and the
    /// quorum (1 and 1 without one).
    std::uint8_t vantage_points = 1;
    std::uint8_t quorum = 1;
    /// Per site index * 2 (+1 for IPv6), from `up` and `overrides`; empty
    /// when not filled (tests): steering then works them out per query.
    std::vector<SiteState> sites{};
};

}  // namespace dnsd::health
