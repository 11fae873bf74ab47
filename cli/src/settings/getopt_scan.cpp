#include "settings/getopt_scan.hpp"

#include <unistd.h>

#include "errors.hpp"

namespace chatadm {

namespace {

// getopt keeps its position in globals; glibc re-initialises fully (including
// the hidden "next character" pointer) only when optind is 0. BSDs use
// optreset instead.
void reset_getopt() {
#if defined(__GLIBC__)
    optind = 0;
#else
    optind = 1;
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
    optreset = 1;
#endif
#endif
    opterr = 0;
}

}  // namespace

ScanResult scan_options(const std::vector<std::string>& args, const std::string& optstring) {
    // getopt wants mutable C strings; keep our own copies alive for the scan.
    std::vector<std::string> storage;
    storage.reserve(args.size() + 1);
    storage.emplace_back("chatadm");
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(storage.size() + 1);
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);

    // "+": stop at the first operand (guideline 9) even on glibc, which would
    // otherwise permute; ":": report a missing option-argument as ':'.
    const std::string full = "+:" + optstring;
    const int argc = static_cast<int>(storage.size());

    ScanResult result;
    reset_getopt();
    int c;
    while ((c = getopt(argc, argv.data(), full.c_str())) != -1) {
        if (c == '?') {
            if (optopt == '-') {
                // "--name": getopt sees an option letter '-'. Name the whole
                // word, which may still be under scan or just behind optind.
                const size_t i = static_cast<size_t>(optind);
                const std::string& word = (i < storage.size() && storage[i].rfind("--", 0) == 0)
                                              ? storage[i]
                                              : storage[i - 1];
                throw UsageError("unknown option " + word +
                                 " (options are single letters; '--' alone ends them)");
            }
            throw UsageError("unknown option -" + std::string(1, static_cast<char>(optopt)));
        }
        if (c == ':') {
            throw UsageError("option -" + std::string(1, static_cast<char>(optopt)) +
                             " needs an argument");
        }
        ScannedOption opt{static_cast<char>(c), std::nullopt};
        if (optarg != nullptr) opt.argument = std::string(optarg);
        result.options.push_back(std::move(opt));
    }
    for (int i = optind; i < argc; ++i) result.operands.push_back(storage[static_cast<size_t>(i)]);
    reset_getopt();
    return result;
}

}  // namespace chatadm
