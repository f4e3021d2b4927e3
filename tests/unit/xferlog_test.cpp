#include "services/ftp/xferlog.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace nm {
namespace {

// 2026-12-01 23:05:25 in UTC.
constexpr std::time_t kWhen = 1796166325;

class XferlogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    saved_tz_ = tz ? tz : "";
    had_tz_ = tz != nullptr;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (had_tz_) {
      setenv("TZ", saved_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  std::string saved_tz_;
  bool had_tz_ = false;
};

TEST_F(XferlogTest, StandardFormat) {
  XferRecord r;
  r.when = kWhen;
  r.seconds = 1;
  r.host = "127.0.0.1";
  r.bytes = 1024;
  r.path = "/path";
  r.incoming = false;
  r.user = "alice";
  r.complete = true;
  EXPECT_EQ(format_xferlog(r),
            "Tue Dec  1 23:05:25 2026 1 127.0.0.1 1024 /path b _ o r alice ftp 0 * c\n");
}

TEST_F(XferlogTest, UploadAsciiAnonymousIncomplete) {
  XferRecord r;
  r.when = kWhen + 9 * 86400;
  r.seconds = 0;  // rounds up to 1, as wu-ftpd
  r.host = "::1";
  r.bytes = 0;
  r.path = "/in/my file.txt";
  r.ascii = true;
  r.incoming = true;
  r.anonymous = true;
  r.user = "anonymous";
  r.complete = false;
  EXPECT_EQ(format_xferlog(r),
            "Thu Dec 10 23:05:25 2026 1 ::1 0 /in/my_file.txt a _ i a anonymous ftp 0 * i\n");
}

TEST_F(XferlogTest, RecordSkipsListingsAndAppendsFromProcesses) {
  auto path =
      std::filesystem::temp_directory_path() / ("xferlog_test." + std::to_string(::getpid()));
  std::filesystem::remove(path);
  {
    XferLog log(path.string());
    auto peer = *Address::from("127.0.0.1", 5555);
    TransferResult ok;
    ok.bytes = 7;
    auto now = std::chrono::steady_clock::now();
    log.record("LIST", "/", ok, now, peer, false, "bob");
    pid_t child = ::fork();
    if (child == 0) {
      for (int i = 0; i < 50; ++i) log.record("RETR", "/a", ok, now, peer, false, "bob");
      ::_exit(0);
    }
    for (int i = 0; i < 50; ++i) log.record("STOR", "/b", ok, now, peer, false, "bob");
    int status = 0;
    ::waitpid(child, &status, 0);
  }
  std::ifstream in(path);
  std::string line;
  int retr = 0, stor = 0;
  while (std::getline(in, line)) {
    if (line.find(" 7 /a b _ o r bob ftp 0 * c") != std::string::npos) ++retr;
    if (line.find(" 7 /b b _ i r bob ftp 0 * c") != std::string::npos) ++stor;
  }
  EXPECT_EQ(retr, 50);
  EXPECT_EQ(stor, 50);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace nm
