#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "app/commands.hpp"
#include "services/ftp/auth.hpp"

namespace nm {
namespace {

struct PasswdArgs {
  std::string name;
  bool sha512 = false;
  std::string root;
  std::string rights = "rwdnm";
};

// One line from stdin; with echo off when stdin is a terminal.
bool read_password(const char* prompt, std::string* password) {
  bool tty = ::isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    std::cerr << prompt << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  bool ok = static_cast<bool>(std::getline(std::cin, *password));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  if (!password->empty() && password->back() == '\r') password->pop_back();
  return ok;
}

int run_passwd(const PasswdArgs& args) {
  std::string name = args.name;
  if (name.empty()) {
    const char* user = std::getenv("USER");
    name = user != nullptr && *user != '\0' ? user : "user";
  }
  if (name.find_first_of(": \t") != std::string::npos) {
    std::cerr << "netmodels passwd: a name cannot hold ':' or spaces\n";
    return 2;
  }
  if (args.rights != "-" && args.rights.find_first_not_of("rwdnm") != std::string::npos) {
    std::cerr << "netmodels passwd: --rights takes letters among r, w, d, n, m (or -)\n";
    return 2;
  }
  std::string root = args.root;
  if (root.empty()) {
    char cwd[4096];
    root = ::getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : ".";
  }
  std::string password;
  if (!read_password("Password: ", &password) || password.empty()) {
    std::cerr << "netmodels passwd: no password given\n";
    return 1;
  }
  if (::isatty(STDIN_FILENO) != 0) {
    std::string again;
    if (!read_password("Again: ", &again) || again != password) {
      std::cerr << "netmodels passwd: the passwords differ\n";
      return 1;
    }
  }
  auto hash = ftp::hash_password(password, args.sha512);
  if (!hash) {
    std::cerr << "netmodels passwd: crypt failed\n";
    return 1;
  }
  std::cout << name << ':' << *hash << ':' << root << ':' << args.rights << "\n";
  return 0;
}

}  // namespace

void add_passwd_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<PasswdArgs>();
  auto* cmd = app.add_subcommand(
      "passwd",
      "Print a users-file line (NAME:HASH:ROOT:RIGHTS) for `serve --users FILE`.\n"
      "Reads the password without echo from the terminal, or one line from stdin.\n"
      "RIGHTS: r read, w write, d delete, n rename, m mkdir ('-' for none).\n"
      "A relative ROOT is taken from the users file's folder.");
  cmd->add_option("name", args->name, "User name (default: $USER)");
  cmd->add_flag("--sha512", args->sha512, "Hash with SHA-512 ($6$) instead of yescrypt ($y$)");
  cmd->add_option("--root", args->root, "The user's folder (default: the current folder)");
  cmd->add_option("--rights", args->rights, "Rights letters")->capture_default_str();
  cmd->callback([args, exit_code] { *exit_code = run_passwd(*args); });
}

}  // namespace nm
