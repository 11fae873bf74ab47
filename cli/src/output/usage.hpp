// The usage texts (stdout for help, stderr with usage errors).
#pragma once

#include <string>

#include "commands/commands.hpp"

namespace chatadm {

// Synopsis, commands, global options, exit statuses.
std::string usage_text();

// One command's synopsis and details.
std::string command_usage(const CommandSpec& spec);

}  // namespace chatadm
