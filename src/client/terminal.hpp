#pragma once

#include <optional>
#include <string>

namespace nm::client {

bool is_terminal(int fd);
// The width of the terminal on `fd`, or 80.
int terminal_columns(int fd);
// Reads a line from the controlling terminal with echo off; nullopt when there is no terminal.
std::optional<std::string> prompt_password(const std::string& prompt);

}  // namespace nm::client
