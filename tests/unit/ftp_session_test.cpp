#include <gtest/gtest.h>

#include "ftp_fake_model.hpp"

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;

TEST_F(FtpSessionTest, GreetsWith220) {
  open();
  EXPECT_EQ(code(greeting), 220);
}

TEST_F(FtpSessionTest, UserLogin) {
  open();
  EXPECT_EQ(code(cmd("USER alice")), 331);
  EXPECT_EQ(code(cmd("PASS secret")), 230);
  EXPECT_EQ(cmd("PWD"), "257 \"/\" is the current directory.\r\n");
}

TEST_F(FtpSessionTest, CommandsAreCaseInsensitive) {
  open();
  EXPECT_EQ(code(cmd("user alice")), 331);
  EXPECT_EQ(code(cmd("pAsS secret")), 230);
  EXPECT_EQ(code(cmd("xpwd")), 257);
}

TEST_F(FtpSessionTest, AnonymousLoginAnyPassword) {
  open();
  EXPECT_EQ(code(cmd("USER anonymous")), 331);
  EXPECT_EQ(code(cmd("PASS me@example.org")), 230);
  open();
  EXPECT_EQ(code(cmd("USER FTP")), 331);
  EXPECT_EQ(code(cmd("PASS")), 230);
}

TEST_F(FtpSessionTest, AnonymousRefusedWhenOff) {
  config.anonymous = false;
  open();
  cmd("USER anonymous");
  EXPECT_EQ(code(cmd("PASS x")), 530);
}

TEST_F(FtpSessionTest, FailedLoginIsDelayedThen530) {
  open();
  model->auto_delay = false;
  cmd("USER alice");
  EXPECT_EQ(cmd("PASS wrong"), "");
  ASSERT_TRUE(model->pending_delay.has_value());
  EXPECT_EQ(model->pending_delay->duration, std::chrono::milliseconds(1000));
  // Input that arrives during the delay waits for it, and keeps its order.
  EXPECT_EQ(cmd("NOOP"), "");
  EXPECT_EQ(codes(model->elapse()), (std::vector<int>{530, 200}));
}

TEST_F(FtpSessionTest, UnknownUserLooksLikeABadPassword) {
  open();
  EXPECT_EQ(code(cmd("USER nobody")), 331);
  EXPECT_EQ(code(cmd("PASS x")), 530);
}

TEST_F(FtpSessionTest, TooManyFailuresClose421) {
  config.max_login_failures = 2;
  open();
  cmd("USER alice");
  EXPECT_EQ(code(cmd("PASS a")), 530);
  EXPECT_FALSE(session->done());
  cmd("USER alice");
  EXPECT_EQ(code(cmd("PASS b")), 421);
  EXPECT_TRUE(session->done());
  EXPECT_EQ(model->delays, 2);
  EXPECT_EQ(cmd("NOOP"), "");
}

TEST_F(FtpSessionTest, NoDelayRequestWhenDelayIsZero) {
  config.login_failure_delay_ms = 0;
  open();
  cmd("USER alice");
  EXPECT_EQ(code(cmd("PASS no")), 530);
  EXPECT_EQ(model->delays, 0);
}

TEST_F(FtpSessionTest, PassWithoutUserIs503) {
  open();
  EXPECT_EQ(code(cmd("PASS secret")), 503);
}

TEST_F(FtpSessionTest, CommandsBeforeLogin) {
  open();
  for (const char* c : {"PWD", "CWD /", "LIST", "RETR a", "STOR a", "PASV", "MKD x", "DELE a",
                        "SIZE a", "STAT", "TYPE I", "ABOR"}) {
    EXPECT_EQ(code(cmd(c)), 530) << c;
  }
  EXPECT_EQ(code(cmd("NOOP")), 200);
  EXPECT_EQ(code(cmd("SYST")), 215);
  EXPECT_EQ(code(cmd("FEAT")), 211);
  EXPECT_EQ(code(cmd("HELP")), 214);
  EXPECT_EQ(code(cmd("OPTS UTF8 ON")), 200);
  EXPECT_EQ(code(cmd("AUTH TLS")), 502);
  EXPECT_EQ(code(cmd("BOGUS")), 500);
}

