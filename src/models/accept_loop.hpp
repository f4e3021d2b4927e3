#pragma once

#include <functional>

#include "models/model.hpp"
#include "net/fd.hpp"
#include "server/admission.hpp"

namespace nm {

// The blocking models' acceptor: waits on the listener and the stop pipe, accepts, refuses what
// --max-clients / --max-per-ip do not admit (with the service's refusal line), and hands each
// admitted connection to `serve`, which must call admission.release(peer) when it ends.
// `wake_fd`, when given, is watched too and `on_wake` runs when it is readable (fork reaps its
// children that way). Returns once a stop or a drain was asked for; on a drain, the listeners
// have stopped listening, and the connections being served drain themselves (they watch the
// drain pipe too).
void accept_loop(ServerContext& context, Admission& admission,
                 const std::function<void(Fd, const Address&)>& serve, int wake_fd = -1,
                 const std::function<void()>& on_wake = {});

}  // namespace nm
