#include "commands/cmd_unread.hpp"

#include <algorithm>
#include <optional>

#include "api/results.hpp"
#include "commands/commands.hpp"
#include "errors.hpp"
#include "output/format.hpp"
#include "output/text_escape.hpp"
#include "settings/getopt_scan.hpp"
#include "settings/option_values.hpp"

namespace chatadm {

using nlohmann::json;

namespace {

// mod_unread refuses pages of more than 1000 entries.
constexpr long max_page = 1000;

// mod_unread's 404s say what is missing (the user, the host, or the module
// on that host), so its words are passed on; without them, assume `missing`.
[[noreturn]] void not_found(const ApiError& e, const std::string& missing) {
    throw CliError(ExitStatus::not_found, e.server_message().empty()
                                              ? missing
                                              : "not found: " + escape_line(e.server_message()));
}

// Calls a mod_unread command, rephrasing the two errors whose generic text
// would not help: the module missing, and the user unknown.
json call_unread(Session& s, const std::string& command, const json& args, const std::string& what,
                 const std::string& missing) {
    try {
        return s.api().call(command, args);
    } catch (const ApiError& e) {
        if (e.endpoint_missing()) {
            throw CliError(ExitStatus::failure, mod_unread_needed(what, s.api().base_url()));
        }
        if (e.status() == ExitStatus::not_found) not_found(e, missing);
        throw;
    }
}

std::string no_such_user(const std::string& user) {
    return "no such user: " + escape_line(user);
}

void print(Session& s, const std::string& text) {
    s.io().out << text;
}

// The count alone for people; with -j, an object saying where it came from.
void print_count(Session& s, json report) {
    print(s, s.json() ? json_text(report)
                      : std::to_string(report["count"].get<std::int64_t>()) + "\n");
}

// -f as given: the server resolves a name without a domain with the same
// default host as the user's, so chatadm never qualifies names itself.
std::string sender_name(const UnreadArgs& a) {
    return a.sender ? a.sender->bare() : std::string();
}

void count_with_stock_command(const UnreadArgs& a, Session& s) {
    s.detail("mod_unread is not loaded; counting with get_offline_count");
    const Jid user = s.qualified(a.user);
    const json args = {{"user", user.local}, {"host", user.domain}};
    std::int64_t count =
        result_integer(s.api().call("get_offline_count", args), "get_offline_count");
    // get_offline_count says 0 for accounts that do not exist either; only
    // then is the extra check worth a request.
    if (count == 0) {
        const std::int64_t missing =
            result_integer(s.api().call("check_account", args), "check_account");
        if (missing != 0) {
            throw CliError(ExitStatus::not_found, no_such_user(user.bare()));
        }
    }
    print_count(s, {{"user", a.user.bare()}, {"count", count}, {"source", "get_offline_count"}});
}

// Counts of one user the way a single -c asks for it: nullopt for a user
// that does not exist. For servers without unread_counts.
// stock_only: set once the server turns out to lack unread_count too.
std::optional<std::int64_t> count_one_by_one(const std::string& user, Session& s,
                                             bool& stock_only) {
    if (!stock_only) {
        try {
            return result_integer(s.api().call("unread_count", {{"user", user}}), "unread_count");
        } catch (const ApiError& e) {
            // As unread_counts' -1: no such user, host or name (HTTP 400).
            if (e.http_status() == 400 ||
                (e.status() == ExitStatus::not_found && !e.endpoint_missing())) {
                return std::nullopt;
            }
            if (!e.endpoint_missing()) throw;
            s.detail("mod_unread is not loaded; counting with get_offline_count");
            stock_only = true;
        }
    }
    Jid jid;
    try {
        jid = s.qualified(parse_jid(user, JidUse::account, "user"));
    } catch (const UsageError&) {
        return std::nullopt;  // a malformed name from standard input
    }
    const json args = {{"user", jid.local}, {"host", jid.domain}};
    const std::int64_t count =
        result_integer(s.api().call("get_offline_count", args), "get_offline_count");
    if (count == 0 && result_integer(s.api().call("check_account", args), "check_account") != 0) {
        return std::nullopt;
    }
    return count;
}

// The user names to count: operands in order, "-" replaced by the lines of
// standard input (blank lines skipped, a trailing CR dropped).
std::vector<std::string> bulk_users(const UnreadArgs& a, Session& s) {
    std::vector<std::string> users;
    for (const auto& operand : a.users) {
        if (operand != "-") {
            users.push_back(operand);
            continue;
        }
        std::string line;
        while (std::getline(s.io().in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            const size_t begin = line.find_first_not_of(" \t");
            if (begin == std::string::npos) continue;
            const size_t end = line.find_last_not_of(" \t");
            users.push_back(line.substr(begin, end - begin + 1));
        }
    }
    return users;
}

// Many users' counts: unread_counts in batches over the one connection,
// "user<TAB>count" lines in input order (printed batch by batch), users as
// the server resolved them. Unknown users are left out of the output and
// named on stderr at the end, with exit status 4.
void run_counts(const UnreadArgs& a, Session& s) {
    const std::vector<std::string> users = bulk_users(a, s);
    json all = json::array();
    std::vector<std::string> unknown;
    bool bulk_command = true;
    bool stock_only = false;
    const auto emit = [&](const std::string& user, std::int64_t count) {
        if (count < 0) {
            unknown.push_back(user);
        } else if (s.json()) {
            all.push_back({{"user", user}, {"count", count}});
        } else {
            print(s, escape_line(user) + "\t" + std::to_string(count) + "\n");
        }
    };
    for (size_t start = 0; start < users.size(); start += counts_batch) {
        const size_t end = std::min(users.size(), start + counts_batch);
        const std::vector<std::string> batch(users.begin() + static_cast<std::ptrdiff_t>(start),
                                             users.begin() + static_cast<std::ptrdiff_t>(end));
        if (bulk_command) {
            try {
                const json rows = result_object_list(
                    s.api().call("unread_counts", {{"users", batch}}), "unread_counts");
                if (rows.size() != batch.size()) {
                    throw CliError(
                        ExitStatus::failure,
                        "unexpected result from 'unread_counts': " + std::to_string(rows.size()) +
                            " counts for " + std::to_string(batch.size()) + " users");
                }
                for (const auto& row : rows) {
                    emit(field_string(row, "user"), field_integer(row, "count"));
                }
                continue;
            } catch (const ApiError& e) {
                if (!e.endpoint_missing()) throw;
                s.detail("the server has no unread_counts; counting one user at a time");
                bulk_command = false;
            }
        }
        for (const auto& user : batch) {
            const std::optional<std::int64_t> count = count_one_by_one(user, s, stock_only);
            emit(user, count.value_or(-1));
        }
    }
    if (s.json()) print(s, json_text(all));
    for (const auto& user : unknown) s.io().err << "chatadm: " << no_such_user(user) << "\n";
    if (!unknown.empty()) {
        throw CliError(ExitStatus::not_found, std::to_string(unknown.size()) + " of " +
                                                  std::to_string(users.size()) +
                                                  " users not found");
    }
}

void run_count(const UnreadArgs& a, Session& s) {
    if (a.several()) return run_counts(a, s);
    const std::string user = a.user.bare();
    std::int64_t count = 0;
    if (a.sender) {
        // There is no stock fallback for a per-sender count.
        const json result =
            call_unread(s, "unread_count_from", {{"user", user}, {"from", sender_name(a)}},
                        "counting by sender", no_such_user(user));
        if (!result.is_object()) {
            throw CliError(ExitStatus::failure,
                           "unexpected result from 'unread_count_from': expected an object, got " +
                               result.dump());
        }
        print_count(s, {{"user", user},
                        {"sender", field_string(result, "sender")},
                        {"count", field_integer(result, "count")},
                        {"source", "mod_unread"}});
        return;
    }
    try {
        count = result_integer(s.api().call("unread_count", {{"user", user}}), "unread_count");
    } catch (const ApiError& e) {
        if (e.endpoint_missing()) return count_with_stock_command(a, s);
        if (e.status() == ExitStatus::not_found) not_found(e, no_such_user(user));
        throw;
    }
    print_count(s, {{"user", user}, {"count", count}, {"source", "mod_unread"}});
}

}  // namespace

std::string mod_unread_needed(const std::string& what, const std::string& url) {
    return what + " needs the mod_unread module, which is not loaded on the server at " + url +
           ".\nEnable it in ejabberd.yml:\n  modules:\n    mod_unread: {}\nthen run "
           "'ejabberdctl reload_config' (or restart ejabberd). Without it, only the count is "
           "available: chatadm unread -c USER";
}

UnreadArgs parse_unread_args(const std::vector<std::string>& args) {
    UnreadArgs a;
    const ScanResult scan = scan_options(args, "cn:o:f:");
    bool paged = false;
    for (const auto& opt : scan.options) {
        switch (opt.letter) {
            case 'c':
                a.count_only = true;
                break;
            case 'n':
                a.limit = parse_integer(*opt.argument, "-n", 1, max_page);
                paged = true;
                break;
            case 'o':
                a.offset = parse_integer(*opt.argument, "-o", 0, 1000000000L);
                paged = true;
                break;
            case 'f':
                a.sender = parse_jid(*opt.argument, JidUse::account, "-f");
                break;
        }
    }
    if (a.count_only && paged) {
        throw UsageError("-c counts all unread messages; it cannot be combined with -n or -o");
    }
    const size_t max_users = a.count_only ? scan.operands.size() : 1;
    require_operands(scan.operands, {"user"}, std::max<size_t>(max_users, 1));
    bool from_input = false;
    for (const auto& operand : scan.operands) {
        if (operand == "-" && a.count_only) {
            // Standard input can be read once (POSIX guideline 13: '-' is it).
            if (from_input) throw UsageError("'-' (standard input) may be given only once");
            from_input = true;
            a.users.push_back(operand);
            continue;
        }
        if (!a.users.empty() && operand.size() > 1 && operand[0] == '-') {
            // Most likely an option after the first user (write "-x@host"
            // for a user whose name starts with '-').
            throw UsageError("unexpected operand '" + escape_line(operand) +
                             "' (options go before operands)");
        }
        const Jid user = parse_jid(operand, JidUse::account, "user");
        if (a.users.empty()) a.user = user;
        a.users.push_back(user.bare());
    }
    if (a.several() && a.sender) {
        throw UsageError("-f counts the messages of one user; give a single user with -f");
    }
    return a;
}

void run_unread(const UnreadArgs& a, Session& s) {
    if (a.count_only) return run_count(a, s);
    const std::string user = a.user.bare();
    const std::string from = sender_name(a);
    const json args = {{"user", user}, {"limit", a.limit}, {"offset", a.offset}, {"from", from}};
    const json list = result_object_list(
        call_unread(s, "unread_list", args, "listing unread messages", no_such_user(user)),
        "unread_list");
    if (s.json()) return print(s, json_text(list));
    if (list.empty()) {
        s.note(escape_line(user) + " has no unread messages" +
               (from.empty() ? "" : " from " + escape_line(from)) +
               (a.offset > 0 ? " at offset " + std::to_string(a.offset) : ""));
        return;
    }
    print(s, format_messages(message_rows(list)));
    if (static_cast<long>(list.size()) == a.limit) {
        s.note("showing " + std::to_string(a.limit) + " messages from offset " +
               std::to_string(a.offset) + "; there may be more: use -o " +
               std::to_string(a.offset + a.limit) + " or a larger -n");
    }
}

SendersArgs parse_senders_args(const std::vector<std::string>& args) {
    const ScanResult scan = scan_options(args, "");
    require_operands(scan.operands, {"user"}, 1);
    return SendersArgs{parse_jid(scan.operands[0], JidUse::account, "user")};
}

void run_senders(const SendersArgs& a, Session& s) {
    const std::string user = a.user.bare();
    const json list =
        result_object_list(call_unread(s, "unread_senders", {{"user", user}},
                                       "counting unread messages by sender", no_such_user(user)),
                           "unread_senders");
    if (s.json()) return print(s, json_text(list));
    if (list.empty()) return s.note(escape_line(user) + " has no unread messages");
    print(s, format_counts(count_rows(list, "sender")));
}

TopArgs parse_top_args(const std::vector<std::string>& args) {
    TopArgs a;
    const ScanResult scan = scan_options(args, "n:");
    for (const auto& opt : scan.options) {
        if (opt.letter == 'n') a.limit = parse_integer(*opt.argument, "-n", 1, max_page);
    }
    require_operands(scan.operands, {}, 1);
    if (!scan.operands.empty()) a.host = parse_domain(scan.operands[0], "host");
    return a;
}

void run_top(const TopArgs& a, Session& s) {
    // No host: the server merges the rankings of every host it indexes, so
    // a virtual host without mod_unread cannot fail the whole command.
    const std::string host = a.host.value_or("");
    const json result = call_unread(s, "unread_top", {{"host", host}, {"limit", a.limit}},
                                    "finding the users with most unread messages",
                                    "no such host: " + escape_line(host));
    const json users = result_object_list(result, "unread_top");
    if (s.json()) return print(s, json_text(users));
    if (users.empty()) return s.note("no user has unread messages");
    print(s, format_counts(count_rows(users, "user")));
}

}  // namespace chatadm
