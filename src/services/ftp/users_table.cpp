#include "services/ftp/users_table.hpp"

#include <spdlog/spdlog.h>

#include <exception>

#include "net/logfmt.hpp"
#include "net/signals.hpp"
#include "services/ftp/users_file.hpp"

namespace nm {

UsersTable::UsersTable(std::filesystem::path path)
    : path_(std::move(path)),
      users_(std::make_shared<const std::vector<FtpUser>>(load_users_file(path_))),
      generation_(reload_generation()) {}

std::shared_ptr<const std::vector<FtpUser>> UsersTable::current() {
  std::lock_guard lock(mutex_);
  unsigned now = reload_generation();
  if (now == generation_) return users_;
  generation_ = now;
  // A users file is a few lines read once per SIGHUP: reading it on the caller's thread (an
  // event loop, at a PASS) costs less than handing it to the pool would.
  try {
    users_ = std::make_shared<const std::vector<FtpUser>>(load_users_file(path_));
    spdlog::info("event=users-reload path={} users={} result=ok", logfmt_value(path_.string()),
                 users_->size());
  } catch (const std::exception& e) {
    spdlog::error("event=users-reload path={} users={} result=fail error={}",
                  logfmt_value(path_.string()), users_->size(), logfmt_value(e.what()));
  }
  return users_;
}

}  // namespace nm
