#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "ftp_fake_model.hpp"

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;
using Status = TransferResult::Status;

bool has_temp_file(const testing::TempDir& dir, const std::string& rel = "") {
  auto names = dir.names(rel);
  return std::any_of(names.begin(), names.end(),
                     [](const std::string& n) { return n.rfind(".nm-upload-", 0) == 0; });
}

TEST_F(FtpSessionTest, PasvReplyAndRequest) {
  config.pasv_port_min = 40000;
  config.pasv_port_max = 40100;
  login();
  model->passive_port = 0x1234;
  EXPECT_EQ(cmd("PASV"), "227 Entering Passive Mode (127,0,0,1,18,52)\r\n");
  ASSERT_TRUE(model->last_passive.has_value());
  EXPECT_EQ(model->last_passive->bind.host(), "127.0.0.1");
  EXPECT_EQ(model->last_passive->port_min, 40000);
  EXPECT_EQ(model->last_passive->port_max, 40100);
  EXPECT_EQ(cmd("EPSV"), "229 Entering Extended Passive Mode (|||4660|)\r\n");
}

TEST_F(FtpSessionTest, PasvAnnouncesConfiguredAddress) {
  config.pasv_address = Address::from("203.0.113.7", 0);
  login();
  model->passive_port = 50000;
  EXPECT_EQ(cmd("PASV"), "227 Entering Passive Mode (203,0,113,7,195,80)\r\n");
}

TEST_F(FtpSessionTest, PasvFailureIs425) {
  login();
  model->passive_ok = false;
  EXPECT_EQ(code(cmd("PASV")), 425);
}

TEST_F(FtpSessionTest, Ipv6ControlRefusesPasvButEpsvWorks) {
  open("[::1]:21", "[::1]:40000");
  login();
  EXPECT_EQ(code(cmd("PASV")), 522);
  EXPECT_EQ(code(cmd("EPSV")), 229);
  EXPECT_EQ(code(cmd("EPSV 1")), 522);
  EXPECT_EQ(code(cmd("EPSV 2")), 229);
}

TEST_F(FtpSessionTest, EpsvAllRefusesOtherSetups) {
  login();
  EXPECT_EQ(code(cmd("EPSV ALL")), 200);
  EXPECT_EQ(code(cmd("PASV")), 501);
  EXPECT_EQ(code(cmd("PORT 127,0,0,1,200,1")), 501);
  EXPECT_EQ(code(cmd("EPSV")), 229);
  EXPECT_EQ(code(cmd("EPSV 2")), 522);
  EXPECT_EQ(code(cmd("EPSV x")), 501);
}

TEST_F(FtpSessionTest, TransferWithoutDataSetupIs425) {
  dir.write("f", "x");
  login();
  EXPECT_EQ(code(cmd("RETR f")), 425);
  EXPECT_EQ(code(cmd("LIST")), 425);
}

TEST_F(FtpSessionTest, RetrSendsTheFile) {
  dir.write("a file", "hello world");
  login();
  EXPECT_EQ(code(passive("RETR a file")), 150);
  ASSERT_TRUE(model->transfer.has_value());
  EXPECT_EQ(model->transfer->direction, TransferRequest::Direction::kSend);
  EXPECT_FALSE(model->transfer->active_target.has_value());
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226}));
  EXPECT_EQ(model->data, "hello world");
}

TEST_F(FtpSessionTest, RestThenRetrStartsAtOffset) {
  dir.write("f", "0123456789");
  login();
  EXPECT_EQ(code(cmd("REST 4")), 350);
  passive("RETR f");
  ASSERT_TRUE(model->transfer.has_value());
  EXPECT_EQ(model->transfer->offset, 4u);
  model->finish();
  EXPECT_EQ(model->data, "456789");
  // The offset is used once.
  passive("RETR f");
  EXPECT_EQ(model->transfer->offset, 0u);
  model->finish();
  EXPECT_EQ(code(cmd("REST 11")), 350);
  EXPECT_EQ(code(passive("RETR f")), 554);
}

TEST_F(FtpSessionTest, RetrOfFolderOrMissingIs550) {
  dir.mkdir("d");
  login();
  EXPECT_EQ(code(passive("RETR d")), 550);
  EXPECT_EQ(code(cmd("RETR missing")), 550);
}

TEST_F(FtpSessionTest, TypeAsciiSetsTheFlag) {
  dir.write("f", "a\nb\n");
  login();
  cmd("TYPE A");
  passive("RETR f");
  EXPECT_TRUE(model->transfer->ascii);
  model->finish();
  cmd("TYPE I");
  passive("RETR f");
  EXPECT_FALSE(model->transfer->ascii);
  model->finish();
}