TEST_F(FtpSessionTest, FeatIsMultiLine) {
  open();
  auto r = cmd("FEAT");
  EXPECT_EQ(r.rfind("211-Features:\r\n", 0), 0u);
  EXPECT_NE(r.find(" MLST type*;size*;modify*;perm*;unique*;\r\n"), std::string::npos);
  for (const char* f : {" EPSV\r\n", " EPRT\r\n", " MDTM\r\n", " PASV\r\n", " REST STREAM\r\n",
                        " SIZE\r\n", " TVFS\r\n", " UTF8\r\n"}) {
    EXPECT_NE(r.find(f), std::string::npos) << f;
  }
  EXPECT_EQ(r.substr(r.size() - 9), "211 End\r\n");
}

TEST_F(FtpSessionTest, QuitSays221AndIsDone) {
  open();
  EXPECT_EQ(code(cmd("QUIT")), 221);
  EXPECT_TRUE(session->done());
}

TEST_F(FtpSessionTest, TimeoutSays421) {
  login();
  EXPECT_EQ(code(model->time_out()), 421);
  EXPECT_TRUE(session->done());
}

TEST_F(FtpSessionTest, PipelinedCommandsAllAnsweredInOrder) {
  open();
  auto r = model->send("USER alice\r\nPASS secret\r\nTYPE I\r\nPWD\r\nNOOP\r\nSYST\r\n");
  EXPECT_EQ(codes(r), (std::vector<int>{331, 230, 200, 257, 200, 215}));
}

TEST_F(FtpSessionTest, PipelinedPasvWaitsForThePortThenContinues) {
  login();
  auto r = model->send("PASV\r\nNOOP\r\nEPSV\r\nPWD\r\n");
  EXPECT_EQ(codes(r), (std::vector<int>{227, 200, 229, 257}));
}

TEST_F(FtpSessionTest, BareLfAndSplitPacketsWork) {
  open();
  EXPECT_EQ(model->send("NO"), "");
  EXPECT_EQ(code(model->send("OP\n")), 200);
}

TEST_F(FtpSessionTest, FiveKibLineGets500AndConnectionStaysUsable) {
  login();
  std::string big = "RETR " + std::string(5 * 1024, 'x') + "\r\nNOOP\r\n";
  EXPECT_EQ(codes(model->send(big)), (std::vector<int>{500, 200}));
  EXPECT_FALSE(session->done());
}

TEST_F(FtpSessionTest, UnknownAndUnimplemented) {
  login();
  EXPECT_EQ(code(cmd("XYZZY")), 500);
  EXPECT_EQ(code(cmd("")), 500);
  EXPECT_EQ(code(cmd("SMNT x")), 502);
  EXPECT_EQ(code(cmd("ACCT x")), 502);
}

TEST_F(FtpSessionTest, TypeModeStru) {
  login();
  EXPECT_EQ(code(cmd("TYPE A")), 200);
  EXPECT_EQ(code(cmd("TYPE A N")), 200);
  EXPECT_EQ(code(cmd("TYPE I")), 200);
  EXPECT_EQ(code(cmd("TYPE L 8")), 200);
  EXPECT_EQ(code(cmd("TYPE E")), 504);
  EXPECT_EQ(code(cmd("TYPE")), 501);
  EXPECT_EQ(code(cmd("TYPE Q")), 501);
  EXPECT_EQ(code(cmd("MODE S")), 200);
  EXPECT_EQ(code(cmd("MODE B")), 504);
  EXPECT_EQ(code(cmd("MODE X")), 501);
  EXPECT_EQ(code(cmd("STRU F")), 200);
  EXPECT_EQ(code(cmd("STRU R")), 504);
  EXPECT_EQ(code(cmd("STRU")), 501);
}

