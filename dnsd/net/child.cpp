// Child processes. A child's exit is seen without reaping it first
// (waitid with WNOWAIT): its pid stays taken, so the group id cannot be
// reused before the group is killed. Only then is the child reaped.

#include "dnsd/net/child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

#include "dnsd/core/fd.hpp"

namespace dnsd::net {

namespace asio = boost::asio;
using asio::awaitable;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kDrainLimit = 64 * 1024;  // read from a pipe whose writer may still be running
constexpr auto kPoll = std::chrono::milliseconds(10);

/// posix_spawn's attribute and file-action objects, destroyed on every path,
/// set up as every child of the daemon wants them: its own process group
/// (killed as a whole, so that a timeout kills what it started too), no
/// blocked signals, and default dispositions for signals the daemon may
/// ignore (exec keeps ignored ones); stdin on /dev/null (no child is given
/// anything to read), and nothing inherited beyond 0-2.
class Spawn {
public:
    Spawn() {
        posix_spawnattr_init(&attr_);
        posix_spawn_file_actions_init(&actions_);
        posix_spawnattr_setflags(&attr_, static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                            POSIX_SPAWN_SETSIGDEF));
        posix_spawnattr_setpgroup(&attr_, 0);
        sigset_t signals;
        sigemptyset(&signals);
        posix_spawnattr_setsigmask(&attr_, &signals);
        for (const int sig : {SIGPIPE, SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2})
            sigaddset(&signals, sig);
        posix_spawnattr_setsigdefault(&attr_, &signals);
        posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0);
    }
    ~Spawn() {
        posix_spawn_file_actions_destroy(&actions_);
        posix_spawnattr_destroy(&attr_);
    }
    Spawn(const Spawn&) = delete;
    Spawn& operator=(const Spawn&) = delete;

    posix_spawn_file_actions_t* actions() noexcept { return &actions_; }

    /// Starts `command` (not empty) with `env` as its whole environment and
    /// sets `pid`. The error text, or empty. Once per Spawn.
    std::string start(const std::vector<std::string>& command, const std::vector<std::string>& env,
                      pid_t& pid) {
        std::vector<char*> argv;
        for (const auto& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
        argv.push_back(nullptr);
        std::vector<char*> envp;
        for (const auto& var : env) envp.push_back(const_cast<char*>(var.c_str()));
        envp.push_back(nullptr);
        // Last, after the caller's actions, which may dup2 from a descriptor
        // above 2.
        posix_spawn_file_actions_addclosefrom_np(&actions_, 3);
        const int error = ::posix_spawnp(&pid, argv[0], &actions_, &attr_, argv.data(), envp.data());
        if (error != 0) return "spawn " + command.front() + ": " + std::strerror(error);
        return {};
    }

private:
    posix_spawnattr_t attr_;
    posix_spawn_file_actions_t actions_;
};

/// Moves `fd` above 0-2, where the child's dup2 and opens would clobber it
/// (possible when the daemon runs with a standard stream closed).
Fd above_stdio(Fd fd) {
    if (fd.get() > 2) return fd;
    return Fd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
}

/// A pidfd for the child `pid`, readable once it has exited; -1 where there
/// is none (an old kernel or a seccomp filter).
int open_pidfd(pid_t pid) {
    // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C".
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    return fd >= 0 ? static_cast<int>(fd) : -1;
}

awaitable<void> reap(Child child) {
    co_await child.wait_until(Clock::time_point::max());
}

}  // namespace

Child::Child(pid_t pid, AtExit at_exit, std::size_t limit, asio::posix::stream_descriptor exited,
             asio::posix::stream_descriptor out)
    : pid_(pid), at_exit_(at_exit), limit_(limit), exited_(std::move(exited)), out_(std::move(out)) {}

Child::Child(Child&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      status_(o.status_),
      at_exit_(o.at_exit_),
      limit_(o.limit_),
      output_(std::move(o.output_)),
      exited_(std::move(o.exited_)),
      out_(std::move(o.out_)) {}

Child::~Child() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
}

void Child::kill_group() noexcept {
    if (pid_ > 0) ::kill(-pid_, SIGKILL);
}

