#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "services/ftp/quota_table.hpp"
#include "services/ftp/upload_charge.hpp"

namespace nm::ftp {
namespace {

constexpr QuotaLimits kLimits{1000, 3};

class QuotaTest : public ::testing::Test {
 protected:
  std::shared_ptr<QuotaTable> table = std::make_shared<QuotaTable>();
  size_t slot = table->slot("alice").value();
};

TEST_F(QuotaTest, SlotsAreOnePerUser) {
  EXPECT_EQ(table->slot("alice"), slot);
  EXPECT_NE(table->slot("bob"), slot);
  EXPECT_FALSE(table->slot("").has_value());
  EXPECT_FALSE(table->slot(std::string(QuotaTable::kNameMax + 1, 'x')).has_value());
}

TEST_F(QuotaTest, AnUploadTakesUntilTheQuotaAndIsRefusedPastIt) {
  table->attach(slot, {400, 1}, table->generation(slot));
  auto charge = UploadCharge::open(table, slot, kLimits, 0, true);
  ASSERT_TRUE(charge);
  EXPECT_EQ(table->usage(slot).files, 2);  // the new file is held from the start
  EXPECT_TRUE(charge->take(500));
  EXPECT_TRUE(charge->take(100));  // exactly at the quota
  EXPECT_EQ(table->usage(slot).bytes, 1000);
  EXPECT_FALSE(charge->take(1));
  EXPECT_TRUE(charge->refused());
  // The refusal gave everything back at once: the file and the 600 bytes.
  EXPECT_EQ(table->usage(slot).bytes, 400);
  EXPECT_EQ(table->usage(slot).files, 1);
  charge->cancel();
  EXPECT_EQ(table->usage(slot).bytes, 400);
}

TEST_F(QuotaTest, ACommittedUploadCountsItsSizeAndFile) {
  table->attach(slot, {0, 0}, table->generation(slot));
  auto charge = UploadCharge::open(table, slot, kLimits, 0, true);
  ASSERT_TRUE(charge->take(300));
  charge->begin_commit();
  charge->end_commit({300, 1});
  EXPECT_EQ(table->usage(slot).bytes, 300);
  EXPECT_EQ(table->usage(slot).files, 1);
  charge.reset();  // ended: its destructor gives nothing back twice
  EXPECT_EQ(table->usage(slot).bytes, 300);
}

TEST_F(QuotaTest, AnOverwriteCountsTheDifference) {
  table->attach(slot, {900, 1}, table->generation(slot));
  // Replacing the 900-byte file with 950 bytes fits a 1000-byte quota: 900 come from the credit.
  auto charge = UploadCharge::open(table, slot, kLimits, 900, false);
  ASSERT_TRUE(charge);
  EXPECT_TRUE(charge->take(950));
  EXPECT_EQ(table->usage(slot).bytes, 950);
  charge->end_commit({950 - 900, 0});
  EXPECT_EQ(table->usage(slot).bytes, 950);
  EXPECT_EQ(table->usage(slot).files, 1);
}

TEST_F(QuotaTest, FullFileCountOrNoRoomRefusesBeforeTheStart) {
  table->attach(slot, {1000, 3}, table->generation(slot));
  EXPECT_FALSE(UploadCharge::open(table, slot, kLimits, 0, true));   // 3 files of 3
  EXPECT_FALSE(UploadCharge::open(table, slot, kLimits, 0, false));  // no byte left
  EXPECT_TRUE(UploadCharge::open(table, slot, kLimits, 10, false));  // an overwrite may
  EXPECT_EQ(table->usage(slot).files, 3);
}

TEST_F(QuotaTest, DeleteFreesAndAWalkDuringAChangeIsNotAdopted) {
  table->attach(slot, {500, 2}, table->generation(slot));
  uint64_t since = table->generation(slot);
  table->begin_change(slot);
  // A walk finishing while the change runs keeps the kept figures.
  EXPECT_EQ(table->attach(slot, {123, 9}, since).bytes, 500);
  table->end_change(slot, {}, {-200, -1});
  EXPECT_EQ(table->attach(slot, {123, 9}, since).bytes, 300);  // changed since: still kept
  EXPECT_EQ(table->usage(slot).files, 1);
  // A walk that nothing overlapped is adopted (files changed outside FTP).
  EXPECT_EQ(table->attach(slot, {700, 4}, table->generation(slot)).bytes, 700);
}

TEST_F(QuotaTest, AWalkLeavesReservationsOfUploadsInFlight) {
  table->attach(slot, {0, 0}, table->generation(slot));
  auto charge = UploadCharge::open(table, slot, kLimits, 0, true);
  ASSERT_TRUE(charge->take(400));
  // The walk does not see the temporary file; the reservation still counts.
  EXPECT_EQ(table->attach(slot, {100, 1}, table->generation(slot)).bytes, 500);
  charge.reset();  // dropped unended (a session gone mid-transfer): given back
  EXPECT_EQ(table->usage(slot).bytes, 100);
  EXPECT_EQ(table->usage(slot).files, 1);
}

// Two uploads of one user together past the quota, in small pieces from two threads: exactly
// one is refused, and usage never passes the quota.
TEST_F(QuotaTest, ConcurrentUploadsNeverPassTheQuota) {
  table->attach(slot, {0, 0}, table->generation(slot));
  QuotaLimits limits{100'000, 0};
  std::atomic<int64_t> peak{0};
  std::atomic<int> refused{0};
  auto upload = [&] {
    auto charge = UploadCharge::open(table, slot, limits, 0, true);
    ASSERT_TRUE(charge);
    for (int i = 0; i < 600; ++i) {
      if (!charge->take(100)) {
        ++refused;
        return;
      }
      int64_t now = table->usage(slot).bytes;
      int64_t seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
    }
    charge->end_commit({60'000, 1});
  };
  std::thread a(upload), b(upload);
  a.join();
  b.join();
  EXPECT_EQ(refused.load(), 1);
  EXPECT_LE(peak.load(), 100'000);
  EXPECT_EQ(table->usage(slot).bytes, 60'000);
  EXPECT_EQ(table->usage(slot).files, 1);
}

// The same across processes (fork, prefork): the table lives in memory the children share.
TEST_F(QuotaTest, ForkedProcessesShareTheTable) {
  table->attach(slot, {0, 0}, table->generation(slot));
  QuotaLimits limits{100'000, 0};
  std::vector<pid_t> children;
  for (int c = 0; c < 2; ++c) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto charge = UploadCharge::open(table, slot, limits, 0, true);
      for (int i = 0; i < 600; ++i) {
        if (!charge->take(100)) ::_exit(1);
        if (table->usage(slot).bytes > 100'000) ::_exit(3);
      }
      charge->end_commit({60'000, 1});
      ::_exit(0);
    }
    children.push_back(pid);
  }
  int ok = 0, refused = 0;
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), 3) << "usage passed the quota";
    (WEXITSTATUS(status) == 0 ? ok : refused)++;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(table->usage(slot).bytes, 60'000);
}

}  // namespace
}  // namespace nm::ftp
