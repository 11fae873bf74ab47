#include "commands/cmd_server.hpp"

#include "api/results.hpp"
#include "commands/cluster_check.hpp"
#include "commands/commands.hpp"
#include "jid.hpp"
#include "output/format.hpp"
#include "settings/getopt_scan.hpp"

namespace chatadm {

using nlohmann::json;

OnlineArgs parse_online_args(const std::vector<std::string>& args) {
    const ScanResult scan = scan_options(args, "");
    require_operands(scan.operands, {}, 1);
    OnlineArgs a;
    if (!scan.operands.empty()) a.host = parse_domain(scan.operands[0], "host");
    return a;
}

void run_online(const OnlineArgs& a, Session& s) {
    const std::vector<std::string> sessions =
        a.host ? result_string_list(s.api().call("connected_users_vhost", {{"host", *a.host}}),
                                    "connected_users_vhost")
               : result_string_list(s.api().call("connected_users", json::object()),
                                    "connected_users");
    if (s.json()) {
        s.io().out << json_text(sessions);
        return;
    }
    if (sessions.empty()) return s.note("nobody is connected");
    s.io().out << format_lines(sessions);
}

void parse_status_args(const std::vector<std::string>& args) {
    const ScanResult scan = scan_options(args, "");
    require_operands(scan.operands, {}, 0);
}

std::string version_from_status(const std::string& status_message) {
    // 23.01 runs the two sentences together: "...Status: startedejabberd 23.01-1 is running..."
    const std::string marker = "ejabberd ";
    const std::string tail = " is running";
    const size_t end = status_message.find(tail);
    if (end == std::string::npos) return {};
    const size_t start = status_message.rfind(marker, end);
    if (start == std::string::npos) return {};
    return status_message.substr(start + marker.size(), end - start - marker.size());
}

namespace {

ClusterView cluster_view(const json& result) {
    ClusterView view;
    for (const auto& row : result_object_list(result, "unread_cluster")) {
        view[field_string(row, "node")] = field_string(row, "state");
    }
    return view;
}

// Asks unread_cluster until every node behind the address has likely
// answered (see cluster_probes); returns each answering node's view.
std::map<std::string, ClusterView> cluster_views(Session& s) {
    std::map<std::string, ClusterView> views;
    ClusterView first = cluster_view(s.api().call("unread_cluster", json::object()));
    const int probes = cluster_probes(first.size());
    views[answering_node(first)] = std::move(first);
    for (int i = 1; i < probes; ++i) {
        ClusterView view = cluster_view(s.api().call("unread_cluster", json::object()));
        views[answering_node(view)] = std::move(view);
    }
    return views;
}

}  // namespace

void run_status(Session& s) {
    json report = json::object();
    report["url"] = s.api().base_url();
    const std::string message = result_string(s.api().call("status", json::object()), "status");
    report["status_message"] = message;
    report["version"] = version_from_status(message);
    report["nodes"] =
        result_string_list(s.api().call("list_cluster", json::object()), "list_cluster");
    json unread = {{"loaded", false}};
    try {
        json stats =
            result_object_list(s.api().call("unread_stats", json::object()), "unread_stats");
        // A mod_unread from before the backend field: every row still has
        // the key, null meaning "not reported".
        for (auto& row : stats) {
            if (!row.contains("backend")) row["backend"] = nullptr;
        }
        unread["stats"] = std::move(stats);
        unread["loaded"] = true;
    } catch (const ApiError& e) {
        if (!e.endpoint_missing()) throw;
    }
    std::vector<std::string> problems;
    if (unread["loaded"]) problems = index_problems(unread["stats"]);
    if (unread["loaded"]) {
        try {
            const auto views = cluster_views(s);
            json answered = json::object();
            for (const auto& [node, view] : views) answered[node] = view;
            report["answered_by"] = answered;
            for (auto& p : cluster_problems(views, s.api().base_url()))
                problems.push_back(std::move(p));
        } catch (const ApiError& e) {
            // A mod_unread from before unread_cluster: no cluster check.
            if (!e.endpoint_missing()) throw;
        }
    }
    report["mod_unread"] = unread;
    report["problems"] = problems;
    s.io().out << (s.json() ? json_text(report) : format_status(report));
    if (!problems.empty()) {
        std::string why = "the cluster is degraded:";
        for (const auto& p : problems) why += "\n  " + p;
        throw CliError(ExitStatus::degraded, why);
    }
}

}  // namespace chatadm
