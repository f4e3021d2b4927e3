#include <charconv>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

#include "app/commands.hpp"
#include "services/ftp/upload_names.hpp"
#include "services/ftp/upload_sweep.hpp"

namespace nm {
namespace {

struct SweepArgs {
  std::string root;
  std::string instance;
  std::string older_than;
  bool dry_run = false;
};

// "90", "90s", "15m", "2h", "1d" -> seconds; nullopt when it is none of those.
std::optional<std::chrono::seconds> parse_duration(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string unit(end, text.data() + text.size());
  uint64_t scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else if (unit == "d") {
    scale = 86400;
  } else {
    return std::nullopt;
  }
  return std::chrono::seconds(static_cast<int64_t>(value * scale));
}

int run_sweep(const SweepArgs& args) {
  auto age = parse_duration(args.older_than);
  if (!age) {
    std::cerr << "netmodels sweep: --older-than wants a duration such as 3600, 90s, 15m, 2h or "
                 "1d, got '"
              << args.older_than << "'\n";
    return 2;
  }
  ftp::SweepOptions options;
  options.older_than = *age;
  options.dry_run = args.dry_run;
  if (!args.instance.empty()) {
    if (!ftp::valid_instance_id(args.instance)) {
      std::cerr << "netmodels sweep: --instance wants 1 to 64 of A-Z a-z 0-9 . _ -\n";
      return 2;
    }
    options.instance = args.instance;
  }
  const char* verb = args.dry_run ? "would remove" : "removed";
  ftp::SweepResult result;
  try {
    result = ftp::sweep_uploads(args.root, options, [&](const std::string& path, int error) {
      if (error == 0) {
        std::cout << verb << " " << path << "\n";
      } else {
        std::cerr << "netmodels sweep: " << path << ": " << std::strerror(error) << "\n";
      }
    });
  } catch (const std::system_error& e) {
    std::cerr << "netmodels sweep: " << e.what() << "\n";
    return 1;
  }
  std::cout << verb << " " << result.removed << " temporary upload"
            << (result.removed == 1 ? "" : "s") << "\n";
  return result.failed == 0 ? 0 : 1;
}

}  // namespace

void add_sweep_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand(
      "sweep",
      "Remove the temporary uploads (.nm-upload-*) a killed server left under a root.\n"
      "Walks DIR recursively; never follows symlinks; prints each file removed and a count.\n"
      "Run it while no server of that instance is uploading, or with an age no upload lasts.");
  cmd->add_option("--root", args->root, "The folder served (as serve --root)")->required();
  cmd->add_option("--instance", args->instance,
                  "Only this instance's leftovers (serve --instance-id); default: every instance");
  cmd->add_option("--older-than", args->older_than,
                  "Only files not modified for this long: 3600, 90s, 15m, 2h, 1d")
      ->required();
  cmd->add_flag("--dry-run", args->dry_run, "Print what would be removed; remove nothing");
  cmd->callback([args, exit_code] { *exit_code = run_sweep(*args); });
}

}  // namespace nm
