# @summary Joins this ejabberd node to the cluster of the first node.
#
# `ejabberdctl join_cluster` is run only when `ejabberdctl list_cluster`
# does not already show the seed, and only once the seed's HTTP API answers
# (it waits up to `wait_seconds`, so machines may be started in any order or
# in parallel). If the seed never comes up, the run goes on without joining
# and says so; provisioning this machine again later completes the join.
#
# @param seed
#   Erlang node name to join (default: the first of chatadm::nodes).
# @param wait_seconds
#   How long to wait for the seed.
class chatadm::cluster_member (
  Optional[Pattern[/\A[^@\s]+@[^@\s]+\z/]] $seed = undef,
  Integer[0] $wait_seconds = 300,
) {
  include chatadm
  include chatadm::node

  $first = $chatadm::nodes[0]['tls_name']
  $seed_node = pick($seed, "ejabberd@${first}")
  if $seed_node == $chatadm::node::erlang_node {
    fail("chatadm::cluster_member: ${seed_node} cannot join itself; include it on the other nodes only")
  }
  $seed_host = split($seed_node, '@')[1]
  $seed_api = "https://${seed_host}:${chatadm::api_port}/api"
  $script = '/usr/local/sbin/chatadm-join-cluster'

  file { $script:
    ensure => file,
    source => 'puppet:///modules/chatadm/chatadm-join-cluster',
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }

  exec { 'chatadm join cluster':
    command   => "${script} join ${shell_join([$seed_node, $seed_api, $chatadm::ca_file, String($wait_seconds)])}",
    unless    => "${script} member ${shell_escape($seed_node)}",
    path      => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
    timeout   => $wait_seconds + 600,
    logoutput => true,
    require   => [File[$script], File[$chatadm::ca_file], Service['ejabberd'], Exec['chatadm admin account']],
  }
}
