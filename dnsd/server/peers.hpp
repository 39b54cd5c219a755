#pragma once
/// Asks the other instances of a [cluster] for their own probe verdicts
/// (GET /cluster/verdicts on their control endpoints) every interval, with
/// a timeout, and with a doubling wait while a peer does not answer.
///
/// Runs on the state thread's io_context; `changed` is called there after
/// every answer or failure, and the server merges what is fresh.

#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"

namespace dnsd::server {

struct PeerState {
    std::string url;
    bool tried = false;                               ///< asked at least once (at start, not yet)
    bool reachable = false;                           ///< the last request was answered
    std::string error;                                ///< why not, when not
    std::string instance;                             ///< its identity, from its answer
    std::chrono::steady_clock::time_point fetched{};  ///< of the last answer
    std::map<std::string, bool> verdicts;             ///< "site/address" -> up
    /// Its own last good load readings (SPEC 10): site -> value, and how
    /// old the reading was when it answered.
    struct Load {
        double value = 0;
        std::int64_t age_ms = 0;
    };
    std::map<std::string, Load> loads;
};

class Peers {
public:
    Peers(boost::asio::io_context& io, const config::Cluster& cluster, std::function<void()> changed);
    ~Peers();  ///< stops; requests in flight end by themselves
    Peers(const Peers&) = delete;
    Peers& operator=(const Peers&) = delete;

    const std::vector<PeerState>& states() const noexcept;
    /// Answered within the last few intervals: its verdicts count.
    bool fresh(const PeerState& p) const noexcept;

    struct Shared;  ///< kept alive by the requests in flight

private:
    std::shared_ptr<Shared> shared_;
};

}  // namespace dnsd::server
