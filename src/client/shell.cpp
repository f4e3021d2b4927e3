#include "client/shell.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "client/command_line.hpp"
#include "client/progress.hpp"
#include "client/remote_hash.hpp"
#include "net/socket.hpp"

extern char** environ;

namespace nm::client {

struct Shell::Command {
  std::string_view name;
  std::string_view usage;
  std::string_view summary;
  size_t min_args;
  size_t max_args;
  bool (Shell::*run)(const std::vector<std::string>&);
  std::vector<ArgumentKind> arguments;  // the last one repeats
};

namespace {

using K = ArgumentKind;

struct Alias {
  std::string_view alias;
  std::string_view name;
};
constexpr Alias kAliases[] = {{"exit", "quit"}, {"bye", "quit"},  {"dir", "ls"},
                              {"?", "help"},    {"delete", "rm"}, {"mv", "rename"},
                              {"md", "mkdir"},  {"rd", "rmdir"},  {"bin", "binary"}};

struct Flags {
  bool resume = false;     // -c, --continue
  bool recursive = false;  // -r, --recursive
};

// The flags a command takes before its names: "c" (resume), "r" (recursive).
std::string_view flags_of(std::string_view command) {
  if (command == "get" || command == "put") return "cr";
  if (command == "mget" || command == "mput") return "c";
  return "";
}

// "-c", "-r", "-cr", "--continue", "--recursive", if all are among `allowed`.
bool read_flag(std::string_view word, std::string_view allowed, Flags* flags) {
  if (word == "--continue") word = "-c";
  if (word == "--recursive") word = "-r";
  if (word.size() < 2 || word[0] != '-' || word[1] == '-') return false;
  Flags read = *flags;
  for (char c : word.substr(1)) {
    if (allowed.find(c) == std::string_view::npos) return false;
    (c == 'c' ? read.resume : read.recursive) = true;
  }
  *flags = read;
  return true;
}

size_t count_flags(const std::vector<std::string>& args, std::string_view allowed, Flags* flags) {
  size_t n = 0;
  while (n < args.size() && read_flag(args[n], allowed, flags)) ++n;
  return n;
}

Flags take_flags(std::vector<std::string>* args, std::string_view allowed) {
  Flags flags;
  args->erase(args->begin(), args->begin() + count_flags(*args, allowed, &flags));
  return flags;
}

// Commands that send a data connection's worth of bytes, which `quote` has no connection for.
bool needs_data_connection(std::string verb) {
  for (auto& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const char* data : {"RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD"}) {
    if (verb == data) return true;
  }
  return false;
}

// Runs argv[0] (looked up in PATH) with our terminal; its exit status, -1 when it could not run.
int run_local(const std::vector<std::string>& words) {
  std::fflush(stdout);
  std::vector<char*> argv;
  for (const auto& word : words) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string files_text(size_t n) {
  return fmt::format("{} file{}", n, n == 1 ? "" : "s");
}

std::string rate_text(uint64_t bytes, double seconds) {
  if (seconds <= 0) return "";
  return fmt::format(" ({}/s)", format_bytes(static_cast<uint64_t>(bytes / seconds)));
}

}  // namespace

const std::vector<Shell::Command>& Shell::commands() {
  static const std::vector<Command> kCommands = {
      {"list", "list", "list the files in the remote folder", 0, 0, &Shell::cmd_list, {}},
      {"get",
       "get [-c] [-r] FILE [LOCAL]",
       "download FILE (-c: resume a partial download; -r: a whole folder)",
       1,
       2,
       &Shell::cmd_get,
       {K::kRemote, K::kLocal}},
      {"put",
       "put [-c] [-r] FILE [REMOTE]",
       "upload FILE (-c: resume a partial upload; -r: a whole folder)",
       1,
       2,
       &Shell::cmd_put,
       {K::kLocal, K::kRemote}},
      {"mget",
       "mget [-c] PATTERN...",
       "download the remote files matching shell patterns (*.log)",
       1,
       1000,
       &Shell::cmd_mget,
       {K::kRemote}},
      {"mput",
       "mput [-c] PATTERN...",
       "upload the local files matching shell patterns (*.log)",
       1,
       1000,
       &Shell::cmd_mput,
       {K::kLocal}},
      {"quit", "quit", "close the connection and leave", 0, 0, &Shell::cmd_quit, {}},
      {"ls",
       "ls [DIR]",
       "the server's long listing of DIR or of the remote folder",
       0,
       1,
       &Shell::cmd_ls,
       {K::kRemote}},
      {"cd", "cd DIR", "change the remote folder", 1, 1, &Shell::cmd_cd, {K::kRemote}},
      {"pwd", "pwd", "show the remote folder", 0, 0, &Shell::cmd_pwd, {}},
      {"lcd",
       "lcd [DIR]",
       "change the local folder (home when no DIR)",
       0,
       1,
       &Shell::cmd_lcd,
       {K::kLocal}},
      {"lpwd", "lpwd", "show the local folder", 0, 0, &Shell::cmd_lpwd, {}},
      {"lls",
       "lls [ARGS]",
       "list the local folder (ls ARGS)",
       0,
       1000,
       &Shell::cmd_lls,
       {K::kLocal}},
      {"quote",
       "quote VERB [ARGS]",
       "send a raw command to the server and show its reply",
       1,
       1000,
       &Shell::cmd_quote,
       {}},
      {"hash",
       "hash",
       "BSD ftp's hash marks: the progress bar shows transfers instead",
       0,
       0,
       &Shell::cmd_hash,
       {}},
      {"mkdir", "mkdir DIR", "create a remote folder", 1, 1, &Shell::cmd_mkdir, {K::kRemote}},
      {"rmdir",
       "rmdir DIR",
       "remove an empty remote folder",
       1,
       1,
       &Shell::cmd_rmdir,
       {K::kRemote}},
      {"rm", "rm FILE...", "delete remote files", 1, 1000, &Shell::cmd_rm, {K::kRemote}},
      {"rename",
       "rename FROM TO",
       "rename a remote file or folder",
       2,
       2,
       &Shell::cmd_rename,
       {K::kRemote}},
      {"size", "size FILE", "show the size of a remote file", 1, 1, &Shell::cmd_size, {K::kRemote}},
      {"verify",
       "verify FILE [REMOTE]",
       "compare a local file with the server's digest of it (HASH: SHA-256, SHA-1 or MD5)",
       1,
       2,
       &Shell::cmd_verify,
       {K::kLocal, K::kRemote}},
      {"binary",
       "binary",
       "transfer files byte for byte (the default)",
       0,
       0,
       &Shell::cmd_binary,
       {}},
      {"ascii", "ascii", "transfer text, converting line endings", 0, 0, &Shell::cmd_ascii, {}},
      {"passive",
       "passive",
       "the client opens data connections (the default)",
       0,
       0,
       &Shell::cmd_passive,
       {}},
      {"active",
       "active",
       "the server opens data connections to the client",
       0,
       0,
       &Shell::cmd_active,
       {}},
      {"help",
       "help [COMMAND]",
       "list the commands, or explain one",
       0,
       1,
       &Shell::cmd_help,
       {K::kCommand}},
  };
  return kCommands;
}

const Shell::Command* Shell::find(std::string_view name) {
  for (const auto& alias : kAliases) {
    if (alias.alias == name) name = alias.name;
  }
  for (const auto& command : commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

std::vector<std::string> Shell::command_names() {
  std::vector<std::string> names;
  for (const auto& command : commands()) names.emplace_back(command.name);
  for (const auto& alias : kAliases) names.emplace_back(alias.alias);
  std::sort(names.begin(), names.end());
  return names;
}

ArgumentKind Shell::argument_kind(std::string_view name, size_t position) {
  const Command* command = find(name);
  if (!command || command->arguments.empty() || position == 0) return K::kNone;
  return command->arguments[std::min(position, command->arguments.size()) - 1];
}

Shell::Shell(std::unique_ptr<FtpConnection> conn, Connector reconnect, ShellOptions options)
    : conn_(std::move(conn)), reconnect_(std::move(reconnect)), options_(options) {}

bool Shell::ensure_connected(std::string_view command) {
  if (conn_->connected()) return true;
  if (!reconnect_) {
    fail(command, "not connected");
    return false;
  }
  say("Reconnecting...");
  try {
    auto fresh = reconnect_();
    if (!conn_->binary()) fresh->set_binary(false);
    fresh->set_passive(conn_->passive());
    if (!cwd_.empty()) fresh->cwd(cwd_);
    conn_ = std::move(fresh);
    remote_names_.reset();
    return true;
  } catch (const std::exception& e) {
    fail(command, fmt::format("cannot reconnect: {}", e.what()));
    return false;
  }
}

template <typename... Args>
void Shell::say(fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stdout, format, std::forward<Args>(args)...);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void Shell::fail(std::string_view command, std::string_view message) {
  std::fflush(stdout);
  fmt::print(stderr, "{}: {}\n", command, message);
  std::fflush(stderr);
}

void Shell::note_lost_connection(std::string_view command) {
  if (conn_->connected()) return;
  fail(command, reconnect_ ? "the connection to the server is lost; the next command reconnects"
                           : "the connection to the server is lost");
}

bool Shell::execute(std::string_view line) {
  auto start = line.find_first_not_of(" \t");
  if (start != std::string_view::npos && line[start] == '!') {
    return run_shell_escape(line.substr(start + 1));
  }
  auto words = split_command_line(line);
  if (!words) {
    fail("error", "unterminated quote");
    return false;
  }
  if (words->empty() || words->front().starts_with('#')) return true;
  std::string name = words->front();
  words->erase(words->begin());
  const Command* command = find(name);
  if (!command) {
    fail(name, "unknown command; `help` lists them");
    return false;
  }
  std::vector<std::string> args = *words;
  Flags flags;
  size_t count = args.size() - count_flags(args, flags_of(command->name), &flags);
  if (count < command->min_args || count > command->max_args) {
    fail(name, fmt::format("usage: {}", command->usage));
    return false;
  }
  bool local_only = command->name == "quit" || command->name == "help" || command->name == "lcd" ||
                    command->name == "lpwd" || command->name == "lls" || command->name == "hash";
  if (!local_only && !ensure_connected(name)) return false;
  clear_interrupt();
  try {
    return (this->*command->run)(args);
  } catch (const std::exception& e) {
    // A refusal's message is the server's reply itself.
    fail(name, e.what());
  }
  note_lost_connection(name);
  return false;
}

bool Shell::run_shell_escape(std::string_view command) {
  std::vector<std::string> words;
  if (command.find_first_not_of(" \t") == std::string_view::npos) {
    const char* shell = std::getenv("SHELL");
    words = {shell && *shell ? shell : "/bin/sh"};
  } else {
    words = {"/bin/sh", "-c", std::string(command)};
  }
  int status = run_local(words);
  if (status < 0) fail("!", fmt::format("{}: cannot run it", words[0]));
  return status == 0;
}

void Shell::close() {
  conn_->quit();
}

const std::vector<std::string>& Shell::remote_names() {
  if (!remote_names_) {
    remote_names_.emplace();
    try {
      remote_names_ = conn_->name_list("");
    } catch (const std::exception&) {
      // No completion is better than an error in the middle of a line being typed.
    }
  }
  return *remote_names_;
}

bool Shell::cmd_list(const std::vector<std::string>&) {
  std::vector<std::string> names;
  try {
    names = conn_->name_list("");
  } catch (const FtpError& e) {
    // Some servers answer NLST of an empty folder with 450/550 "no files".
    if (e.reply().code != 450 && e.reply().code != 550) throw;
  }
  remote_names_ = names;
  if (names.empty()) {
    say("The file library is empty.");
    return true;
  }
  for (const auto& name : names) say("{}", name);
  return true;
}

bool Shell::cmd_ls(const std::vector<std::string>& args) {
  std::string text = conn_->list(args.empty() ? "" : args[0]);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return true;
}

void Shell::report_download(const TransferReport& report, const std::exception* error) {
  if (error) {
    auto* refusal = dynamic_cast<const FtpError*>(error);
    if (refusal && refusal->reply().code == 550) {
      fail("get",
           fmt::format("{} does not exist on the server ({})", report.remote, error->what()));
    } else {
      fail("get", batch_ ? fmt::format("{}: {}", report.remote, error->what()) : error->what());
    }
    if (!report.partial.empty()) {
      fail("get", fmt::format("the part received is kept in {}; `get -c` resumes", report.partial));
    }
  } else if (report.already_complete) {
    say("{} is already complete ({} bytes).", report.local, report.offset);
  } else if (report.local != "-") {
    say("Downloaded {} to {}: {} bytes{} in {:.2f} s{}.", report.remote, report.local, report.bytes,
        report.offset ? fmt::format(" after {} already there", report.offset) : "", report.seconds,
        rate_text(report.bytes, report.seconds));
  }
}

void Shell::report_upload(const TransferReport& report, const std::exception* error) {
  if (error) {
    fail("put", batch_ ? fmt::format("{}: {}", report.local, error->what()) : error->what());
  } else if (report.already_complete) {
    say("{} is already complete on the server ({} bytes).", report.remote, report.offset);
  } else {
    say("Uploaded {} to {}: {} bytes{} in {:.2f} s{}.", report.local, report.remote, report.bytes,
        report.offset ? fmt::format(" after {} already there", report.offset) : "", report.seconds,
        rate_text(report.bytes, report.seconds));
  }
}

bool Shell::run_batch(bool download, const std::function<BatchReport(const FileDone&)>& batch) {
  std::string_view command = download ? "get" : "put";
  FileDone done = [&](const TransferReport& report, const std::exception* error) {
    download ? report_download(report, error) : report_upload(report, error);
  };
  remote_names_.reset();  // even a batch that stops may have changed the remote folder
  BatchReport total;
  try {
    struct InBatch {
      bool& flag;
      explicit InBatch(bool& f) : flag(f) { flag = true; }
      ~InBatch() { flag = false; }
    } in_batch(batch_);
    total = batch(done);
  } catch (const BatchStopped& stopped) {
    fail(command, fmt::format("stopped after {}", files_text(stopped.so_far().files)));
    note_lost_connection(command);
    return false;
  }
  std::string extra;
  if (total.complete) extra += fmt::format(", {} already complete", total.complete);
  if (total.failed) extra += fmt::format(", {} failed", total.failed);
  say("{} {}: {} in {:.2f} s{}{}.", download ? "Downloaded" : "Uploaded", files_text(total.files),
      format_bytes(total.bytes), total.seconds, rate_text(total.bytes, total.seconds), extra);
  return total.failed == 0;
}

bool Shell::cmd_get(const std::vector<std::string>& arguments) {
  auto args = arguments;
  Flags flags = take_flags(&args, flags_of("get"));
  TransferOptions options{.resume = flags.resume, .progress = options_.progress};
  std::string local = args.size() > 1 ? args[1] : "";
  if (flags.recursive) {
    return run_batch(true, [&](const FileDone& done) {
      return download_tree(*conn_, args[0], local, options, done);
    });
  }
  TransferReport report;
  try {
    download(*conn_, args[0], local, options, &report);
  } catch (const std::exception& e) {
    if (report.remote.empty()) report.remote = args[0];
    report_download(report, &e);
    note_lost_connection("get");
    return false;
  }
  report_download(report, nullptr);
  return true;
}

bool Shell::cmd_put(const std::vector<std::string>& arguments) {
  auto args = arguments;
  Flags flags = take_flags(&args, flags_of("put"));
  TransferOptions options{.resume = flags.resume, .progress = options_.progress};
  std::string remote = args.size() > 1 ? args[1] : "";
  if (flags.recursive) {
    return run_batch(false, [&](const FileDone& done) {
      return upload_tree(*conn_, args[0], remote, options, done);
    });
  }
  TransferReport report;
  upload(*conn_, args[0], remote, options, &report);
  remote_names_.reset();
  report_upload(report, nullptr);
  return true;
}

bool Shell::cmd_mget(const std::vector<std::string>& arguments) {
  return run_patterns(arguments, true);
}

bool Shell::cmd_mput(const std::vector<std::string>& arguments) {
  return run_patterns(arguments, false);
}

bool Shell::run_patterns(const std::vector<std::string>& arguments, bool download) {
  std::string_view command = download ? "mget" : "mput";
  auto args = arguments;
  TransferOptions options{.resume = take_flags(&args, flags_of(command)).resume,
                          .progress = options_.progress};
  std::vector<std::string> files;
  bool ok = true;
  for (const auto& pattern : args) {
    auto found = download ? remote_matches(*conn_, pattern) : local_matches(pattern);
    if (found.empty()) {
      fail(command, fmt::format("no {} file matches {}", download ? "remote" : "local", pattern));
      ok = false;
    }
    files.insert(files.end(), found.begin(), found.end());
  }
  if (files.empty()) return false;
  return run_batch(download,
                   [&](const FileDone& done) {
                     return download ? download_files(*conn_, files, options, done)
                                     : upload_files(*conn_, files, options, done);
                   }) &&
         ok;
}

bool Shell::cmd_lls(const std::vector<std::string>& args) {
  std::vector<std::string> words = {"ls"};
  words.insert(words.end(), args.begin(), args.end());
  int status = run_local(words);
  if (status < 0) fail("lls", "cannot run ls");
  return status == 0;
}

bool Shell::cmd_quote(const std::vector<std::string>& args) {
  if (needs_data_connection(args[0])) {
    fail("quote", fmt::format("{} needs a data connection, which quote does not open: use get, "
                              "put, ls or list",
                              args[0]));
    return false;
  }
  std::string line = args[0];
  for (size_t i = 1; i < args.size(); ++i) line += " " + args[i];
  Reply reply = conn_->send(line);
  remote_names_.reset();
  say("{}", reply.text());
  return reply.kind() >= 1 && reply.kind() <= 3;
}

bool Shell::cmd_hash(const std::vector<std::string>&) {
  say("No hash marks: on a terminal, get and put draw a progress bar instead.");
  return true;
}

bool Shell::cmd_cd(const std::vector<std::string>& args) {
  conn_->cwd(args[0]);
  remote_names_.reset();
  cwd_ = conn_->pwd();
  if (options_.interactive) say("Remote folder: {}", cwd_);
  return true;
}

bool Shell::cmd_pwd(const std::vector<std::string>&) {
  say("{}", conn_->pwd());
  return true;
}

bool Shell::cmd_lcd(const std::vector<std::string>& args) {
  std::string dir = args.empty() ? (std::getenv("HOME") ? std::getenv("HOME") : "/") : args[0];
  if (::chdir(dir.c_str()) != 0) {
    fail("lcd", fmt::format("{}: {}", dir, errno_text()));
    return false;
  }
  say("Local folder: {}", std::filesystem::current_path().string());
  return true;
}

bool Shell::cmd_lpwd(const std::vector<std::string>&) {
  say("{}", std::filesystem::current_path().string());
  return true;
}

bool Shell::cmd_mkdir(const std::vector<std::string>& args) {
  conn_->mkd(args[0]);
  remote_names_.reset();
  say("Created {}", args[0]);
  return true;
}

bool Shell::cmd_rmdir(const std::vector<std::string>& args) {
  conn_->rmd(args[0]);
  remote_names_.reset();
  say("Removed {}", args[0]);
  return true;
}

bool Shell::cmd_rm(const std::vector<std::string>& args) {
  bool ok = true;
  for (const auto& name : args) {
    try {
      conn_->dele(name);
      say("Deleted {}", name);
    } catch (const FtpError& e) {
      fail("rm", fmt::format("{}: {}", name, e.what()));
      ok = false;
    }
  }
  remote_names_.reset();
  return ok;
}

bool Shell::cmd_rename(const std::vector<std::string>& args) {
  conn_->rename(args[0], args[1]);
  remote_names_.reset();
  say("Renamed {} to {}", args[0], args[1]);
  return true;
}

bool Shell::cmd_size(const std::vector<std::string>& args) {
  Reply reply = conn_->require("SIZE " + args[0]);
  const std::string& line = reply.lines.back();
  say("{}: {} bytes", args[0], line.size() > 4 ? line.substr(4) : "?");
  return true;
}

// The server digests its copy (HASH, draft-bryan-ftpext-hash) and we digest ours: no data
// connection, and a mismatch is named with both digests.
bool Shell::cmd_verify(const std::vector<std::string>& args) {
  const std::string& local = args[0];
  std::string remote = args.size() > 1 ? args[1] : std::filesystem::path(local).filename().string();
  auto choice = choose_hash(conn_->features());
  if (!choice) {
    fail("verify", fmt::format("the server has no HASH command (its FEAT lists none, or none of "
                               "SHA-256, SHA-1, MD5): cannot verify {}",
                               local));
    return false;
  }
  auto mine = local_digest(local, choice->name);
  if (!mine) {
    fail("verify", fmt::format("{}: {}", local, errno_text()));
    return false;
  }
  if (!choice->selected) conn_->require("OPTS HASH " + choice->name);
  Reply reply = conn_->require("HASH " + remote);
  auto theirs = parse_hash_reply(reply.lines.back());
  if (!theirs || theirs->algorithm != choice->name) {
    fail("verify", fmt::format("cannot read the server's HASH reply: {}", reply.text()));
    return false;
  }
  if (theirs->hex != *mine) {
    fail("verify", fmt::format("{} DIFFERS from the server's {}: {} local {}, server {}", local,
                               remote, choice->name, *mine, theirs->hex));
    return false;
  }
  say("{}: matches the server's {} ({} {})", local, remote, choice->name, *mine);
  return true;
}

bool Shell::cmd_binary(const std::vector<std::string>&) {
  conn_->set_binary(true);
  say("Transfer type: binary.");
  return true;
}

bool Shell::cmd_ascii(const std::vector<std::string>&) {
  conn_->set_binary(false);
  say("Transfer type: ascii (line endings converted).");
  return true;
}

bool Shell::cmd_passive(const std::vector<std::string>&) {
  conn_->set_passive(true);
  say("Passive mode: the client opens the data connections.");
  return true;
}

bool Shell::cmd_active(const std::vector<std::string>&) {
  conn_->set_passive(false);
  say("Active mode: the server opens the data connections.");
  return true;
}

bool Shell::cmd_help(const std::vector<std::string>& args) {
  if (!args.empty()) {
    const Command* command = find(args[0]);
    if (!command) {
      fail("help", fmt::format("no command {}", args[0]));
      return false;
    }
    say("{}\n  {}", command->usage, command->summary);
    return true;
  }
  say("Commands (quote names with spaces: get \"my file.txt\"):");
  for (const auto& command : commands()) say("  {:<24}{}", command.usage, command.summary);
  say("  {:<24}{}", "!COMMAND", "run COMMAND in a local shell (! alone: an interactive one)");
  return true;
}

bool Shell::cmd_quit(const std::vector<std::string>&) {
  conn_->quit();
  finished_ = true;
  say("Goodbye, and thank you for using netmodels ftp!");
  return true;
}

}  // namespace nm::client
