#include "client/progress.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "client/terminal.hpp"

namespace nm::client {
namespace {

// Redrawing more often only costs terminal bandwidth.
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);

}  // namespace

std::string format_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string format_duration(double seconds) {
  auto total = static_cast<uint64_t>(seconds + 0.5);
  if (total >= 3600)
    return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
  return fmt::format("{}:{:02}", total / 60, total % 60);
}

Progress::Progress(std::string name, std::optional<uint64_t> total, uint64_t start, bool enabled)
    : name_(std::move(name)),
      total_(total),
      start_(start),
      done_(start),
      enabled_(enabled),
      began_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  end_line();
}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
}

double Progress::rate() const {
  double s = seconds();
  return s > 0 ? static_cast<double>(done_ - start_) / s : 0;
}

void Progress::update(uint64_t done) {
  done_ = done;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < kRedrawEvery) return;
  // The last bytes are drawn by finish(), once.
  if (total_ && done >= *total_) return;
  last_draw_ = now;
  draw();
}

void Progress::finish() {
  if (!enabled_) return;
  draw();
  end_line();
}

void Progress::end_line() {
  if (drawn_) std::fputs("\n", stderr);
  drawn_ = false;
  enabled_ = false;
}

void Progress::draw() {
  int columns = terminal_columns(2);
  double r = rate();
  std::string right = format_bytes(done_);
  std::string percent;
  std::string eta = "--:--";
  if (total_ && *total_ > 0) {
    right += " / " + format_bytes(*total_);
    percent = fmt::format("{:3}%", std::min<uint64_t>(100, done_ * 100 / *total_));
    if (r > 0 && done_ <= *total_) eta = format_duration(static_cast<double>(*total_ - done_) / r);
  }
  right += fmt::format("  {}/s  ETA {}", format_bytes(static_cast<uint64_t>(r)), eta);

  std::string name = name_;
  if (name.size() > 24) name = "..." + name.substr(name.size() - 21);
  int bar_width = columns - static_cast<int>(name.size() + percent.size() + right.size()) - 8;
  std::string bar;
  if (bar_width >= 10 && total_ && *total_ > 0) {
    auto filled = static_cast<int>(static_cast<double>(std::min(done_, *total_)) /
                                   static_cast<double>(*total_) * bar_width);
    bar = "[" + std::string(filled, '=') + std::string(bar_width - filled, ' ') + "] ";
  }
  // \r and "erase line": the bar redraws itself in place.
  fmt::print(stderr, "\r\033[K{} {}{} {}", name, bar, percent, right);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace nm::client
