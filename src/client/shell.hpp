#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "client/file_transfer.hpp"
#include "client/ftp_connection.hpp"
#include "client/tree_transfer.hpp"

namespace nm::client {

struct ShellOptions {
  bool progress = false;     // progress bars on stderr
  bool interactive = false;  // a person at the prompt, rather than a script
};

// What the words after a command name are, for tab completion.
enum class ArgumentKind { kNone, kRemote, kLocal, kCommand };

// Opens a new logged-in connection to the same server, as the same user.
using Connector = std::function<std::unique_ptr<FtpConnection>()>;

// The commands of the client, run one line at a time over one connection. Results go to stdout,
// errors (with the server's reply) to stderr; a failed command leaves the session usable.
class Shell {
 public:
  // With a `reconnect`, a connection the server dropped (an idle timeout, a restart) is opened
  // again by the next command, in the same folder and modes.
  Shell(std::unique_ptr<FtpConnection> conn, Connector reconnect, ShellOptions options);

  // Runs one command line; false when it failed.
  bool execute(std::string_view line);
  // True once `quit` ran or the connection is gone.
  bool finished() const { return finished_ || (!conn_->connected() && !reconnect_); }
  bool quit_requested() const { return finished_; }
  // Leaves without a word: for the end of a script.
  void close();

  static std::vector<std::string> command_names();
  static ArgumentKind argument_kind(std::string_view command, size_t position);
  // The names in the remote working folder, for completion; asked once per folder and change.
  const std::vector<std::string>& remote_names();

 private:
  struct Command;
  static const std::vector<Command>& commands();
  static const Command* find(std::string_view name);

  bool cmd_list(const std::vector<std::string>& args);
  bool cmd_ls(const std::vector<std::string>& args);
  bool cmd_get(const std::vector<std::string>& args);
  bool cmd_put(const std::vector<std::string>& args);
  bool cmd_mget(const std::vector<std::string>& args);
  bool cmd_mput(const std::vector<std::string>& args);
  bool cmd_lls(const std::vector<std::string>& args);
  bool cmd_quote(const std::vector<std::string>& args);
  bool cmd_hash(const std::vector<std::string>& args);
  bool cmd_cd(const std::vector<std::string>& args);
  bool cmd_pwd(const std::vector<std::string>& args);
  bool cmd_lcd(const std::vector<std::string>& args);
  bool cmd_lpwd(const std::vector<std::string>& args);
  bool cmd_mkdir(const std::vector<std::string>& args);
  bool cmd_rmdir(const std::vector<std::string>& args);
  bool cmd_rm(const std::vector<std::string>& args);
  bool cmd_rename(const std::vector<std::string>& args);
  bool cmd_size(const std::vector<std::string>& args);
  bool cmd_verify(const std::vector<std::string>& args);
  bool cmd_binary(const std::vector<std::string>& args);
  bool cmd_ascii(const std::vector<std::string>& args);
  bool cmd_passive(const std::vector<std::string>& args);
  bool cmd_active(const std::vector<std::string>& args);
  bool cmd_help(const std::vector<std::string>& args);
  bool cmd_quit(const std::vector<std::string>& args);

  template <typename... Args>
  void say(fmt::format_string<Args...> format, Args&&... args);
  void fail(std::string_view command, std::string_view message);
  void note_lost_connection(std::string_view command);
  bool ensure_connected(std::string_view command);
  // One file's outcome, on stdout when it moved, on stderr (with any partial file kept) when not.
  void report_download(const TransferReport& report, const std::exception* error);
  void report_upload(const TransferReport& report, const std::exception* error);
  // Runs a many-file download (or upload) and prints its total; false when any file failed.
  bool run_batch(bool download, const std::function<BatchReport(const FileDone&)>& batch);
  // mget (`download`) or mput: the files the patterns name, in one batch.
  bool run_patterns(const std::vector<std::string>& arguments, bool download);
  // `!command`: runs it with /bin/sh (an interactive $SHELL when empty).
  bool run_shell_escape(std::string_view command);

  std::unique_ptr<FtpConnection> conn_;
  Connector reconnect_;
  ShellOptions options_;
  std::string cwd_;  // the remote folder to come back to after a reconnection; empty: the login's
  bool finished_ = false;
  bool batch_ = false;  // in a many-file transfer: errors name their file
  std::optional<std::vector<std::string>> remote_names_;  // invalidated by every change
};

}  // namespace nm::client
