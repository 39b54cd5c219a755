#include "dnsd/core/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dnsd {

Spawn::Spawn() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_setflags(
        &attr_, static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
    posix_spawnattr_setpgroup(&attr_, 0);
    sigset_t signals;
    sigemptyset(&signals);
    posix_spawnattr_setsigmask(&attr_, &signals);
    for (const int sig : {SIGPIPE, SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2})
        sigaddset(&signals, sig);
    posix_spawnattr_setsigdefault(&attr_, &signals);
    posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0);
}

Spawn::~Spawn() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
}

std::string Spawn::start(const std::vector<std::string>& command, const std::vector<std::string>& env,
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

std::vector<std::string> environment_without(const std::vector<std::string_view>& names) {
    std::vector<std::string> env;
    for (char** var = environ; *var; ++var) {
        const std::string_view text(*var);
        const auto name = text.substr(0, text.find('='));
        if (std::find(names.begin(), names.end(), name) == names.end()) env.emplace_back(text);
    }
    return env;
}

int open_pidfd(pid_t pid) {
    // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C".
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    return fd >= 0 ? static_cast<int>(fd) : -1;
}

void kill_and_reap(pid_t pid) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace dnsd