TEST_F(FtpSessionTest, CwdCdupPwd) {
  dir.mkdir("a dir/b");
  login();
  EXPECT_EQ(code(cmd("CWD a dir")), 250);
  EXPECT_EQ(cmd("PWD"), "257 \"/a dir\" is the current directory.\r\n");
  EXPECT_EQ(code(cmd("XCWD b")), 250);
  EXPECT_EQ(code(cmd("CDUP")), 250);
  EXPECT_EQ(code(cmd("XPWD")), 257);
  EXPECT_EQ(cmd("PWD"), "257 \"/a dir\" is the current directory.\r\n");
  EXPECT_EQ(code(cmd("CWD nowhere")), 550);
  EXPECT_EQ(code(cmd("XCUP")), 250);
  EXPECT_EQ(code(cmd("CDUP")), 250);
  EXPECT_EQ(cmd("PWD"), "257 \"/\" is the current directory.\r\n");
  dir.write("plain", "x");
  EXPECT_EQ(code(cmd("CWD plain")), 550);
}

TEST_F(FtpSessionTest, MkdRmdDele) {
  login();
  EXPECT_EQ(cmd("MKD new dir"), "257 \"/new dir\" created.\r\n");
  EXPECT_TRUE(dir.exists("new dir"));
  EXPECT_EQ(code(cmd("MKD new dir")), 550);
  EXPECT_EQ(code(cmd("XMKD x")), 257);
  EXPECT_EQ(code(cmd("XRMD x")), 250);
  dir.write("new dir/f", "1");
  EXPECT_EQ(code(cmd("RMD new dir")), 550);   // not empty
  EXPECT_EQ(code(cmd("DELE new dir")), 550);  // a folder
  EXPECT_EQ(code(cmd("DELE new dir/f")), 250);
  EXPECT_EQ(code(cmd("RMD new dir")), 250);
  EXPECT_FALSE(dir.exists("new dir"));
  EXPECT_EQ(code(cmd("DELE missing")), 550);
  EXPECT_EQ(code(cmd("RMD /")), 550);
  EXPECT_EQ(code(cmd("MKD")), 501);
}

TEST_F(FtpSessionTest, RenameNeedsRnfrFirst) {
  dir.write("a", "A");
  login();
  EXPECT_EQ(code(cmd("RNTO b")), 503);
  EXPECT_EQ(code(cmd("RNFR a")), 350);
  EXPECT_EQ(code(cmd("RNTO b c")), 250);
  EXPECT_EQ(dir.read("b c"), "A");
  EXPECT_FALSE(dir.exists("a"));
  EXPECT_EQ(code(cmd("RNTO d")), 503);
  EXPECT_EQ(code(cmd("RNFR missing")), 550);
  // Any command in between cancels the rename.
  EXPECT_EQ(code(cmd("RNFR b c")), 350);
  EXPECT_EQ(code(cmd("NOOP")), 200);
  EXPECT_EQ(code(cmd("RNTO e")), 503);
}

TEST_F(FtpSessionTest, SizeAndMdtm) {
  dir.write("f", "12345");
  ::utimensat(AT_FDCWD, (dir / "f").c_str(),
              std::array<timespec, 2>{timespec{0, UTIME_OMIT}, timespec{1700000000, 0}}.data(), 0);
  login();
  EXPECT_EQ(cmd("SIZE f"), "213 5\r\n");
  EXPECT_EQ(cmd("MDTM f"), "213 20231114221320\r\n");
  EXPECT_EQ(code(cmd("SIZE missing")), 550);
  EXPECT_EQ(code(cmd("SIZE /")), 550);
  EXPECT_EQ(code(cmd("TYPE A")), 200);
  EXPECT_EQ(code(cmd("SIZE f")), 550);
}

