#pragma once

// What the fuzz targets share: a check that stops the run with a message (libFuzzer then saves
// the input as a crash artifact; the corpus replay fails its ctest case), and the byte sources a
// target splits its input into. Header-only, and plain C++20, so that the same target compiles
// under clang with libFuzzer and under g++ as a corpus replay (fuzz/replay_main.cpp).

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#define NM_FUZZ_CHECK(cond, ...)                                                           \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "fuzz check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                   \
      std::fprintf(stderr, "\n");                                                          \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

namespace nm::fuzz {

// The input as two ends, in the manner of LLVM's FuzzedDataProvider: the bytes a target feeds
// come off the front, the decisions it takes (chunk sizes, a model's answers) off the back. Once
// the back meets the front every decision is 0, which each target maps to its plainest answer,
// so a seed written as plain text (a control session, say) means "that text, answered kindly".
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // One decision byte from the back, 0 when none are left.
  uint8_t decide() {
    if (size_ == 0) return 0;
    --size_;
    return data_[size_];
  }
  // Up to `n` bytes from the front.
  std::string_view take(size_t n) {
    if (n > size_) n = size_;
    std::string_view bytes(reinterpret_cast<const char*>(data_), n);
    data_ += n;
    size_ -= n;
    return bytes;
  }
  std::string_view rest() { return take(size_); }

 private:
  const uint8_t* data_;
  size_t size_;
};

// A fresh folder (under /dev/shm or /tmp), removed when the process exits normally (a crash keeps
// it, beside the crash's reproducer).
inline std::filesystem::path scratch_folder(const char* prefix) {
  static std::filesystem::path* folder = nullptr;
  NM_FUZZ_CHECK(folder == nullptr, "one scratch folder a process");
  // tmpfs when there is one: a target that lays out files for every input runs faster there.
  std::string tmpl =
      std::string(::access("/dev/shm", W_OK) == 0 ? "/dev/shm/" : "/tmp/") + prefix + "XXXXXX";
  NM_FUZZ_CHECK(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp failed");
  folder = new std::filesystem::path(tmpl);
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(*folder, ec);
  });
  return *folder;
}

// Text with control bytes escaped, for the messages of failed checks.
inline std::string printable(std::string_view bytes, size_t limit = 300) {
  std::string s;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      s.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      s += buf;
    }
  }
  if (bytes.size() > limit) s += "...";
  return s;
}

}  // namespace nm::fuzz
