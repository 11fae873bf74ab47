// The whole program as a function of its inputs, so tests can run it with a
// fake server, environment and terminal.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/transport.hpp"
#include "commands/session.hpp"
#include "settings/config.hpp"

namespace chatadm {

struct Environment {
    GetEnv getenv;
    TransportFactory make_transport;
    // Asks for a password on the terminal; nullopt when there is none.
    std::function<std::optional<std::string>(const std::string& prompt)> prompt_password;
    std::string system_config = system_config_path;
};

// The real process environment: getenv(3), libcurl, /dev/tty.
Environment process_environment();

// Runs chatadm with args (argv without argv[0]); returns the exit status.
int run(const std::vector<std::string>& args, Io& io, const Environment& env);

}  // namespace chatadm