TEST_F(FtpSessionTest, TransferResultsMapToReplies) {
  dir.write("f", "x");
  login();
  struct Case {
    Status status;
    int error;
    int code;
  } cases[] = {{Status::kOk, 0, 226},
               {Status::kNoConnection, 0, 425},
               {Status::kConnectionLost, 0, 426},
               {Status::kTimeout, 0, 426},
               {Status::kFileError, EIO, 451},
               {Status::kFileError, ENOSPC, 452},
               {Status::kAborted, 0, 426}};
  for (const auto& c : cases) {
    passive("RETR f");
    EXPECT_EQ(codes(model->finish(c.status, c.error)), (std::vector<int>{c.code}));
  }
}

TEST_F(FtpSessionTest, CommandsDuringTransferWaitButStatAnswersAtOnce) {
  dir.write("f", "x");
  login();
  passive("RETR f");
  EXPECT_EQ(cmd("NOOP"), "");
  EXPECT_EQ(cmd("PWD"), "");
  EXPECT_EQ(code(cmd("STAT")), 211);
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226, 200, 257}));
}

TEST_F(FtpSessionTest, AborDuringTransferGives426Then226) {
  dir.write("f", std::string(100000, 'z'));
  login();
  passive("RETR f");
  auto r = model->send(
      "\xff\xf4\xff\xf2"
      "ABOR\r\n");
  EXPECT_EQ(model->aborts, 1);
  EXPECT_EQ(codes(r), (std::vector<int>{426, 226}));
  EXPECT_EQ(code(cmd("NOOP")), 200);
}

TEST_F(FtpSessionTest, AborSentAsUrgentDataWithoutItsLf) {
  // ftplib sends "ABOR\r\n" with MSG_OOB: a reader without SO_OOBINLINE sees "ABOR\r" only.
  dir.write("f", "x");
  login();
  passive("RETR f");
  EXPECT_EQ(codes(model->send("ABOR\r")), (std::vector<int>{426, 226}));
  EXPECT_EQ(code(cmd("NOOP")), 200);
}

TEST_F(FtpSessionTest, AborRacingACompletedTransfer) {
  dir.write("f", "x");
  login();
  model->abort_finishes = false;
  passive("RETR f");
  EXPECT_EQ(cmd("ABOR"), "");
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226, 226}));
}

TEST_F(FtpSessionTest, AborPipelinedBehindTheTransferCommand) {
  dir.write("f", "x");
  login();
  cmd("PASV");
  EXPECT_EQ(codes(model->send("RETR f\r\nABOR\r\n")), (std::vector<int>{150, 426, 226}));
}

TEST_F(FtpSessionTest, RepeatedAborGetsEveryReplyInOrder) {
  // One transfer to stop, three ABORs: the first gets 426 and 226, each other one its own 225.
  dir.write("f", std::string(100000, 'z'));
  login();
  passive("RETR f");
  auto r = model->send("ABOR\r\nABOR\r\nABOR\r\n");
  EXPECT_EQ(model->aborts, 1);
  EXPECT_EQ(codes(r), (std::vector<int>{426, 226, 225, 225}));
  EXPECT_EQ(code(cmd("NOOP")), 200);
}

TEST_F(FtpSessionTest, RepeatedAborRacingACompletedTransfer) {
  dir.write("f", "x");
  login();
  model->abort_finishes = false;
  passive("RETR f");
  EXPECT_EQ(cmd("ABOR"), "");
  EXPECT_EQ(cmd("ABOR"), "");
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226, 226, 225}));
}

std::string flood() {
  std::string lines;
  for (size_t i = 0; i < FtpSession::kMaxQueuedLines + 10; ++i) lines += "NOOP\r\n";
  return lines;
}

TEST_F(FtpSessionTest, FloodDropsAQueuedPassiveListener) {
  login();
  // PASV waits for its listener while the flood queues up behind it: the 421 ends the session
  // and the listener is never opened (no 227 after the 421).
  EXPECT_EQ(codes(model->send("PASV\r\n" + flood())), (std::vector<int>{421}));
  EXPECT_FALSE(model->last_passive.has_value());
}

TEST_F(FtpSessionTest, FloodDropsAQueuedTransfer) {
  dir.write("f", std::string(100000, 'z'));
  login();
  cmd("PASV");
  EXPECT_EQ(codes(model->send("RETR f\r\n" + flood())), (std::vector<int>{150, 421}));
  EXPECT_FALSE(model->transfer.has_value());
}

