#include "services/ftp/users_table.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "net/logfmt.hpp"
#include "net/process_mutex.hpp"
#include "net/signals.hpp"
#include "services/ftp/users_file.hpp"

namespace nm {
namespace {

// A users file is a line per user: a megabyte is tens of thousands of users. A bigger file is
// served all the same, only without the shared fallback.
constexpr size_t kSharedTextMax = size_t{1} << 20;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    throw std::runtime_error("cannot read users file " + path.string());
  }
  return text.str();
}

}  // namespace

// The text of the last users file that parsed in any process of this server. Why shared: a fork
// child (or a prefork worker that logged nobody in since) still holds the users the server
// started with; were its own copy its fallback, a broken file would bring back users removed by
// an earlier reload. With this, a failed reload falls back to the last file that any process
// accepted. A robust mutex, because a process may die holding it; `valid` is false while a copy
// is half written.
struct UsersTable::Shared {
  pthread_mutex_t mutex;
  bool valid;
  size_t size;
  char text[kSharedTextMax];
};

UsersTable::UsersTable(std::filesystem::path path)
    : path_(std::move(path)), generation_(reload_generation()) {
  std::string text = read_text(path_);
  users_ = parse(text);
  void* shared =
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return;  // each process falls back to its own copy then
  shared_ = static_cast<Shared*>(shared);
  init_process_mutex(&shared_->mutex);
  publish(text);
}

UsersTable::~UsersTable() {
  if (shared_ != nullptr) ::munmap(shared_, sizeof(Shared));
}

std::shared_ptr<const std::vector<FtpUser>> UsersTable::parse(const std::string& text) const {
  std::istringstream in(text);
  return std::make_shared<const std::vector<FtpUser>>(parse_users_file(in, path_));
}

void UsersTable::publish(const std::string& text) {
  if (shared_ == nullptr) return;
  ProcessMutexLock lock(&shared_->mutex);
  shared_->valid = false;
  if (text.size() > kSharedTextMax) return;
  std::memcpy(shared_->text, text.data(), text.size());
  shared_->size = text.size();
  shared_->valid = true;
}

std::shared_ptr<const std::vector<FtpUser>> UsersTable::last_good() const {
  if (shared_ == nullptr) return nullptr;
  std::string text;
  {
    ProcessMutexLock lock(&shared_->mutex);
    if (!shared_->valid) return nullptr;
    text.assign(shared_->text, shared_->size);
  }
  try {
    return parse(text);
  } catch (const std::exception&) {
    return nullptr;  // it parsed once; only a root that is gone could fail it now
  }
}

std::shared_ptr<const std::vector<FtpUser>> UsersTable::current() {
  std::lock_guard lock(mutex_);
  unsigned now = reload_generation();
  if (now == generation_) return users_;
  generation_ = now;
  // A users file is a few lines read once per SIGHUP: reading it on the caller's thread (an
  // event loop, at a PASS) costs less than handing it to the pool would.
  try {
    std::string text = read_text(path_);
    users_ = parse(text);
    publish(text);
    spdlog::info("event=users-reload path={} users={} result=ok", logfmt_value(path_.string()),
                 users_->size());
  } catch (const std::exception& e) {
    if (auto fallback = last_good()) users_ = std::move(fallback);
    spdlog::error("event=users-reload path={} users={} result=fail error={}",
                  logfmt_value(path_.string()), users_->size(), logfmt_value(e.what()));
  }
  return users_;
}

}  // namespace nm
