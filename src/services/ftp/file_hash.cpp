#include "services/ftp/file_hash.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <memory>
#include <vector>

namespace nm::ftp {
namespace {

constexpr std::array<uint32_t, 256> make_crc32_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr auto kCrc32Table = make_crc32_table();

std::string to_hex(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    hex.push_back(kDigits[bytes[i] >> 4]);
    hex.push_back(kDigits[bytes[i] & 0xf]);
  }
  return hex;
}

const EVP_MD* evp_digest(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256:
      return EVP_sha256();
    case HashAlgorithm::kSha1:
      return EVP_sha1();
    case HashAlgorithm::kMd5:
      return EVP_md5();
    case HashAlgorithm::kCrc32:
      break;
  }
  return nullptr;
}

// Calls `feed` with consecutive pieces of bytes [start, end) of `fd`.
template <typename Feed>
int read_range(int fd, uint64_t start, uint64_t end, Feed feed) {
  // 256 KiB: few system calls per gigabyte, and little memory per pool thread.
  std::vector<unsigned char> buffer(256 << 10);
  for (uint64_t at = start; at < end;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), end - at));
    ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;  // the file shrank since its size was taken
    feed(buffer.data(), static_cast<size_t>(n));
    at += static_cast<uint64_t>(n);
  }
  return 0;
}

}  // namespace

std::string_view hash_name(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256:
      return "SHA-256";
    case HashAlgorithm::kSha1:
      return "SHA-1";
    case HashAlgorithm::kMd5:
      return "MD5";
    case HashAlgorithm::kCrc32:
      return "CRC32";
  }
  return "";
}

std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (auto algorithm : kHashAlgorithms) {
    if (upper == hash_name(algorithm)) return algorithm;
  }
  return std::nullopt;
}

std::string hash_feature(HashAlgorithm selected) {
  std::string line = "HASH ";
  for (auto algorithm : kHashAlgorithms) {
    if (line.size() > 5) line += ';';
    line += hash_name(algorithm);
    if (algorithm == selected) line += '*';
  }
  return line;
}

uint32_t crc32_update(uint32_t crc, const unsigned char* data, size_t size) {
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = kCrc32Table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

int hash_file_range(int fd, HashAlgorithm algorithm, uint64_t start, uint64_t end,
                    std::string* hex) {
  if (algorithm == HashAlgorithm::kCrc32) {
    uint32_t crc = 0;
    int err = read_range(fd, start, end, [&crc](const unsigned char* data, size_t size) {
      crc = crc32_update(crc, data, size);
    });
    if (err != 0) return err;
    const unsigned char bytes[4] = {
        static_cast<unsigned char>(crc >> 24), static_cast<unsigned char>(crc >> 16),
        static_cast<unsigned char>(crc >> 8), static_cast<unsigned char>(crc)};
    *hex = to_hex(bytes, sizeof(bytes));
    return 0;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), evp_digest(algorithm), nullptr) != 1) return ENOMEM;
  bool failed = false;
  int err = read_range(fd, start, end, [&](const unsigned char* data, size_t size) {
    failed |= EVP_DigestUpdate(ctx.get(), data, size) != 1;
  });
  if (err != 0) return err;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (failed || EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1) return EIO;
  *hex = to_hex(digest, size);
  return 0;
}

}  // namespace nm::ftp
