// The FTP session (services/ftp/session.hpp) fed arbitrary control bytes in arbitrary chunks by a
// model whose every answer the fuzzer chooses, over a real folder.
//
// Input: the control stream off the front; the decisions off the back (fuzz_support.hpp), a
// decision of 0 being the plainest answer, so a seed is readable FTP text:
//   - first, the set-up: bit 0 anonymous write, bit 1 --show-hidden, bit 2 a --pasv-address,
//     bit 3 an IPv6 control connection, bit 4 no login-failure delay;
//   - per round, the chunk size: 0 the rest, 1-127 that many bytes, 128-254 (d-127)*64 bytes,
//     255 a time-out (timed_out()) before a chunk of the rest;
//   - per request: PASV/EPSV ok or EADDRINUSE; a transfer's status (ok, aborted, no connection,
//     lost, timed out, EIO, ENOSPC) and the bytes an upload gets; whether ABOR stops the transfer
//     or it ends by itself (the race a real model has); and for a transfer, a WorkRequest, a
//     DelayRequest or a PASV, whether it is answered at once or held while more input arrives;
//   - at the end: finish what is held, or drop the session with it pending (a closed connection;
//     its held job then runs after the session is gone, as a pool may run it).
// Users: anonymous (read-only unless bit 0), alice:secret (plain password, every right, the
// whole root) and bob:secret (a crypt(3) hash, so PASS is a WorkRequest; read and write in dir/).
// The root holds files, a folder, a FIFO, a dot file and symlinks aiming outside it; it is laid
// anew for every input.
//
// Checks:
//   - the output is CRLF lines only (no CR, LF or NUL inside a line), each call's output ends at a
//     line end, and the lines make RFC 959 replies: "DDD text" or "DDD-text", continued by lines
//     starting with a space, closed by "DDD text" with the same code; codes 1xx-5xx;
//   - the output is bounded by the input, per reply rather than per byte: at most 2 + 2 x (line
//     ends received + answers from the model) replies (a line gets at most a preliminary and a
//     final reply, ABOR's 426 + 226 come from one answer), each within kMaxReplyBytes (the largest
//     reply is STAT's status, four fields of at most a control line or a path each; PWD quotes a
//     4 KiB path with doubled quotes); the one reply that grows with the folder, STAT with a path,
//     has one line per entry, each within kMaxListingLine, and no more entries than the root
//     started with plus one per line received. A flat "N bytes out per byte in" would not hold:
//     PWD (5 bytes in) in a deep folder answers 8 KiB, rightly;
//   - every file handed to the model for RETR or an upload is a regular file inside the root
//     (its /proc/self/fd link), and every listing is CRLF lines;
//   - nothing is created outside the root: the sentinel folder beside it, which is also the
//     process's working folder, stays empty; no ".nm-upload-" temporary file is left anywhere
//     in the root once the session is gone; no descriptor is left open;
//   - ASan / UBSan / LeakSanitizer: no crash, no undefined behaviour, no leak.

#include <crypt.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "services/ftp/session.hpp"

namespace {

namespace fs = std::filesystem;
using nm::fuzz::printable;

constexpr size_t kMaxReplyBytes = 24 * 1024;
constexpr size_t kMaxListingLine = 512;
constexpr size_t kInitialEntries = 16;

struct Place {
  fs::path base;      // /tmp/nm-fuzz-ftp-XXXXXX
  fs::path root;      // base/root: the FTP root
  fs::path sentinel;  // base/sentinel: must stay empty (and is the working folder)
  std::string real_root;
  std::string bob_hash;
};

int lowest_free_fd() {
  int fd = ::dup(0);
  if (fd >= 0) ::close(fd);
  return fd;
}

Place& place() {
  static Place* p = [] {
    auto* q = new Place;
    q->base = nm::fuzz::scratch_folder("nm-fuzz-ftp-");
    q->root = q->base / "root";
    q->sentinel = q->base / "sentinel";
    fs::create_directories(q->root);
    fs::create_directories(q->sentinel);
    q->real_root = fs::canonical(q->root).string();
    NM_FUZZ_CHECK(::chdir(q->sentinel.c_str()) == 0, "chdir failed");
    // A cheap crypt(3) hash (MD5-crypt), so that a PASS of bob takes the WorkRequest path without
    // spending yescrypt's milliseconds on every try.
    crypt_data data{};
    const char* h = ::crypt_r("secret", "$1$fuzzsalt$", &data);
    NM_FUZZ_CHECK(h != nullptr && h[0] == '$', "crypt_r failed");
    q->bob_hash = h;
    spdlog::set_level(spdlog::level::off);
    return q;
  }();
  return *p;
}

void write_file(const fs::path& path, size_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  NM_FUZZ_CHECK(fd >= 0, "cannot create %s", path.c_str());
  std::string bytes(size, 'x');
  for (size_t i = 0; i < size; ++i)
    bytes[i] = (i % 64 == 63) ? '\n' : static_cast<char>('a' + i % 26);
  NM_FUZZ_CHECK(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()),
                "write failed");
  ::close(fd);
}

