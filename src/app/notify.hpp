#pragma once

namespace nm {

// systemd's readiness protocol (Type=notify) through libsystemd's sd_notify: READY=1 once the
// server listens and has dropped its privileges, STOPPING=1 when it stops. Without
// $NOTIFY_SOCKET (not started by systemd) these do nothing.
void notify_ready();
void notify_stopping();

}  // namespace nm
