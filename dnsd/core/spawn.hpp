#pragma once
/// Child processes of the daemon (exec probes, exec alert commands): how
/// they are started with posix_spawnp, killed and reaped.

#include <spawn.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace dnsd {

/// posix_spawn's attribute and file-action objects, destroyed on every path,
/// set up as every child of the daemon wants them: its own process group
/// (killed as a whole, so that a timeout kills what it started too), no
/// blocked signals, and default dispositions for signals the daemon may
/// ignore (exec keeps ignored ones); stdin on /dev/null (no child is given
/// anything to read), and nothing inherited beyond 0-2. Where stdout and
/// stderr go is the caller's to add to actions().
class Spawn {
public:
    Spawn();
    ~Spawn();
    Spawn(const Spawn&) = delete;
    Spawn& operator=(const Spawn&) = delete;

    posix_spawn_file_actions_t* actions() noexcept { return &actions_; }

    /// Starts `command` (not empty; its first word looked up in PATH) with
    /// `env` as its whole environment, and sets `pid`. The error text, or
    /// empty. Once per Spawn.
    std::string start(const std::vector<std::string>& command, const std::vector<std::string>& env,
                      pid_t& pid);

private:
    posix_spawnattr_t attr_;
    posix_spawn_file_actions_t actions_;
};

/// The daemon's environment without the variables `names`, for a child
/// that gets its own values for them.
std::vector<std::string> environment_without(const std::vector<std::string_view>& names);

/// A pidfd for the child `pid`, readable once it has exited; -1 where there
/// is none (an old kernel or a seccomp filter).
int open_pidfd(pid_t pid);

/// Kills the process group the child `pid` leads and reaps the child. Its
/// pid is not reaped yet, so the group id cannot have been reused; after
/// SIGKILL the wait is short.
void kill_and_reap(pid_t pid);

}  // namespace dnsd
