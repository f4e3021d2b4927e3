#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace nm {

// A byte queue: append at the back, consume from the front.
// Drained, it keeps its memory only between kReleaseSmall and kKeepCapacity: a small buffer (an
// FTP reply, a short echo) costs one cached malloc to make again, while holding it is most of
// what an idle connection weighs; a large one would pin memory; the middle sizes are the bulk
// paths' (TLS records, transfers), which would pay a regrowth on every step.
class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;

  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  const char* data() const { return data_.get() + begin_; }
  std::string_view view() const { return {data(), size()}; }
  // Bytes of storage held (for tests of what an idle connection keeps).
  size_t capacity() const { return capacity_; }

  void append(std::string_view bytes);
  void append(const char* p, size_t n) { append(std::string_view(p, n)); }
  // Room for at least n more bytes at the back; commit() what was written there.
  char* reserve(size_t n);
  void commit(size_t n) { end_ += n; }
  void consume(size_t n);
  void clear();

 private:
  static constexpr size_t kReleaseSmall = 1024;
  static constexpr size_t kKeepCapacity = 16 * 1024;
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace nm
