// The UDP data path, written against the socket API on purpose: each UDP
// socket of a worker has a receiver thread that blocks in recvmmsg
// (MSG_WAITFORONE: it wakes for the first datagram and takes whatever else
// is queued, up to kBatch) and answers with one sendmmsg. No event loop sits
// between the kernel and the answer: most of the CPU per query is the
// kernel's, and an epoll round trip per batch is measurable (gdnsd's UDP
// threads work the same way). Buffers and per-thread state are allocated
// when the thread starts, so the loop allocates nothing.

#include <netinet/in.h>
#include <sys/socket.h>

#include <sys/time.h>
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
};

UdpBatchPtr make_udp_batch() {
    return UdpBatchPtr(new UdpBatch());
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

/// What one receiver thread reads and keeps: its own cached views of the
/// snapshots, random source and location cache (none is shared).
struct Receiver {
    SnapshotSlot<query::View>::Local view;
    SnapshotSlot<health::Snapshot>::Local health;
    steer::Random random;
    geo::Cache geo_cache;
    UdpBatchPtr batch = make_udp_batch();
};

/// Waits for datagrams, answers them, sends the answers. Returns how many
/// were received; 0 after a timeout (SO_RCVTIMEO) or when the socket was
/// shut down.
unsigned serve_batch(Receiver& rx, int fd) noexcept {
    UdpBatch& b = *rx.batch;
    for (unsigned i = 0; i < kBatch; ++i) {
        b.in_iov[i] = {b.rx[i], kRxSize};
        msghdr& h = b.in[i].msg_hdr;
        h.msg_name = &b.addr[i];
        h.msg_namelen = sizeof b.addr[i];
        h.msg_iov = &b.in_iov[i];
        h.msg_iovlen = 1;
        h.msg_control = b.in_cmsg[i];
        h.msg_controllen = kCmsgSize;
        h.msg_flags = 0;
    }
    const int got = ::recvmmsg(fd, b.in, kBatch, MSG_WAITFORONE, nullptr);
    if (got <= 0) return 0;

    const query::View& view = rx.view.get();           // one atomic load per batch
    const health::Snapshot& health = rx.health.get();  // and one more
    unsigned replies = 0;
    for (int i = 0; i < got; ++i) {
        const msghdr& h = b.in[i].msg_hdr;
        if (h.msg_flags & MSG_TRUNC) continue;  // oversized: not a query we answer
        const auto client = Address::from_sockaddr(reinterpret_cast<const sockaddr*>(&b.addr[i]));
        if (!client) continue;
        const auto r =
            query::answer({b.rx[i], b.in[i].msg_len}, {b.tx[replies], kTxSize}, view,
                          query::Client{*client, query::Transport::udp, &health, &rx.random, &rx.geo_cache});
        if (r.size == 0) continue;
        b.out_iov[replies] = {b.tx[replies], r.size};
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

void udp_receive(Worker& w, int fd) {
    Receiver rx{SnapshotSlot<query::View>::Local(w.view_slot()),
                SnapshotSlot<health::Snapshot>::Local(w.health_slot()),
                {},
                {},
                make_udp_batch()};
    rx.random.state ^=
        static_cast<std::uint64_t>(fd) * 0x9E3779B97F4A7C15ull ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    // A receive timeout bounds how long a stop can go unnoticed when the
    // shutdown() wake-up does not reach a blocked recvmmsg.
    const timeval timeout{0, 200'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    while (!w.stopping()) serve_batch(rx, fd);
}

}  // namespace dnsd::server
