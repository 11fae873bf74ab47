#include "settings/global_args.hpp"

#include <algorithm>
#include <string>

#include "errors.hpp"
#include "settings/getopt_scan.hpp"
#include "settings/option_values.hpp"

namespace chatadm {

Invocation parse_global_args(const std::vector<std::string>& args) {
    Invocation inv;
    Settings& s = inv.command_line.settings;
    const ScanResult scan = scan_options(args, "h:u:P:kC:T:jqv");
    for (const auto& opt : scan.options) {
        const std::string arg = opt.argument.value_or("");
        if (opt.argument && arg.empty()) {
            throw UsageError(std::string("option -") + opt.letter + " has an empty argument");
        }
        switch (opt.letter) {
            case 'h':
                s.host = arg;
                break;
            case 'u':
                s.user = arg;
                break;
            case 'P':
                s.password_file = arg;
                break;
            case 'k':
                s.insecure = true;
                break;
            case 'C':
                // Naming a CA means "verify with it", overriding an earlier -k
                // or a config file's insecure = true.
                s.ca_file = arg;
                s.insecure = false;
                break;
            case 'T':
                s.timeout_ms = parse_timeout_ms(arg, "-T");
                break;
            case 'j':
                inv.json = true;
                break;
            case 'q':
                inv.verbosity = 0;
                break;
            case 'v':
                inv.verbosity = std::max(inv.verbosity, 1) + 1;
                break;
            default:
                throw UsageError(std::string("unhandled option -") + opt.letter);
        }
    }
    if (scan.operands.empty()) throw UsageError("missing command");
    inv.command = scan.operands.front();
    inv.command_args.assign(scan.operands.begin() + 1, scan.operands.end());
    return inv;
}

}  // namespace chatadm