void lay_root() {
  const auto& root = place().root;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root)) fs::remove_all(entry.path(), ec);
  write_file(root / "readme.txt", 300);
  write_file(root / "empty", 0);
  write_file(root / ".hidden", 10);
  fs::create_directories(root / "dir" / "sub");
  write_file(root / "dir" / "nested.bin", 5000);
  ::mkfifo((root / "fifo").c_str(), 0644);
  fs::create_directory_symlink("/etc", root / "etc");
  fs::create_directory_symlink("../sentinel", root / "out");
  fs::create_symlink("/etc/passwd", root / "passwd");
  fs::create_directory_symlink("../../..", root / "dir" / "up");
}

// The descriptor names a regular file inside the root.
void check_file_inside(int fd, const char* what) {
  struct stat st {};
  NM_FUZZ_CHECK(::fstat(fd, &st) == 0 && S_ISREG(st.st_mode), "%s: not a regular file", what);
  char link[64];
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  char real[PATH_MAX + 1];
  ssize_t n = ::readlink(link, real, PATH_MAX);
  NM_FUZZ_CHECK(n > 0, "readlink failed");
  std::string_view target(real, static_cast<size_t>(n));
  const auto& root = place().real_root;
  NM_FUZZ_CHECK(target.size() > root.size() && target.substr(0, root.size()) == root &&
                    target[root.size()] == '/',
                "%s: file '%s' outside the root", what, printable(target).c_str());
}

void check_crlf_text(std::string_view text, const char* what) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      NM_FUZZ_CHECK(i + 1 < text.size() && text[i + 1] == '\n', "%s: bare CR", what);
      ++i;
    } else {
      NM_FUZZ_CHECK(text[i] != '\n' && text[i] != '\0', "%s: bare LF or NUL", what);
    }
  }
  NM_FUZZ_CHECK(text.empty() || text.back() == '\n', "%s: unterminated line", what);
}

// Reads the session's output as replies and checks their shape and size.
class ReplyChecker {
 public:
  void add(std::string_view bytes) {
    check_crlf_text(bytes, "control output");
    size_t start = 0;
    while (start < bytes.size()) {
      auto end = bytes.find("\r\n", start);
      line(bytes.substr(start, end - start));
      start = end + 2;
    }
  }
  void finish(size_t line_ends, size_t answers, size_t lines_in) {
    NM_FUZZ_CHECK(code_ == 0, "output ends inside a %d multi-line reply", code_);
    NM_FUZZ_CHECK(replies_ <= 2 + 2 * (line_ends + answers),
                  "%zu replies for %zu line ends and %zu model answers", replies_, line_ends,
                  answers);
    NM_FUZZ_CHECK(max_listing_lines_ <= kInitialEntries + lines_in,
                  "a STAT listing of %zu lines after %zu input lines", max_listing_lines_,
                  lines_in);
  }

