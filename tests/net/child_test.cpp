// Child processes: real commands (/bin/sh, sleep), no mocks. Every wait has
// a deadline of at most a few seconds, and every test leaves no child
// behind: what a test lets run in the background it kills itself.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <variant>

#include "dnsd/net/child.hpp"

namespace asio = boost::asio;
using dnsd::net::AtExit;
using dnsd::net::Child;
using dnsd::net::Command;
using dnsd::net::Stderr;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

Command shell(std::string script, std::size_t stdout_limit = 1000) {
    Command c;
    c.argv = {"/bin/sh", "-c", std::move(script)};
    c.env = {"PATH=/usr/bin:/bin"};
    c.stdout_limit = stdout_limit;
    return c;
}

/// What one run of a command came to.
struct Run {
    std::optional<int> status;
    std::string output;
    std::chrono::milliseconds took{0};
    pid_t pid = -1;
};

/// Starts `command` and waits for it up to `limit` (on a thread of the
/// test's own io_context, at most 5 s in all). The child is reaped before
/// this returns, whatever happened.
Run run(const Command& command, std::chrono::milliseconds limit = 2000ms) {
    asio::io_context io;
    auto started = dnsd::net::spawn(io.get_executor(), command);
    REQUIRE(std::holds_alternative<Child>(started));
    auto& child = std::get<Child>(started);
    Run r;
    r.pid = child.pid();
    bool done = false;
    const auto start = Clock::now();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            r.status = co_await child.wait_until(start + limit);
            r.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
            r.output = child.output();
            done = true;
        },
        asio::detached);
    io.run_for(5s);
    REQUIRE(done);
    return r;
}

