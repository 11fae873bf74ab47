# @summary Joins this ejabberd node to the cluster of the first node.
#
# A chatadm::cluster_join of the first of chatadm::nodes (or `seed`), once
# this node runs. It waits up to `wait_seconds` for the seed's API, so the
# machines may come up in any order; if the seed never answers, the Puppet
# run fails with the reason, and provisioning this machine again once the
# seed is up completes the join.
#
# @param seed
#   Erlang node name to join (default: the first of chatadm::nodes).
# @param wait_seconds
#   How long to wait for the seed (set it in Hiera: emulated machines
#   installing in parallel need many minutes).
class chatadm::cluster_member (
  Optional[Pattern[/\A[^@\s]+@[^@\s]+\z/]] $seed = undef,
  Integer[0] $wait_seconds = 1800,
) {
  include chatadm
  include chatadm::node

  $first = $chatadm::nodes[0]['tls_name']
  $seed_node = pick($seed, "ejabberd@${first}")
  if $seed_node == $chatadm::node::erlang_node {
    fail("chatadm::cluster_member: ${seed_node} cannot join itself; include it on the other nodes only")
  }
  $seed_host = split($seed_node, '@')[1]

  chatadm::cluster_join { $seed_node:
    seed_api     => "https://${seed_host}:${chatadm::api_port}/api",
    ca_file      => $chatadm::ca_file,
    wait_seconds => $wait_seconds,
    require      => [File[$chatadm::ca_file], Class['chatadm::node::service'], Exec['chatadm admin account']],
  }
}
