#include "dnsd/server/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace dnsd::server {

void drop_privileges(const std::string& user) {
    std::vector<char> buffer(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 || !found)
        throw std::runtime_error("server.user: no user named " + user);
    // Groups first, then the group id, then the user id: once the uid is
    // dropped the others can no longer be changed.
    if (::initgroups(pw.pw_name, pw.pw_gid) != 0)
        throw std::runtime_error("server.user: initgroups(" + user + "): " + std::strerror(errno));
    if (::setgid(pw.pw_gid) != 0)
        throw std::runtime_error("server.user: setgid(" + std::to_string(pw.pw_gid) +
                                 "): " + std::strerror(errno));
    if (::setuid(pw.pw_uid) != 0)
        throw std::runtime_error("server.user: setuid(" + std::to_string(pw.pw_uid) +
                                 "): " + std::strerror(errno));
    // For good: root must not be reachable again.
    if (pw.pw_uid != 0 && (::setuid(0) == 0 || ::geteuid() == 0))
        throw std::runtime_error("server.user: still able to become root after dropping privileges");
}

void notify_service_manager(const std::string& state) noexcept {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::size_t n = std::strlen(path);
    if (n >= sizeof addr.sun_path) return;
    std::memcpy(addr.sun_path, path, n);
    if (path[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n);
    const std::string message = state + "\nMAINPID=" + std::to_string(::getpid());
    (void)::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr),
                   len);
    ::close(fd);
}

}  // namespace dnsd::server
