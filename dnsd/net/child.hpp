#pragma once
/// Child processes of the daemon (exec probes, exec alert commands): started
/// with posix_spawnp in a process group of their own, waited for through
/// Asio by a deadline, killed with their group and always reaped.
///
/// Every child gets stdin on /dev/null, no descriptor beyond 0-2, no blocked
/// signals and default dispositions for the signals the daemon may ignore.
/// stdout is either captured (its start kept) or /dev/null; stderr is
/// /dev/null or the daemon's.
///
/// Threads: a Child belongs to the one thread that runs its executor; the
/// free functions may be called from any thread.

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dnsd::net {

/// Where a child's stderr goes.
enum class Stderr : std::uint8_t {
    null,     ///< /dev/null: a probe's noise does not belong in the daemon's log
    inherit,  ///< the daemon's: a failing alert script's complaint lands in its log
};

/// What happens, when the child exits, to what it started and left running
/// in its process group.
enum class AtExit : std::uint8_t {
    kill_group,   ///< killed with SIGKILL (probes: nothing outlives the check)
    leave_group,  ///< left running (alert commands may start background jobs)
};

struct Command {
    std::vector<std::string> argv;  ///< not empty; argv[0] is looked up in PATH
    std::vector<std::string> env;   ///< the child's whole environment ("NAME=value")
    std::size_t stdout_limit = 0;   ///< stdout is captured, its first bytes kept up to this; 0: /dev/null
    Stderr stderr_to = Stderr::null;
    AtExit at_exit = AtExit::kill_group;
};

/// A started child. Owns the process until it is reaped: whatever path
/// drops a Child (a timeout, a coroutine destroyed unfinished), the child
/// is reaped and no zombie is left.
class Child {
public:
    Child(Child&& o) noexcept;
    Child& operator=(Child&&) = delete;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    /// Still unreaped: kills the group and reaps the child, blocking. After
    /// SIGKILL that wait is short (see reap_detached for a child that may be
    /// stuck in the kernel).
    ~Child();

    /// Waits until the child exits or `deadline`, reading its captured
    /// stdout meanwhile (everything is read, so that a chatty child never
    /// blocks on a full pipe; the first `stdout_limit` bytes are kept).
    /// Returns the wait status once it has exited, after its group was
    /// killed (AtExit::kill_group) and it was reaped; -1 when someone else
    /// reaped it (SIGCHLD ignored); nullopt at the deadline, still running.
    /// Exits are seen through a pidfd, or by polling every 10 ms where there
    /// is none. When the child exits while something it started still holds
    /// stdout open, what is already in the pipe is kept without waiting for
    /// more. Throws only when cancelled. May be called again (a finished
    /// wait gives the same status), so it can lose a race with `||` and be
    /// asked later.
    boost::asio::awaitable<std::optional<int>> wait_until(std::chrono::steady_clock::time_point deadline);

    /// The start of stdout, as read so far (empty when not captured).
    const std::string& output() const noexcept { return output_; }

    /// SIGKILL to the whole group now. Reaping is left to wait_until, the
    /// destructor or reap_detached.
    void kill_group() noexcept;

    /// The child's pid (the group's id); -1 once reaped.
    pid_t pid() const noexcept { return pid_; }

private:
    friend std::variant<Child, std::string> spawn(const boost::asio::any_io_executor& ex,
                                                  const Command& command);
    friend void reap_detached(Child child);
    Child(pid_t pid, AtExit at_exit, std::size_t limit, boost::asio::posix::stream_descriptor exited,
          boost::asio::posix::stream_descriptor out);

    boost::asio::awaitable<std::optional<int>> exit_until(std::chrono::steady_clock::time_point deadline);
    boost::asio::awaitable<void> read_output();
    void drain() noexcept;
    void keep(const char* data, std::size_t n);

    pid_t pid_;
    int status_ = -1;  ///< the wait status, once reaped
    AtExit at_exit_;
    std::size_t limit_;
    std::string output_;
    boost::asio::posix::stream_descriptor exited_;  ///< the pidfd, readable once the child has exited
    boost::asio::posix::stream_descriptor out_;     ///< stdout's read end, when captured
};

/// Starts `command` on `ex`'s behalf: the Child, or the error text ("no
/// command", "pipe: ...", "spawn ARGV0: No such file or directory").
std::variant<Child, std::string> spawn(const boost::asio::any_io_executor& ex, const Command& command);

/// Kills `child`'s group and reaps it in a coroutine of its own on the
/// child's executor, off the caller's path: after SIGKILL the reap is quick,
/// but a child stuck in the kernel must not hold up a result. The
/// io_context must keep running until then; destroying it reaps the child
/// blocking.
void reap_detached(Child child);

/// The daemon's environment without the variables `names`, for a child that
/// gets its own values for them.
std::vector<std::string> environment_without(const std::vector<std::string_view>& names);

/// A wait status as messages say it: "exit 3", "killed by signal 9",
/// "exit status N" for anything else, "exit status lost" for -1.
std::string describe_exit(int status);

}  // namespace dnsd::net
