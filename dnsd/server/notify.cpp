#include "dnsd/server/notify.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <random>

#include "dnsd/core/name.hpp"
#include "dnsd/net/address.hpp"
#include "dnsd/query/tsig.hpp"
#include "dnsd/server/worker.hpp"
#include "dnsd/wire/message.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::server {

namespace {

using asio::ip::udp;
using namespace std::chrono_literals;

/// The NOTIFY message: opcode NOTIFY, AA, one question (the zone's SOA) and,
/// as RFC 1996 3.7 allows, no answer: secondaries ask for the SOA themselves.
/// With a key, signed (RFC 8945): secondaries that are told the key
/// accept only signed NOTIFY.
std::vector<std::uint8_t> notify_message(std::uint16_t id, const std::string& origin,
                                         const std::optional<config::TsigKey>& key) {
    std::vector<std::uint8_t> m(wire::kHeaderSize + origin.size() + 4 + (key ? query::tsig_size(*key) : 0));
    std::size_t n =
        wire::build_question(m, id, static_cast<std::uint16_t>(wire::opcode::NOTIFY << 11 | wire::flag::AA),
                             origin, wire::type::SOA, wire::klass::IN);
    if (key && n) {
        query::TsigSigning s;
        s.key = &*key;
        s.time_signed = query::tsig_now();
        std::uint8_t mac[query::kMaxMac];
        std::size_t mac_size = 0;
        n = query::append_tsig(m, n, s, mac, mac_size);
    }
    m.resize(n);
    return m;
}

asio::awaitable<void> notify_one(Endpoint target, std::string origin, std::uint32_t serial,
                                 std::optional<config::TsigKey> key, NotifyPolicy policy) {
    auto ex = co_await asio::this_coro::executor;
    const std::string zone = name_to_text(origin);
    const udp::endpoint to = net::udp_endpoint(target);
    udp::socket socket(ex, to.protocol());
    std::random_device rd;
    const auto id = static_cast<std::uint16_t>(rd());
    // Signed once: a retry within the fudge (300 s) is as good, and the
    // attempts end well within it.
    const auto message = notify_message(id, origin, key);
    if (message.empty()) {
        spdlog::warn("notify {} serial {} to {}: cannot build the message", zone, serial, target.str());
        co_return;
    }
    std::uint8_t reply[512];
    auto wait = std::chrono::milliseconds(policy.first_wait_ms);
    for (unsigned attempt = 1; attempt <= policy.attempts; ++attempt, wait *= 2) {
        boost::system::error_code ec;
        co_await socket.async_send_to(asio::buffer(message), to,
                                      asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            spdlog::warn("notify {} serial {} to {}: {}", zone, serial, target.str(), ec.message());
        }
        // Wait for the acknowledgement: a reply from the target with our ID.
        asio::steady_timer timer(ex, wait);
        const auto deadline = std::chrono::steady_clock::now() + wait;
        bool answered = false;
        while (!answered && std::chrono::steady_clock::now() < deadline) {
            udp::endpoint from;
            std::size_t n = 0;
            timer.expires_at(deadline);
            timer.async_wait([&](const boost::system::error_code& e) {
                if (!e) socket.cancel();
            });
            n = co_await socket.async_receive_from(asio::buffer(reply), from,
                                                   asio::redirect_error(asio::use_awaitable, ec));
            timer.cancel();
            if (ec) break;  // timed out (cancelled), or an ICMP error: send again
            const auto header = wire::reply_header({reply, n});
            if (from != to || !header || header->id != id || header->opcode != wire::opcode::NOTIFY)
                continue;  // not the acknowledgement
            answered = true;
            if (header->rcode == wire::rcode::NOERROR) {
                spdlog::info("notify {} serial {} to {}: acknowledged", zone, serial, target.str());
            } else {
                const char* name = wire::rcode_name(header->rcode);
                spdlog::warn("notify {} serial {} to {}: answered rcode {}", zone, serial, target.str(),
                             name ? name : std::to_string(header->rcode).c_str());
            }
        }
        if (answered) co_return;
    }
    spdlog::warn("notify {} serial {} to {}: no answer after {} attempts", zone, serial, target.str(),
                 policy.attempts);
}

}  // namespace

void send_notify(asio::io_context& io, const std::vector<Endpoint>& targets, const std::string& origin,
                 std::uint32_t serial, const config::TsigKey* key, NotifyPolicy policy) {
    for (const auto& t : targets)
        asio::co_spawn(
            io,
            notify_one(t, origin, serial, key ? std::optional<config::TsigKey>(*key) : std::nullopt, policy),
            asio::detached);
}

}  // namespace dnsd::server
