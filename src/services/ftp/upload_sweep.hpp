#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace nm::ftp {

// What `netmodels sweep` and `serve --sweep-on-start` remove: temporary uploads that a killed
// server left behind (a kill -9 or a power cut skips the clean-up every other ending does).
struct SweepOptions {
  std::optional<std::string> instance;  // only this instance's names; nullopt: every instance
  std::chrono::seconds older_than{0};   // by modification time; 0: any age
  bool dry_run = false;                 // report, remove nothing
};

struct SweepResult {
  size_t removed = 0;  // or, on a dry run, that would have been
  size_t failed = 0;   // could not be removed (or a folder not read); reported through `report`
};

// Walks `root` recursively and removes every regular file whose name is a temporary upload's
// (upload_names.hpp) that matches `options`. Never follows a symlink (neither a linked folder
// nor a link named like a temporary upload: what it points to is not ours) and never leaves the
// file system of `root`'s own folders. `report` gets the path of each file removed, or the
// path and error of each failure. Throws std::system_error when `root` cannot be opened.
SweepResult sweep_uploads(const std::string& root, const SweepOptions& options,
                          const std::function<void(const std::string& path, int error)>& report);

}  // namespace nm::ftp
