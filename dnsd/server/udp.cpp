// The UDP data path, written against the socket API on purpose: Asio only
// tells us the socket is readable; recvmmsg/sendmmsg then move up to kBatch
// datagrams per system call, which is where most of the CPU per query goes
// in an authoritative server (NSD does the same). Buffers are allocated
// once per worker, so the loop allocates nothing.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "dnsd/query/answer.hpp"
#include "dnsd/server/worker.hpp"

namespace dnsd::server {

namespace {
constexpr unsigned kBatch = 32;
constexpr std::size_t kRxSize = 4096;  // larger queries are not real DNS queries
constexpr std::size_t kTxSize = 4096;  // udp_payload is at most 4096
constexpr std::size_t kCmsgSize = 64;
// Buffers are kSize + kSkew apart, not a multiple of 4096: buffers at equal
// offsets modulo 4 KiB would all compete for the same few L1 cache sets.
constexpr std::size_t kSkew = 192;
}  // namespace

struct UdpBatch {
    mmsghdr in[kBatch];
    mmsghdr out[kBatch];
    iovec in_iov[kBatch];
    iovec out_iov[kBatch];
    sockaddr_storage addr[kBatch];
    alignas(cmsghdr) std::uint8_t in_cmsg[kBatch][kCmsgSize];
    alignas(cmsghdr) std::uint8_t out_cmsg[kBatch][kCmsgSize];
    std::uint8_t rx[kBatch][kRxSize + kSkew];
    std::uint8_t tx[kBatch][kTxSize + kSkew];
    unsigned filled = 0;  ///< entries the last recvmmsg filled (to reset)
};

UdpBatchPtr make_udp_batch() {
    UdpBatchPtr b(new UdpBatch());
    // The receive headers point at fixed buffers: set once here; each batch
    // only resets what recvmmsg changed in the entries it filled.
    for (unsigned i = 0; i < kBatch; ++i) {
        b->in_iov[i] = {b->rx[i], kRxSize};
        msghdr& h = b->in[i].msg_hdr;
        h.msg_name = &b->addr[i];
        h.msg_namelen = sizeof b->addr[i];
        h.msg_iov = &b->in_iov[i];
        h.msg_iovlen = 1;
        h.msg_control = b->in_cmsg[i];
        h.msg_controllen = kCmsgSize;
        h.msg_flags = 0;
    }
    return b;
}
void delete_udp_batch(UdpBatch* b) noexcept {
    delete b;
}

void enable_pktinfo(asio::ip::udp::socket& socket, bool v6) {
    const int on = 1;
    if (v6)
        ::setsockopt(socket.native_handle(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    else
        ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
}

namespace {

/// Copies the destination address of a received datagram into the control
/// data of its reply, so that a socket bound to a wildcard answers from the
/// address the query was sent to. Returns the control length.
std::size_t reply_cmsg(const msghdr& in, std::uint8_t* out) noexcept {
    for (cmsghdr* c = CMSG_FIRSTHDR(const_cast<msghdr*>(&in)); c;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&in), c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo info;
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            in_pktinfo reply{};
            reply.ipi_spec_dst = info.ipi_addr;
            auto* oc = reinterpret_cast<cmsghdr*>(out);
            oc->cmsg_level = IPPROTO_IP;
            oc->cmsg_type = IP_PKTINFO;
            oc->cmsg_len = CMSG_LEN(sizeof reply);
            std::memcpy(CMSG_DATA(oc), &reply, sizeof reply);
            return CMSG_SPACE(sizeof reply);
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo info;
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            in6_pktinfo reply{};
            reply.ipi6_addr = info.ipi6_addr;
            auto* oc = reinterpret_cast<cmsghdr*>(out);
            oc->cmsg_level = IPPROTO_IPV6;
            oc->cmsg_type = IPV6_PKTINFO;
            oc->cmsg_len = CMSG_LEN(sizeof reply);
            std::memcpy(CMSG_DATA(oc), &reply, sizeof reply);
            return CMSG_SPACE(sizeof reply);
        }
    }
    return 0;
}

/// Queues the reply in tx[replies] to the sender of datagram `i`.
[[gnu::always_inline]] inline void queue_reply(UdpBatch& b, const msghdr& h, int i, unsigned& replies,
                                               std::size_t size) noexcept {
    b.out_iov[replies] = {b.tx[replies], size};
    msghdr& o = b.out[replies].msg_hdr;
    o.msg_name = &b.addr[i];
    o.msg_namelen = h.msg_namelen;
    o.msg_iov = &b.out_iov[replies];
    o.msg_iovlen = 1;
    const std::size_t clen = reply_cmsg(h, b.out_cmsg[replies]);
    o.msg_control = clen ? b.out_cmsg[replies] : nullptr;
    o.msg_controllen = clen;
    o.msg_flags = 0;
    ++replies;
}

/// Receives up to kBatch datagrams, answers them, sends the answers.
/// Returns how many were received (0: the socket is drained).
unsigned serve_batch(Worker& w, int fd, UdpBatch& b) noexcept {
    for (unsigned i = 0; i < b.filled; ++i) {
        msghdr& h = b.in[i].msg_hdr;
        h.msg_namelen = sizeof b.addr[i];
        h.msg_controllen = kCmsgSize;
        h.msg_flags = 0;
    }
    const int got = ::recvmmsg(fd, b.in, kBatch, MSG_DONTWAIT, nullptr);
    b.filled = got > 0 ? static_cast<unsigned>(got) : 0;
    if (got <= 0) return 0;

    const query::View& view = w.view();           // one atomic load per batch
    const health::Snapshot& health = w.health();  // and one more
    // Rate limiting: each worker sees its share of a network's queries
    // (SO_REUSEPORT spreads source ports evenly), so it allows its share.
    config::RateLimit limit = view.rate_limit();
    std::uint64_t now_ms = 0;
    if (limit.per_second) {
        const unsigned n = w.workers();
        const std::uint32_t burst = limit.burst ? limit.burst : limit.per_second;
        limit.per_second = limit.per_second / n ? limit.per_second / n : 1;
        limit.burst = burst / n ? burst / n : 1;
        now_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now().time_since_epoch())
                                                .count());
    }
    unsigned replies = 0;
    for (int i = 0; i < got; ++i) {
        const msghdr& h = b.in[i].msg_hdr;
        if (h.msg_flags & MSG_TRUNC) continue;  // oversized: not a query we answer
        const auto client = Address::from_sockaddr(reinterpret_cast<const sockaddr*>(&b.addr[i]));
        if (!client) continue;
        const auto action =
            limit.per_second ? w.rate_limiter().check(*client, now_ms, limit) : RateLimiter::Action::answer;
        if (action != RateLimiter::Action::answer) {
            w.stats().count_limited(action == RateLimiter::Action::truncate);
            if (action == RateLimiter::Action::drop) continue;
            const std::size_t n =
                query::truncated_reply({b.rx[i], b.in[i].msg_len}, {b.tx[replies], kTxSize}, view);
            if (n == 0) continue;
            queue_reply(b, h, i, replies, n);
            continue;
        }
        const auto r = query::answer(
            {b.rx[i], b.in[i].msg_len}, {b.tx[replies], kTxSize}, view,
            query::Client{*client, query::Transport::udp, &health, &w.random(), &w.geo_cache()});
        if (r.size == 0) continue;
        w.count(view, r, false, {b.rx[i], b.in[i].msg_len}, *client);
        queue_reply(b, h, i, replies, r.size);
    }
    unsigned sent = 0;
    while (sent < replies) {
        const int n = ::sendmmsg(fd, b.out + sent, replies - sent, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            break;  // the send buffer is full or the peer is gone: UDP may drop
        }
        sent += static_cast<unsigned>(n);
    }
    return static_cast<unsigned>(got);
}

}  // namespace

asio::awaitable<void> udp_loop(Worker& w, asio::ip::udp::socket& socket, UdpBatch& batch) {
    const int fd = socket.native_handle();
    for (;;) {
        auto [ec] =
            co_await socket.async_wait(asio::socket_base::wait_read, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;  // closed on stop
        // Drain what is queued, but yield to the TCP side after a while.
        for (int rounds = 0; rounds < 64; ++rounds)
            if (serve_batch(w, fd, batch) < kBatch) break;
    }
}

}  // namespace dnsd::server
