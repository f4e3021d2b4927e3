#pragma once

#include "models/model.hpp"
#include "net/address.hpp"
#include "net/fd.hpp"

namespace nm {

// Serves one accepted connection to its end with blocking waits: the body of the iterative,
// fork, threads, thread-pool and prefork models. It returns when the session is done, the peer
// leaves, the connection idles past --idle-timeout, or context.stop_fd becomes readable. When
// context.drain_fd does, its host drains (session_host.hpp) and the listeners stop listening.
// FTP transfers run here too, watching the control connection meanwhile so ABOR works.
void serve_blocking(Fd connection, const Address& peer, const ServerContext& context);

}  // namespace nm
