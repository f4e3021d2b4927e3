#include "client/line_editor.hpp"

#include <editline/readline.h>
#include <signal.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "client/command_line.hpp"
#include "client/timed_io.hpp"

namespace nm::client {
namespace {

// libedit's completion hooks are plain C functions: they reach the shell through these.
Shell* g_shell = nullptr;
std::vector<std::string> g_candidates;
size_t g_next = 0;

// The quote that opens the word being completed, if any.
char g_quote = 0;

// A name as it must be typed: quoted like the word it completes, or with blanks escaped.
std::string as_typed(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool special = g_quote == '"' ? (c == '"' || c == '\\')
                                  : g_quote == 0 && std::strchr(" \t\"'\\", c) != nullptr;
    if (special) out += '\\';
    out += c;
  }
  if (g_quote != 0) out += g_quote;
  return out;
}

char* next_candidate(const char* text, int state) {
  static std::string wanted;
  if (state == 0) {
    g_next = 0;
    wanted = text;
    // An unquoted word may hold backslash escapes ("my\ fi"): compare what they stand for.
    if (g_quote == 0) {
      auto words = split_command_line(text);
      if (words && words->size() == 1) wanted = words->front();
    }
  }
  while (g_next < g_candidates.size()) {
    const std::string& candidate = g_candidates[g_next++];
    if (candidate.compare(0, wanted.size(), wanted) == 0) {
      return ::strdup(as_typed(candidate).c_str());
    }
  }
  return nullptr;
}

char** complete(const char* text, int start, int /*end*/) {
  rl_attempted_completion_over = 1;
  size_t begin = static_cast<size_t>(start);
  g_quote = 0;
  if (begin > 0 && (rl_line_buffer[begin - 1] == '"' || rl_line_buffer[begin - 1] == '\'')) {
    g_quote = rl_line_buffer[--begin];
  }
  auto before = split_command_line(std::string_view(rl_line_buffer, begin));
  if (!before) return nullptr;
  if (before->empty()) {
    g_candidates = Shell::command_names();
  } else {
    size_t position = before->size();
    if (position > 1 && ((*before)[1] == "-c" || (*before)[1] == "--continue")) --position;
    switch (Shell::argument_kind((*before)[0], position)) {
      case ArgumentKind::kRemote:
        g_candidates = g_shell->remote_names();
        break;
      case ArgumentKind::kCommand:
        g_candidates = Shell::command_names();
        break;
      case ArgumentKind::kLocal:
        // libedit completes local file names itself.
        rl_attempted_completion_over = 0;
        return nullptr;
      case ArgumentKind::kNone:
        return nullptr;
    }
  }
  return rl_completion_matches(text, next_candidate);
}

void on_interrupt(int) {
  request_interrupt();
}

std::string history_file() {
  const char* home = std::getenv("HOME");
  return home ? std::string(home) + "/.netmodels_ftp_history" : std::string();
}

bool blank(const std::string& line) {
  return line.find_first_not_of(" \t") == std::string::npos;
}

}  // namespace

int run_interactive(Shell& shell) {
  g_shell = &shell;
  rl_readline_name = const_cast<char*>("netmodels-ftp");
  rl_attempted_completion_function = complete;
  using_history();
  std::string history = history_file();
  if (!history.empty()) read_history(history.c_str());

  // Ctrl-C stops the running transfer (its waits see EINTR), not the whole client.
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  struct sigaction previous {};
  sigaction(SIGINT, &action, &previous);

  int status = 0;
  while (!shell.finished()) {
    clear_interrupt();
    char* raw = readline("ftp> ");
    if (!raw) {
      if (interrupt_requested()) {
        std::fputs("\n", stdout);
        continue;
      }
      // End of input (Ctrl-D) leaves as `quit` does.
      std::fputs("\n", stdout);
      shell.execute("quit");
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (blank(line)) continue;
    add_history(line.c_str());
    shell.execute(line);
  }
  if (!shell.finished()) shell.close();
  // A session cut by the server ends with a failure status.
  if (!shell.quit_requested()) status = 1;
  sigaction(SIGINT, &previous, nullptr);
  if (!history.empty()) write_history(history.c_str());
  g_shell = nullptr;
  return status;
}

}  // namespace nm::client
