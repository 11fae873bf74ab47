#include "commands/cluster_check.hpp"

#include <algorithm>
#include <set>

namespace chatadm {

std::string answering_node(const ClusterView& view) {
    for (const auto& [node, state] : view) {
        if (state == "self") return node;
    }
    return {};
}

std::vector<std::string> cluster_problems(const std::map<std::string, ClusterView>& views,
                                          const std::string& url) {
    std::vector<std::string> problems;
    std::set<std::string> down;
    for (const auto& [answering, view] : views) {
        for (const auto& [node, state] : view) {
            if (state == "down" && down.insert(node).second) {
                problems.push_back("node " + node + " is down (a member of " + answering +
                                   "'s cluster that is not running)");
            }
        }
    }
    for (auto a = views.begin(); a != views.end(); ++a) {
        for (auto b = std::next(a); b != views.end(); ++b) {
            if (!a->second.count(b->first) || !b->second.count(a->first)) {
                problems.push_back(a->first + " and " + b->first + " both answer at " + url +
                                   " but are not in one cluster: each has its own store and "
                                   "index; join them (ejabberdctl join_cluster)");
            }
        }
    }
    return problems;
}

std::vector<std::string> index_problems(const nlohmann::json& stats_rows) {
    std::vector<std::string> problems;
    for (const auto& row : stats_rows) {
        const std::string state = row.value("state", "");
        if (state.rfind("stale", 0) != 0) continue;
        problems.push_back("index of " + row.value("host", "") + " on " + row.value("node", "") +
                           " is " + state +
                           ": it answers with what it last knew until the "
                           "store can be read again");
    }
    return problems;
}

int cluster_probes(size_t nodes_in_first_view) {
    // Round robin reaches every node within one pass; a second pass and a
    // margin cover a balancer that just skipped one. A one-node answer may
    // still hide a separate cluster behind the same address.
    const size_t n = std::max<size_t>(nodes_in_first_view, 2);
    return static_cast<int>(std::min<size_t>(2 * n + 1, 16));
}

}  // namespace chatadm
