#include "health/staying.hpp"

#include <cmath>

namespace dnsd::health {

double Penalty::at(std::int64_t now_ms, const DampingFigures& f) const noexcept {
    if (value_ <= 0) return 0;
    const double dt = now_ms > since_ms_ ? static_cast<double>(now_ms - since_ms_) : 0.0;
    return value_ * std::exp2(-dt / f.half_life_ms);
}

bool Penalty::change(std::int64_t now_ms, const DampingFigures& f) noexcept {
    value_ = at(now_ms, f) + f.penalty;
    since_ms_ = now_ms;
    const bool before = suppressed_;
    if (value_ > f.suppress) suppressed_ = true;
    return suppressed_ && !before;
}

bool Penalty::update(std::int64_t now_ms, const DampingFigures& f) noexcept {
    if (!suppressed_ || at(now_ms, f) >= f.reuse) return false;
    suppressed_ = false;
    return true;
}

std::int64_t Penalty::reuse_at(const DampingFigures& f) const noexcept {
    if (!suppressed_ || value_ <= f.reuse) return suppressed_ ? since_ms_ : 0;
    // value * 2^(-t / half_life) = reuse  =>  t = half_life * log2(value / reuse)
    const double t = f.half_life_ms * std::log2(value_ / f.reuse);
    return since_ms_ + static_cast<std::int64_t>(std::ceil(t));
}

bool Penalty::active(std::int64_t now_ms, const DampingFigures& f) const noexcept {
    return suppressed_ || at(now_ms, f) >= 1;
}

Penalty Penalty::restored(double value, std::int64_t since_ms, bool suppressed) noexcept {
    Penalty p;
    p.value_ = value > 0 ? value : 0;
    p.since_ms_ = since_ms;
    p.suppressed_ = suppressed;
    return p;
}

bool Hold::update(bool up, std::int64_t now_ms, std::int64_t failback_ms, bool manual) noexcept {
    const bool before = held();
    if (!up) {
        kind_ = Kind::none;  // a site that is down is down, not held
    } else if (seen_ && !was_up_ && (manual || failback_ms > 0)) {
        kind_ = manual ? Kind::manual : Kind::timed;
        until_ms_ = manual ? 0 : now_ms + failback_ms;
    } else if (kind_ == Kind::timed && now_ms >= until_ms_) {
        kind_ = Kind::none;
    } else if (kind_ == Kind::manual && !manual) {
        kind_ = Kind::none;  // the failback is no longer manual (reload)
    } else if (kind_ == Kind::timed && (manual || failback_ms == 0)) {
        kind_ = manual ? Kind::manual : Kind::none;  // likewise
    }
    seen_ = true;
    was_up_ = up;
    return held() != before;
}

bool Hold::resume() noexcept {
    const bool was = held();
    kind_ = Kind::none;
    return was;
}

Hold Hold::restored(Kind kind, std::int64_t until_ms) noexcept {
    Hold h;
    h.kind_ = kind;
    h.until_ms_ = until_ms;
    h.seen_ = true;
    h.was_up_ = true;
    return h;
}

}  // namespace dnsd::health
