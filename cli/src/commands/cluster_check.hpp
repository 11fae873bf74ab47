// What chatadm status concludes from the cluster views of the nodes that
// answered it: through a balancer, successive requests reach different
// nodes, and each node's view of its mnesia cluster says which nodes it
// runs with and which members are down.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace chatadm {

// One node's unread_cluster answer: node name -> "self", "running" or "down".
using ClusterView = std::map<std::string, std::string>;

// The answering node of a view: the one marked "self" ("" if none is).
std::string answering_node(const ClusterView& view);

// Problems an operator must act on, one sentence each; empty when every
// answering node runs in one cluster with all its members up.
//  - a member down, as some answering node sees it;
//  - two answering nodes that are not in each other's cluster (two
//    clusters behind one address: their indexes and stores differ).
std::vector<std::string> cluster_problems(const std::map<std::string, ClusterView>& views,
                                          const std::string& url);

// Problems in the unread_stats rows: an index that answers from what it
// last knew because its store's changes cannot be read (state "stale: …").
std::vector<std::string> index_problems(const nlohmann::json& stats_rows);

// How many unread_cluster calls status makes to meet every node behind a
// round-robin balancer, given the nodes the first answer lists.
int cluster_probes(size_t nodes_in_first_view);

}  // namespace chatadm
