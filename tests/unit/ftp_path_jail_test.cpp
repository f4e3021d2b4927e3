#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <filesystem>

#include "ftp_fake_model.hpp"
#include "services/ftp/path_jail.hpp"

namespace nm::ftp {
namespace {

using testing::TempDir;

std::string norm(std::string_view cwd, std::string_view arg) {
  std::string out;
  int err = normalize_path(cwd, arg, &out);
  return err == 0 ? out : "errno " + std::to_string(err);
}

TEST(FtpNormalize, CollapsesDotsNeverAboveRoot) {
  EXPECT_EQ(norm("/", ""), "/");
  EXPECT_EQ(norm("/a/b", ""), "/a/b");
  EXPECT_EQ(norm("/a/b", "c"), "/a/b/c");
  EXPECT_EQ(norm("/a/b", "../c"), "/a/c");
  EXPECT_EQ(norm("/a/b", "/x//y/./z/"), "/x/y/z");
  EXPECT_EQ(norm("/", ".."), "/");
  EXPECT_EQ(norm("/", "../../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(norm("/a", "/../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(norm("/a", "b/../../.."), "/");
  EXPECT_EQ(norm("/", "with space/x y"), "/with space/x y");
}

TEST(FtpNormalize, PercentEscapesAreJustNames) {
  EXPECT_EQ(norm("/", "%2e%2e/%2e%2e/etc"), "/%2e%2e/%2e%2e/etc");
  EXPECT_EQ(norm("/", "...."), "/....");
}

TEST(FtpNormalize, RejectsNulAndOverlongNames) {
  EXPECT_EQ(norm("/", std::string("a\0b", 3)), "errno " + std::to_string(EINVAL));
  EXPECT_EQ(norm("/", std::string(NAME_MAX + 1, 'x')), "errno " + std::to_string(ENAMETOOLONG));
  EXPECT_EQ(norm("/", std::string(NAME_MAX, 'x')), "/" + std::string(NAME_MAX, 'x'));
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "/" + std::string(200, 'd');
  EXPECT_EQ(norm("/", deep), "errno " + std::to_string(ENAMETOOLONG));
  EXPECT_EQ(norm("/", std::string(5000, 'n')), "errno " + std::to_string(ENAMETOOLONG));
}

TEST(FtpNormalize, SplitParent) {
  std::string parent, leaf;
  split_parent("/a/b/c", &parent, &leaf);
  EXPECT_EQ(parent, "/a/b");
  EXPECT_EQ(leaf, "c");
  split_parent("/c", &parent, &leaf);
  EXPECT_EQ(parent, "/");
  EXPECT_EQ(leaf, "c");
  split_parent("/", &parent, &leaf);
  EXPECT_EQ(leaf, "");
}

class FtpJail : public ::testing::Test {
 protected:
  void SetUp() override {
    outside.write("secret", "outside");
    dir.mkdir("root/sub");
    dir.write("root/sub/file", "inside");
    ASSERT_EQ(PathJail::open_root(dir / "root", &jail), 0);
  }
  std::string read(std::string_view vpath) {
    Fd fd;
    int err = jail.open(vpath, O_RDONLY, &fd);
    if (err != 0) return "errno " + std::to_string(err);
    char buf[64];
    auto n = ::read(fd.get(), buf, sizeof(buf));
    return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
  }
  TempDir dir;
  TempDir outside;
  PathJail jail;
};

TEST_F(FtpJail, OpensInside) {
  EXPECT_EQ(read("/sub/file"), "inside");
  struct stat st {};
  EXPECT_EQ(jail.stat("/", &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(FtpJail, AbsoluteSymlinkOutIsResolvedInsideTheRoot) {
  std::filesystem::create_directory_symlink("/etc", dir / "root/etc");
  std::filesystem::create_symlink(outside / "secret", dir / "root/secret");
  // "/etc" is now "<root>/etc": the link itself, a loop (ELOOP), never the real /etc.
  EXPECT_EQ(read("/etc/passwd").rfind("errno ", 0), 0u);
  EXPECT_NE(read("/secret"), "outside");
}

TEST_F(FtpJail, RelativeSymlinkUpwardsStaysInside) {
  std::filesystem::create_directory_symlink("..", dir / "root/up");
  std::filesystem::create_directory_symlink("../../../../..", dir / "root/sub/far");
  // "/up" is the root itself: "/up/sub/file" exists, "/up/../<outside>" cannot be named.
  EXPECT_EQ(read("/up/sub/file"), "inside");
  EXPECT_EQ(read("/sub/far/sub/file"), "inside");
  auto rel = std::filesystem::relative(outside / "secret", dir / "root").string();
  EXPECT_NE(read("/up/" + rel), "outside");
  EXPECT_NE(read("/sub/far/" + rel), "outside");
}

TEST_F(FtpJail, SymlinkToFileInsideWorks) {
  std::filesystem::create_symlink("sub/file", dir / "root/link");
  EXPECT_EQ(read("/link"), "inside");
}

TEST_F(FtpJail, DotDotInRawPathCannotEscapeEither) {
  // Even a path that skipped normalisation stays inside: the kernel clamps ".." at the root.
  auto rel = std::filesystem::relative(outside / "secret", dir / "root").string();
  EXPECT_NE(read("/" + rel), "outside");
  EXPECT_NE(read("/../../../../../../../../" + (outside / "secret").string()), "outside");
}

TEST_F(FtpJail, UnlinkDoesNotFollowTheLastSymlink) {
  std::filesystem::create_symlink(outside / "secret", dir / "root/victim");
  EXPECT_EQ(jail.unlink("/victim"), 0);
  EXPECT_TRUE(outside.exists("secret"));
  EXPECT_FALSE(dir.exists("root/victim"));
}

TEST_F(FtpJail, MkdirRenameRmdirThroughSymlinkedParentStayInside) {
  std::filesystem::create_directory_symlink(outside.path(), dir / "root/out");
  // "/out" resolves to "<root>/<outside path>", which does not exist inside the root.
  EXPECT_EQ(jail.mkdir("/out/new", 0755), ENOENT);
  EXPECT_FALSE(outside.exists("new"));
  EXPECT_NE(jail.rename("/sub/file", "/out/stolen"), 0);
  EXPECT_FALSE(outside.exists("stolen"));
  EXPECT_NE(jail.unlink("/out/secret"), 0);
  EXPECT_TRUE(outside.exists("secret"));
  EXPECT_EQ(jail.mkdir("/made", 0755), 0);
  EXPECT_TRUE(dir.exists("root/made"));
  EXPECT_EQ(jail.rename("/made", "/moved"), 0);
  EXPECT_EQ(jail.rmdir("/moved"), 0);
  EXPECT_FALSE(dir.exists("root/moved"));
}

TEST_F(FtpJail, TheRootCannotBeRemovedOrRenamed) {
  EXPECT_NE(jail.rmdir("/"), 0);
  EXPECT_NE(jail.rename("/", "/x"), 0);
  EXPECT_NE(jail.unlink("/"), 0);
}

TEST_F(FtpJail, CreateThroughDanglingAbsoluteSymlinkStaysInside) {
  std::filesystem::create_symlink(outside / "created", dir / "root/dangling");
  Fd fd;
  int err = jail.open("/dangling", O_WRONLY | O_CREAT, &fd, 0644);
  // Either refused or created inside the root; never outside.
  (void)err;
  EXPECT_FALSE(outside.exists("created"));
}

}  // namespace
}  // namespace nm::ftp
