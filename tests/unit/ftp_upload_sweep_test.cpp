#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "services/ftp/upload_names.hpp"
#include "services/ftp/upload_sweep.hpp"

namespace fs = std::filesystem;
using nm::ftp::sweep_uploads;
using nm::ftp::SweepOptions;
using nm::ftp::upload_temp_instance;
using nm::ftp::upload_temp_name;

TEST(UploadNames, CarryTheInstance) {
  EXPECT_EQ(upload_temp_name("web1-2121", "x7Qa9z"), ".nm-upload-web1-2121-x7Qa9z");
  EXPECT_EQ(upload_temp_name("", "x7Qa9z"), ".nm-upload-x7Qa9z");
  EXPECT_EQ(upload_temp_instance(".nm-upload-web1-2121-x7Qa9z"), "web1-2121");
  EXPECT_EQ(upload_temp_instance(".nm-upload-x7Qa9z"), "");  // before instances
  EXPECT_EQ(upload_temp_instance(".nm-upload-a.b_c-000000"), "a.b_c");
  EXPECT_FALSE(upload_temp_instance("report.txt"));
  EXPECT_FALSE(upload_temp_instance(".nm-upload-web1_x7Qa9z"));  // no dash before the tail
  EXPECT_FALSE(upload_temp_instance(".nm-upload-web1-x7Q-9z"));  // a tail with a dash
  EXPECT_FALSE(upload_temp_instance(".nm-upload-abc"));
}

TEST(UploadNames, InstanceIds) {
  EXPECT_TRUE(nm::ftp::valid_instance_id("web1-2121"));
  EXPECT_TRUE(nm::ftp::valid_instance_id("a.b_c"));
  EXPECT_FALSE(nm::ftp::valid_instance_id(""));
  EXPECT_FALSE(nm::ftp::valid_instance_id("a/b"));
  EXPECT_FALSE(nm::ftp::valid_instance_id(std::string(65, 'a')));
  EXPECT_EQ(nm::ftp::sanitize_instance_id("my host/2:1"), "my-host-2-1");
  auto id = nm::ftp::default_instance_id(2121);
  EXPECT_TRUE(nm::ftp::valid_instance_id(id)) << id;
  EXPECT_EQ(id.substr(id.size() - 5), "-2121");
}

class UploadSweep : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("nm-sweep-" + std::to_string(::getpid()));
    outside_ = root_.string() + "-outside";
    fs::remove_all(root_);
    fs::remove_all(outside_);
    fs::create_directories(root_ / "sub" / "deeper");
    fs::create_directories(outside_);
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove_all(outside_);
  }
  // A file `age` seconds old.
  void make(const fs::path& path, int age) {
    std::ofstream(path) << "partial";
    struct utimbuf times {};
    times.actime = times.modtime = ::time(nullptr) - age;
    ASSERT_EQ(::utime(path.c_str(), &times), 0);
  }
  std::set<std::string> sweep(const SweepOptions& options) {
    std::set<std::string> removed;
    auto result = sweep_uploads(root_.string(), options, [&](const std::string& path, int error) {
      EXPECT_EQ(error, 0) << path;
      removed.insert(fs::path(path).lexically_relative(root_).string());
    });
    EXPECT_EQ(result.removed, removed.size());
    EXPECT_EQ(result.failed, 0u);
    return removed;
  }

  fs::path root_;
  fs::path outside_;
};

TEST_F(UploadSweep, RemovesOnlyStaleTemporaryUploadsOfTheInstance) {
  make(root_ / ".nm-upload-a-1-aaaaaa", 7200);                     // a's, old: removed
  make(root_ / "sub" / "deeper" / ".nm-upload-a-1-bbbbbb", 7200);  // deep: removed too
  make(root_ / ".nm-upload-a-1-cccccc", 10);                       // a's, fresh: kept
  make(root_ / ".nm-upload-a-12-dddddd", 7200);  // another instance ("a-12"): kept
  make(root_ / ".nm-upload-b-eeeeee", 7200);     // another instance: kept
  make(root_ / "keep.txt", 7200);                // not a temporary upload
  make(root_ / ".nm-upload-a-1", 7200);          // no random tail: not ours
  // A symlink named like a temporary upload, to an old file outside: neither is touched.
  make(outside_ / "target", 7200);
  fs::create_symlink(outside_ / "target", root_ / ".nm-upload-a-1-ffffff");
  // A symlinked folder holding an old temporary upload: never entered.
  make(outside_ / ".nm-upload-a-1-gggggg", 7200);
  fs::create_directory_symlink(outside_, root_ / "linked");

  SweepOptions dry;
  dry.instance = "a-1";
  dry.older_than = std::chrono::hours(1);
  dry.dry_run = true;
  auto would = sweep(dry);
  EXPECT_TRUE(fs::exists(root_ / ".nm-upload-a-1-aaaaaa"));

  SweepOptions options = dry;
  options.dry_run = false;
  auto removed = sweep(options);
  std::set<std::string> expected{".nm-upload-a-1-aaaaaa", "sub/deeper/.nm-upload-a-1-bbbbbb"};
  EXPECT_EQ(removed, expected);
  EXPECT_EQ(would, expected);
  for (const char* kept : {".nm-upload-a-1-cccccc", ".nm-upload-a-12-dddddd", ".nm-upload-b-eeeeee",
                           "keep.txt", ".nm-upload-a-1"}) {
    EXPECT_TRUE(fs::exists(root_ / kept)) << kept;
  }
  EXPECT_TRUE(fs::is_symlink(root_ / ".nm-upload-a-1-ffffff"));
  EXPECT_TRUE(fs::exists(outside_ / "target"));
  EXPECT_TRUE(fs::exists(outside_ / ".nm-upload-a-1-gggggg"));
}

TEST_F(UploadSweep, EveryInstanceAnyAge) {
  make(root_ / ".nm-upload-a-1-aaaaaa", 0);
  make(root_ / ".nm-upload-b-bbbbbb", 0);
  make(root_ / ".nm-upload-cccccc", 0);  // a name from before instances
  make(root_ / "sub" / "file", 0);
  auto removed = sweep(SweepOptions{});
  EXPECT_EQ(removed.size(), 3u);
  EXPECT_TRUE(fs::exists(root_ / "sub" / "file"));
}

TEST_F(UploadSweep, AMissingRootThrows) {
  EXPECT_THROW(sweep_uploads((root_ / "nope").string(), SweepOptions{}, {}), std::system_error);
}
