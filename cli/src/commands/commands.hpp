// The command table: names, usage text and argument parsers. Parsing is
// separate from running so that usage errors come before any config file is
// read or password asked for.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/session.hpp"

namespace chatadm {

using Action = std::function<void(Session&)>;

struct CommandSpec {
    std::string name;
    std::string synopsis;  // follows "chatadm [global options] "
    std::string summary;   // one line in the command list
    std::string details;   // operands and options, for "chatadm help NAME"
    // Parses the arguments after the command name (throws UsageError); empty
    // for "help", which run() handles without a server.
    std::function<Action(const std::vector<std::string>&)> parse;
};

const std::vector<CommandSpec>& command_table();
const CommandSpec* find_command(std::string_view name);

// Checks the operand count: too few names the first missing operand, too
// many names the first extra one (both UsageError).
void require_operands(const std::vector<std::string>& operands,
                      const std::vector<std::string>& required, size_t max);

}  // namespace chatadm
