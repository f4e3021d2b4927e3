#include <gtest/gtest.h>
#include <sys/stat.h>

#include <regex>

#include "ftp_fake_model.hpp"
#include "services/ftp/listing.hpp"

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;

DirEntry entry(const char* name, mode_t mode, off_t size, time_t mtime) {
  DirEntry e;
  e.name = name;
  e.st.st_mode = mode;
  e.st.st_size = size;
  e.st.st_mtime = mtime;
  e.st.st_nlink = 1;
  e.st.st_ino = 42;
  e.st.st_dev = 3;
  return e;
}

constexpr time_t kNow = 1700000000;  // 2023-11-14 22:13:20 UTC

TEST(FtpListing, RecentFileShowsTime) {
  auto line = list_line(entry("a b.txt", S_IFREG | 0644, 1234, kNow - 3600), kNow);
  EXPECT_EQ(line, "-rw-r--r--   1 ftp      ftp              1234 Nov 14 21:13 a b.txt\r\n");
}

TEST(FtpListing, OldFileShowsYear) {
  auto line = list_line(entry("old", S_IFREG | 0600, 0, kNow - 400L * 24 * 3600), kNow);
  EXPECT_EQ(line, "-rw-------   1 ftp      ftp                 0 Oct 10  2022 old\r\n");
}

TEST(FtpListing, FolderLine) {
  auto line = list_line(entry("dir", S_IFDIR | 0755, 4096, kNow), kNow);
  EXPECT_EQ(line.substr(0, 10), "drwxr-xr-x");
  EXPECT_EQ(line.substr(line.size() - 5), "dir\r\n");
}

TEST(FtpListing, LsLongFormatMatchesWhatClientsParse) {
  // The shape curl, lftp and FileZilla's Unix parser expect.
  std::regex ls(
      R"(^[-dlcbps][-rwxsStT]{9} +\d+ \S+ +\S+ +\d+ [A-Z][a-z]{2} [ \d]\d (\d\d:\d\d| \d{4}) .+\r\n$)");
  EXPECT_TRUE(std::regex_match(list_line(entry("x", S_IFREG | 0644, 5, kNow), kNow), ls));
  EXPECT_TRUE(std::regex_match(list_line(entry("x", S_IFREG | 0644, 5, 0), kNow), ls));
}

TEST(FtpListing, MlsxFacts) {
  FtpRights all{true, true, true, true, true};
  EXPECT_EQ(mlsx_line(entry("f", S_IFREG | 0644, 3, kNow), all),
            "type=file;size=3;modify=20231114221320;perm=rawdf;unique=3U2a; f");
  EXPECT_EQ(mlsx_line(entry("d", S_IFDIR | 0755, 4096, kNow), FtpRights{}),
            "type=dir;modify=20231114221320;perm=el;unique=3U2a; d");
  EXPECT_EQ(ftp_time(0), "19700101000000");
}

TEST_F(FtpSessionTest, ListLeavesOutHiddenFiles) {
  dir.write("visible", "v");
  dir.write(".hidden", "h");
  dir.mkdir("sub");
  login();
  passive("LIST");
  model->finish();
  EXPECT_NE(model->data.find(" visible\r\n"), std::string::npos);
  EXPECT_NE(model->data.find(" sub\r\n"), std::string::npos);
  EXPECT_EQ(model->data.find(".hidden"), std::string::npos);
  EXPECT_EQ(model->data.substr(0, 1), "d");  // sorted: "sub" < "visible"
  passive("LIST -a");
  model->finish();
  EXPECT_EQ(model->data.find(".hidden"), std::string::npos);
  passive("LIST -la sub");
  model->finish();
  EXPECT_EQ(model->data, "");
}

TEST_F(FtpSessionTest, ShowHiddenListsDotFiles) {
  config.show_hidden = true;
  dir.write(".hidden", "h");
  login();
  passive("LIST -a");
  model->finish();
  EXPECT_NE(model->data.find(" .hidden\r\n"), std::string::npos);
  EXPECT_EQ(model->data.find(" .\r\n"), std::string::npos);
}

TEST_F(FtpSessionTest, ListOfAFileListsThatFile) {
  dir.write("one file", "12345");
  login();
  EXPECT_EQ(codes(passive("LIST one file")), (std::vector<int>{150}));
  EXPECT_EQ(codes(model->finish()), (std::vector<int>{226}));
  EXPECT_EQ(model->data.substr(0, 1), "-");
  EXPECT_NE(model->data.find(" 5 "), std::string::npos);
  EXPECT_EQ(model->data.substr(model->data.size() - 10), "one file\r\n");
  EXPECT_FALSE(model->last_ascii);
}

TEST_F(FtpSessionTest, ListMissingIs550) {
  login();
  EXPECT_EQ(code(passive("LIST nothing")), 550);
}

TEST_F(FtpSessionTest, NlstGivesNames) {
  dir.write("b", "");
  dir.write("a", "");
  dir.write(".h", "");
  login();
  passive("NLST");
  model->finish();
  EXPECT_EQ(model->data, "a\r\nb\r\n");
}

TEST_F(FtpSessionTest, MlsdFacts) {
  dir.write("f", "abc");
  dir.mkdir("d");
  login();
  passive("MLSD");
  model->finish();
  std::regex line(
      R"(type=(file|dir);(size=\d+;)?modify=\d{14};perm=[a-z]+;unique=[0-9a-fU]+; \S+)");
  std::istringstream in(model->data);
  std::string l;
  int n = 0;
  while (std::getline(in, l)) {
    ASSERT_EQ(l.back(), '\r');
    l.pop_back();
    EXPECT_TRUE(std::regex_match(l, line)) << l;
    ++n;
  }
  EXPECT_EQ(n, 2);
  EXPECT_NE(model->data.find("type=file;size=3;"), std::string::npos);
  EXPECT_NE(model->data.find("type=dir;"), std::string::npos);
  EXPECT_EQ(code(passive("MLSD f")), 501);
}

TEST_F(FtpSessionTest, ListIsIndependentOfTypeA) {
  dir.write("f", "");
  login();
  cmd("TYPE A");
  passive("LIST");
  EXPECT_FALSE(model->transfer->ascii);  // already CRLF
  model->finish();
}

}  // namespace
}  // namespace nm::ftp
