// Alerts against real listeners: small Beast HTTP(S) servers on 127.0.0.1,
// on ports the kernel picks, each on its own thread for the length of one
// test; and real commands (/bin/sh scripts writing into a temporary
// directory). No mocks. Timeouts and backoffs are tens or hundreds of
// milliseconds, to keep the file fast.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include "tests/temp_dir.hpp"
#include "tests/tls_identity.hpp"

#include "dnsd/alert/alerter.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
using asio::awaitable;
using asio::ip::tcp;
using dnsd::Duration;
using dnsd::alert::Alerter;
using dnsd::alert::Event;
using dnsd::config::Alert;
using dnsd::test::TempDir;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr unsigned kHold = 0;  // a listener's "status" for: read the request, never answer

/// What a listener received.
struct Request {
    std::string method;
    std::string target;
    std::string host;
    std::string content_type;
    std::string body;
    std::string sni;  ///< TLS: the server name the client sent
};

/// An HTTP (or, with `tls`, HTTPS) server on 127.0.0.1 with a thread of its
/// own. The n-th request is answered with statuses[n], the last status
/// repeating; kHold reads the request and then only waits for the client
/// to close.
class Listener {
public:
    explicit Listener(std::vector<unsigned> statuses, std::shared_ptr<ssl::context> tls = nullptr)
        : statuses_(std::move(statuses)), tls_(std::move(tls)), acceptor_(io_) {
        acceptor_.open(tcp::v4());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        asio::co_spawn(io_, accept(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Listener() {
        io_.stop();
        thread_.join();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string url(std::string_view path = "/") const {
        return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) +
               std::string(path);
    }
    std::vector<Request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::size_t count() const {
        std::lock_guard lock(mutex_);
        return requests_.size();
    }

private:
    awaitable<void> accept() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
            if (ec) co_return;
            asio::co_spawn(io_, connection(std::move(socket)), asio::detached);
        }
    }

    awaitable<void> connection(tcp::socket socket) {
        if (!tls_) {
            co_await serve(socket, "");
            co_return;
        }
        ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
        auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
        if (ec) co_return;
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        co_await serve(stream, sni ? sni : "");
    }

    template <class Stream>
    awaitable<void> serve(Stream& stream, std::string sni) {
        beast::flat_buffer buffer;
        http::request<http::string_body> request;
        if (auto [ec, n] = co_await http::async_read(stream, buffer, request, kTuple); ec) co_return;
        unsigned status = 0;
        {
            std::lock_guard lock(mutex_);
            status = statuses_[std::min(requests_.size(), statuses_.size() - 1)];
            requests_.push_back({std::string(request.method_string()), std::string(request.target()),
                                 std::string(request[http::field::host]),
                                 std::string(request[http::field::content_type]), request.body(),
                                 std::move(sni)});
        }
        if (status == kHold) {
            std::array<char, 64> sink;
            for (;;) {
                auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
                if (ec) co_return;
            }
        }
        http::response<http::string_body> response{static_cast<http::status>(status), 11};
        response.set(http::field::connection, "close");
        if (status != 204) response.body() = "whatever";
        response.prepare_payload();
        co_await http::async_write(stream, response, kTuple);
    }

    mutable std::mutex mutex_;
    std::vector<Request> requests_;
    const std::vector<unsigned> statuses_;
    std::shared_ptr<ssl::context> tls_;
    asio::io_context io_{1};  // after what its coroutines use: destroyed (with them) first
    tcp::acceptor acceptor_;
    std::thread thread_;
};

/// A loopback port with nothing listening (bound, then released).
std::uint16_t closed_port() {
    asio::io_context io;
    tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

/// Waits up to `limit` for `done`.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds limit = 3000ms) {
    const auto end = Clock::now() + limit;
    while (!done()) {
        if (Clock::now() >= end) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

std::chrono::milliseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

Alert webhook(std::string url, Duration timeout = 1000ms, unsigned retries = 0) {
    Alert a;
    a.kind = Alert::Kind::webhook;
    a.url = std::move(url);
    a.timeout = timeout;
    a.retries = retries;
    return a;
}

Alert exec(std::string script, Duration timeout = 2000ms, unsigned retries = 0) {
    Alert a;
    a.kind = Alert::Kind::exec;
    a.command = {"/bin/sh", "-c", std::move(script)};
    a.timeout = timeout;
    a.retries = retries;
    return a;
}

Event address_down() {
    Event e;
    e.kind = "address";
    e.site = "ams";
    e.address = "192.0.2.10";
    e.state = "down";
    e.previous = "up";
    e.message = "HTTP 503 (expected 200)";
    e.time = 1700000000;  // 2023-11-14T22:13:20Z
    return e;
}

std::string slurp(const std::string& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> lines(const std::string& file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

/// True when `pid` no longer runs: gone, or a zombie waiting for a reaper
/// that is not us (a grandchild handed to init).
bool not_running(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const auto paren = line.rfind(") ");
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

/// Sets an environment variable for one scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) saved_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (saved_)
            ::setenv(name_, saved_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> saved_;
};

// ---- TLS material ----

}  // namespace

// ---- pure parts ----

TEST_CASE("alert: RFC 3339 times and the JSON event", "[alert]") {
    CHECK(dnsd::alert::rfc3339(0) == "1970-01-01T00:00:00Z");
    CHECK(dnsd::alert::rfc3339(1700000000) == "2023-11-14T22:13:20Z");

    const auto full = json::parse(dnsd::alert::to_json(address_down(), "ns1.test")).as_object();
    CHECK(full.at("event") == "address");
    CHECK(full.at("site") == "ams");
    CHECK(full.at("address") == "192.0.2.10");
    CHECK(full.at("state") == "down");
    CHECK(full.at("previous") == "up");
    CHECK(full.at("message") == "HTTP 503 (expected 200)");
    CHECK(full.at("time") == "2023-11-14T22:13:20Z");
    CHECK(full.at("unix_time") == 1700000000);
    CHECK(full.at("instance") == "ns1.test");
    CHECK(full.size() == 9);

    Event reload;
    reload.kind = "reload";
    reload.message = "bad \"quote\"\n";
    reload.time = 60;
    const auto sparse = json::parse(dnsd::alert::to_json(reload, "")).as_object();
    CHECK(sparse.at("event") == "reload");
    CHECK(sparse.at("message") == "bad \"quote\"\n");
    CHECK(sparse.at("time") == "1970-01-01T00:01:00Z");
    CHECK(sparse.size() == 4);  // event, message, time, unix_time: empty strings are left out

    Event nat = address_down();  // probed at another address (probe_targets)
    nat.probe_target = "10.1.0.10";
    const auto named = json::parse(dnsd::alert::to_json(nat, "")).as_object();
    CHECK(named.at("address") == "192.0.2.10");
    CHECK(named.at("probe_target") == "10.1.0.10");
}

// ---- webhook ----

TEST_CASE("alert: a webhook gets the event as JSON in a POST", "[alert][webhook]") {
    Listener listener({200});
    Alerter alerter({webhook(listener.url("/hooks/dnsd?team=ops"))}, "ns1.test");
    alerter.send(address_down());
    Event now;
    now.kind = "override";
    now.site = "nyc";
    now.state = "drain";
    const auto before = std::chrono::system_clock::now();
    alerter.send(now);
    REQUIRE(eventually([&] { return alerter.delivered() == 2; }));
    CHECK(alerter.failed() == 0);
    CHECK(alerter.dropped() == 0);

    const auto requests = listener.requests();
    REQUIRE(requests.size() == 2);
    const auto& r = requests[0];
    CHECK(r.method == "POST");
    CHECK(r.target == "/hooks/dnsd?team=ops");
    CHECK(r.host == "127.0.0.1:" + std::to_string(listener.port()));
    CHECK(r.content_type == "application/json");
    const auto body = json::parse(r.body).as_object();
    CHECK(body.at("event") == "address");
    CHECK(body.at("site") == "ams");
    CHECK(body.at("address") == "192.0.2.10");
    CHECK(body.at("state") == "down");
    CHECK(body.at("previous") == "up");
    CHECK(body.at("message") == "HTTP 503 (expected 200)");
    CHECK(body.at("time") == "2023-11-14T22:13:20Z");
    CHECK(body.at("unix_time") == 1700000000);
    CHECK(body.at("instance") == "ns1.test");

    // In the order sent; a time of 0 becomes the time of send().
    const auto second = json::parse(requests[1].body).as_object();
    CHECK(second.at("event") == "override");
    CHECK_FALSE(second.contains("address"));
    const auto sent = second.at("unix_time").as_int64();
    const auto expected = std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count();
    CHECK(sent >= expected);
    CHECK(sent <= expected + 5);
}

TEST_CASE("alert: a webhook that fails is retried with backoff until it succeeds", "[alert][webhook]") {
    Listener listener({500, 503, 204});
    Alerter alerter({webhook(listener.url(), 1000ms, 3)}, "", 1000, 50ms);
    const auto start = Clock::now();
    alerter.send(address_down());
    REQUIRE(eventually([&] { return alerter.delivered() == 1; }));
    CHECK(since(start) >= 150ms);  // backoffs of 50 and 100 ms
    CHECK(listener.count() == 3);
    CHECK(alerter.failed() == 0);
}

TEST_CASE("alert: a webhook on a closed port is given up after its retries", "[alert][webhook]") {
    Alerter alerter({webhook("http://127.0.0.1:" + std::to_string(closed_port()) + "/", 500ms, 2)}, "", 1000,
                    50ms);
    alerter.send(address_down());
    alerter.send(address_down());
    REQUIRE(eventually([&] { return alerter.failed() == 2; }));
    CHECK(alerter.delivered() == 0);
    CHECK(alerter.dropped() == 0);
}

TEST_CASE("alert: a webhook that never answers times out; stop() does not wait for it", "[alert][webhook]") {
    Listener listener({kHold});
    {
        Alerter alerter({webhook(listener.url(), 300ms)}, "");
        const auto start = Clock::now();
        alerter.send(address_down());
        REQUIRE(eventually([&] { return alerter.failed() == 1; }));
        CHECK(since(start) >= 280ms);
        CHECK(since(start) < 2000ms);
        CHECK(listener.count() == 1);
    }
    {
        Alerter alerter({webhook(listener.url(), 5000ms, 5)}, "");
        alerter.send(address_down());
        alerter.send(address_down());
        REQUIRE(eventually([&] { return listener.count() == 2; }));  // the first event is in flight
        const auto start = Clock::now();
        alerter.stop();
        CHECK(since(start) < 500ms);
        CHECK(alerter.dropped() == 2);  // the one in flight, the one queued
        CHECK(alerter.failed() == 0);
        alerter.send(address_down());  // after stop(): not delivered, counted
        CHECK(alerter.dropped() == 3);
    }
}

TEST_CASE("alert: a dead target does not hold up another", "[alert][webhook][exec]") {
    Listener listener({kHold});
    TempDir dir("dnsd-alert-test");
    Alerter alerter({webhook(listener.url(), 3000ms), exec("echo \"$DNSD_SITE\" >> " + dir / "log")}, "");
    const auto start = Clock::now();
    alerter.send(address_down());
    REQUIRE(eventually([&] { return alerter.delivered() == 1; }, 1000ms));
    CHECK(since(start) < 1000ms);
    CHECK(lines(dir / "log") == std::vector<std::string>{"ams"});
    CHECK(alerter.failed() == 0);  // the webhook is still waiting
}

TEST_CASE("alert: https webhooks verify the certificate against the trust store and send SNI",
          "[alert][webhook][https]") {
    TempDir dir("dnsd-alert-test");
    const auto id = dnsd::test::self_signed("DNS:localhost");
    const auto& key = id.key;
    const auto& cert = id.cert;
    auto server = std::make_shared<ssl::context>(ssl::context::tls_server);
    REQUIRE(SSL_CTX_use_certificate(server->native_handle(), cert.get()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(server->native_handle(), key.get()) == 1);
    Listener listener({200}, server);
    const std::string by_name = "https://localhost:" + std::to_string(listener.port()) + "/tls";

    SECTION("untrusted: the system store does not know a self-signed certificate") {
        Alerter alerter({webhook(by_name)}, "");
        alerter.send(address_down());
        REQUIRE(eventually([&] { return alerter.failed() == 1; }));
        CHECK(listener.count() == 0);
    }
    SECTION("trusted through SSL_CERT_FILE, by name") {
        const auto file = dir / "trusted.pem";
        FILE* f = std::fopen(file.c_str(), "w");
        REQUIRE(f);
        const int written = PEM_write_X509(f, cert.get());
        std::fclose(f);
        REQUIRE(written == 1);
        ScopedEnv trust("SSL_CERT_FILE", file);
        Alerter alerter({webhook(by_name), webhook(listener.url("/by-address"))}, "");
        alerter.send(address_down());
        // By name it verifies; by address it does not (the certificate has
        // no IP:127.0.0.1), so that target fails.
        REQUIRE(eventually([&] { return alerter.delivered() == 1 && alerter.failed() == 1; }));
        const auto requests = listener.requests();
        REQUIRE(requests.size() == 1);
        CHECK(requests[0].target == "/tls");
        CHECK(requests[0].sni == "localhost");
        CHECK(requests[0].host == "localhost:" + std::to_string(listener.port()));
        CHECK(json::parse(requests[0].body).as_object().at("event") == "address");
    }
}

// ---- exec ----

TEST_CASE("alert: a command gets the event in its environment", "[alert][exec]") {
    TempDir dir("dnsd-alert-test");
    ScopedEnv parent("DNSD_ALERT_TEST_PARENT", "inherited");
    ScopedEnv stale("DNSD_SITE", "stale");  // replaced by the event's
    const std::string script =
        "printf '%s\\n' \"$DNSD_EVENT\" \"$DNSD_SITE\" \"$DNSD_ADDRESS\" \"$DNSD_STATE\" \"$DNSD_PREVIOUS\" "
        "\"$DNSD_MESSAGE\" \"$DNSD_TIME\" \"$DNSD_INSTANCE\" \"$DNSD_ALERT_TEST_PARENT\" > " +
        dir / "env" + "; printf '%s' \"$DNSD_EVENT_JSON\" > " + dir / "json" + "; read line || echo eof > " +
        dir / "stdin";
    Alert a;
    a.kind = Alert::Kind::exec;
    a.command = {"/bin/sh", "-c", script};  // argv as given, no second shell
    Alerter alerter({a}, "ns1.test");
    alerter.send(address_down());
    REQUIRE(eventually([&] { return alerter.delivered() == 1; }));
    CHECK(lines(dir / "env") == std::vector<std::string>{"address", "ams", "192.0.2.10", "down", "up",
                                                         "HTTP 503 (expected 200)", "2023-11-14T22:13:20Z",
                                                         "ns1.test", "inherited"});
    CHECK(slurp(dir / "json") == dnsd::alert::to_json(address_down(), "ns1.test"));
    CHECK(lines(dir / "stdin") == std::vector<std::string>{"eof"});  // stdin is /dev/null
}

TEST_CASE("alert: a command that fails is retried, then given up", "[alert][exec]") {
    TempDir dir("dnsd-alert-test");
    Alerter alerter({exec("echo try >> " + dir / "tries" + "; exit 3", 1000ms, 2)}, "", 1000, 50ms);
    alerter.send(address_down());
    REQUIRE(eventually([&] { return alerter.failed() == 1; }));
    CHECK(lines(dir / "tries").size() == 3);
    CHECK(alerter.delivered() == 0);

    Alerter missing({Alert{Alert::Kind::exec, "", {dir / "no-such-program"}, 1000ms, 0, 0}}, "");
    missing.send(address_down());
    REQUIRE(eventually([&] { return missing.failed() == 1; }));
}

TEST_CASE("alert: a command past its timeout is killed with its children and reaped", "[alert][exec]") {
    TempDir dir("dnsd-alert-test");
    Alerter alerter(
        {exec("sleep 30 & echo $! > " + dir / "sleep" + "; echo $$ > " + dir / "pid" + "; wait", 300ms)}, "");
    const auto start = Clock::now();
    alerter.send(address_down());
    REQUIRE(eventually([&] { return alerter.failed() == 1; }));
    CHECK(since(start) >= 280ms);
    CHECK(since(start) < 2000ms);
    const auto pid = lines(dir / "pid");
    const auto sleeper = lines(dir / "sleep");
    REQUIRE(pid.size() == 1);
    REQUIRE(sleeper.size() == 1);
    // Ours is reaped: no zombie left. Its child is killed (and is init's to reap).
    CHECK(::kill(std::stoi(pid[0]), 0) == -1);
    CHECK(eventually([&] { return not_running(std::stoi(sleeper[0])); }, 1000ms));
}

TEST_CASE("alert: stop() kills a running command at once", "[alert][exec]") {
    TempDir dir("dnsd-alert-test");
    Alerter alerter({exec("echo $$ > " + dir / "pid" + "; exec sleep 30", 10000ms)}, "");
    alerter.send(address_down());
    REQUIRE(eventually([&] { return lines(dir / "pid").size() == 1; }));
    const auto start = Clock::now();
    alerter.stop();
    CHECK(since(start) < 500ms);
    CHECK(::kill(std::stoi(lines(dir / "pid")[0]), 0) == -1);
    CHECK(alerter.dropped() == 1);
}

// ---- the queue ----

TEST_CASE("alert: a full queue drops the oldest events and counts them", "[alert][queue]") {
    TempDir dir("dnsd-alert-test");
    const std::string log = dir / "log";
    // The first event holds the lane while the others arrive.
    Alerter alerter({exec("echo \"$DNSD_MESSAGE\" >> " + log + "; [ \"$DNSD_MESSAGE\" != 0 ] || sleep 0.3")},
                    "", 2);
    auto numbered = [](int n) {
        Event e = address_down();
        e.message = std::to_string(n);
        return e;
    };
    alerter.send(numbered(0));
    REQUIRE(eventually([&] { return lines(log).size() == 1; }));  // 0 is out of the queue, running
    for (int n = 1; n <= 5; ++n) alerter.send(numbered(n));
    CHECK(alerter.dropped() == 3);  // 1, 2 and 3 made way for 4 and 5
    REQUIRE(eventually([&] { return alerter.delivered() == 3; }));
    CHECK(lines(log) == std::vector<std::string>{"0", "4", "5"});
    CHECK(alerter.failed() == 0);

    // A new burst after the queue drained is counted (and warned about) again.
    alerter.send(numbered(0));
    REQUIRE(eventually([&] { return lines(log).size() == 4; }));
    for (int n = 6; n <= 8; ++n) alerter.send(numbered(n));
    CHECK(alerter.dropped() == 4);
    REQUIRE(eventually([&] { return alerter.delivered() == 6; }));
    CHECK(lines(log) == std::vector<std::string>{"0", "4", "5", "0", "7", "8"});
}

TEST_CASE("alert: without targets nothing runs and nothing is counted", "[alert]") {
    Alerter alerter({}, "ns1.test");
    alerter.send(address_down());
    alerter.stop();
    CHECK(alerter.delivered() == 0);
    CHECK(alerter.dropped() == 0);
}