TEST_F(FtpSessionTest, NothingIsSentAfterTheClosing421) {
  dir.write("f", std::string(100000, 'z'));
  login();
  passive("RETR f");
  EXPECT_EQ(codes(model->send(flood())), (std::vector<int>{421}));
  // The transfer the session was running ends (the host stops it): no 226 follows the 421.
  EXPECT_EQ(model->finish(Status::kAborted), "");
}

TEST_F(FtpSessionTest, FloodDuringUploadRemovesTheTemporaryFile) {
  login();
  model->upload = "partial";
  passive("STOR up");
  EXPECT_TRUE(has_temp_file(dir));
  EXPECT_EQ(codes(model->send(flood())), (std::vector<int>{421}));
  EXPECT_EQ(model->finish(Status::kAborted), "");
  EXPECT_FALSE(has_temp_file(dir));
  EXPECT_FALSE(dir.exists("up"));
}

TEST_F(FtpSessionTest, AborWithoutTransferIs225) {
  login();
  EXPECT_EQ(code(cmd("ABOR")), 225);
  cmd("PASV");
  int before = model->close_passive;
  EXPECT_EQ(code(cmd("ABOR")), 225);
  EXPECT_EQ(model->close_passive, before + 1);
  EXPECT_EQ(model->aborts, 0);
}

TEST_F(FtpSessionTest, StorCommitsAtomically) {
  dir.write("target", "old content");
  login();
  model->upload = "new content";
  EXPECT_EQ(code(passive("STOR target")), 150);
  ASSERT_TRUE(model->transfer.has_value());
  EXPECT_EQ(model->transfer->direction, TransferRequest::Direction::kReceive);
  // While it runs, the old file is intact and the upload hides under a temporary name.
  EXPECT_EQ(dir.read("target"), "old content");
  EXPECT_TRUE(has_temp_file(dir));
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226}));
  EXPECT_EQ(dir.read("target"), "new content");
  EXPECT_FALSE(has_temp_file(dir));
}

TEST_F(FtpSessionTest, StorFailureKeepsOldFileAndRemovesTemp) {
  dir.write("target", "old content");
  login();
  model->upload = "new content that never completes";
  for (auto status :
       {Status::kConnectionLost, Status::kTimeout, Status::kNoConnection, Status::kAborted}) {
    passive("STOR target");
    model->finish(status);
    EXPECT_EQ(dir.read("target"), "old content");
    EXPECT_FALSE(has_temp_file(dir));
  }
}

TEST_F(FtpSessionTest, StorNewFileFailureLeavesNothing) {
  login();
  model->upload = "partial";
  passive("STOR fresh");
  EXPECT_EQ(code(model->finish(Status::kConnectionLost)), 426);
  EXPECT_FALSE(dir.exists("fresh"));
  EXPECT_TRUE(dir.names().empty());
}

TEST_F(FtpSessionTest, StorDiskFullIs452AndCleansUp) {
  dir.write("target", "old");
  login();
  model->upload = "new";
  passive("STOR target");
  EXPECT_EQ(code(model->finish(Status::kFileError, ENOSPC)), 452);
  EXPECT_EQ(dir.read("target"), "old");
  EXPECT_FALSE(has_temp_file(dir));
}

TEST_F(FtpSessionTest, DroppedConnectionMidUploadRemovesTemp) {
  dir.write("target", "old");
  login();
  passive("STOR target");
  EXPECT_TRUE(has_temp_file(dir));
  model.reset();
  session.reset();  // the model lost the control connection and dropped the session
  EXPECT_FALSE(has_temp_file(dir));
  EXPECT_EQ(dir.read("target"), "old");
}

TEST_F(FtpSessionTest, TempFilesAreNeverListedNorReachable) {
  config.show_hidden = true;
  dir.write(".hidden", "h");
  login();
  passive("STOR up");
  auto temp_names = dir.names();
  std::string temp;
  for (auto& n : temp_names) {
    if (n.rfind(".nm-upload-", 0) == 0) temp = n;
  }
  ASSERT_FALSE(temp.empty());
  // A second control connection of the same user lists the folder meanwhile.
  ConnectionInfo other_info{*Address::parse("127.0.0.1:21"), *Address::parse("127.0.0.1:40001"), 2};
  FtpSession other(config, other_info);
  testing::FakeModel other_model(other);
  other_model.start();
  other_model.send("USER alice\r\nPASS secret\r\nPASV\r\nLIST -a\r\n");
  other_model.finish();
  EXPECT_NE(other_model.data.find(".hidden"), std::string::npos);
  EXPECT_EQ(other_model.data.find(".nm-upload-"), std::string::npos);
  EXPECT_EQ(code(other_model.send("SIZE " + temp + "\r\n")), 550);
  EXPECT_EQ(code(other_model.send("DELE " + temp + "\r\n")), 550);
  model->finish();
}

