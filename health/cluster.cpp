#include "health/cluster.hpp"

namespace dnsd::health {

Merged merge(std::span<const Verdict> own, const std::vector<std::vector<Verdict>>& peers, unsigned quorum) {
    Merged m;
    m.vantage_points = 1 + static_cast<unsigned>(peers.size());
    m.degraded = m.vantage_points < quorum;
    m.up.resize(own.size());
    for (std::size_t a = 0; a < own.size(); ++a) {
        unsigned seen = 0, down = 0;
        auto count = [&](Verdict v) {
            seen += v != Verdict::unknown;
            down += v == Verdict::down;
        };
        count(own[a]);
        for (const auto& p : peers) count(a < p.size() ? p[a] : Verdict::unknown);
        const unsigned needed = seen < quorum ? seen : quorum;
        m.up[a] = seen == 0 || down < needed ? 1 : 0;
    }
    return m;
}

}  // namespace dnsd::health
