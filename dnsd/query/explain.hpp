#pragma once
/// Why a service answers a client as it does (SPEC 4), as a value: the
/// client and where its address came from, its location and the source of
/// that, the health the decision saw, and for each address family the trace
/// of the very decide() that answers A and AAAA, with its answer, TTL and
/// ECS scope. Rendered as lines of text by render(): the CH TXT
/// explanation writes each line as a TXT string, the control endpoint's
/// /explain returns them as JSON. One decision, two renderings.
///
/// explain() and render() allocate nothing and take no lock (CH TXT
/// explanations are answered on the query path); any thread.

#include <cstdint>
#include <string_view>

#include "dnsd/query/answer.hpp"
#include "dnsd/query/steering.hpp"
#include "dnsd/steer/decide.hpp"

namespace dnsd::query {

struct Explanation {
    const View* view = nullptr;
    const steer::Service* service = nullptr;
    Address from;       ///< the packet's source address
    Whereabouts where;  ///< the address located, how, and where it is
    std::uint8_t vantage_points = 1, quorum = 1;
    bool depends = false;    ///< the answer depends on the client (nearest)
    std::uint32_t ttl = 0;   ///< the TTL of its answers now (SPEC 9: degraded, capped)
    bool degraded = false;   ///< ttl_degraded applies
    std::int64_t at_ms = 0;  ///< when the state thread worked out the holds (Unix ms; 0: none)
    bool sticky = false;     ///< the service has stickiness: `prefix` keys the client
    ClientPrefix prefix;
    struct Answer {
        steer::Trace trace;
        steer::Choice choice;
        std::uint8_t scope = 0;  ///< the ECS scope of the answer
    };
    Answer v4, v6;
};

/// The explanation of the `service`th service of `view` for `client` (with
/// `subnet`, as the query's ECS carried it). Steers with a copy of the
/// client's random source, so that explaining does not move the rotation
/// of real answers.
Explanation explain(const View& view, std::size_t service, const Subnet& subnet,
                    const Client& client) noexcept;

/// What a line of an explanation is about.
enum class LineScope : std::uint8_t { both, v4, v6 };

/// Receives the lines of an explanation, one at a time.
class LineSink {
public:
    virtual void line(LineScope scope, std::string_view text) noexcept = 0;

protected:
    ~LineSink() = default;
};

/// The explanation as lines of at most 255 bytes (one TXT string each).
void render(const Explanation& e, LineSink& out) noexcept;

/// The service at `name` (lower-cased wire name with its label offsets),
/// or -1.
std::int32_t service_at(const View& view, const std::uint8_t* lower_name, const std::uint8_t* offsets,
                        unsigned labels, std::size_t size) noexcept;

/// The service at the wire name `name` (any case), or -1.
std::int32_t service_named(const View& view, std::string_view name) noexcept;

}  // namespace dnsd::query
