#pragma once
/// Rise/fall hysteresis of one probed address, as a plain value: an
/// address goes down after `fall` consecutive failures and comes back after
/// `rise` consecutive passes, so one lost probe never flips an answer.
/// Pure; any thread may use its own copy.

namespace dnsd::health {

class RiseFall {
public:
    explicit RiseFall(bool up = true) noexcept : up_(up) {}

    bool up() const noexcept { return up_; }
    /// Consecutive results against the current state (failures while up,
    /// passes while down).
    unsigned streak() const noexcept { return streak_; }

    /// Takes one probe result; returns true when the state changed.
    bool observe(bool ok, unsigned rise, unsigned fall) noexcept {
        if (ok == up_) {
            streak_ = 0;  // a result that agrees resets the count toward a change
            return false;
        }
        ++streak_;
        if (streak_ < (up_ ? fall : rise)) return false;
        up_ = !up_;
        streak_ = 0;
        return true;
    }

private:
    bool up_;
    unsigned streak_ = 0;
};

}  // namespace dnsd::health
