#pragma once

// The digests behind HASH (draft-bryan-ftpext-hash): names as the draft spells them, the FEAT
// line, and the hashing of a byte range of an open file. Pure and thread-safe: the session runs
// hash_file_range() as a WorkRequest job, never on an event loop.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nm::ftp {

enum class HashAlgorithm { kSha256, kSha1, kMd5, kCrc32 };

// In FEAT order; SHA-256 is every session's default.
inline constexpr HashAlgorithm kHashAlgorithms[] = {HashAlgorithm::kSha256, HashAlgorithm::kSha1,
                                                    HashAlgorithm::kMd5, HashAlgorithm::kCrc32};

std::string_view hash_name(HashAlgorithm algorithm);
// "SHA-256", "sha-256", ...; nullopt for anything else.
std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name);
// The FEAT line, the session's selection starred: "HASH SHA-256*;SHA-1;MD5;CRC32".
std::string hash_feature(HashAlgorithm selected);

// CRC-32 as zlib and cksfv compute it (reflected 0xEDB88320, start and end inverted), fed in
// pieces: crc32_update(0, a) then crc32_update(that, b) is the CRC of a + b.
uint32_t crc32_update(uint32_t crc, const unsigned char* data, size_t size);

// Lower-case hex of the digest of bytes [start, end) of `fd`, read with pread(2) (the offset of
// `fd` is left alone). Returns 0, or an errno value: EIO when the file ends before `end`.
int hash_file_range(int fd, HashAlgorithm algorithm, uint64_t start, uint64_t end,
                    std::string* hex);

}  // namespace nm::ftp
