// Getting the admin password without it ever appearing on the command line.
#pragma once

#include <optional>
#include <string>

namespace chatadm {

// The first line of a password file (without its line ending). A regular
// file that group or others may read is refused with CliError(auth), like
// ssh refuses an exposed key; a missing or empty file is CliError(usage).
// Pipes and devices (-P /dev/stdin, -P <(pass show x)) are read as they are.
std::string read_password_file(const std::string& path);

// Asks on the controlling terminal (/dev/tty) with echo off, restoring the
// terminal even on Ctrl-C. nullopt when there is no terminal to ask on.
std::optional<std::string> prompt_password_on_tty(const std::string& prompt);

}  // namespace chatadm
