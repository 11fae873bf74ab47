# @summary This ejabberd node in the cluster of another node (the seed).
#
# The title is the seed's Erlang node name. `ejabberdctl join_cluster` runs
# only when `ejabberdctl list_cluster` does not already show the seed (the
# join replaces this node's mnesia data with the cluster's and is not
# idempotent), and only once the seed's HTTP API answers `status`: it waits
# up to `wait_seconds` for that, so machines may be provisioned in any
# order or in parallel. If the seed does not answer in time, or the join
# fails, the resource fails (and with it the Puppet run), saying so: a node
# left outside the cluster is a broken deployment, not a warning.
#
# The join runs on a node started with `ejabberdctl start`, outside
# systemd, which is then stopped and handed back to systemd: join_cluster
# stops and restarts the ejabberd application, ejabberd tells systemd
# STOPPING=1 when it stops, and Debian's Type=notify unit would then count
# the service as stopping and kill it at TimeoutSec.
#
# @param seed_api
#   The seed's HTTP API (https://host:port/api), asked for `status`.
# @param ca_file
#   CA certificates that signed the seed's API certificate.
# @param wait_seconds
#   How long to wait for the seed's API before failing.
# @param script
#   Where the helper script goes.
#
# @example
#   chatadm::cluster_join { 'ejabberd@ejabberd1.example':
#     seed_api     => 'https://ejabberd1.example:5443/api',
#     ca_file      => '/etc/chatadm/ca.pem',
#     wait_seconds => 1800,
#     require      => Service['ejabberd'],
#   }
define chatadm::cluster_join (
  Stdlib::HTTPSUrl $seed_api,
  Stdlib::Absolutepath $ca_file,
  Integer[0] $wait_seconds = 1800,
  Stdlib::Absolutepath $script = '/usr/local/sbin/chatadm-join-cluster',
) {
  $seed = $title
  assert_type(Pattern[/\A[^@\s]+@[^@\s]+\z/], $seed)

  ensure_resource('file', $script, {
      ensure => file,
      source => 'puppet:///modules/chatadm/chatadm-join-cluster',
      owner  => 'root',
      group  => 'root',
      mode   => '0755',
  })

  exec { "chatadm join cluster of ${seed}":
    command   => shell_join([$script, 'join', $seed, $seed_api, $ca_file, String($wait_seconds)]),
    unless    => shell_join([$script, 'member', $seed]),
    path      => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
    # Puppet's own limit comes after the script's, which reports the cause.
    timeout   => $wait_seconds + 600,
    logoutput => true,
    require   => File[$script],
  }
}