bool exited_with(const std::optional<int>& status, int code) {
    return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

/// True once `pid` is gone or a zombie that is not ours to reap.
bool not_running(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const auto paren = line.rfind(") ");
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds limit = 2000ms) {
    const auto end = Clock::now() + limit;
    while (!done()) {
        if (Clock::now() >= end) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

/// No child of this process is left, not even a zombie.
bool no_children() {
    errno = 0;
    return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

}  // namespace

TEST_CASE("child: stdout is captured up to the limit; the exit status is kept", "[net][child]") {
    auto r = run(shell("echo hello; exit 3"));
    CHECK(exited_with(r.status, 3));
    CHECK(r.output == "hello\n");
    CHECK(dnsd::net::describe_exit(*r.status) == "exit 3");

    // Far more than a pipe holds: the child must not block on it.
    r = run(shell("head -c 300000 /dev/zero | tr '\\000' x", 200));
    CHECK(exited_with(r.status, 0));
    CHECK(r.output == std::string(200, 'x'));

    r = run(shell("kill -9 $$"));
    REQUIRE(r.status);
    CHECK(dnsd::net::describe_exit(*r.status) == "killed by signal 9");
    CHECK(no_children());
}

TEST_CASE("child: argv as given, the environment as given, stdin and stderr on /dev/null", "[net][child]") {
    Command c = shell(
        "printf '%s|' \"$0\" \"$1\" \"${DNSD_CHILD_TEST-unset}\" \"${HOME-unset}\"; "
        "readlink /proc/$$/fd/0 /proc/$$/fd/2 | tr '\\n' '|'; echo oops >&2",
        1000);
    c.argv.push_back("zero");
    c.argv.push_back("one two");
    c.env.push_back("DNSD_CHILD_TEST=set");
    const auto r = run(c);
    CHECK(exited_with(r.status, 0));
    CHECK(r.output == "zero|one two|set|unset|/dev/null|/dev/null|");
}

TEST_CASE("child: stdout not captured goes to /dev/null; stderr may be the daemon's", "[net][child]") {
    Command c = shell("links=$(readlink /proc/$$/fd/1 /proc/$$/fd/2); echo \"$links\" > \"$OUT\"", 0);
    char dir[] = "/tmp/dnsd-child-test-XXXXXX";
    REQUIRE(::mkdtemp(dir));
    const std::string out = std::string(dir) + "/out";
    c.env.push_back("OUT=" + out);
    c.stderr_to = Stderr::inherit;
    const auto r = run(c);
    CHECK(exited_with(r.status, 0));
    CHECK(r.output.empty());
    std::ifstream in(out);
    std::string first, second;
    std::getline(in, first);
    std::getline(in, second);
    CHECK(first == "/dev/null");
    char ours[256] = {};
    const auto n = ::readlink("/proc/self/fd/2", ours, sizeof ours - 1);
    REQUIRE(n > 0);
    CHECK(second == std::string(ours, static_cast<std::size_t>(n)));
    std::remove(out.c_str());
    ::rmdir(dir);
}

TEST_CASE("child: no descriptor is inherited beyond 0-2; it leads its own process group", "[net][child]") {
    // A descriptor without O_CLOEXEC, as a careless library might leave one.
    const int leaky = ::open("/dev/null", O_RDONLY);
    REQUIRE(leaky > 2);
    const auto r = run(shell("[ -e /proc/$$/fd/" + std::to_string(leaky) +
                             " ] && echo leaked || echo closed; "
                             "echo $$ $(cut -d' ' -f5 /proc/$$/stat)"));
    ::close(leaky);
    CHECK(exited_with(r.status, 0));
    CHECK(r.output == "closed\n" + std::to_string(r.pid) + " " + std::to_string(r.pid) + "\n");
}

TEST_CASE("child: a failed start is an error text", "[net][child]") {
    asio::io_context io;
    Command c;
    c.argv = {"/nonexistent/command"};
    auto started = dnsd::net::spawn(io.get_executor(), c);
    REQUIRE(std::holds_alternative<std::string>(started));
    CHECK(std::get<std::string>(started) == "spawn /nonexistent/command: No such file or directory");

    c.argv.clear();
    auto none = dnsd::net::spawn(io.get_executor(), c);
    REQUIRE(std::holds_alternative<std::string>(none));
    CHECK(std::get<std::string>(none) == "no command");
}

TEST_CASE("child: at the deadline it is still running; dropping it kills and reaps it", "[net][child]") {
    Command c = shell("echo started; exec sleep 30");
    const auto r = run(c, 300ms);
    CHECK_FALSE(r.status);
    CHECK(r.took >= 300ms);
    CHECK(r.took < 1000ms);
    CHECK(r.output == "started\n");
    // run() has dropped the Child: no zombie is left.
    CHECK(::kill(r.pid, 0) == -1);
    CHECK(no_children());
}

TEST_CASE("child: reap_detached kills the group and reaps it on the executor", "[net][child]") {
    asio::io_context io;
    auto started = dnsd::net::spawn(io.get_executor(), shell("sleep 30 & echo $!; exec sleep 30"));
    REQUIRE(std::holds_alternative<Child>(started));
    auto& child = std::get<Child>(started);
    const pid_t pid = child.pid();
    std::optional<int> status = 0;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { status = co_await child.wait_until(Clock::now() + 200ms); },
        asio::detached);
    io.run_for(2s);
    REQUIRE_FALSE(status);
    const pid_t background = static_cast<pid_t>(std::stol(child.output()));
    dnsd::net::reap_detached(std::move(child));
    io.restart();
    io.run_for(2s);  // the reaper ends once the child is reaped
    CHECK(io.stopped());
    CHECK(::kill(pid, 0) == -1);
    CHECK(eventually([&] { return not_running(background); }));
    CHECK(no_children());
}

TEST_CASE("child: an io_context destroyed mid-wait kills and reaps the child", "[net][child]") {
    pid_t pid = -1;
    {
        asio::io_context io;
        auto started = dnsd::net::spawn(io.get_executor(), shell("exec sleep 30"));
        REQUIRE(std::holds_alternative<Child>(started));
        pid = std::get<Child>(started).pid();
        asio::co_spawn(
            io,
            [child = std::move(std::get<Child>(started))]() mutable -> asio::awaitable<void> {
                co_await child.wait_until(Clock::time_point::max());
            },
            asio::detached);
        io.run_for(100ms);
    }
    CHECK(::kill(pid, 0) == -1);
    CHECK(no_children());
}

TEST_CASE("child: at exit, what it left running is killed or left as asked", "[net][child]") {
    // The background sleep holds stdout open: the wait must not wait for it.
    auto r = run(shell("sleep 30 & echo $!"));
    CHECK(exited_with(r.status, 0));
    CHECK(r.took < 1000ms);
    pid_t background = static_cast<pid_t>(std::stol(r.output));
    CHECK(eventually([&] { return not_running(background); }));

    Command leave = shell("sleep 30 > /dev/null & echo $!");
    leave.at_exit = AtExit::leave_group;
    r = run(leave);
    CHECK(exited_with(r.status, 0));
    background = static_cast<pid_t>(std::stol(r.output));
    CHECK_FALSE(not_running(background));
    ::kill(background, SIGKILL);  // not ours to reap: init's
    CHECK(eventually([&] { return not_running(background); }));
    CHECK(no_children());
}

TEST_CASE("child: a finished wait gives the same status when asked again", "[net][child]") {
    asio::io_context io;
    auto started = dnsd::net::spawn(io.get_executor(), shell("exit 7"));
    REQUIRE(std::holds_alternative<Child>(started));
    auto& child = std::get<Child>(started);
    std::optional<int> first, second;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            first = co_await child.wait_until(Clock::now() + 2s);
            second = co_await child.wait_until(Clock::now() + 2s);
        },
        asio::detached);
    io.run_for(3s);
    CHECK(exited_with(first, 7));
    CHECK(exited_with(second, 7));
    CHECK(child.pid() == -1);
}

TEST_CASE("child: the environment without some variables", "[net][child]") {
    ::setenv("DNSD_CHILD_TEST_DROP", "x", 1);
    ::setenv("DNSD_CHILD_TEST_KEEP", "y", 1);
    const auto env = dnsd::net::environment_without({"DNSD_CHILD_TEST_DROP"});
    ::unsetenv("DNSD_CHILD_TEST_DROP");
    ::unsetenv("DNSD_CHILD_TEST_KEEP");
    CHECK(std::find(env.begin(), env.end(), "DNSD_CHILD_TEST_KEEP=y") != env.end());
    CHECK(std::none_of(env.begin(), env.end(),
                       [](const std::string& v) { return v.starts_with("DNSD_CHILD_TEST_DROP="); }));
}

TEST_CASE("child: wait statuses as messages say them", "[net][child]") {
    CHECK(dnsd::net::describe_exit(-1) == "exit status lost");
    CHECK(dnsd::net::describe_exit(0) == "exit 0");
    CHECK(dnsd::net::describe_exit(2 << 8) == "exit 2");
    CHECK(dnsd::net::describe_exit(SIGTERM) == "killed by signal 15");
}
