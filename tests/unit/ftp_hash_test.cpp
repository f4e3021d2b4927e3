// HASH, RANG and OPTS HASH: the digests against known vectors, and the session's use of them
// (a WorkRequest job, the range for the next HASH only, the size cap, rights).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "ftp_fake_model.hpp"
#include "net/fd.hpp"
#include "services/ftp/file_hash.hpp"

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;

std::string digest_of(const testing::TempDir& dir, const std::string& name, HashAlgorithm algorithm,
                      uint64_t start, uint64_t end, int* error = nullptr) {
  Fd fd(::open((dir / name).c_str(), O_RDONLY | O_CLOEXEC));
  std::string hex;
  int err = hash_file_range(fd.get(), algorithm, start, end, &hex);
  if (error != nullptr) *error = err;
  return hex;
}

TEST(FtpHash, KnownVectors) {
  testing::TempDir dir;
  dir.write("abc", "abc");
  dir.write("digits", "123456789");
  EXPECT_EQ(digest_of(dir, "abc", HashAlgorithm::kSha256, 0, 3),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(digest_of(dir, "abc", HashAlgorithm::kSha1, 0, 3),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(digest_of(dir, "abc", HashAlgorithm::kMd5, 0, 3), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(digest_of(dir, "digits", HashAlgorithm::kCrc32, 0, 9), "cbf43926");
  EXPECT_EQ(digest_of(dir, "abc", HashAlgorithm::kSha256, 0, 0),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(digest_of(dir, "abc", HashAlgorithm::kCrc32, 0, 0), "00000000");
}

TEST(FtpHash, RangeOfAFile) {
  testing::TempDir dir;
  dir.write("f", "xxabcyy");
  EXPECT_EQ(digest_of(dir, "f", HashAlgorithm::kMd5, 2, 5), "900150983cd24fb0d6963f7d28e17f72");
  int error = 0;
  digest_of(dir, "f", HashAlgorithm::kSha256, 0, 8, &error);
  EXPECT_EQ(error, EIO);  // the file ends before the range does
}

TEST(FtpHash, Crc32InPieces) {
  const unsigned char digits[] = "123456789";
  EXPECT_EQ(crc32_update(crc32_update(0, digits, 4), digits + 4, 5), 0xcbf43926u);
}

TEST(FtpHash, NamesAndFeature) {
  EXPECT_EQ(parse_hash_algorithm("sha-256"), HashAlgorithm::kSha256);
  EXPECT_EQ(parse_hash_algorithm("SHA-1"), HashAlgorithm::kSha1);
  EXPECT_EQ(parse_hash_algorithm("md5"), HashAlgorithm::kMd5);
  EXPECT_EQ(parse_hash_algorithm("CRC32"), HashAlgorithm::kCrc32);
  for (const char* name : {"", "SHA256", "SHA-512", "sha-256 ", "CRC"}) {
    EXPECT_FALSE(parse_hash_algorithm(name).has_value()) << '"' << name << '"';
  }
  EXPECT_EQ(hash_feature(HashAlgorithm::kSha256), "HASH SHA-256*;SHA-1;MD5;CRC32");
  EXPECT_EQ(hash_feature(HashAlgorithm::kCrc32), "HASH SHA-256;SHA-1;MD5;CRC32*");
}

class FtpHashSessionTest : public FtpSessionTest {
 protected:
  void SetUp() override {
    FtpSessionTest::SetUp();
    dir.write("abc", "abc");
    dir.write("a b.txt", "xxabcyy");
  }
};

TEST_F(FtpHashSessionTest, HashIsAWorkRequestAnsweredWhenDone) {
  login();
  model->auto_work = false;
  EXPECT_EQ(cmd("HASH abc"), "");
  EXPECT_EQ(model->works, 1);
  EXPECT_EQ(cmd("NOOP"), "");  // waits behind the job, in order
  EXPECT_EQ(model->run_work(),
            "213 SHA-256 0-3 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
            "abc\r\n200 NOOP ok.\r\n");
}

TEST_F(FtpHashSessionTest, OptsHashSelectsTheAlgorithm) {
  login();
  EXPECT_EQ(cmd("OPTS HASH"), "200 SHA-256\r\n");
  EXPECT_EQ(cmd("OPTS HASH md5"), "200 MD5\r\n");
  EXPECT_EQ(cmd("OPTS HASH"), "200 MD5\r\n");
  EXPECT_EQ(code(cmd("OPTS HASH SHA-512")), 501);
  EXPECT_EQ(cmd("OPTS HASH"), "200 MD5\r\n");
  EXPECT_NE(cmd("FEAT").find("\r\n HASH SHA-256;SHA-1;MD5*;CRC32\r\n"), std::string::npos);
  EXPECT_EQ(cmd("HASH abc"), "213 MD5 0-3 900150983cd24fb0d6963f7d28e17f72 abc\r\n");
  EXPECT_EQ(code(cmd("REIN")), 220);
  login();
  EXPECT_EQ(cmd("OPTS HASH"), "200 SHA-256\r\n");
}

TEST_F(FtpHashSessionTest, FeatStarsTheDefault) {
  open();
  auto feat = cmd("FEAT");
  EXPECT_NE(feat.find("\r\n HASH SHA-256*;SHA-1;MD5;CRC32\r\n"), std::string::npos);
  EXPECT_NE(feat.find("\r\n RANG STREAM\r\n"), std::string::npos);
}

TEST_F(FtpHashSessionTest, RangHashesThatRangeOnce) {
  login();
  EXPECT_EQ(cmd("OPTS HASH MD5"), "200 MD5\r\n");
  EXPECT_EQ(cmd("RANG 2 5"), "350 Restarting at 2. Ending at 5.\r\n");
  EXPECT_EQ(cmd("HASH a b.txt"), "213 MD5 2-5 900150983cd24fb0d6963f7d28e17f72 a b.txt\r\n");
  EXPECT_EQ(code(cmd("HASH a b.txt")), 213);
  EXPECT_NE(cmd("HASH abc").find(" 0-3 "), std::string::npos);  // the range was used up
  EXPECT_EQ(code(cmd("RANG 2 5")), 350);
  EXPECT_EQ(code(cmd("RANG 1 0")), 350);  // cleared
  EXPECT_NE(cmd("HASH abc").find(" 0-3 "), std::string::npos);
}

TEST_F(FtpHashSessionTest, RangErrors) {
  login();
  for (const char* line : {"RANG", "RANG 5", "RANG 5 2", "RANG a b"}) {
    EXPECT_EQ(code(cmd(line)), 501) << line;
  }
  EXPECT_EQ(code(cmd("RANG 0 4")), 350);
  EXPECT_EQ(code(cmd("HASH abc")), 554);                        // past the end of a 3-byte file
  EXPECT_NE(cmd("HASH abc").find(" 0-3 "), std::string::npos);  // and the range is gone
}

TEST_F(FtpHashSessionTest, HashErrors) {
  dir.mkdir("sub");
  login();
  EXPECT_EQ(code(cmd("HASH")), 501);
  EXPECT_EQ(code(cmd("HASH missing")), 550);
  EXPECT_EQ(code(cmd("HASH sub")), 550);
  EXPECT_EQ(code(cmd("HASH .nm-upload-abcdef")), 550);
  EXPECT_EQ(model->works, 0);  // refusals never reach the pool
}

TEST_F(FtpHashSessionTest, HashNeedsTheReadRight) {
  FtpUser carol;
  carol.name = "carol";
  carol.plain_password = "pw";
  carol.root = dir.path();
  carol.rights = FtpRights{false, true, false, false, false};
  config.users.push_back(carol);
  login("carol", "pw");
  EXPECT_EQ(code(cmd("HASH abc")), 550);
}

TEST_F(FtpHashSessionTest, SizeCapRefusesBeforeAnyWork) {
  config.max_hash_size = 4;
  login();
  EXPECT_EQ(code(cmd("HASH abc")), 213);
  EXPECT_EQ(code(cmd("HASH a b.txt")), 550);  // 7 bytes
  EXPECT_EQ(model->works, 1);
  EXPECT_EQ(code(cmd("RANG 0 4")), 350);
  EXPECT_EQ(code(cmd("HASH a b.txt")), 213);  // a part under the cap is fine
}

TEST_F(FtpHashSessionTest, NeedsLogin) {
  open();
  EXPECT_EQ(code(cmd("HASH abc")), 530);
  EXPECT_EQ(code(cmd("RANG 0 1")), 530);
}

}  // namespace
}  // namespace nm::ftp
