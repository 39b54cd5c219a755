#pragma once
/// Reads each site's `load` URL (SPEC 10, spill-over) at its probe's
/// interval: the body is a plain number or {"utilization": x}, in 0..1.
/// Anything else (no answer, a status other than 200, a number out of
/// range) is an unreadable load, which counts as not overloaded.
///
/// Runs on the state thread's io_context; `changed` is called there when a
/// site's load or its readability changes.

#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"

namespace dnsd::server {

struct LoadReading {
    std::string site;
    std::string url;
    std::chrono::milliseconds interval{2000};
    bool tried = false;                               ///< read at least once (at start, not yet)
    bool ok = false;                                  ///< the last reading was a load
    double value = -1;                                ///< the last good reading
    std::string error;                                ///< why the last reading was not, when not
    std::chrono::steady_clock::time_point fetched{};  ///< of the last good reading
};

/// The body of a load URL's answer as a load in 0..1, or the reason it is
/// not one. Pure (unit tested).
bool parse_load(std::string_view body, double& value, std::string& error);

class Loads {
public:
    /// Starts reading every site of `sites` with a `load` URL; `previous`
    /// readings of the same site and URL are kept until read again.
    Loads(boost::asio::io_context& io, const std::vector<config::Site>& sites,
          const std::vector<LoadReading>& previous, std::function<void(const LoadReading&)> changed);
    ~Loads();  ///< stops; requests in flight end by themselves
    Loads(const Loads&) = delete;
    Loads& operator=(const Loads&) = delete;

    const std::vector<LoadReading>& readings() const noexcept;

    struct Shared;  ///< kept alive by the requests in flight

private:
    std::shared_ptr<Shared> shared_;
};

}  // namespace dnsd::server
