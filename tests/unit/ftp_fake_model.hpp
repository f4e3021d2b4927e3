#pragma once

// Test doubles for the FTP session tests: a temporary folder, and a model that answers the
// session's data-channel requests the way a real one would, without any socket.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "services/ftp/ftp_config.hpp"
#include "services/ftp/session.hpp"

namespace nm::ftp::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/nm-ftp-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }
  void write(const std::string& rel, const std::string& content) const {
    std::ofstream(path_ / rel, std::ios::binary) << content;
  }
  std::string read(const std::string& rel) const {
    std::ifstream in(path_ / rel, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool exists(const std::string& rel) const {
    std::error_code ec;
    return std::filesystem::exists(std::filesystem::symlink_status(path_ / rel, ec));
  }
  void mkdir(const std::string& rel) const { std::filesystem::create_directories(path_ / rel); }
  // Names in a folder, hidden ones included.
  std::vector<std::string> names(const std::string& rel = "") const {
    std::vector<std::string> result;
    for (const auto& e : std::filesystem::directory_iterator(path_ / rel)) {
      result.push_back(e.path().filename().string());
    }
    return result;
  }

 private:
  std::filesystem::path path_;
};

class FakeModel {
 public:
  explicit FakeModel(Session& session) : session_(session) {}

  std::string start() {
    session_.start(out_);
    return drain();
  }
  std::string send(std::string_view bytes) {
    session_.receive(bytes, out_);
    return drain();
  }
  std::string time_out() {
    session_.timed_out(out_);
    return drain();
  }
  // Ends the pending transfer: on kOk moves the bytes (file or memory into `data`, `upload` into
  // the file); on a failure of an upload, writes half of `upload` first, as a dropped client would.
  std::string finish(TransferResult::Status status = TransferResult::Status::kOk, int error = 0) {
    EXPECT_TRUE(transfer.has_value()) << "no transfer pending";
    if (!transfer) return {};
    TransferRequest t = std::move(*transfer);
    transfer.reset();
    TransferResult result;
    result.status = status;
    result.error = error;
    if (t.direction == TransferRequest::Direction::kSend) {
      data = t.file ? read_fd(t.file.get(), t.offset) : t.memory;
      if (status == TransferResult::Status::kOk) result.bytes = data.size();
    } else {
      std::string bytes =
          status == TransferResult::Status::kOk ? upload : upload.substr(0, upload.size() / 2);
      EXPECT_EQ(::write(t.file.get(), bytes.data(), bytes.size()),
                static_cast<ssize_t>(bytes.size()));
      result.bytes = bytes.size();
    }
    last_ascii = t.ascii;
    last_target = t.active_target;
    session_.transfer_finished(result, out_);
    return drain();
  }
  // Runs the held WorkRequest's job, then reports it done, as a pool and its wake-up would.
  std::string run_work() {
    auto job = take_work();
    if (!job) return {};
    job();
    session_.work_done(out_);
    return drain();
  }
  // The held job, handed over: the test runs it whenever it likes (after the session is gone).
  std::function<void()> take_work() {
    EXPECT_TRUE(pending_work.has_value()) << "no work pending";
    if (!pending_work) return {};
    auto job = std::move(pending_work->job);
    pending_work.reset();
    return job;
  }
  std::string elapse() {
    EXPECT_TRUE(pending_delay.has_value());
    pending_delay.reset();
    session_.delay_elapsed(out_);
    return drain();
  }

  // Behaviour.
  bool passive_ok = true;
  uint16_t passive_port = 50000;
  bool auto_delay = true;
  bool auto_work = true;       // false: hold a WorkRequest until run_work()
  bool abort_finishes = true;  // an AbortRequest ends the pending transfer with kAborted

  // What was asked.
  std::optional<TransferRequest> transfer;
  std::optional<PassiveRequest> last_passive;
  std::optional<DelayRequest> pending_delay;
  std::optional<WorkRequest> pending_work;
  int start_tls = 0;  // StartTlsRequests (AUTH TLS accepted)
  int end_tls = 0;    // EndTlsRequests (REIN under AUTH TLS)
  int works = 0;      // WorkRequests asked for (run inline, as a blocking model runs them, when
                      // auto_work)
  std::optional<Address> last_target;
  bool last_ascii = false;
  int aborts = 0;
  int close_passive = 0;
  int delays = 0;
  std::string data;
  std::string upload;

 private:
  static std::string read_fd(int fd, uint64_t offset) {
    std::string s;
    char buf[65536];
    ssize_t n;
    auto pos = static_cast<off_t>(offset);
    while ((n = ::pread(fd, buf, sizeof(buf), pos)) > 0) {
      s.append(buf, static_cast<size_t>(n));
      pos += n;
    }
    return s;
  }

  std::string drain() {
    std::string written;
    for (;;) {
      written += std::string(out_.view());
      out_.clear();
      auto request = session_.take_request();
      if (!request) break;
      if (auto* p = std::get_if<PassiveRequest>(&*request)) {
        last_passive = *p;
        PassiveResult r;
        r.ok = passive_ok;
        r.error = passive_ok ? 0 : EADDRINUSE;
        r.bound = p->bind;
        r.bound.set_port(passive_port);
        session_.passive_opened(r, out_);
      } else if (auto* t = std::get_if<TransferRequest>(&*request)) {
        transfer = std::move(*t);
      } else if (std::get_if<AbortRequest>(&*request)) {
        ++aborts;
        if (transfer && abort_finishes) {
          transfer.reset();
          TransferResult r;
          r.status = TransferResult::Status::kAborted;
          session_.transfer_finished(r, out_);
        }
      } else if (std::get_if<ClosePassiveRequest>(&*request)) {
        ++close_passive;
      } else if (std::get_if<StartTlsRequest>(&*request)) {
        ++start_tls;
      } else if (std::get_if<EndTlsRequest>(&*request)) {
        ++end_tls;
      } else if (auto* w = std::get_if<WorkRequest>(&*request)) {
        ++works;
        if (auto_work) {
          w->job();
          session_.work_done(out_);
        } else {
          pending_work = std::move(*w);
        }
      } else if (auto* d = std::get_if<DelayRequest>(&*request)) {
        ++delays;
        if (auto_delay) {
          session_.delay_elapsed(out_);
        } else {
          pending_delay = *d;
        }
      }
    }
    return written;
  }

  Session& session_;
  Buffer out_;
};

// A session on a fresh folder, with user alice:secret (all rights) and anonymous read-only.
class FtpSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    config.root = dir.path();
    FtpUser alice;
    alice.name = "alice";
    alice.plain_password = "secret";
    alice.root = dir.path();
    alice.rights = FtpRights{true, true, true, true, true};
    config.users.push_back(alice);
    config.login_failure_delay_ms = 1000;
  }

  void open(const char* local = "127.0.0.1:21", const char* peer = "127.0.0.1:40000") {
    model.reset();
    session.reset();  // before info changes: a session keeps a reference to it
    info = ConnectionInfo{};
    info.local = *Address::parse(local);
    info.peer = *Address::parse(peer);
    info.id = 1;
    session = std::make_unique<FtpSession>(config, info);
    model = std::make_unique<FakeModel>(*session);
    greeting = model->start();
  }
  std::string cmd(const std::string& line) { return model->send(line + "\r\n"); }
  void login(const std::string& user = "alice", const std::string& pass = "secret") {
    if (!session) open();
    ASSERT_EQ(code(cmd("USER " + user)), 331);
    ASSERT_EQ(code(cmd("PASS " + pass)), 230);
  }
  // PASV then a transfer command: returns the replies of the transfer command.
  std::string passive(const std::string& line) {
    EXPECT_EQ(code(cmd("PASV")), 227);
    return cmd(line);
  }

  static int code(const std::string& reply) {
    return reply.size() >= 3 ? std::stoi(reply.substr(0, 3)) : -1;
  }
  // Reply codes of every final or preliminary line ("150 x\r\n226 y\r\n" -> {150, 226}).
  static std::vector<int> codes(const std::string& replies) {
    std::vector<int> result;
    std::istringstream in(replies);
    std::string line;
    while (std::getline(in, line)) {
      if (line.size() >= 4 && std::isdigit(static_cast<unsigned char>(line[0])) && line[3] == ' ') {
        result.push_back(std::stoi(line.substr(0, 3)));
      }
    }
    return result;
  }

  TempDir dir;
  FtpConfig config;
  ConnectionInfo info;  // the host's part: it outlives the session
  std::unique_ptr<FtpSession> session;
  std::unique_ptr<FakeModel> model;
  std::string greeting;
};

}  // namespace nm::ftp::testing
