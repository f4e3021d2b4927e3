// MFMT, MFF, SITE CHMOD and --umask through the session: rights, the jail, the mode policy.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftp_fake_model.hpp"

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;

class FtpAttributeTest : public FtpSessionTest {
 protected:
  struct stat stat_of(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::stat((dir / rel).c_str(), &st), 0) << rel;
    return st;
  }
  mode_t mode_of(const std::string& rel) { return stat_of(rel).st_mode & 07777; }
};

TEST_F(FtpAttributeTest, MfmtSetsTheModificationTime) {
  dir.write("a.txt", "abc");
  login();
  EXPECT_EQ(cmd("MFMT 20020717210715 a.txt"), "213 Modify=20020717210715; a.txt\r\n");
  EXPECT_EQ(stat_of("a.txt").st_mtim.tv_sec, 1026940035);
  EXPECT_EQ(cmd("MDTM a.txt"), "213 20020717210715\r\n");
  EXPECT_EQ(code(cmd("MFMT 20020717210715.250 a.txt")), 213);
  EXPECT_EQ(stat_of("a.txt").st_mtim.tv_nsec, 250000000);
}

TEST_F(FtpAttributeTest, MfmtOnAPathWithSpacesAndInAFolder) {
  dir.mkdir("sub");
  dir.write("sub/a b.txt", "abc");
  login();
  EXPECT_EQ(code(cmd("CWD sub")), 250);
  EXPECT_EQ(cmd("MFMT 20010101000000 a b.txt"), "213 Modify=20010101000000; a b.txt\r\n");
  EXPECT_EQ(stat_of("sub/a b.txt").st_mtim.tv_sec, 978307200);
}

TEST_F(FtpAttributeTest, MfmtErrors) {
  dir.write("a.txt", "abc");
  login();
  EXPECT_EQ(code(cmd("MFMT")), 501);
  EXPECT_EQ(code(cmd("MFMT 20020717210715")), 501);
  EXPECT_EQ(code(cmd("MFMT 2002071721071 a.txt")), 501);
  EXPECT_EQ(code(cmd("MFMT 20021317210715 a.txt")), 501);
  EXPECT_EQ(code(cmd("MFMT 20020717210715 missing.txt")), 550);
  // Outside the root is the root itself, and a temporary upload is nobody's to touch.
  EXPECT_EQ(code(cmd("MFMT 20020717210715 ../../a.txt")), 213);
  EXPECT_EQ(code(cmd("MFMT 20020717210715 .nm-upload-abcdef")), 550);
}

TEST_F(FtpAttributeTest, MfmtMffAndChmodNeedTheWriteRight) {
  dir.write("a.txt", "abc");
  ::chmod((dir / "a.txt").c_str(), 0644);
  login("anonymous", "x");
  EXPECT_EQ(code(cmd("MFMT 20020717210715 a.txt")), 550);
  EXPECT_EQ(code(cmd("MFF Modify=20020717210715; a.txt")), 550);
  EXPECT_EQ(code(cmd("SITE CHMOD 600 a.txt")), 550);
  EXPECT_NE(stat_of("a.txt").st_mtim.tv_sec, 1026940035);
  EXPECT_EQ(mode_of("a.txt"), 0644u);
}

TEST_F(FtpAttributeTest, NeedLogin) {
  open();
  EXPECT_EQ(code(cmd("MFMT 20020717210715 a.txt")), 530);
  EXPECT_EQ(code(cmd("SITE HELP")), 530);
}

TEST_F(FtpAttributeTest, MffSetsModifyAndMode) {
  dir.write("a.txt", "abc");
  login();
  EXPECT_EQ(cmd("MFF modify=20020717210715;UNIX.mode=0600; a.txt"),
            "213 Modify=20020717210715;UNIX.mode=0600; a.txt\r\n");
  EXPECT_EQ(stat_of("a.txt").st_mtim.tv_sec, 1026940035);
  EXPECT_EQ(mode_of("a.txt"), 0600u);
}

TEST_F(FtpAttributeTest, MffLeavesOutFactsItCannotChange) {
  dir.write("a.txt", "abc");
  login();
  EXPECT_EQ(cmd("MFF Create=20010101000000;Modify=20020717210715;UNIX.owner=0; a.txt"),
            "213 Modify=20020717210715; a.txt\r\n");
  EXPECT_EQ(code(cmd("MFF Create=20010101000000;size=3; a.txt")), 504);
  EXPECT_EQ(stat_of("a.txt").st_mtim.tv_sec, 1026940035);
}

