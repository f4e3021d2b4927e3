#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nm::client {

// What `verify` needs of draft-bryan-ftpext-hash: which algorithm to ask for, the server's answer
// taken apart, and the local file's digest to compare it with. I/O-free but for reading the file.

// The algorithm to verify with, from the FEAT lines (upper-cased, as FtpConnection::features()
// gives them): SHA-256 when the server lists it, else SHA-1, else MD5; nullopt when FEAT has no
// HASH line or none of these (CRC32 alone proves too little). `selected`: the one the server
// starred, which needs no OPTS HASH.
struct HashChoice {
  std::string name;  // as the server spells it: "SHA-256"
  bool selected = false;
};
std::optional<HashChoice> choose_hash(const std::vector<std::string>& features);

// "213 SHA-256 0-1024 4f3c... name": the algorithm and the lower-case hex digest.
struct HashReply {
  std::string algorithm;
  std::string hex;
};
std::optional<HashReply> parse_hash_reply(std::string_view line);

// The lower-case hex digest of a local file with `algorithm` (OpenSSL's EVP); nullopt (errno
// set) when the file cannot be read, or for an algorithm EVP does not know.
std::optional<std::string> local_digest(const std::string& path, std::string_view algorithm);

}  // namespace nm::client
