#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace nm::client {

// "1.5 MiB", "512 B".
std::string format_bytes(uint64_t bytes);
// "0:07", "1:02:03".
std::string format_duration(double seconds);

// A one-line progress bar on stderr: name, bar, bytes, rate and time left.
// It draws nothing when disabled, so callers need not ask whether output is a terminal.
class Progress {
 public:
  Progress(std::string name, std::optional<uint64_t> total, uint64_t start, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` counts from the start of the file, resumed bytes included.
  void update(uint64_t done);
  // Draws the final state and ends the line.
  void finish();
  // Bytes per second over this transfer.
  double rate() const;
  double seconds() const;

 private:
  void draw();
  void end_line();

  std::string name_;
  std::optional<uint64_t> total_;
  uint64_t start_;
  uint64_t done_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point began_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace nm::client
