#pragma once
/// The end of a network exchange that has a timeout as a whole (a probe, an
/// alert delivery, a request to a peer), and how its errors read in logs and
/// messages. A plain value; any thread.

#include <boost/beast/core/error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace dnsd::net {

struct Deadline {
    std::chrono::steady_clock::time_point at;
    std::chrono::milliseconds timeout;

    std::string timed_out() const { return "timeout after " + std::to_string(timeout.count()) + "ms"; }

    /// "stage: error". An error at or past the deadline is the deadline's
    /// doing (the stream was cut off, whatever error that produced), so it
    /// reads as the timeout.
    std::string describe(std::string_view stage, const boost::system::error_code& ec) const {
        if (ec == boost::beast::error::timeout || std::chrono::steady_clock::now() >= at) return timed_out();
        return std::string(stage) + ": " + ec.message();
    }
};

}  // namespace dnsd::net
