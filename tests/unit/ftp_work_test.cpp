// Blocking work off the event loop: a hashed-password PASS and a folder listing go to the model
// as WorkRequests, the session waits (kWork) with its input queued, and work_done() goes on.

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>

#include "ftp_fake_model.hpp"
#include "services/ftp/auth.hpp"
#include "services/ftp/listing.hpp"

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;

int open_descriptors() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

class FtpWorkTest : public FtpSessionTest {
 protected:
  void SetUp() override {
    FtpSessionTest::SetUp();
    // SHA-512 ($6$): a real crypt(3) hash, a hundred times cheaper than yescrypt.
    auto hash = hash_password("hunter2", true);
    ASSERT_TRUE(hash.has_value());
    FtpUser bob;
    bob.name = "bob";
    bob.password_hash = *hash;
    bob.root = dir.path();
    bob.rights = FtpRights{true, true, true, true, true};
    config.users.push_back(bob);
  }
  // Opens a session whose model holds WorkRequests until run_work().
  void open_held() {
    open();
    model->auto_work = false;
  }
  // A file and a folder with a fixed old mtime, so that their `ls -l` lines show the year and
  // do not depend on the clock.
  void make_tree() {
    dir.write("a.txt", "abc");
    dir.mkdir("sub");
    struct timespec times[2] = {{946684800, 0}, {946684800, 0}};  // 2000-01-01
    ASSERT_EQ(::utimensat(AT_FDCWD, (dir / "a.txt").c_str(), times, 0), 0);
    ASSERT_EQ(::utimensat(AT_FDCWD, (dir / "sub").c_str(), times, 0), 0);
  }
  DirEntry entry(const std::string& name) {
    DirEntry e;
    e.name = name;
    EXPECT_EQ(::stat((dir / name).c_str(), &e.st), 0);
    return e;
  }
};

TEST_F(FtpWorkTest, HashedPassIsOneWorkRequestAndNoReplyUntilDone) {
  open_held();
  EXPECT_EQ(code(cmd("USER bob")), 331);
  EXPECT_EQ(cmd("PASS hunter2"), "");
  EXPECT_EQ(model->works, 1);
  ASSERT_TRUE(model->pending_work.has_value());
  EXPECT_EQ(codes(model->run_work()), (std::vector<int>{230}));
  EXPECT_EQ(model->works, 1);
  EXPECT_EQ(code(cmd("PWD")), 257);
}

TEST_F(FtpWorkTest, PlainAndAnonymousLoginsStayInline) {
  open_held();
  login("alice", "secret");
  open_held();
  login("anonymous", "me@example.org");
  EXPECT_EQ(model->works, 0);
}

TEST_F(FtpWorkTest, CommandsSentDuringTheCheckAreAnsweredInOrderAfterIt) {
  open_held();
  cmd("USER bob");
  // A bare STAT and ABOR jump the queue only during a transfer, never during a check.
  EXPECT_EQ(model->send("PASS hunter2\r\nTYPE A\r\nSTAT\r\nABOR\r\nPWD\r\nNOOP\r\n"), "");
  EXPECT_EQ(codes(model->run_work()), (std::vector<int>{230, 200, 211, 225, 257, 200}));
  EXPECT_EQ(model->works, 1);
}

TEST_F(FtpWorkTest, WrongHashedPasswordIsDelayedThen530) {
  open_held();
  model->auto_delay = false;
  cmd("USER bob");
  EXPECT_EQ(cmd("PASS wrong"), "");
  EXPECT_EQ(cmd("NOOP"), "");
  EXPECT_EQ(model->run_work(), "");
  ASSERT_TRUE(model->pending_delay.has_value());
  EXPECT_EQ(model->pending_delay->duration, std::chrono::milliseconds(1000));
  EXPECT_EQ(codes(model->elapse()), (std::vector<int>{530, 200}));
  EXPECT_FALSE(session->done());
}

TEST_F(FtpWorkTest, TooManyWrongHashedPasswordsClose421) {
  config.max_login_failures = 2;
  open_held();
  cmd("USER bob");
  cmd("PASS a");
  EXPECT_EQ(code(model->run_work()), 530);
  cmd("USER bob");
  cmd("PASS b");
  EXPECT_EQ(code(model->run_work()), 421);
  EXPECT_TRUE(session->done());
  EXPECT_EQ(model->works, 2);
  EXPECT_EQ(model->delays, 2);
}