 private:
  static bool digits(std::string_view l) {
    return l.size() >= 4 && l[0] >= '1' && l[0] <= '5' && l[1] >= '0' && l[1] <= '9' &&
           l[2] >= '0' && l[2] <= '9';
  }
  void line(std::string_view l) {
    reply_bytes_ += l.size() + 2;
    if (code_ != 0) {
      bool closing = digits(l) && l[3] == ' ' && std::stoi(std::string(l.substr(0, 3))) == code_;
      if (!closing) {
        NM_FUZZ_CHECK(!l.empty() && l[0] == ' ', "line '%s' inside a %d reply",
                      printable(l).c_str(), code_);
        ++body_lines_;
        if (code_ == 213) {
          NM_FUZZ_CHECK(l.size() <= kMaxListingLine, "listing line of %zu bytes", l.size());
        }
        return;
      }
      end_reply();
      return;
    }
    NM_FUZZ_CHECK(digits(l) && (l[3] == ' ' || l[3] == '-'), "line '%s' starts no reply",
                  printable(l).c_str());
    if (l[3] == '-') {
      code_ = std::stoi(std::string(l.substr(0, 3)));
      return;
    }
    end_reply();
  }
  void end_reply() {
    ++replies_;
    if (code_ == 213) {
      max_listing_lines_ = std::max(max_listing_lines_, body_lines_);
    } else {
      NM_FUZZ_CHECK(reply_bytes_ <= kMaxReplyBytes, "a reply of %zu bytes", reply_bytes_);
    }
    code_ = 0;
    body_lines_ = 0;
    reply_bytes_ = 0;
  }

  int code_ = 0;  // of the multi-line reply under way
  size_t body_lines_ = 0;
  size_t reply_bytes_ = 0;
  size_t replies_ = 0;
  size_t max_listing_lines_ = 0;
};

// The model: takes the session's requests and answers them as the fuzzer decides.
class Model {
 public:
  Model(nm::ftp::FtpSession& session, nm::fuzz::Input& input, int delay_ms)
      : session_(session), input_(input), delay_ms_(delay_ms) {}

  void start() {
    session_.start(out_);
    drain();
  }
  void receive(std::string_view chunk) {
    for (char c : chunk) {
      if (c == '\r' || c == '\n') ++line_ends_;
    }
    session_.receive(chunk, out_);
    drain();
  }
  void time_out() {
    ++answers_;
    session_.timed_out(out_);
    drain();
  }
  // After a chunk: each held request is answered now or held on.
  void settle(bool all) {
    for (int guard = 0; guard < 100000 && held(); ++guard) {
      if (passive_ && (all || !(input_.decide() & 0x40))) answer_passive(input_.decide());
      if (transfer_ && (all || !(input_.decide() & 0x40))) finish_transfer(input_.decide());
      if (delay_ && (all || !(input_.decide() & 0x40))) elapse();
      if (work_ && (all || !(input_.decide() & 0x40))) run_work();
      if (!all) return;
    }
  }
  bool held() const { return passive_ || transfer_ || delay_ || work_; }
  // The connection closes with requests pending: the jobs still run, after the session is gone.
  std::vector<std::function<void()>> abandon() {
    std::vector<std::function<void()>> jobs;
    if (work_) jobs.push_back(std::move(work_->job));
    work_.reset();
    transfer_.reset();
    return jobs;
  }
  void finish(size_t lines_in) { checker_.finish(line_ends_, answers_, lines_in); }
  size_t line_ends() const { return line_ends_; }

 private:
  void collect() {
    auto bytes = out_.view();
    NM_FUZZ_CHECK(bytes.empty() || (bytes.size() >= 2 && bytes.substr(bytes.size() - 2) == "\r\n"),
                  "output '%s' ends inside a line", printable(bytes).c_str());
    checker_.add(bytes);
    out_.clear();
  }

  void drain() {
    collect();
    while (auto request = session_.take_request()) {
      std::visit([this](auto& r) { take(r); }, *request);
      collect();
    }
  }

