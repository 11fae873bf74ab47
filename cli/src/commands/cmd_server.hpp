// online and status: questions about the server rather than one user.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands/session.hpp"

namespace chatadm {

struct OnlineArgs {
    std::optional<std::string> host;  // every host when absent
};
OnlineArgs parse_online_args(const std::vector<std::string>& args);
void run_online(const OnlineArgs& args, Session& session);

void parse_status_args(const std::vector<std::string>& args);
void run_status(Session& session);

// "ejabberd 23.01-1 is running in that node" -> "23.01-1"; empty if absent.
std::string version_from_status(const std::string& status_message);

}  // namespace chatadm
