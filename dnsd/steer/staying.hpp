#pragma once
/// Staying put (SPEC 9) for every service that asks for it: the hold-down
/// of sites that came back up (`failback`), the flap damping of addresses
/// (`damping`), and the TTL that follows health (`ttl_degraded`).
///
/// Owned by the state thread. On every new health snapshot it feeds the
/// address and site states to the health model's state machines
/// (health::Hold, health::Penalty), and writes what they decide into the
/// snapshot (health::ServiceView) before it is published: decide() only
/// reads it, and no query reads a clock.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/steer/catalog.hpp"
#include "health/snapshot.hpp"
#include "health/staying.hpp"

namespace dnsd::steer {

class Staying {
public:
    /// A change worth logging and alerting: a site held down or released,
    /// an address damped or reused, a service entering or leaving its
    /// fallback.
    struct Change {
        std::string kind;  ///< "hold", "damping", "fallback"
        std::string service, site, address;
        std::string state, previous;  ///< held/released, damped/reused, entered/left
        std::string text;             ///< one line for the log
    };

    /// What survives a restart, by name (so that it also survives a reload
    /// that reorders sites or services).
    struct Saved {
        struct HeldSite {
            health::Hold::Kind kind = health::Hold::Kind::timed;
            std::int64_t until_ms = 0;
        };
        struct Damped {
            double penalty = 0;
            std::int64_t since_ms = 0;
            bool suppressed = false;
        };
        /// "SERVICE SITE v4|v6" (service as text, without the final dot)
        std::map<std::string, HeldSite> holds;
        /// "SERVICE SITE/ADDRESS"
        std::map<std::string, Damped> penalties;
    };

    Staying() = default;
    Staying(const config::Config& cfg, std::shared_ptr<const Catalog> catalog);

    /// Works out the view of every service that stays put from `h` (its
    /// address states, overrides and site states filled) at `now_ms`, into
    /// h.services and h.published_ms. Returns the changes, none when
    /// `quiet` (start, reload).
    std::vector<Change> apply(health::Snapshot& h, std::int64_t now_ms, bool quiet);

    /// Whether anything counts down (a timed hold-down, a suppressed
    /// address): the state thread then works the views out again every
    /// second, so that holds end on time and TTLs stay below what is to come.
    bool counting() const noexcept;
    /// The soonest change known to come (a hold-down's end, a damped
    /// address's reuse), Unix ms; 0 when none.
    std::int64_t next_change_ms() const noexcept { return next_change_ms_; }

    /// `dnsdctl resume SERVICE SITE`: ends the hold-down of `site` (every
    /// held site when empty) for `service`. 404 when there is no such
    /// service or site in it, 409 when the service has no failback; else
    /// 200, `held` telling whether something was held.
    int resume(const std::string& service, const std::string& site, bool& held);

    /// Keeps the holds and penalties of services, sites and addresses in
    /// both (reload).
    void carry_over(const Staying& old);
    Saved saved() const;
    void restore(const Saved& saved);

private:
    struct PerService {
        std::string name;  ///< as text, without the final dot
        std::int64_t failback_ms = 0;
        bool manual = false;
        bool damping = false;
        std::uint32_t ttl = 30;
        std::uint32_t ttl_degraded = 30;
        /// Per site of the service * 2 (+1 for IPv6): where its addresses
        /// start among the service's own (penalties, figures, last_up).
        std::vector<std::uint32_t> first;
        std::vector<health::Hold> holds;
        std::vector<health::DampingFigures> figures;  ///< per address of the service
        std::vector<health::Penalty> penalties;
        std::vector<std::int8_t> last_up;  ///< -1: not seen yet
        std::int8_t fallback[2] = {-1, -1};
    };
    /// "SERVICE SITE v4|v6": a hold's name in the state file.
    std::string site_key(std::size_t service, std::size_t slot) const;
    /// Calls f(slot, address, local) for each address of the sites of
    /// `service` (one that stays put): its site's slot (* 2, +1 for IPv6),
    /// its catalog index, and its index among the service's own
    /// (penalties, figures, last_up).
    template <typename F>
    void each_address(std::size_t service, F f) const {
        const Service& svc = catalog_->services[service];
        const PerService& s = services_[service];
        for (std::size_t slot = 0; slot < svc.sites.size() * 2; ++slot) {
            const Range r = catalog_->sites[svc.sites[slot / 2]].family(slot % 2 ? Family::v6 : Family::v4);
            for (std::uint32_t k = 0; k < r.count; ++k) f(slot, r.first + k, s.first[slot] + k);
        }
    }
    std::string address_key(std::uint32_t address) const;

    std::shared_ptr<const Catalog> catalog_;
    std::vector<PerService> services_;  ///< per catalog service; only those that stay put have state
    bool counting_ = false;
    std::int64_t next_change_ms_ = 0;
    std::int64_t last_ms_ = 0;  ///< the time of the last apply()
};

}  // namespace dnsd::steer
