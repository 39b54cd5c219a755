#pragma once
/// The immutable health view the query path reads: one bit per probed
/// address and the operator's override per site. Built by the state thread
/// on every change and published through a SnapshotSlot; workers only read.

#include <cstdint>
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

struct Snapshot {
    std::vector<std::uint8_t> up;     ///< per address index of the steer::Catalog: 1 when up
    std::vector<Override> overrides;  ///< per site index of the steer::Catalog
    std::uint64_t generation = 0;     ///< increases with every published change
};

}  // namespace dnsd::health