TEST_F(FtpSessionTest, RestAlloOptsStatHelp) {
  dir.write("f", "x");
  login();
  EXPECT_EQ(code(cmd("REST 100")), 350);
  EXPECT_EQ(code(cmd("REST -1")), 501);
  EXPECT_EQ(code(cmd("REST abc")), 501);
  EXPECT_EQ(code(cmd("ALLO 1000")), 202);
  EXPECT_EQ(code(cmd("OPTS UTF8 ON")), 200);
  EXPECT_EQ(code(cmd("OPTS MLST type;size;")), 200);
  EXPECT_EQ(code(cmd("OPTS FOO")), 501);
  auto stat = cmd("STAT");
  EXPECT_EQ(stat.rfind("211-", 0), 0u);
  EXPECT_NE(stat.find("\r\n211 "), std::string::npos);
  auto stat_path = cmd("STAT /");
  EXPECT_EQ(stat_path.rfind("213-", 0), 0u);
  EXPECT_NE(stat_path.find(" f\r\n"), std::string::npos);
  auto help = cmd("HELP");
  EXPECT_EQ(help.rfind("214-", 0), 0u);
}

TEST_F(FtpSessionTest, MlstOnControlConnection) {
  dir.write("f", "abc");
  login();
  auto r = cmd("MLST f");
  EXPECT_EQ(r.rfind("250-", 0), 0u);
  EXPECT_NE(r.find("\r\n type=file;size=3;modify="), std::string::npos);
  EXPECT_NE(r.find("; /f\r\n250 "), std::string::npos);
  EXPECT_EQ(code(cmd("MLST missing")), 550);
}

TEST_F(FtpSessionTest, ReinLogsOut) {
  login();
  EXPECT_EQ(code(cmd("REIN")), 220);
  EXPECT_EQ(code(cmd("PWD")), 530);
  login();
}

TEST_F(FtpSessionTest, RightsAreChecked) {
  config.users[0].rights = FtpRights{true, false, false, false, false};
  dir.write("f", "x");
  login();
  EXPECT_EQ(cmd("MKD d"), "550 Permission denied.\r\n");
  EXPECT_EQ(cmd("DELE f"), "550 Permission denied.\r\n");
  EXPECT_EQ(cmd("RNFR f"), "550 Permission denied.\r\n");
  EXPECT_EQ(code(cmd("PASV")), 227);
  EXPECT_EQ(cmd("STOR g"), "550 Permission denied.\r\n");
  EXPECT_EQ(cmd("APPE f"), "550 Permission denied.\r\n");
  EXPECT_TRUE(dir.exists("f"));
}

TEST_F(FtpSessionTest, AnonymousIsReadOnly) {
  dir.write("f", "x");
  open();
  login("anonymous", "guest");
  EXPECT_EQ(code(cmd("PASV")), 227);
  EXPECT_EQ(cmd("STOR up"), "550 Permission denied.\r\n");
  EXPECT_EQ(code(cmd("DELE f")), 550);
  EXPECT_EQ(code(cmd("MKD d")), 550);
  EXPECT_FALSE(dir.exists("up"));
  EXPECT_EQ(codes(passive("RETR f")), (std::vector<int>{150}));
}

TEST_F(FtpSessionTest, UsersFileUserHasOwnRoot) {
  dir.mkdir("home/bob");
  dir.write("home/bob/mine", "bob");
  dir.write("top", "top");
  FtpUser bob;
  bob.name = "bob";
  bob.plain_password = "pw";
  bob.root = dir / "home/bob";
  config.users.push_back(bob);
  login("bob", "pw");
  EXPECT_EQ(code(cmd("SIZE mine")), 213);
  EXPECT_EQ(code(cmd("SIZE top")), 550);
  EXPECT_EQ(code(cmd("SIZE ../../top")), 550);
}

TEST_F(FtpSessionTest, FloodOfQueuedCommandsIsBounded) {
  dir.write("f", "x");
  login();
  passive("RETR f");
  std::string flood;
  for (size_t i = 0; i < FtpSession::kMaxQueuedLines + 10; ++i) flood += "NOOP\r\n";
  EXPECT_EQ(code(model->send(flood)), 421);
  EXPECT_TRUE(session->done());
}

}  // namespace
}  // namespace nm::ftp
