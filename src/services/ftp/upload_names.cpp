#include "services/ftp/upload_names.hpp"

#include <unistd.h>

#include <cstdio>

#include "services/ftp/listing.hpp"

namespace nm::ftp {
namespace {

constexpr size_t kMaxInstanceId = 64;

bool allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

bool valid_instance_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxInstanceId) return false;
  for (char c : id) {
    if (!allowed(c)) return false;
  }
  return true;
}

std::string sanitize_instance_id(std::string_view text) {
  std::string id(text.substr(0, kMaxInstanceId));
  for (char& c : id) {
    if (!allowed(c)) c = '-';
  }
  return id.empty() ? std::string("netmodels") : id;
}

std::string default_instance_id(unsigned port) {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "localhost");
  }
  return sanitize_instance_id(std::string(host) + "-" + std::to_string(port));
}

std::string upload_temp_name(std::string_view instance, std::string_view random) {
  std::string name(kUploadPrefix);
  if (!instance.empty()) {
    name += instance;
    name += '-';
  }
  name += random;
  return name;
}

std::optional<std::string_view> upload_temp_instance(std::string_view name) {
  if (!is_upload_temp(name)) return std::nullopt;
  std::string_view rest = name.substr(kUploadPrefix.size());
  // The random tail is last, and holds no '-': the instance is what comes before its dash.
  if (rest.size() < kUploadRandomChars) return std::nullopt;
  std::string_view random = rest.substr(rest.size() - kUploadRandomChars);
  for (char c : random) {
    if (!alnum(c)) return std::nullopt;
  }
  if (rest.size() == kUploadRandomChars) return std::string_view();
  if (rest[rest.size() - kUploadRandomChars - 1] != '-') return std::nullopt;
  return rest.substr(0, rest.size() - kUploadRandomChars - 1);
}

}  // namespace nm::ftp
