// The session's side of rates and quotas: which rate goes in a TransferRequest, the login walk
// as a WorkRequest, ALLO, the 552 of an upload refused midway, overwrites and DELE.

#include <gtest/gtest.h>

#include <cerrno>

#include "ftp_fake_model.hpp"

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;
using Status = TransferResult::Status;

class FtpLimitsTest : public FtpSessionTest {
 protected:
  void add_user(const std::string& name, uint64_t rate, std::optional<QuotaLimits> quota) {
    FtpUser user;
    user.name = name;
    user.plain_password = "pw";
    user.root = dir.path();
    user.rights = FtpRights{true, true, true, true, true};
    user.max_rate = rate;
    user.quota = quota;
    config.users.push_back(user);
  }
  uint64_t rate_of_a_download() {
    EXPECT_EQ(codes(passive("RETR f.txt")), (std::vector<int>{150}));
    uint64_t rate = model->transfer->max_rate;
    model->finish();
    return rate;
  }
};

TEST_F(FtpLimitsTest, TheRateComesFromTheUserTheOptionOrAnonymous) {
  config.max_rate = 1000;
  config.anon_max_rate = 500;
  add_user("fast", 2000, std::nullopt);
  dir.write("f.txt", "abc");
  login();
  EXPECT_EQ(rate_of_a_download(), 1000u);  // --max-rate
  open();
  login("fast", "pw");
  EXPECT_EQ(rate_of_a_download(), 2000u);  // rate= wins
  open();
  login("anonymous", "x@y");
  EXPECT_EQ(rate_of_a_download(), 500u);  // --anon-max-rate
  config.max_rate = 0;
  open();
  login();
  EXPECT_EQ(rate_of_a_download(), 0u);  // no limit: the request says so
}

TEST_F(FtpLimitsTest, QuotaCountedAtLoginAndKeptByUploadsAllocAndDele) {
  config.quotas = std::make_shared<QuotaTable>();
  add_user("q", 0, QuotaLimits{100, 0});
  dir.write("old.txt", std::string(40, 'o'));
  open();
  ASSERT_EQ(code(cmd("USER q")), 331);
  int works = model->works;
  ASSERT_EQ(code(cmd("PASS pw")), 230);
  EXPECT_EQ(model->works, works + 1);  // the walk ran as a WorkRequest
  EXPECT_EQ(code(cmd("ALLO 61")), 552);
  EXPECT_EQ(code(cmd("ALLO 60")), 202);

  // A new file past the quota: refused as it passes, its temporary file removed.
  EXPECT_EQ(codes(passive("STOR new.txt")), (std::vector<int>{150}));
  ASSERT_TRUE(model->transfer->quota);
  EXPECT_TRUE(model->transfer->quota->take(50));
  EXPECT_FALSE(model->transfer->quota->take(11));
  EXPECT_EQ(codes(model->finish(Status::kFileError, EDQUOT)), (std::vector<int>{552}));
  EXPECT_EQ(dir.names().size(), 1u);  // old.txt only: no .nm-upload-* left

  // An overwrite within the quota counts the difference: 40 -> 90 bytes.
  EXPECT_EQ(codes(passive("STOR old.txt")), (std::vector<int>{150}));
  EXPECT_TRUE(model->transfer->quota->take(90));
  model->upload = std::string(90, 'n');
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226}));
  EXPECT_EQ(dir.read("old.txt"), std::string(90, 'n'));
  EXPECT_EQ(code(cmd("ALLO 11")), 552);
  EXPECT_EQ(code(cmd("ALLO 10")), 202);

  // Filled to the byte, then full: a new file is refused before it starts (no 150).
  EXPECT_EQ(codes(passive("STOR fill.txt")), (std::vector<int>{150}));
  EXPECT_TRUE(model->transfer->quota->take(10));
  model->upload = std::string(10, 'f');
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226}));
  EXPECT_EQ(codes(passive("STOR more.txt")), (std::vector<int>{552}));
  EXPECT_FALSE(model->transfer.has_value());
  // DELE gives the room back.
  EXPECT_EQ(code(cmd("DELE old.txt")), 250);
  EXPECT_EQ(code(cmd("ALLO 90")), 202);
  EXPECT_EQ(code(cmd("ALLO 91")), 552);
}

}  // namespace
}  // namespace nm::ftp
