#include "client/netrc.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <stdexcept>
#include <vector>

#include "net/fd.hpp"
#include "net/socket.hpp"

namespace nm::client {
namespace {

// Blank-separated words; "..." keeps blanks (curl's reading), and a macdef body, which runs to
// the next empty line, is dropped.
std::vector<std::string> netrc_words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    std::string word;
    if (text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        word += text[i];
      }
      ++i;
    } else {
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
        word += text[i++];
      }
    }
    if (word == "macdef") {
      auto end = text.find("\n\n", i);
      i = end == std::string_view::npos ? text.size() : end + 2;
      continue;
    }
    words.push_back(std::move(word));
  }
  return words;
}

}  // namespace

std::optional<NetrcEntry> netrc_lookup(std::string_view text, std::string_view host,
                                       std::string_view user) {
  auto words = netrc_words(text);
  std::optional<NetrcEntry> fallback;
  for (size_t i = 0; i < words.size();) {
    bool is_default = words[i] == "default";
    if (!is_default && !(words[i] == "machine" && i + 1 < words.size())) {
      ++i;
      continue;
    }
    bool ours = is_default || strcasecmp(words[i + 1].c_str(), std::string(host).c_str()) == 0;
    i += is_default ? 1 : 2;
    NetrcEntry entry;
    for (; i < words.size() && words[i] != "machine" && words[i] != "default"; i += 2) {
      if (i + 1 >= words.size()) break;
      if (words[i] == "login") entry.login = words[i + 1];
      if (words[i] == "password") entry.password = words[i + 1];
    }
    if (!ours || (!user.empty() && !entry.login.empty() && entry.login != user)) continue;
    if (!is_default) return entry;
    if (!fallback) fallback = entry;
  }
  return fallback;
}

std::optional<NetrcEntry> read_netrc(const std::string& path, std::string_view host,
                                     std::string_view user) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) {
    if (errno == ENOENT) return std::nullopt;
    throw std::runtime_error(fmt::format("{}: {}", path, errno_text()));
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    throw std::runtime_error(fmt::format("{}: {}", path, errno_text()));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw std::runtime_error(
        fmt::format("{} is not used: group or others may read it (mode {:04o}), so its "
                    "passwords are not secret; chmod 600 {} first",
                    path, st.st_mode & 07777, path));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(file.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(fmt::format("{}: {}", path, errno_text()));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return netrc_lookup(text, host, user);
}

}  // namespace nm::client
