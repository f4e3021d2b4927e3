#include "services/ftp/xferlog.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "net/signals.hpp"

namespace nm {
namespace {

std::string one_word(std::string_view text) {
  std::string word(text.empty() ? "_" : text);
  for (char& c : word) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) c = '_';
  }
  return word;
}

int open_log(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "xferlog " + path);
  return fd;
}

}  // namespace

std::string format_xferlog(const XferRecord& r) {
  std::tm tm{};
  localtime_r(&r.when, &tm);
  char when[32];
  // asctime's layout ("%a %b %e %H:%M:%S %Y"), which the format takes from wu-ftpd.
  std::strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
  std::string line = when;
  line += ' ' + std::to_string(r.seconds < 1 ? 1 : r.seconds);
  line += ' ' + one_word(r.host);
  line += ' ' + std::to_string(r.bytes);
  line += ' ' + one_word(r.path);
  line += r.ascii ? " a" : " b";
  line += " _";  // special action: none (no compression, tar)
  line += r.incoming ? " i" : " o";
  line += r.anonymous ? " a " : " r ";
  line += one_word(r.user);
  line += " ftp 0 *";  // service, authentication method (none), authenticated user id
  line += r.complete ? " c\n" : " i\n";
  return line;
}

XferLog::XferLog(std::string path)
    : path_(std::move(path)), fd_(open_log(path_)), generation_(reload_generation()) {}

XferLog::~XferLog() {
  if (fd_ >= 0) ::close(fd_);
}

void XferLog::record(std::string_view verb, std::string_view path, const TransferResult& result,
                     std::chrono::steady_clock::time_point started, const Address& peer, bool ascii,
                     std::string_view user) {
  bool incoming = verb == "STOR" || verb == "STOU" || verb == "APPE";
  if (!incoming && verb != "RETR") return;
  XferRecord r;
  r.when = std::time(nullptr);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  r.seconds = (ms + 500) / 1000;
  r.host = peer.host();
  r.bytes = result.bytes;
  r.path = std::string(path);
  r.ascii = ascii;
  r.incoming = incoming;
  r.anonymous = user == "anonymous";
  r.user = std::string(user);
  r.complete = result.status == TransferResult::Status::kOk;
  write(r);
}

void XferLog::write(const XferRecord& record) {
  reopen_if_asked();
  std::string line = format_xferlog(record);
  // One write(2) of the whole line: with O_APPEND the kernel places it at the end atomically,
  // whatever other threads and processes append at the same time.
  [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
}

void XferLog::reopen_if_asked() {
  unsigned now = reload_generation();
  if (generation_.load(std::memory_order_relaxed) == now) return;
  if (generation_.exchange(now) == now) return;  // another thread reopened it
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return;  // keep writing to the old file rather than lose lines
  ::dup3(fd, fd_, O_CLOEXEC);
  ::close(fd);
}

}  // namespace nm
