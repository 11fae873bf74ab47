// purge, retention: removing a sender's unread messages, and what
// delete_old_messages would remove, both answered from mod_unread's index.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "commands/session.hpp"

namespace chatadm {

enum class PurgeMode {
    ask,      // dry run; then, on a terminal, offer to remove
    dry_run,  // -n: only count
    remove,   // -y: remove without asking
};

struct PurgeArgs {
    PurgeMode mode = PurgeMode::ask;
    long limit = 10;                  // -l: users listed
    std::optional<std::string> host;  // -H: one virtual host (default: all)
    std::string sender;               // bare JID, or @domain / domain
};
PurgeArgs parse_purge_args(const std::vector<std::string>& args);
void run_purge(const PurgeArgs& args, Session& session);

struct RetentionArgs {
    long days = 0;
    long limit = 10;                  // -l: senders listed
    std::optional<std::string> host;  // -H
};
RetentionArgs parse_retention_args(const std::vector<std::string>& args);
void run_retention(const RetentionArgs& args, Session& session);

}  // namespace chatadm
