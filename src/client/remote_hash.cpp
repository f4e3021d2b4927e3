#include "client/remote_hash.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <memory>

#include "net/fd.hpp"

namespace nm::client {
namespace {

const EVP_MD* evp_digest(std::string_view algorithm) {
  if (algorithm == "SHA-256") return EVP_sha256();
  if (algorithm == "SHA-1") return EVP_sha1();
  if (algorithm == "MD5") return EVP_md5();
  return nullptr;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<HashChoice> choose_hash(const std::vector<std::string>& features) {
  for (const auto& line : features) {
    if (line.rfind("HASH ", 0) != 0) continue;
    // "HASH SHA-256*;SHA-1;MD5;CRC32"
    std::vector<HashChoice> offered;
    std::string_view list = std::string_view(line).substr(5);
    while (!list.empty()) {
      auto semi = list.find(';');
      std::string_view item = list.substr(0, semi);
      bool star = !item.empty() && item.back() == '*';
      if (star) item.remove_suffix(1);
      if (!item.empty()) offered.push_back({std::string(item), star});
      if (semi == std::string_view::npos) break;
      list.remove_prefix(semi + 1);
    }
    for (const char* wanted : {"SHA-256", "SHA-1", "MD5"}) {
      for (const auto& choice : offered) {
        if (choice.name == wanted) return choice;
      }
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<HashReply> parse_hash_reply(std::string_view line) {
  // "213 ALG RANGE HEX NAME": the name may hold spaces, the first three fields do not.
  if (line.size() < 4 || line.substr(0, 4) != "213 ") return std::nullopt;
  std::string_view rest = line.substr(4);
  std::string_view fields[3];
  for (auto& field : fields) {
    auto space = rest.find(' ');
    field = rest.substr(0, space);
    if (field.empty()) return std::nullopt;
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  for (char c : fields[2]) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return HashReply{std::string(fields[0]), lower(fields[2])};
}

std::optional<std::string> local_digest(const std::string& path, std::string_view algorithm) {
  const EVP_MD* md = evp_digest(algorithm);
  if (md == nullptr) {
    errno = EINVAL;
    return std::nullopt;
  }
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) return std::nullopt;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    errno = ENOMEM;
    return std::nullopt;
  }
  std::unique_ptr<char[]> chunk(new char[256 * 1024]);
  for (;;) {
    ssize_t n = ::read(file.get(), chunk.get(), 256 * 1024);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), chunk.get(), static_cast<size_t>(n));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &size);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

}  // namespace nm::client