awaitable<std::optional<int>> Child::exit_until(Clock::time_point deadline) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        if (pid_ <= 0) co_return status_;
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
            if (errno == EINTR) continue;
            pid_ = -1;  // reaped by someone else
            co_return status_;
        }
        if (info.si_pid == pid_) {
            if (at_exit_ == AtExit::kill_group) ::kill(-pid_, SIGKILL);
            // A zombie already: this does not wait.
            while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
            co_return status_;
        }
        const auto now = Clock::now();
        if (now >= deadline) co_return std::nullopt;
        if (exited_.is_open()) {
            timer.expires_at(deadline);
            co_await (exited_.async_wait(asio::posix::descriptor_base::wait_read, kTuple) ||
                      timer.async_wait(kTuple));
        } else {
            // No pidfd: poll.
            timer.expires_at(std::min(deadline, now + kPoll));
            co_await timer.async_wait(kTuple);
        }
    }
}

void Child::keep(const char* data, std::size_t n) {
    output_.append(data, std::min(n, limit_ - std::min(limit_, output_.size())));
}

awaitable<void> Child::read_output() {
    std::array<char, 1024> buf;
    for (;;) {
        auto [ec, n] = co_await out_.async_read_some(asio::buffer(buf), kTuple);
        keep(buf.data(), n);
        if (ec) co_return;  // end of file, or an error: the exit status decides either way
    }
}

void Child::drain() noexcept {
    boost::system::error_code ec;
    out_.non_blocking(true, ec);
    std::array<char, 1024> buf;
    for (std::size_t total = 0; !ec && total < kDrainLimit;) {
        const std::size_t n = out_.read_some(asio::buffer(buf), ec);
        try {
            keep(buf.data(), n);
        } catch (...) {
            return;  // out of memory: the output is a message, not the verdict
        }
        total += n;
    }
}

awaitable<std::optional<int>> Child::wait_until(Clock::time_point deadline) {
    if (!out_.is_open()) co_return co_await exit_until(deadline);
    auto first = co_await (read_output() || exit_until(deadline));
    boost::system::error_code ignored;
    if (first.index() == 0) {
        out_.close(ignored);
        co_return co_await exit_until(deadline);
    }
    const auto status = std::get<1>(first);
    if (status) {
        // Exited with stdout still open: something it started in the
        // background held it (with AtExit::kill_group, now killed). Keep
        // what is there.
        drain();
        out_.close(ignored);
    }
    co_return status;
}

std::variant<Child, std::string> spawn(const asio::any_io_executor& ex, const Command& command) {
    if (command.argv.empty() || command.argv.front().empty()) return std::string("no command");
    Spawn s;
    Fd read_end;
    Fd write_end;
    if (command.stdout_limit > 0) {
        // O_CLOEXEC: no other child, spawned meanwhile by another thread,
        // may inherit the write end and keep the pipe open.
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
        read_end = above_stdio(Fd(fds[0]));
        write_end = above_stdio(Fd(fds[1]));
        if (read_end.get() < 0 || write_end.get() < 0) return std::string("pipe: ") + std::strerror(errno);
        posix_spawn_file_actions_adddup2(s.actions(), write_end.get(), 1);
    } else {
        posix_spawn_file_actions_addopen(s.actions(), 1, "/dev/null", O_WRONLY, 0);
    }
    switch (command.stderr_to) {
        case Stderr::null:
            posix_spawn_file_actions_addopen(s.actions(), 2, "/dev/null", O_WRONLY, 0);
            break;
        case Stderr::inherit:
            break;
    }
    pid_t pid = -1;
    if (auto error = s.start(command.argv, command.env, pid); !error.empty()) return error;

    asio::posix::stream_descriptor exited(ex);
    if (const int fd = open_pidfd(pid); fd >= 0) exited.assign(fd);
    asio::posix::stream_descriptor out(ex);
    if (read_end.get() >= 0) out.assign(read_end.release());
    return Child(pid, command.at_exit, command.stdout_limit, std::move(exited), std::move(out));
}

void reap_detached(Child child) {
    child.kill_group();
    // Nothing more is wanted from its output.
    boost::system::error_code ignored;
    child.out_.close(ignored);
    const auto ex = child.exited_.get_executor();
    asio::co_spawn(ex, reap(std::move(child)), asio::detached);
}

std::vector<std::string> environment_without(const std::vector<std::string_view>& names) {
    std::vector<std::string> env;
    for (char** var = environ; *var; ++var) {
        const std::string_view text(*var);
        const auto name = text.substr(0, text.find('='));
        if (std::find(names.begin(), names.end(), name) == names.end()) env.emplace_back(text);
    }
    return env;
}

std::string describe_exit(int status) {
    if (status == -1) return "exit status lost";
    if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "exit status " + std::to_string(status);
}

}  // namespace dnsd::net
