#include "commands/commands.hpp"

#include "commands/cmd_health.hpp"
#include "commands/cmd_purge.hpp"
#include "commands/cmd_send.hpp"
#include "commands/cmd_server.hpp"
#include "commands/cmd_unread.hpp"
#include "errors.hpp"
#include "output/text_escape.hpp"

namespace chatadm {

namespace {

template <typename Args, typename Parse, typename Run>
std::function<Action(const std::vector<std::string>&)> bind(Parse parse, Run run) {
    return [parse, run](const std::vector<std::string>& argv) -> Action {
        Args args = parse(argv);
        return [args, run](Session& s) { run(args, s); };
    };
}

std::vector<CommandSpec> build_table() {
    std::vector<CommandSpec> t;
    t.push_back({"unread", "unread [-c] [-n limit] [-o offset] [-f sender] user...",
                 "unread messages of user, newest first",
                 "  user       alice or alice@example.com; with -c several, '-' for names\n"
                 "             on standard input (one per line): 'user<TAB>count' lines\n"
                 "  -c         print only the number of unread messages\n"
                 "  -n limit   show at most limit messages (default 20)\n"
                 "  -o offset  skip the newest offset messages (default 0)\n"
                 "  -f sender  only messages from sender (a bare name gets the user's domain)\n",
                 bind<UnreadArgs>(parse_unread_args, run_unread)});
    t.push_back({"senders", "senders user", "unread message counts per sender, largest first",
                 "  user       alice or alice@example.com\n",
                 bind<SendersArgs>(parse_senders_args, run_senders)});
    t.push_back({"top", "top [-n N] [host]", "users with the most unread messages",
                 "  host       one virtual host (default: all of them)\n"
                 "  -n N       show N users (default 10)\n",
                 bind<TopArgs>(parse_top_args, run_top)});
    t.push_back({"purge", "purge [-n|-y] [-l N] [-H host] sender",
                 "remove a sender's unread messages (dry run unless -y)",
                 "  sender     a bare JID (spam@example.net), or @domain / domain for every\n"
                 "             sender of that domain (its server's own JID included)\n"
                 "  -n         dry run only: count what would be removed, never ask\n"
                 "  -y         remove without asking\n"
                 "  -l N       list the N users holding most of them (default 10)\n"
                 "  -H host    only this virtual host's users (default: all of them)\n"
                 "Without -n or -y it counts first (from the index, nothing is read from the\n"
                 "store) and, on a terminal, asks before removing; otherwise it removes\n"
                 "nothing. Removal goes through mod_offline's store; running it again\n"
                 "removes what is left, if anything.\n",
                 bind<PurgeArgs>(parse_purge_args, run_purge)});
    t.push_back({"retention", "retention [-l N] [-H host] days",
                 "what delete_old_messages would remove",
                 "  days       age in days, as for ejabberdctl delete_old_messages\n"
                 "  -l N       list the N senders with most of those messages (default 10)\n"
                 "  -H host    only this virtual host (delete_old_messages does all)\n",
                 bind<RetentionArgs>(parse_retention_args, run_retention)});
    t.push_back({"send", "send [-t type] [-s subject] from to [message...]",
                 "send a message (no message or '-': read standard input)",
                 "  from, to    alice or alice@example.com (to may end in /resource)\n"
                 "  message...  the words of the message, joined by spaces\n"
                 "  -t type     chat (default), normal or headline\n"
                 "  -s subject  the message's subject\n"
                 "The recipient must exist when it is on this server (exit 4 otherwise).\n",
                 bind<SendArgs>(parse_send_args, run_send)});
    t.push_back({"online", "online [host]", "connected users (full JIDs)",
                 "  host       one virtual host (default: all of them)\n",
                 bind<OnlineArgs>(parse_online_args, run_online)});
    t.push_back({"status", "status", "server, version, cluster nodes and mod_unread state", "",
                 [](const std::vector<std::string>& argv) -> Action {
                     parse_status_args(argv);
                     return run_status;
                 }});
    t.push_back({"health", "health [host]", "unread backlog, users at or near their offline limit",
                 "  host       one virtual host (default: all of them)\n"
                 "Exit 6 when a user is at its offline message limit (its new messages are\n"
                 "refused); users near it (mod_unread's health_near_limit) are listed too.\n",
                 bind<HealthArgs>(parse_health_args, run_health)});
    t.push_back({"help", "help [command]", "this text, or the details of one command", "", {}});
    return t;
}

}  // namespace

const std::vector<CommandSpec>& command_table() {
    static const std::vector<CommandSpec> table = build_table();
    return table;
}

const CommandSpec* find_command(std::string_view name) {
    for (const auto& spec : command_table()) {
        if (spec.name == name) return &spec;
    }
    return nullptr;
}

void require_operands(const std::vector<std::string>& operands,
                      const std::vector<std::string>& required, size_t max) {
    if (operands.size() < required.size()) {
        throw UsageError("missing operand: " + required[operands.size()]);
    }
    if (operands.size() > max) {
        throw UsageError("unexpected operand '" + escape_line(operands[max]) +
                         "' (options go before operands)");
    }
}

}  // namespace chatadm
