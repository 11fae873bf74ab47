// health: the backlog of mod_unread's index (unread_health and
// unread_health_users) for people, or as one JSON object with -j.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands/session.hpp"

namespace chatadm {

struct HealthArgs {
    std::optional<std::string> host;  // all indexed hosts when absent
};
HealthArgs parse_health_args(const std::vector<std::string>& args);
// Exit status 6 (ExitStatus::full) when a user is at its limit.
void run_health(const HealthArgs& args, Session& session);

// The text report of {"hosts": [unread_health rows], "users":
// [unread_health_users rows]}, as run_health prints it.
std::string format_health(const nlohmann::json& report);
// 3725 -> "1h 2m 5s"
std::string format_age(std::int64_t seconds);

}  // namespace chatadm