TEST_F(FtpSessionTest, AppeAppends) {
  dir.write("log", "one\n");
  login();
  model->upload = "two\n";
  passive("APPE log");
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226}));
  EXPECT_EQ(dir.read("log"), "one\ntwo\n");
  passive("APPE new");
  model->finish();
  EXPECT_EQ(dir.read("new"), "two\n");
}

TEST_F(FtpSessionTest, RestStorResumesAtOffset) {
  dir.write("big", "0123456789");
  login();
  EXPECT_EQ(code(cmd("REST 4")), 350);
  model->upload = "ABC";
  passive("STOR big");
  model->finish();
  EXPECT_EQ(dir.read("big"), "0123ABC");
  EXPECT_EQ(code(cmd("REST 100")), 350);
  EXPECT_EQ(code(passive("STOR big")), 554);
  EXPECT_EQ(code(cmd("REST 5")), 350);
  EXPECT_EQ(code(cmd("STOR missing")), 550);
  EXPECT_FALSE(dir.exists("missing"));
}

TEST_F(FtpSessionTest, StouPicksAUniqueName) {
  dir.write("file", "taken");
  login();
  model->upload = "unique";
  auto r = passive("STOU");
  EXPECT_EQ(r, "150 FILE: file.1\r\n");
  model->finish();
  EXPECT_EQ(dir.read("file"), "taken");
  EXPECT_EQ(dir.read("file.1"), "unique");
  EXPECT_EQ(passive("STOU report"), "150 FILE: report\r\n");
  model->finish();
  EXPECT_EQ(dir.read("report"), "unique");
}

TEST_F(FtpSessionTest, StorIntoFolderOrWithoutNameFails) {
  dir.mkdir("d");
  login();
  EXPECT_EQ(code(passive("STOR d")), 550);
  EXPECT_EQ(code(cmd("STOR")), 501);
  EXPECT_FALSE(has_temp_file(dir, "d"));
}

TEST_F(FtpSessionTest, PortToOwnPeerIsUsedAndClosesPassive) {
  dir.write("f", "x");
  login();
  int before = model->close_passive;
  EXPECT_EQ(code(cmd("PORT 127,0,0,1,200,10")), 200);
  EXPECT_EQ(model->close_passive, before + 1);
  EXPECT_EQ(code(cmd("RETR f")), 150);
  model->finish();
  ASSERT_TRUE(model->last_target.has_value());
  EXPECT_EQ(model->last_target->to_string(), "127.0.0.1:51210");
  EXPECT_EQ(code(cmd("EPRT |1|127.0.0.1|6000|")), 200);
  EXPECT_EQ(code(cmd("RETR f")), 150);
  model->finish();
  EXPECT_EQ(model->last_target->port(), 6000);
}

TEST_F(FtpSessionTest, BounceIsRefused) {
  dir.write("f", "x");
  login();
  EXPECT_EQ(code(cmd("PORT 10,0,0,1,200,10")), 504);
  EXPECT_EQ(code(cmd("PORT 127,0,0,1,0,25")), 504);
  EXPECT_EQ(code(cmd("EPRT |1|192.168.1.1|6000|")), 504);
  EXPECT_EQ(code(cmd("EPRT |1|127.0.0.1|21|")), 504);
  EXPECT_EQ(code(cmd("EPRT |2|::1|6000|")), 504);
  EXPECT_EQ(code(cmd("PORT 1,2,3")), 501);
  EXPECT_EQ(code(cmd("PORT 127,0,0,1,300,1")), 501);
  EXPECT_EQ(code(cmd("EPRT |3|x|1|")), 522);
  EXPECT_EQ(code(cmd("EPRT garbage")), 501);
  EXPECT_EQ(code(cmd("EPRT |1|::1|6000|")), 501);
  // None of them set a target.
  EXPECT_EQ(code(cmd("RETR f")), 425);
}

TEST_F(FtpSessionTest, Ipv4MappedPeerMatchesIpv4Port) {
  open("[::ffff:127.0.0.1]:21", "[::ffff:127.0.0.1]:40000");
  login();
  EXPECT_EQ(code(cmd("PORT 127,0,0,1,200,10")), 200);
  EXPECT_EQ(cmd("PASV").substr(0, 41), "227 Entering Passive Mode (127,0,0,1,195,");
}

