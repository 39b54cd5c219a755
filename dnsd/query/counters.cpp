#include "dnsd/query/counters.hpp"

namespace dnsd::query {

Counters::Counters(std::size_t zones, const std::vector<std::size_t>& sites_per_service, unsigned workers)
    : stripes_(workers == 0            ? 1
               : workers > kMaxStripes ? kMaxStripes
                                       : workers) {
    std::size_t n = (zones + 1) * kQuerySlots;
    for (auto sites : sites_per_service) {
        decision_base_.push_back(n);
        n += sites + kExtra;
    }
    // Padding of one cache line between stripes, so that two workers never
    // write the same line.
    stride_ = (n + 7) / 8 * 8 + 8;
    cells_ = std::make_unique<std::atomic<std::uint64_t>[]>(stride_ * stripes_);
}

std::uint64_t Counters::total(std::size_t i) const noexcept {
    std::uint64_t sum = 0;
    for (unsigned s = 0; s < stripes_; ++s) sum += cells_[s * stride_ + i].load(relaxed);
    return sum;
}

}  // namespace dnsd::query
