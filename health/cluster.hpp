#pragma once
/// Several vantage points, one verdict (SPEC section 8): an address is down
/// only when `quorum` vantage points that have a verdict on it see it down.
/// Unreachable and stale peers are left out by the caller; when fewer
/// vantage points than `quorum` have a verdict, those that do decide (this
/// instance's own view at the least), and the result says it is degraded.
///
/// A pure function, so that the rule is tested on its own.

#include <cstdint>
#include <span>
#include <vector>

namespace dnsd::health {

/// One vantage point's view of one address.
enum class Verdict : std::uint8_t { unknown, up, down };

struct Merged {
    std::vector<std::uint8_t> up;  ///< per address: 1 when up
    unsigned vantage_points = 1;   ///< this instance and the peers that count
    bool degraded = false;         ///< fewer vantage points than the quorum
};

/// `own[a]`: this instance's verdicts; `peers[p][a]`: each fresh peer's, by
/// the same address index (shorter vectors: unknown past their end).
/// Addresses no one has a verdict on are up (SPEC 3: until the first
/// verdict an address counts as up).
Merged merge(std::span<const Verdict> own, const std::vector<std::vector<Verdict>>& peers, unsigned quorum);

}  // namespace dnsd::health
