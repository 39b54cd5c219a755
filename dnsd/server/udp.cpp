// The UDP data path, written against the socket API on purpose:
// recvmmsg/sendmmsg move up to kBatch datagrams per system call, which is
// where most of the CPU per query goes in an authoritative server.
//
// Each UDP worker is a thread blocking in recvmmsg on its own socket, with
// no event loop (gdnsd does the same). A socket registered with epoll keeps
// an entry on its wait queue for as long as it is registered, and the
// kernel then runs the epoll callback under the queue's lock for every
// datagram received and for every reply sent (sock_def_readable,
// sock_wfree): about 5 % of the CPU per query on loopback, measured with
// `perf record` against gdnsd. A thread blocked in recvmmsg is on the wait
// queue only while it sleeps. Buffers are allocated once per worker, so
// the loop allocates nothing.

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

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
/// Returns how many were received, or -1 when recvmmsg failed (errno says
/// why; EAGAIN: the receive timeout passed with nothing to read).
int serve_batch(UdpWorker& w, int fd, UdpBatch& b) noexcept {
    for (unsigned i = 0; i < b.filled; ++i) {
        msghdr& h = b.in[i].msg_hdr;
        h.msg_namelen = sizeof b.addr[i];
        h.msg_controllen = kCmsgSize;
        h.msg_flags = 0;
    }
    // Blocks until one datagram is there, then takes what else is queued.
    const int got = ::recvmmsg(fd, b.in, kBatch, MSG_WAITFORONE, nullptr);
    b.filled = got > 0 ? static_cast<unsigned>(got) : 0;
    if (got <= 0) return got < 0 ? -1 : 0;

    const Serving& serving = w.serving();  // one atomic load per batch
    const query::View& view = *serving.view;
    const health::Snapshot& health = *serving.health;
    // Rate limiting: each worker sees its share of a network's queries
    // (SO_REUSEPORT spreads source ports evenly), so it allows its share.
    config::RateLimit limit = view.rate_limit();
    std::uint64_t now_ms = 0;
    if (limit.per_second) {
        const unsigned n = w.siblings();
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
        if (h.msg_namelen == 0) continue;       // no sender (the socket was shut down)
        const auto client = Address::from_sockaddr(reinterpret_cast<const sockaddr*>(&b.addr[i]));
        if (!client) continue;
        const auto action =
            limit.per_second ? w.rate_limiter().check(*client, now_ms, limit) : RateLimiter::Action::answer;
        if (action != RateLimiter::Action::answer) {
            w.stats().count_limited(action == RateLimiter::Action::truncate);
            if (action == RateLimiter::Action::drop) continue;
            const std::size_t n =
                query::truncated_reply({b.rx[i], b.in[i].msg_len}, {b.tx[replies], kTxSize}, view,
                                       query::Client{*client, query::Transport::udp, &health, &w.random(),
                                                     &w.geo_cache(), false, 0, &w.signatures()});
            if (n == 0) continue;
            queue_reply(b, h, i, replies, n);
            continue;
        }
        const auto r = query::answer({b.rx[i], b.in[i].msg_len}, {b.tx[replies], kTxSize}, view,
                                     query::Client{*client, query::Transport::udp, &health, &w.random(),
                                                   &w.geo_cache(), false, 0, &w.signatures()});
        if (r.size == 0) continue;
        w.count(view, r, false, {b.rx[i], b.in[i].msg_len}, *client);
        queue_reply(b, h, i, replies, r.size);
    }
    unsigned sent = 0;
    while (sent < replies) {
        // Never waits: with the send buffer full, UDP answers are dropped
        // rather than holding up the queries behind them.
        const int n = ::sendmmsg(fd, b.out + sent, replies - sent, MSG_DONTWAIT);
        if (n > 0) {
            sent += static_cast<unsigned>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            ++sent;  // this reply cannot go (no route to its client, say): the next ones still can
        }
    }
    return got;
}

}  // namespace

