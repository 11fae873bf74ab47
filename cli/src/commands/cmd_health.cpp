#include "commands/cmd_health.hpp"

#include <algorithm>
#include <cstdlib>

#include "api/results.hpp"
#include "commands/cmd_unread.hpp"
#include "commands/commands.hpp"
#include "errors.hpp"
#include "jid.hpp"
#include "output/format.hpp"
#include "output/text_escape.hpp"
#include "settings/getopt_scan.hpp"

namespace chatadm {

using nlohmann::json;

HealthArgs parse_health_args(const std::vector<std::string>& args) {
    const ScanResult scan = scan_options(args, "");
    require_operands(scan.operands, {}, 1);
    HealthArgs a;
    if (!scan.operands.empty()) a.host = parse_domain(scan.operands[0], "host");
    return a;
}

std::string format_age(std::int64_t seconds) {
    if (seconds < 60) return std::to_string(std::max<std::int64_t>(seconds, 0)) + "s";
    const std::int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60,
                       s = seconds % 60;
    std::string out;
    if (d > 0) out += std::to_string(d) + "d ";
    if (d > 0 || h > 0) out += std::to_string(h) + "h ";
    out += std::to_string(m) + "m";
    if (d == 0) out += " " + std::to_string(s) + "s";
    return out;
}

namespace {

std::string pad(const std::string& s, size_t width) {
    const size_t w = display_width(s);
    return w >= width ? s : s + std::string(width - w, ' ');
}

std::string host_block(const json& row) {
    const std::string host = escape_line(field_string(row, "host"));
    std::string out = host + ": " + escape_line(field_string(row, "state")) + "\n";
    const std::int64_t users = field_integer(row, "users");
    out += "  unread      " + std::to_string(field_integer(row, "messages")) + " messages, " +
           std::to_string(users) + (users == 1 ? " user" : " users") + "\n";
    const std::string oldest = field_string(row, "oldest_user");
    if (!oldest.empty()) {
        out += "  oldest      " + format_timestamp(row.value("oldest_time", json())) + " (" +
               format_age(field_integer(row, "oldest_age")) + " ago) for " + escape_line(oldest) +
               "\n";
    }
    // The server's buckets are cumulative (Prometheus' le); people read
    // ranges better: users per range of queue lengths, empty ranges left out.
    std::string ranges;
    if (auto it = row.find("buckets"); it != row.end() && it->is_array()) {
        std::int64_t below = 0, previous_le = 0;
        for (const auto& b : *it) {
            if (!b.is_object()) continue;
            const std::string le = field_string(b, "le");
            const std::int64_t count = field_integer(b, "count");
            const std::int64_t le_n = le == "+Inf" ? -1 : std::atoll(le.c_str());
            if (count - below > 0) {
                const std::string range =
                    le_n < 0 ? ">" + std::to_string(previous_le)
                    : le_n == previous_le + 1
                        ? le
                        : std::to_string(previous_le + 1) + "-" + escape_line(le);
                ranges +=
                    (ranges.empty() ? "" : ", ") + range + ": " + std::to_string(count - below);
            }
            below = count;
            if (le_n > 0) previous_le = le_n;
        }
    }
    if (!ranges.empty()) out += "  queues      " + ranges + " (messages: users)\n";
    out += "  at limit    " + std::to_string(field_integer(row, "at_limit")) + "\n";
    out += "  near limit  " + std::to_string(field_integer(row, "near_limit")) + " (from " +
           escape_line(field_string(row, "near_fraction")) + " of the limit)\n";
    return out;
}

}  // namespace

std::string format_health(const json& report) {
    std::string out;
    for (const auto& row : report.value("hosts", json::array())) {
        if (row.is_object()) out += host_block(row);
    }
    const json users = report.value("users", json::array());
    if (users.empty()) return out;
    std::vector<std::vector<std::string>> table = {{"USER", "COUNT", "LIMIT", "STATE"}};
    for (const auto& u : users) {
        if (!u.is_object()) continue;
        std::string state = field_string(u, "state");
        std::replace(state.begin(), state.end(), '_', ' ');
        table.push_back({escape_line(field_string(u, "user")),
                         std::to_string(field_integer(u, "count")),
                         std::to_string(field_integer(u, "limit")), escape_line(state)});
    }
    std::vector<size_t> widths(4, 0);
    for (const auto& r : table)
        for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], display_width(r[i]));
    out += "\n";
    for (const auto& r : table) {
        out += pad(r[0], widths[0] + 2) + pad(r[1], widths[1] + 2) + pad(r[2], widths[2] + 2) +
               r[3] + "\n";
    }
    return out;
}

void run_health(const HealthArgs& a, Session& s) {
    const std::string host = a.host.value_or("");
    json report = json::object();
    try {
        report["hosts"] =
            result_object_list(s.api().call("unread_health", {{"host", host}}), "unread_health");
        report["users"] = result_object_list(s.api().call("unread_health_users", {{"host", host}}),
                                             "unread_health_users");
    } catch (const ApiError& e) {
        if (e.endpoint_missing()) {
            throw CliError(ExitStatus::failure,
                           mod_unread_needed("the backlog health", s.api().base_url()));
        }
        if (e.status() == ExitStatus::not_found) {
            throw CliError(ExitStatus::not_found,
                           e.server_message().empty()
                               ? "no such host: " + escape_line(host)
                               : "not found: " + escape_line(e.server_message()));
        }
        throw;
    }
    s.io().out << (s.json() ? json_text(report) : format_health(report));
    std::int64_t at_limit = 0;
    for (const auto& row : report["hosts"]) at_limit += field_integer(row, "at_limit");
    if (at_limit > 0) {
        throw CliError(ExitStatus::full, std::to_string(at_limit) +
                                             (at_limit == 1 ? " user is" : " users are") +
                                             " at the offline message limit: new messages to " +
                                             (at_limit == 1 ? "it" : "them") + " are refused");
    }
}

}  // namespace chatadm
