#include "commands/cmd_send.hpp"

#include <algorithm>
#include <iterator>

#include "api/results.hpp"
#include "commands/commands.hpp"
#include "errors.hpp"
#include "output/format.hpp"
#include "output/text_escape.hpp"
#include "settings/getopt_scan.hpp"

namespace chatadm {

using nlohmann::json;

namespace {

void check_text(const std::string& text, const std::string& what) {
    if (!valid_utf8(text)) {
        throw UsageError(what +
                         " is not valid UTF-8 (XMPP carries UTF-8 only); convert it, e.g. "
                         "with iconv -t UTF-8");
    }
}

}  // namespace

SendArgs parse_send_args(const std::vector<std::string>& args) {
    SendArgs a;
    const ScanResult scan = scan_options(args, "t:s:");
    for (const auto& opt : scan.options) {
        if (opt.letter == 't') {
            a.type = *opt.argument;
            if (a.type != "chat" && a.type != "normal" && a.type != "headline") {
                throw UsageError("-t: unknown message type '" + escape_line(a.type) +
                                 "' (expected chat, normal or headline)");
            }
        } else if (opt.letter == 's') {
            a.subject = *opt.argument;
            check_text(a.subject, "the subject");
        }
    }
    const auto& ops = scan.operands;
    require_operands(ops, {"from", "to"}, ops.size());
    a.from = parse_jid(ops[0], JidUse::account, "from");
    a.to = parse_jid(ops[1], JidUse::recipient, "to");
    // Guideline 13: a lone "-" means standard input, as does no message at
    // all (sendxmpp's habit). Several words are joined like echo does.
    if (ops.size() == 2 || (ops.size() == 3 && ops[2] == "-")) return a;
    std::string body;
    for (size_t i = 2; i < ops.size(); ++i) {
        if (i > 2) body += ' ';
        body += ops[i];
    }
    check_text(body, "the message");
    if (body.empty()) throw UsageError("the message is empty; nothing to send");
    a.body = std::move(body);
    return a;
}

std::string body_from_input(std::istream& in) {
    std::string body(std::istreambuf_iterator<char>(in), {});
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    if (body.empty())
        throw UsageError("the message read from standard input is empty; nothing sent");
    check_text(body, "the message read from standard input");
    return body;
}

void run_send(const SendArgs& a, Session& s) {
    const Jid from = s.qualified(a.from);
    const Jid to = s.qualified(a.to);
    const std::string to_text = to.resource.empty() ? to.bare() : to.bare() + "/" + to.resource;

    // send_message itself accepts any recipient and reports success, so a
    // typo would drop the message silently; accounts on this server are
    // checked first. Remote domains cannot be checked from here.
    const auto& hosts = s.vhosts();
    if (std::find(hosts.begin(), hosts.end(), to.domain) != hosts.end()) {
        const json args = {{"user", to.local}, {"host", to.domain}};
        if (result_integer(s.api().call("check_account", args), "check_account") != 0) {
            throw CliError(ExitStatus::not_found,
                           "no such user: " + escape_line(to.bare()) + "; nothing was sent");
        }
    } else {
        s.detail(escape_line(to.domain) + " is not a virtual host of this server; sending to " +
                 escape_line(to_text) + " without checking that the account exists");
    }

    std::string body;
    if (a.body) {
        body = *a.body;
    } else {
        if (s.io().in_is_terminal) {
            s.note("reading the message from standard input; end it with Ctrl-D");
        }
        body = body_from_input(s.io().in);
    }

    const json args = {{"type", a.type},
                       {"from", from.bare()},
                       {"to", to_text},
                       {"subject", a.subject},
                       {"body", body}};
    const std::int64_t rc = result_integer(s.api().call("send_message", args), "send_message");
    if (rc != 0) {
        throw CliError(ExitStatus::failure,
                       "the server did not accept the message (send_message "
                       "returned " +
                           std::to_string(rc) + "); nothing was sent");
    }
    if (s.json()) {
        s.io().out << json_text(
            {{"sent", true}, {"type", a.type}, {"from", from.bare()}, {"to", to_text}});
    } else {
        s.detail("sent a " + a.type + " message from " + escape_line(from.bare()) + " to " +
                 escape_line(to_text));
    }
}

}  // namespace chatadm
