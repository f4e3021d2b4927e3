#include "app/notify.hpp"

#include <systemd/sd-daemon.h>

namespace nm {

// Only the main process notifies (systemd ignores the others with NotifyAccess=main).
void notify_ready() {
  sd_notify(0, "READY=1");
}
void notify_stopping() {
  sd_notify(0, "STOPPING=1");
}

}  // namespace nm