  void take(nm::PassiveRequest& r) {
    NM_FUZZ_CHECK(!passive_, "a second PassiveRequest before the first was answered");
    passive_ = r;
    if (!(input_.decide() & 0x40)) answer_passive(input_.decide());
  }
  void take(nm::TransferRequest& r) {
    NM_FUZZ_CHECK(!transfer_, "a second TransferRequest while one runs");
    if (r.file) {
      check_file_inside(r.file.get(), "transfer");
    } else {
      NM_FUZZ_CHECK(r.direction == nm::TransferRequest::Direction::kSend,
                    "an upload without a file");
      check_crlf_text(r.memory, "listing");
    }
    transfer_ = std::move(r);
    if (!(input_.decide() & 0x40)) finish_transfer(input_.decide());
  }
  void take(nm::AbortRequest&) {
    if (transfer_ && !(input_.decide() & 1)) {
      transfer_.reset();
      nm::TransferResult result;
      result.status = nm::TransferResult::Status::kAborted;
      ++answers_;
      session_.transfer_finished(result, out_);
    }
  }
  void take(nm::ClosePassiveRequest&) {}
  void take(nm::DelayRequest& r) {
    NM_FUZZ_CHECK(!delay_, "a second DelayRequest");
    NM_FUZZ_CHECK(r.duration.count() == delay_ms_, "delay of %lld ms",
                  static_cast<long long>(r.duration.count()));
    delay_ = true;
    if (!(input_.decide() & 0x40)) elapse();
  }
  // AUTH TLS: the host would run TLS from here on; a session asks for it at most once.
  void take(nm::StartTlsRequest&) {
    NM_FUZZ_CHECK(!tls_, "a StartTlsRequest while TLS is on");
    tls_ = true;
  }
  // REIN under TLS: the host returns to clear, after which AUTH TLS may come again.
  void take(nm::EndTlsRequest&) {
    NM_FUZZ_CHECK(tls_, "an EndTlsRequest without TLS");
    tls_ = false;
  }
  void take(nm::WorkRequest& r) {
    NM_FUZZ_CHECK(!work_, "a second WorkRequest before the first was done");
    NM_FUZZ_CHECK(static_cast<bool>(r.job), "a WorkRequest without a job");
    work_ = std::move(r);
    if (!(input_.decide() & 0x40)) run_work();
  }

  void answer_passive(uint8_t d) {
    nm::PassiveRequest r = *passive_;
    passive_.reset();
    nm::PassiveResult result;
    result.ok = d % 5 != 4;
    result.error = result.ok ? 0 : EADDRINUSE;
    result.bound = r.bind;
    result.bound.set_port(static_cast<uint16_t>(50000 + d));
    ++answers_;
    session_.passive_opened(result, out_);
    drain();
  }

  void finish_transfer(uint8_t d) {
    using Status = nm::TransferResult::Status;
    static const Status kStatus[] = {Status::kOk,
                                     Status::kOk,
                                     Status::kAborted,
                                     Status::kNoConnection,
                                     Status::kConnectionLost,
                                     Status::kTimeout,
                                     Status::kFileError,
                                     Status::kFileError};
    nm::TransferRequest t = std::move(*transfer_);
    transfer_.reset();
    nm::TransferResult result;
    result.status = kStatus[d % 8];
    if (result.status == Status::kFileError) result.error = (d & 8) ? ENOSPC : EIO;
    if (t.direction == nm::TransferRequest::Direction::kReceive) {
      // An upload gets a few bytes (a failed one some of them, as a dropped client sends).
      std::string bytes(static_cast<size_t>(d >> 4) * 37, 'u');
      if (::write(t.file.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())) {
        result.bytes = bytes.size();
      }
    } else if (t.file) {
      char buf[512];
      ssize_t n = ::pread(t.file.get(), buf, sizeof(buf), static_cast<off_t>(t.offset));
      NM_FUZZ_CHECK(n >= 0, "pread of the file to send failed: %s", std::strerror(errno));
      result.bytes = static_cast<uint64_t>(n);
    } else {
      result.bytes = t.memory.size();
    }
    ++answers_;
    session_.transfer_finished(result, out_);
    drain();
  }

  void elapse() {
    delay_ = false;
    ++answers_;
    session_.delay_elapsed(out_);
    drain();
  }

  void run_work() {
    auto job = std::move(work_->job);
    work_.reset();
    job();
    ++answers_;
    session_.work_done(out_);
    drain();
  }

