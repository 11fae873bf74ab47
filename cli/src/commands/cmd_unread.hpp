// unread, senders, top: the commands served by mod_unread's index.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "commands/session.hpp"
#include "jid.hpp"

namespace chatadm {

struct UnreadArgs {
    bool count_only = false;    // -c
    long limit = 20;            // -n
    long offset = 0;            // -o
    std::optional<Jid> sender;  // -f
    Jid user;                   // the first user operand
    // Every user operand as given ("-": the names on standard input), for
    // -c with more than one, or with "-".
    std::vector<std::string> users;
    bool several() const { return users.size() > 1 || (users.size() == 1 && users[0] == "-"); }
};
// Users per unread_counts request.
constexpr std::size_t counts_batch = 1000;
UnreadArgs parse_unread_args(const std::vector<std::string>& args);
void run_unread(const UnreadArgs& args, Session& session);

struct SendersArgs {
    Jid user;
};
SendersArgs parse_senders_args(const std::vector<std::string>& args);
void run_senders(const SendersArgs& args, Session& session);

struct TopArgs {
    long limit = 10;                  // -n
    std::optional<std::string> host;  // all virtual hosts when absent
};
TopArgs parse_top_args(const std::vector<std::string>& args);
void run_top(const TopArgs& args, Session& session);

// The advice when a listing needs mod_unread and the server lacks it.
std::string mod_unread_needed(const std::string& what, const std::string& url);

}  // namespace chatadm