TEST_F(FtpWorkTest, TimeoutDuringTheCheckDropsItsAnswer) {
  open_held();
  cmd("USER bob");
  cmd("PASS hunter2");
  EXPECT_EQ(code(model->time_out()), 421);
  EXPECT_EQ(model->run_work(), "");
  EXPECT_TRUE(session->done());
}

// The job may run on a pool thread after its connection closed: it must not touch the session
// (ASan reports a use after free if it does) and must hold what it needs itself.
TEST_F(FtpWorkTest, SessionDestroyedWithAPasswordCheckPendingIsSafe) {
  open_held();
  cmd("USER bob");
  cmd("PASS hunter2");
  auto job = model->take_work();
  ASSERT_TRUE(job);
  model.reset();
  session.reset();
  job();
}

TEST_F(FtpWorkTest, SessionDestroyedWithAListingPendingIsSafeAndLeaksNothing) {
  make_tree();
  int before = open_descriptors();
  open_held();
  login("alice", "secret");
  passive("LIST");
  auto job = model->take_work();
  ASSERT_TRUE(job);
  model.reset();
  session.reset();  // closes the session's root: the job has its own descriptors
  // Take the freed descriptor numbers, as other sessions on the loop would.
  Fd a(::open("/", O_PATH | O_CLOEXEC));
  Fd b(::open("/", O_PATH | O_CLOEXEC));
  job();
  job = nullptr;
  a.reset();
  b.reset();
  EXPECT_EQ(open_descriptors(), before);
}

TEST_F(FtpWorkTest, ListingGoesThroughAWorkRequestWithTheSameBytes) {
  make_tree();
  open_held();
  login("alice", "secret");
  EXPECT_EQ(passive("LIST"), "");
  EXPECT_EQ(model->works, 1);
  EXPECT_FALSE(model->transfer.has_value());
  EXPECT_EQ(codes(model->run_work()), (std::vector<int>{150}));
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226}));
  time_t now = ::time(nullptr);
  EXPECT_EQ(model->data, list_line(entry("a.txt"), now) + list_line(entry("sub"), now));

  passive("NLST");
  model->run_work();
  model->finish();
  EXPECT_EQ(model->data, "a.txt\r\nsub\r\n");

  passive("MLSD");
  model->run_work();
  model->finish();
  FtpRights all{true, true, true, true, true};
  EXPECT_EQ(model->data,
            mlsx_line(entry("a.txt"), all) + "\r\n" + mlsx_line(entry("sub"), all) + "\r\n");
  EXPECT_EQ(model->works, 3);
}

TEST_F(FtpWorkTest, StatOfAFolderIsAWorkRequestAndAFileIsNot) {
  make_tree();
  open_held();
  login("alice", "secret");
  EXPECT_EQ(cmd("STAT /"), "");
  time_t now = ::time(nullptr);
  auto line = [&](const std::string& name) {
    auto l = list_line(entry(name), now);
    return " " + l;
  };
  EXPECT_EQ(model->run_work(),
            "213-Status of /:\r\n" + line("a.txt") + line("sub") + "213 End of status.\r\n");
  EXPECT_EQ(cmd("STAT a.txt"),
            "213-Status of /a.txt:\r\n" + line("a.txt") + "213 End of status.\r\n");
  EXPECT_EQ(model->works, 1);
}

TEST_F(FtpWorkTest, ListingErrorsAndMissingDataConnectionNeedNoWork) {
  make_tree();
  open_held();
  login("alice", "secret");
  EXPECT_EQ(code(cmd("LIST")), 425);
  EXPECT_EQ(code(passive("LIST missing")), 550);
  EXPECT_EQ(code(cmd("MLSD a.txt")), 501);
  EXPECT_EQ(model->works, 0);
}

TEST_F(FtpWorkTest, AborSentDuringTheListingWorkAbortsItsTransfer) {
  make_tree();
  open_held();
  login("alice", "secret");
  EXPECT_EQ(model->send("PASV\r\nLIST\r\nABOR\r\nNOOP\r\n"),
            "227 Entering Passive Mode (127,0,0,1,195,80)\r\n");
  EXPECT_EQ(codes(model->run_work()), (std::vector<int>{150, 426, 226, 200}));
  EXPECT_EQ(model->aborts, 1);
}

}  // namespace
}  // namespace nm::ftp
