#pragma once

#include <sys/types.h>
#include <string>

namespace nm {

struct RunAs {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
  bool explicit_group = false;  // USER:GROUP: no supplementary groups; USER: the user's groups
};

// "USER[:GROUP]" (names or numbers) looked up in the user database. Throws std::runtime_error
// naming what was not found.
RunAs resolve_run_as(const std::string& spec);

// Drops root for good: setgroups (the user's groups, or none with an explicit group), setgid,
// setuid, each checked, then checks that setuid(0) fails and that no id is 0 any more. Throws
// std::runtime_error on any failure: a server that meant to drop and could not must not serve.
void drop_privileges(const RunAs& target);

}  // namespace nm