void udp_serve(UdpWorker& w, int fd, UdpBatch& batch) noexcept {
    // The process's signals go to the other threads (the main thread
    // handles them); faults (SIGSEGV and the like) stay unblocked.
    sigset_t async;
    sigemptyset(&async);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2})
        sigaddset(&async, s);
    pthread_sigmask(SIG_BLOCK, &async, nullptr);
    name_thread("dnsd-udp", w.index());
    while (!w.stopping()) {
        if (serve_batch(w, fd, batch) >= 0 || w.stopping()) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            // A second without queries: let go of a view or health
            // snapshot that a reload or a probe has replaced, so that an
            // idle thread does not keep old zones in memory. And hand the
            // demand counted so far to the state thread.
            w.serving();
            w.demand().sync();
            continue;
        }
        // recvmmsg failed otherwise: a short pause, so that an error that
        // persists cannot spin.
        timespec pause{0, 1'000'000};
        ::nanosleep(&pause, nullptr);
    }
}

namespace {

void set_option(int fd, int level, int name, int value, const char* what, const Endpoint& listen) {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) {
        const int err = errno;
        throw std::runtime_error("cannot listen on " + listen.str() + " (UDP): " + what + ": " +
                                 std::strerror(err));
    }
}

bool is_wildcard(const Address& a) {
    for (auto b : a.view())
        if (b) return false;
    return true;
}

}  // namespace

UdpWorker::UdpWorker(unsigned index, const ServingSlot& slot, const Endpoint& listen, bool shared,
                     unsigned siblings)
    : Worker(index, slot), siblings_(siblings), batch_(make_udp_batch()) {
    const bool v6 = listen.address.family == Family::v6;
    fd_ = Fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (fd_.get() < 0) {
        const int err = errno;
        throw std::runtime_error("cannot listen on " + listen.str() +
                                 " (UDP): socket: " + std::strerror(err));
    }
    const int fd = fd_.get();
    // No SO_REUSEADDR on UDP: on Linux it would let another socket bind the
    // same address and take the queries.
    if (shared) set_option(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT", listen);
    // Ignore path MTU information (a forged ICMP "fragmentation needed"
    // cannot lower it, a known way to force fragments for cache poisoning)
    // and send without DF: answers are sized to udp_payload. Over IPv6,
    // where routers never fragment, answers larger than the minimum MTU
    // (udp_payload above 1232) are fragmented at 1280 by us, so that they
    // reach the client whatever the path. NSD does the same. Best effort:
    // a kernel without these keeps its defaults.
    if (v6) {
        set_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY", listen);
        const int omit = IPV6_PMTUDISC_OMIT;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &omit, sizeof omit);
        const int min_mtu = 1280;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &min_mtu, sizeof min_mtu);
    } else {
        const int omit = IP_PMTUDISC_OMIT;
        ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &omit, sizeof omit);
    }
    // Bound to a wildcard, replies must leave from the address the query
    // came to: receive it with each datagram.
    if (is_wildcard(listen.address)) {
        if (v6)
            set_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO", listen);
        else
            set_option(fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO", listen);
    }
    // A receive timeout lets an idle thread refresh its views (udp_serve).
    const timeval second{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &second, sizeof second);
    sockaddr_storage ss{};
    const auto len = static_cast<socklen_t>(listen.to_sockaddr(ss));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
        const int err = errno;
        throw std::runtime_error("cannot listen on " + listen.str() + " (UDP): " + std::strerror(err));
    }
}

void UdpWorker::start() {
    thread_ = std::thread([this] { udp_serve(*this, fd_.get(), *batch_); });
}

void UdpWorker::stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true, std::memory_order_relaxed);
    // Wakes the thread if it sleeps in recvmmsg: a shut-down socket reads
    // as end of file (the call itself reports ENOTCONN on an unconnected
    // socket, which is expected).
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
}

}  // namespace dnsd::server