TEST_F(FtpSessionTest, PathEscapeBattery) {
  testing::TempDir outside;
  outside.write("secret", "top secret");
  dir.mkdir("pub");
  dir.write("pub/ok", "fine");
  std::filesystem::create_directory_symlink("/etc", dir / "etc-link");
  std::filesystem::create_directory_symlink("..", dir / "pub/up");
  std::filesystem::create_symlink(outside / "secret", dir / "secret-link");
  login();
  auto rel = std::filesystem::relative(outside / "secret", dir.path()).string();
  for (std::string path :
       {std::string("../../../../etc/passwd"), std::string("/../../etc/passwd"),
        std::string("..%2f..%2fetc%2fpasswd"), std::string("%2e%2e/%2e%2e/etc/passwd"),
        std::string("etc-link/passwd"), std::string("/etc-link/../../etc/passwd"),
        std::string("secret-link"), "../" + rel, "pub/up/../" + rel, "pub/up/up/up/" + rel,
        (outside / "secret").string(), std::string("/etc/passwd")}) {
    EXPECT_EQ(code(cmd("SIZE " + path)), 550) << path;
    EXPECT_EQ(code(passive("RETR " + path)), 550) << path;
  }
  EXPECT_EQ(code(cmd("SIZE pub/up/pub/ok")), 213);
  EXPECT_EQ(code(cmd("CWD ../../..")), 250);
  EXPECT_EQ(cmd("PWD"), "257 \"/\" is the current directory.\r\n");
  EXPECT_EQ(code(cmd("CWD etc-link")), 550);
  // NUL bytes and overlong names.
  EXPECT_EQ(code(cmd(std::string("SIZE pub/ok\0/../../x", 20))), 501);
  EXPECT_EQ(code(cmd("SIZE " + std::string(300, 'n'))), 550);
  std::string deep;
  for (int i = 0; i < 20; ++i) {
    // append(), not `std::string(200, 'd') + "/"`: g++ 12 at -O2 takes that temporary for a
    // 32-byte object and fails the build with a false -Warray-bounds.
    deep.append(200, 'd');
    deep += '/';
  }
  EXPECT_EQ(code(cmd("MKD " + deep)), 550);
  EXPECT_EQ(code(model->send("RETR " + std::string(5000, 'x') + "\r\n")), 500);
  // Writes through symlinks stay inside.
  model->upload = "pwned";
  EXPECT_EQ(code(passive("STOR etc-link/evil")), 550);
  EXPECT_EQ(code(cmd("MKD etc-link/evil")), 550);
  EXPECT_EQ(code(cmd("RNFR pub/ok")), 350);
  EXPECT_EQ(code(cmd("RNTO etc-link/stolen")), 550);
  EXPECT_EQ(code(cmd("DELE secret-link")), 250);  // removes the link, not its target
  EXPECT_EQ(outside.read("secret"), "top secret");
  EXPECT_EQ(outside.names().size(), 1u);
}

TEST_F(FtpSessionTest, SymlinkToEtcDoesNotRevealEtc) {
  std::filesystem::create_directory_symlink("/etc", dir / "etc");
  login();
  EXPECT_EQ(code(passive("LIST etc")), 550);
  EXPECT_EQ(code(cmd("MLST etc/passwd")), 550);
}

TEST_F(FtpSessionTest, AppendThroughOutwardSymlinkStaysInside) {
  testing::TempDir outside;
  outside.write("victim", "v");
  std::filesystem::create_symlink(outside / "victim", dir / "link");
  login();
  model->upload = "x";
  auto r = passive("APPE link");
  if (code(r) == 150) model->finish();
  EXPECT_EQ(outside.read("victim"), "v");
}

}  // namespace
}  // namespace nm::ftp

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;

TEST_F(FtpSessionTest, PasvAndListInOnePacket) {
  dir.write("f", "x");
  login();
  EXPECT_EQ(codes(model->send("TYPE A\r\nPASV\r\nLIST\r\nNOOP\r\n")),
            (std::vector<int>{200, 227, 150}));
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226, 200}));
  EXPECT_NE(model->data.find(" f\r\n"), std::string::npos);
}

TEST_F(FtpSessionTest, UploadInTypeAAsksForConversion) {
  login();
  cmd("TYPE A");
  model->upload = "line\n";
  passive("STOR t.txt");
  ASSERT_TRUE(model->transfer.has_value());
  EXPECT_TRUE(model->transfer->ascii);
  model->finish();
  EXPECT_EQ(dir.read("t.txt"), "line\n");
}

}  // namespace
}  // namespace nm::ftp
