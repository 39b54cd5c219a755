#pragma once
/// Leaving root behind (SPEC [server] user) and telling a service manager
/// that we are ready (systemd's Type=notify protocol, spoken directly: one
/// datagram to $NOTIFY_SOCKET, so no libsystemd is needed).

#include <string>

namespace dnsd::server {

/// Switches the process to `user` (its uid, gid and groups) for good.
/// Call after every socket is bound and before any thread starts. Throws
/// std::runtime_error with the reason when it cannot.
void drop_privileges(const std::string& user);

/// Sends `state` ("READY=1", "RELOADING=1", "STOPPING=1") to the service
/// manager when one listens (NOTIFY_SOCKET set); otherwise does nothing.
void notify_service_manager(const std::string& state) noexcept;

}  // namespace dnsd::server
