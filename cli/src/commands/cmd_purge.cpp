#include "commands/cmd_purge.hpp"

#include <iostream>

#include "api/api_errors.hpp"
#include "api/results.hpp"
#include "api/rows.hpp"
#include "commands/cmd_unread.hpp"
#include "commands/commands.hpp"
#include "errors.hpp"
#include "jid.hpp"
#include "output/format.hpp"
#include "output/text_escape.hpp"
#include "settings/getopt_scan.hpp"
#include "settings/option_values.hpp"

namespace chatadm {

using nlohmann::json;

namespace {

// mod_unread lists at most 1000 users or senders.
constexpr long max_list = 1000;

json call(Session& s, const std::string& command, const json& args, const std::string& what,
          const std::string& host) {
    try {
        return s.api().call(command, args);
    } catch (const ApiError& e) {
        if (e.endpoint_missing()) {
            throw CliError(ExitStatus::failure, mod_unread_needed(what, s.api().base_url()));
        }
        if (e.status() == ExitStatus::not_found) {
            throw CliError(ExitStatus::not_found,
                           e.server_message().empty()
                               ? "no such host: " + escape_line(host)
                               : "not found: " + escape_line(e.server_message()));
        }
        throw;
    }
}

// The sender operand checked here, so a typo is a usage error before any
// request: "@domain" or a domain alone means every sender of the domain.
std::string check_sender(const std::string& sender) {
    if (sender.empty()) throw UsageError("the sender must be a bare JID or a domain");
    if (sender[0] == '@') {
        parse_domain(sender.substr(1), "sender domain");
    } else if (sender.find('@') == std::string::npos) {
        parse_domain(sender, "sender domain");
    } else {
        parse_jid(sender, JidUse::recipient, "sender");
    }
    return sender;
}

std::string describe(const std::string& sender) {
    const bool domain = sender[0] == '@' || sender.find('@') == std::string::npos;
    return domain ? "every sender of " + escape_line(sender[0] == '@' ? sender.substr(1) : sender)
                  : escape_line(sender);
}

json purge_call(Session& s, const PurgeArgs& a, bool dry_run) {
    const std::string host = a.host.value_or("");
    const json result = call(
        s, "unread_purge_sender",
        {{"host", host}, {"sender", a.sender}, {"dry_run", dry_run ? 1 : 0}, {"limit", a.limit}},
        "purging a sender's messages", host);
    if (!result.is_object() || !result.contains("messages") || !result.contains("users")) {
        throw CliError(ExitStatus::failure,
                       "unexpected result of unread_purge_sender: " + escape_line(result.dump()));
    }
    return result;
}

json report(const PurgeArgs& a, const json& r, bool dry_run) {
    return {{"sender", a.sender},
            {"host", a.host.value_or("")},
            {"dry_run", dry_run},
            {"messages", field_integer(r, "messages")},
            {"users", field_integer(r, "users")},
            {"top", r.value("top", json::array())}};
}

void print_report(Session& s, const PurgeArgs& a, const json& r, bool dry_run) {
    const std::int64_t messages = field_integer(r, "messages");
    const std::int64_t users = field_integer(r, "users");
    std::string text =
        dry_run ? "dry run: " + std::to_string(messages) + " messages of " + std::to_string(users) +
                      " users are from " + describe(a.sender) + " (nothing removed)\n"
                : "removed " + std::to_string(messages) + " messages of " + std::to_string(users) +
                      " users from " + describe(a.sender) + "\n";
    const json top = r.value("top", json::array());
    if (top.is_array() && !top.empty()) text += format_counts(count_rows(top, "user"));
    s.io().out << text;
}

// Asks on the terminal; anything but y/yes declines.
bool confirm(Session& s, std::int64_t messages, std::int64_t users) {
    s.io().err << "remove these " << messages << " messages of " << users
               << " users from the store? [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(s.io().in, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
}

}  // namespace

PurgeArgs parse_purge_args(const std::vector<std::string>& args) {
    PurgeArgs a;
    const ScanResult scan = scan_options(args, "nyl:H:");
    bool dry = false, yes = false;
    for (const auto& opt : scan.options) {
        switch (opt.letter) {
            case 'n':
                dry = true;
                break;
            case 'y':
                yes = true;
                break;
            case 'l':
                a.limit = parse_integer(*opt.argument, "-l", 0, max_list);
                break;
            case 'H':
                a.host = parse_domain(*opt.argument, "-H");
                break;
        }
    }
    if (dry && yes) throw UsageError("-n and -y contradict each other");
    a.mode = dry ? PurgeMode::dry_run : yes ? PurgeMode::remove : PurgeMode::ask;
    require_operands(scan.operands, {"sender"}, 1);
    a.sender = check_sender(scan.operands[0]);
    return a;
}

void run_purge(const PurgeArgs& a, Session& s) {
    if (a.mode == PurgeMode::remove) {
        const json r = purge_call(s, a, false);
        if (s.json()) return s.io().out << json_text(report(a, r, false)), void();
        return print_report(s, a, r, false);
    }
    const json preview = purge_call(s, a, true);
    if (s.json()) {
        s.io().out << json_text(report(a, preview, true));
        return;
    }
    print_report(s, a, preview, true);
    const std::int64_t messages = field_integer(preview, "messages");
    // Only a person at a terminal is asked; scripts say -y.
    if (a.mode == PurgeMode::dry_run || messages == 0 || !s.io().in_is_terminal) {
        if (a.mode == PurgeMode::ask && messages > 0) s.note("run again with -y to remove them");
        return;
    }
    if (!confirm(s, messages, field_integer(preview, "users"))) {
        s.note("nothing removed");
        return;
    }
    print_report(s, a, purge_call(s, a, false), false);
}

RetentionArgs parse_retention_args(const std::vector<std::string>& args) {
    RetentionArgs a;
    const ScanResult scan = scan_options(args, "l:H:");
    for (const auto& opt : scan.options) {
        if (opt.letter == 'l') a.limit = parse_integer(*opt.argument, "-l", 0, max_list);
        if (opt.letter == 'H') a.host = parse_domain(*opt.argument, "-H");
    }
    require_operands(scan.operands, {"days"}, 1);
    a.days = parse_integer(scan.operands[0], "days", 0, 1L << 20);
    return a;
}

void run_retention(const RetentionArgs& a, Session& s) {
    const std::string host = a.host.value_or("");
    const json r =
        call(s, "unread_retention_preview", {{"host", host}, {"days", a.days}, {"limit", a.limit}},
             "previewing delete_old_messages", host);
    if (!r.is_object() || !r.contains("messages")) {
        throw CliError(ExitStatus::failure,
                       "unexpected result of unread_retention_preview: " + escape_line(r.dump()));
    }
    if (s.json()) {
        s.io().out << json_text({{"days", a.days},
                                 {"host", host},
                                 {"cutoff", field_string(r, "cutoff")},
                                 {"messages", field_integer(r, "messages")},
                                 {"users", field_integer(r, "users")},
                                 {"top_senders", r.value("top_senders", json::array())}});
        return;
    }
    std::string text = "delete_old_messages " + std::to_string(a.days) + " would remove " +
                       std::to_string(field_integer(r, "messages")) + " messages of " +
                       std::to_string(field_integer(r, "users")) + " users (stored before " +
                       format_timestamp(r.value("cutoff", json())) + ")\n";
    const json top = r.value("top_senders", json::array());
    if (top.is_array() && !top.empty()) text += format_counts(count_rows(top, "sender"));
    s.io().out << text;
}

}  // namespace chatadm
