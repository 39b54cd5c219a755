#pragma once
/// Staying put (SPEC 9) as two small state machines over times they are
/// given: the hold-down of a site that came back up, and the flap damping
/// penalty of an address. Part of the pure health model: no clock, no I/O.
/// steer::Staying drives them on the state thread from each new snapshot
/// and publishes what they decide in it (health::ServiceView).

#include <cstdint>

namespace dnsd::health {

/// Damping figures as the model computes with them (config::Damping).
struct DampingFigures {
    double penalty = 1000;  ///< added per change of state
    double half_life_ms = 60000;
    double suppress = 2000;  ///< suppressed above this
    double reuse = 750;      ///< reused below this
};

/// One address's figure of merit (RFC 2439 4.2): a penalty per change of
/// state that decays exponentially; above `suppress` the address counts
/// as down until the penalty has decayed below `reuse`. (RFC 2439's
/// maximum suppression time is not applied: with the default figures a
/// penalty stops growing once the address stops changing, and then
/// reaches `reuse` within a few half-lives.)
class Penalty {
public:
    /// The penalty at `now_ms` (not before the last change).
    double at(std::int64_t now_ms, const DampingFigures& f) const noexcept;
    /// A change of state at `now_ms`: the penalty decayed to now, plus the
    /// figure per change. Returns true when it became suppressed.
    bool change(std::int64_t now_ms, const DampingFigures& f) noexcept;
    /// Reuse once the penalty has decayed below `reuse`. Returns true when
    /// that ended the suppression.
    bool update(std::int64_t now_ms, const DampingFigures& f) noexcept;
    bool suppressed() const noexcept { return suppressed_; }
    /// When the suppression ends by itself (Unix ms); 0 when not suppressed.
    std::int64_t reuse_at(const DampingFigures& f) const noexcept;
    /// Whether it still counts (a penalty of at least 1 at `now_ms`).
    bool active(std::int64_t now_ms, const DampingFigures& f) const noexcept;

    /// The raw state, for the state file: the penalty at `since_ms`.
    double value() const noexcept { return value_; }
    std::int64_t since_ms() const noexcept { return since_ms_; }
    static Penalty restored(double value, std::int64_t since_ms, bool suppressed) noexcept;

private:
    double value_ = 0;
    std::int64_t since_ms_ = 0;
    bool suppressed_ = false;
};

/// The hold-down of one site for one service and address family: once the
/// site comes back up it is held down for `failback`, or until resumed
/// when the failback is manual. Going down is never held.
class Hold {
public:
    enum class Kind : std::uint8_t { none, timed, manual };
    /// The site's state at `now_ms`, before any hold-down. Returns true
    /// when whether it is held changed.
    bool update(bool up, std::int64_t now_ms, std::int64_t failback_ms, bool manual) noexcept;
    /// An operator's `resume`; returns true when it was held.
    bool resume() noexcept;
    bool held() const noexcept { return kind_ != Kind::none; }
    Kind kind() const noexcept { return kind_; }
    std::int64_t until_ms() const noexcept { return until_ms_; }  ///< timed: when it ends

    /// A hold read back from the state file: held as it was, the site
    /// known up (a site restored held is one that had come back up).
    static Hold restored(Kind kind, std::int64_t until_ms) noexcept;

private:
    Kind kind_ = Kind::none;
    std::int64_t until_ms_ = 0;
    bool seen_ = false;  ///< whether was_up_ means anything yet
    bool was_up_ = false;
};

}  // namespace dnsd::health