  nm::ftp::FtpSession& session_;
  nm::fuzz::Input& input_;
  int delay_ms_;
  nm::Buffer out_;
  ReplyChecker checker_;
  std::optional<nm::PassiveRequest> passive_;
  std::optional<nm::TransferRequest> transfer_;
  bool delay_ = false;
  bool tls_ = false;
  std::optional<nm::WorkRequest> work_;
  size_t line_ends_ = 0;
  size_t answers_ = 0;
};

nm::FtpConfig make_config(uint8_t setup) {
  const auto& p = place();
  nm::FtpConfig config;
  config.root = p.root;
  config.anonymous = true;
  config.anonymous_write = setup & 1;
  config.show_hidden = setup & 2;
  if (setup & 4) config.pasv_address = nm::Address::from("192.0.2.7", 0);
  config.login_failure_delay_ms = (setup & 16) ? 0 : 1000;
  // The FTPS levels: AUTH TLS, PBSZ, PROT and the refusals of USER and transfers they bring.
  config.tls = static_cast<nm::TlsLevel>((setup >> 5) & 3);
  nm::FtpUser alice;
  alice.name = "alice";
  alice.plain_password = "secret";
  alice.root = p.root;
  alice.rights = nm::FtpRights{true, true, true, true, true};
  config.users.push_back(alice);
  nm::FtpUser bob;
  bob.name = "bob";
  bob.password_hash = p.bob_hash;
  bob.root = p.root / "dir";
  bob.rights = nm::FtpRights{true, true, false, false, false};
  config.users.push_back(bob);
  return config;
}

void find_temps(const fs::path& dir, int depth) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto name = entry.path().filename().string();
    NM_FUZZ_CHECK(name.rfind(".nm-upload-", 0) != 0, "temporary file %s left behind",
                  entry.path().c_str());
    if (depth < 64 && entry.is_directory(ec) && !entry.is_symlink(ec)) {
      find_temps(entry.path(), depth + 1);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Place& p = place();
  lay_root();
  // Taken per input: libFuzzer itself opens descriptors between inputs (its symbolizer's pipes).
  int free_fd = lowest_free_fd();
  nm::fuzz::Input input(data, size);
  uint8_t setup = input.decide();
  nm::FtpConfig config = make_config(setup);
  nm::ConnectionInfo info;
  bool v6 = setup & 8;
  info.local = *nm::Address::parse(v6 ? "[::1]:21" : "127.0.0.1:21");
  info.peer = *nm::Address::parse(v6 ? "[::1]:40000" : "127.0.0.1:40000");
  info.id = 1;

  std::vector<std::function<void()>> orphans;
  {
    auto session = std::make_unique<nm::ftp::FtpSession>(config, info);
    Model model(*session, input, config.login_failure_delay_ms);
    model.start();
    while (!input.empty() && !session->done()) {
      uint8_t d = input.decide();
      if (d == 255) model.time_out();
      size_t n = d == 0 || d == 255 ? input.size()
                 : d < 128          ? d
                                    : static_cast<size_t>(d - 127) * 64;
      model.receive(input.take(n));
      model.settle(false);
    }
    if (!(input.decide() & 1)) model.settle(true);
    orphans = model.abandon();
    model.finish(model.line_ends());
    session.reset();
  }
  for (auto& job : orphans) job();
  orphans.clear();

  find_temps(p.root, 0);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(p.sentinel, ec)) {
    NM_FUZZ_CHECK(false, "%s created outside the root", entry.path().c_str());
  }
  size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(p.base, ec)) {
    (void)entry;
    ++entries;
  }
  NM_FUZZ_CHECK(entries == 2, "%zu entries beside the root and the sentinel", entries - 2);
  if (lowest_free_fd() != free_fd) {
    char link[64], target[PATH_MAX + 1] = {};
    std::snprintf(link, sizeof(link), "/proc/self/fd/%d", free_fd);
    ssize_t n = ::readlink(link, target, PATH_MAX);
    NM_FUZZ_CHECK(false, "descriptor %d left open: %s", free_fd, n > 0 ? target : "?");
  }
  return 0;
}
