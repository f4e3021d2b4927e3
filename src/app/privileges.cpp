#include "app/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace nm {
namespace {

std::runtime_error failure(const std::string& what) {
  return std::runtime_error("--run-as: " + what + ": " + std::strerror(errno));
}

bool all_digits(const std::string& text, unsigned long* value) {
  auto r = std::from_chars(text.data(), text.data() + text.size(), *value);
  return !text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size();
}

}  // namespace

RunAs resolve_run_as(const std::string& spec) {
  auto colon = spec.find(':');
  std::string user = spec.substr(0, colon);
  std::string group = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (user.empty()) throw std::runtime_error("--run-as wants USER[:GROUP], got '" + spec + "'");

  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  unsigned long number = 0;
  if (all_digits(user, &number)) {
    getpwuid_r(static_cast<uid_t>(number), &pw, buffer.data(), buffer.size(), &found);
  } else {
    getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found);
  }
  if (found == nullptr) throw std::runtime_error("--run-as: no user '" + user + "'");
  RunAs target;
  target.user = pw.pw_name;
  target.uid = pw.pw_uid;
  target.gid = pw.pw_gid;
  if (!group.empty()) {
    std::vector<char> gbuffer(16384);
    ::group gr{};
    ::group* gfound = nullptr;
    if (all_digits(group, &number)) {
      getgrgid_r(static_cast<gid_t>(number), &gr, gbuffer.data(), gbuffer.size(), &gfound);
    } else {
      getgrnam_r(group.c_str(), &gr, gbuffer.data(), gbuffer.size(), &gfound);
    }
    if (gfound == nullptr) throw std::runtime_error("--run-as: no group '" + group + "'");
    target.gid = gr.gr_gid;
    target.explicit_group = true;
  }
  if (target.uid == 0) throw std::runtime_error("--run-as: '" + user + "' is root");
  return target;
}

void drop_privileges(const RunAs& target) {
  // Already that user (a systemd unit with User= and the same --run-as): nothing to drop, and
  // without root the calls below would fail.
  uid_t r, e, saved;
  gid_t gr, ge, gsaved;
  if (getresuid(&r, &e, &saved) == 0 && getresgid(&gr, &ge, &gsaved) == 0 && r == target.uid &&
      e == target.uid && saved == target.uid && gr == target.gid && ge == target.gid &&
      gsaved == target.gid) {
    return;
  }
  if (target.explicit_group) {
    if (::setgroups(0, nullptr) != 0) throw failure("setgroups");
  } else if (::initgroups(target.user.c_str(), target.gid) != 0) {
    throw failure("initgroups");
  }
  // The group first: once the uid is dropped, setgid is no longer allowed.
  if (::setgid(target.gid) != 0) throw failure("setgid");
  if (::setuid(target.uid) != 0) throw failure("setuid");
  errno = EPERM;
  if (::setuid(0) == 0) throw std::runtime_error("--run-as: setuid(0) still succeeds");
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0) {
    throw failure("getresuid");
  }
  if (ruid != target.uid || euid != target.uid || suid != target.uid || rgid != target.gid ||
      egid != target.gid || sgid != target.gid) {
    throw std::runtime_error("--run-as: ids not dropped");
  }
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Changing ids makes the process non-dumpable, and LeakSanitizer's exit check then cannot
  // ptrace its own threads. Sanitizer builds are test builds: let it.
  ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
}

}  // namespace nm
