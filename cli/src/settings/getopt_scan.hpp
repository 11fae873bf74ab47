// A POSIX getopt(3) pass over one argument list, without getopt's global
// state leaking between passes.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace chatadm {

struct ScannedOption {
    char letter;
    std::optional<std::string> argument;
};

struct ScanResult {
    std::vector<ScannedOption> options;  // in command-line order
    std::vector<std::string> operands;   // everything after the options
};

// Scans args (argv without argv[0]) with getopt and the optstring
// "+:" + optstring: stops at the first operand or after "--", never permutes,
// and reports problems by throwing UsageError naming the option.
ScanResult scan_options(const std::vector<std::string>& args, const std::string& optstring);

}  // namespace chatadm
