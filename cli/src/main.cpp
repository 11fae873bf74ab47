#include <unistd.h>

#include <iostream>

#include "app.hpp"

int main(int argc, char** argv) {
    // Output goes through iostreams only; unsyncing saves a little per line.
    std::ios::sync_with_stdio(false);
    chatadm::Io io{std::cout, std::cerr, std::cin, ::isatty(STDIN_FILENO) == 1};
    const std::vector<std::string> args(argv + 1, argv + argc);
    const int status = chatadm::run(args, io, chatadm::process_environment());
    std::cout.flush();
    if (!std::cout) {
        // A full disk or closed pipe must not look like success to a script.
        std::cerr << "chatadm: cannot write standard output\n";
        return 1;
    }
    return status;
}
