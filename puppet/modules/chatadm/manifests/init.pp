# @summary What every machine of a chatadm deployment shares.
#
# The deployment's names and addresses, where its per-deployment secrets
# arrive, and the CA that signed every certificate in it. Every role class
# includes this class; its parameters come from Hiera (data/common.yaml).
#
# Secrets are generated outside Puppet, once per deployment, and arrive as
# files in `secrets_dir` (the Vagrantfile syncs `.vagrant/chatadm-secrets/<machine>/`
# there; see puppet/lib/chatadm_secrets.rb): `ca.pem`, `server.pem`
# (this machine's certificate and key), `admin.password` and, on ejabberd
# nodes, `erlang.cookie`. Puppet copies them with `source`, so their
# contents never enter the catalogue or reports.
#
# @param xmpp_domain
#   The XMPP virtual host served by the cluster.
# @param nodes
#   The ejabberd nodes, first one first (the node the others join): short
#   name, address, and the FQDN that is both their Erlang host name and the
#   name in their certificate.
# @param balancer_name
#   FQDN of the haproxy host (the name in its certificate).
# @param balancer_address
#   Address of the haproxy host.
# @param admin_user
#   Local part of the admin JID (admin_user@xmpp_domain).
# @param secrets_dir
#   Where this machine's deployment secrets are found.
# @param config_dir
#   Where Puppet puts the CA certificate and other shared files.
# @param api_port
#   Port of the HTTP API, on the nodes and on the balancer.
# @param manage_hosts
#   Whether to write every machine's name into /etc/hosts: Erlang long node
#   names and certificate checks need them to resolve everywhere, and the
#   private network has no DNS.
class chatadm (
  Stdlib::Fqdn $xmpp_domain,
  Array[Struct[{
        name     => String[1],
        address  => Stdlib::IP::Address,
        tls_name => Stdlib::Fqdn,
  }], 1] $nodes,
  Stdlib::Fqdn $balancer_name,
  Stdlib::IP::Address $balancer_address,
  Pattern[/\A[a-z0-9._-]+\z/] $admin_user = 'admin',
  Stdlib::Absolutepath $secrets_dir = '/etc/chatadm-secrets',
  Stdlib::Absolutepath $config_dir = '/etc/chatadm',
  Stdlib::Port $api_port = 5443,
  Boolean $manage_hosts = true,
) {
  $admin_jid = "${admin_user}@${xmpp_domain}"
  $ca_file = "${config_dir}/ca.pem"

  file { $config_dir:
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }

  file { $ca_file:
    ensure => file,
    source => "${secrets_dir}/ca.pem",
    owner  => 'root',
    group  => 'root',
    mode   => '0644',
  }

  if $manage_hosts {
    $entries = $nodes.map |$n| { [$n['tls_name'], $n['address']] } + [[$balancer_name, $balancer_address]]
    $entries.each |$entry| {
      [$fqdn, $address] = $entry
      $short = split($fqdn, '[.]')[0]
      # Every line naming the host becomes this one: a leftover mapping of
      # this machine's own name to 127.0.1.1 would send ejabberdctl to an
      # address Erlang distribution (bound to the private address) is not on.
      file_line { "chatadm hosts ${fqdn}":
        path                                  => '/etc/hosts',
        line                                  => "${address} ${fqdn} ${short}",
        match                                 => "^[^#]*\\s${regexpescape($fqdn)}(\\s|\$)",
        multiple                              => true,
        replace_all_matches_not_matching_line => true,
      }
    }
  }
}