TEST_F(FtpAttributeTest, MffWithABadValueChangesNothing) {
  dir.write("a.txt", "abc");
  ::chmod((dir / "a.txt").c_str(), 0644);
  login();
  EXPECT_EQ(code(cmd("MFF UNIX.mode=0600;Modify=2002; a.txt")), 501);
  EXPECT_EQ(code(cmd("MFF Modify=20020717210715;UNIX.mode=4755; a.txt")), 550);
  EXPECT_EQ(code(cmd("MFF Modify=20020717210715 a.txt")), 501);
  EXPECT_EQ(code(cmd("MFF a.txt")), 501);
  EXPECT_EQ(mode_of("a.txt"), 0644u);
  EXPECT_NE(stat_of("a.txt").st_mtim.tv_sec, 1026940035);
}

TEST_F(FtpAttributeTest, SiteChmod) {
  dir.write("a b.txt", "abc");
  dir.mkdir("sub");
  login();
  EXPECT_EQ(code(cmd("SITE CHMOD 640 a b.txt")), 200);
  EXPECT_EQ(mode_of("a b.txt"), 0640u);
  EXPECT_EQ(code(cmd("site chmod 0750 sub")), 200);
  EXPECT_EQ(mode_of("sub"), 0750u);
}

TEST_F(FtpAttributeTest, SiteChmodRefusals) {
  dir.write("a.txt", "abc");
  ::chmod((dir / "a.txt").c_str(), 0644);
  login();
  EXPECT_EQ(code(cmd("SITE CHMOD")), 501);
  EXPECT_EQ(code(cmd("SITE CHMOD 644")), 501);
  EXPECT_EQ(code(cmd("SITE CHMOD u+x a.txt")), 501);
  EXPECT_EQ(code(cmd("SITE CHMOD 999 a.txt")), 501);
  EXPECT_EQ(code(cmd("SITE CHMOD 4755 a.txt")), 550);
  EXPECT_EQ(code(cmd("SITE CHMOD 2755 a.txt")), 550);
  EXPECT_EQ(code(cmd("SITE CHMOD 1777 a.txt")), 550);
  EXPECT_EQ(code(cmd("SITE CHMOD 755 /")), 550);
  EXPECT_EQ(code(cmd("SITE CHMOD 755 missing")), 550);
  EXPECT_EQ(mode_of("a.txt"), 0644u);
  EXPECT_EQ(code(cmd("SITE UMASK 022")), 500);
  EXPECT_EQ(code(cmd("SITE")), 500);
}

TEST_F(FtpAttributeTest, SymlinkOutOfTheRootIsNotFollowed) {
  testing::TempDir outside;
  outside.write("secret", "s");
  ::chmod((outside / "secret").c_str(), 0600);
  ASSERT_EQ(::symlink((outside / "secret").c_str(), (dir / "link").c_str()), 0);
  login();
  EXPECT_EQ(code(cmd("SITE CHMOD 666 link")), 550);
  EXPECT_EQ(code(cmd("MFMT 20020717210715 link")), 550);
  struct stat st {};
  ASSERT_EQ(::stat((outside / "secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_NE(st.st_mtim.tv_sec, 1026940035);
}

TEST_F(FtpAttributeTest, SiteHelpListsTheSiteCommands) {
  login();
  auto help = cmd("SITE HELP");
  EXPECT_EQ(codes(help), (std::vector<int>{214}));
  EXPECT_NE(help.find("CHMOD"), std::string::npos);
}

TEST_F(FtpAttributeTest, FeatListsMfmtAndMff) {
  open();
  auto feat = cmd("FEAT");
  EXPECT_NE(feat.find("\r\n MFMT\r\n"), std::string::npos);
  EXPECT_NE(feat.find("\r\n MFF Modify;UNIX.mode;\r\n"), std::string::npos);
}

// The process umask is cleared for the test so that only --umask (config.umask) decides.
class FtpUmaskTest : public FtpAttributeTest {
 protected:
  void SetUp() override {
    FtpAttributeTest::SetUp();
    saved_ = ::umask(0);
  }
  void TearDown() override { ::umask(saved_); }
  mode_t saved_ = 0;
};

TEST_F(FtpUmaskTest, UploadsAndFoldersFollowTheConfiguredUmask) {
  for (mode_t mask : {mode_t{022}, mode_t{027}, mode_t{002}}) {
    config.umask = mask;
    open();
    login();
    std::string name = "up" + std::to_string(mask);
    model->upload = "data";
    EXPECT_EQ(codes(passive("STOR " + name)), (std::vector<int>{150}));
    EXPECT_EQ(codes(model->finish()), (std::vector<int>{226}));
    EXPECT_EQ(mode_of(name), 0666 & ~mask) << mask;
    EXPECT_EQ(codes(passive("APPE " + name + ".appe")), (std::vector<int>{150}));
    model->finish();
    EXPECT_EQ(mode_of(name + ".appe"), 0666 & ~mask) << mask;
    EXPECT_EQ(code(cmd("MKD dir" + std::to_string(mask))), 257);
    EXPECT_EQ(mode_of("dir" + std::to_string(mask)), 0777 & ~mask) << mask;
  }
}

}  // namespace
}  // namespace nm::ftp
