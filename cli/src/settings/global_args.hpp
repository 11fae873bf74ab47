// The global pass over the command line: options before the command name.
#pragma once

#include <string>
#include <vector>

#include "settings/settings.hpp"

namespace chatadm {

struct Invocation {
    SettingsLayer command_line{"command line", {}};  // -h -u -P -k -C -T
    bool json = false;                               // -j
    int verbosity = 1;                               // 0 with -q, 1 normal, 2+ with -v (repeatable)
    std::string command;
    std::vector<std::string> command_args;  // after the command name, still unparsed
};

// Parses "[global options] command [command args...]" (argv without argv[0]).
// Options are applied in order, so for repeats the last one wins; -C and -k
// undo each other. Throws UsageError.
Invocation parse_global_args(const std::vector<std::string>& args);

}  // namespace chatadm
