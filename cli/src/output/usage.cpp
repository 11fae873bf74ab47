#include "output/usage.hpp"

#include <vector>

namespace chatadm {

namespace {

constexpr const char* synopsis =
    "usage: chatadm [-jkqv] [-h host] [-u admin-jid] [-P password-file] [-C ca-file]\n"
    "               [-T timeout-seconds] command [command options] [operands]\n";

constexpr const char* exit_statuses =
    "exit status: 0 success, 1 server or network failure, 2 usage or configuration\n"
    "error, 3 authentication or permission refused, 4 no such user or object,\n"
    "5 (status) a cluster node is down, or the nodes behind the host are not\n"
    "one cluster, 6 (health) a user is at its offline message limit.\n";

// Breaks a synopsis before 80 columns, never inside a "[...]" group;
// continuation lines are indented to line up after "usage: chatadm".
std::string wrap(const std::string& text, size_t indent) {
    constexpr size_t width = 80;
    std::vector<std::string> words(1);
    int depth = 0;
    for (char c : text) {
        if (c == ' ' && depth == 0) {
            words.emplace_back();
            continue;
        }
        depth += c == '[' ? 1 : c == ']' ? -1 : 0;
        words.back() += c;
    }
    std::string out, line;
    for (const auto& word : words) {
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            out += line + "\n";
            line = std::string(indent, ' ') + word;
        } else {
            line += (line.empty() ? "" : " ") + word;
        }
    }
    return out + line + "\n";
}

}  // namespace

std::string usage_text() {
    std::string out = synopsis;
    out += "\ncommands:\n";
    for (const auto& spec : command_table()) {
        const std::string head = "  " + spec.synopsis;
        if (head.size() < 24) {
            out += head + std::string(24 - head.size(), ' ') + spec.summary + "\n";
        } else {
            out += head + "\n" + std::string(24, ' ') + spec.summary + "\n";
        }
    }
    out +=
        "\nglobal options:\n"
        "  -h host     ejabberd's HTTP API: host, host:port or URL (default: the config\n"
        "              file, then localhost; https, port 5443 and path /api unless given)\n"
        "  -u jid      admin JID for HTTP Basic authentication (e.g. admin@example.com)\n"
        "  -P file     read the admin password from the first line of file\n"
        "  -k          do not verify the server's TLS certificate (insecure)\n"
        "  -C file     verify the server's certificate with the CA certificates in file\n"
        "  -T seconds  give up on a request after this long (default 30)\n"
        "  -j          JSON output, for scripts\n"
        "  -q          quiet: no notes or warnings on stderr\n"
        "  -v          verbose: show each request on stderr (-vv: with bodies)\n"
        "\n"
        "Without -P the password comes from CHATADM_PASSWORD_FILE or the config file\n"
        "($XDG_CONFIG_HOME/chatadm/config, /etc/chatadm.conf), or is asked for on the\n"
        "terminal; CHATADM_TOKEN gives an OAuth token instead. See chatadm(1).\n\n";
    out += exit_statuses;
    return out;
}

std::string command_usage(const CommandSpec& spec) {
    std::string out = wrap("usage: chatadm [global options] " + spec.synopsis, 15);
    if (!spec.details.empty()) out += spec.details;
    out += "Run 'chatadm help' for the global options and exit statuses.\n";
    return out;
}

}  // namespace chatadm
