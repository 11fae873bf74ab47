# @summary An ejabberd node with mod_unread and the HTTP API.
#
# Installs ejabberd from Debian, builds and installs mod_unread
# (chatadm::build), and configures the node for a cluster: its long Erlang
# node name, the deployment's Erlang cookie, distribution on the private
# address and a fixed port window, the HTTP API over TLS with a certificate
# for its FQDN, and the admin account.
#
# The node name is written to /etc/default/ejabberd before the package is
# installed, so the package's first start already uses it (Puppet's apt
# provider keeps an existing conffile). Should the spool still hold another
# node name (ejabberd installed earlier by hand), it is wiped: ejabberd
# would refuse to start with it (node_name_mismatch). A node that is part
# of a cluster gets the cluster's data back when it joins.
#
# Changing the cookie of a running node is allowed (unlike RabbitMQ, mnesia
# data does not depend on it); the node restarts and must be re-joined only
# if the others did not get the same cookie.
#
# @param member
#   This machine's entry (name) in chatadm::nodes.
# @param mod_unread_options
#   mod_unread's options (preview_length, default_host).
# @param queue_limit
#   Offline messages kept per user (admins: 5000).
# @param c2s_port
#   XMPP client port.
# @param dist_port_range
#   Erlang distribution ports (FIREWALL_WINDOW).
# @param wipe_spool_on_rename
#   Whether a spool made under another node name may be wiped.
# @param packages
#   ejabberd and what its configuration needs (OAuth, curl for health
#   checks between nodes).
class chatadm::node (
  String[1] $member,
  Hash[String[1], Variant[String, Integer, Boolean]] $mod_unread_options = {},
  Integer[1] $queue_limit = 5000,
  Stdlib::Port $c2s_port = 5222,
  Pattern[/\A\d+-\d+\z/] $dist_port_range = '4200-4210',
  Boolean $wipe_spool_on_rename = true,
  Array[String[1]] $packages = ['ejabberd', 'erlang-p1-oauth2', 'curl'],
) {
  include chatadm
  include chatadm::build

  unless $chatadm::build::erlang_module {
    fail('chatadm::node needs chatadm::build::erlang_module: true (set it in Hiera)')
  }

  $me = $chatadm::nodes.filter |$n| { $n['name'] == $member }
  if $me.empty {
    fail("chatadm::node: '${member}' is not in chatadm::nodes")
  }
  $fqdn = $me[0]['tls_name']
  $address = $me[0]['address']
  $erlang_node = "ejabberd@${fqdn}"
  $spool = '/var/lib/ejabberd'
  $cookie = "${spool}/.erlang.cookie"
  $certificate = '/etc/ejabberd/chatadm.pem'
  $ctl = '/usr/sbin/ejabberdctl'

  file { '/etc/default/ejabberd':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('chatadm/ejabberd.default.epp', {
        erlang_node     => $erlang_node,
        dist_interface  => $address,
        dist_port_range => $dist_port_range,
    }),
    before  => Package[$packages],
    notify  => Service['ejabberd'],
  }

  ensure_packages($packages)
  # The package starts ejabberd, whose node name must already resolve.
  Class['chatadm'] -> Package['ejabberd']
  Package['ejabberd'] -> Class['chatadm::build'] ~> Service['ejabberd']

  if $wipe_spool_on_rename {
    exec { 'chatadm wipe spool of another node name':
      command => "systemctl stop ejabberd && find ${spool} -mindepth 1 -maxdepth 1 ! -name .erlang.cookie -exec rm -rf {} +",
      # mnesia's schema names the node it was made for.
      unless  => "test ! -e ${spool}/schema.DAT || grep -aqF ${erlang_node} ${spool}/schema.DAT",
      path    => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
      require => [Package['ejabberd'], File['/etc/default/ejabberd']],
      before  => Service['ejabberd'],
    }
  }

  # ejabberdctl, and so the unit's ExecStop, reaches the running node with
  # the cookie file's contents: once the file changes, a node started with
  # the old cookie (the package's first start, with the package's random
  # one) can no longer be stopped, and the restart fails. Stop it first.
  exec { 'chatadm stop ejabberd for a new cookie':
    command => 'systemctl stop ejabberd',
    unless  => "cmp -s ${chatadm::secrets_dir}/erlang.cookie ${cookie}",
    path    => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
    require => Package['ejabberd'],
    before  => File[$cookie],
  }

  file { $cookie:
    ensure    => file,
    source    => "${chatadm::secrets_dir}/erlang.cookie",
    owner     => 'ejabberd',
    group     => 'ejabberd',
    mode      => '0400',
    show_diff => false,
    require   => Package['ejabberd'],
    notify    => Service['ejabberd'],
  }

  file { $certificate:
    ensure    => file,
    source    => "${chatadm::secrets_dir}/server.pem",
    owner     => 'root',
    group     => 'ejabberd',
    mode      => '0640',
    show_diff => false,
    require   => Package['ejabberd'],
    notify    => Service['ejabberd'],
  }

  $health_check_sources = ($chatadm::nodes.map |$n| { $n['address'] } + [$chatadm::balancer_address]).map |$a| {
    $a ? {
      Stdlib::IP::Address::V6 => "${a}/128",
      default                 => "${a}/32",
    }
  }

  file { '/etc/ejabberd/ejabberd.yml':
    ensure  => file,
    owner   => 'ejabberd',
    group   => 'ejabberd',
    mode    => '0600',
    content => epp('chatadm/ejabberd.yml.epp', {
        xmpp_domain          => $chatadm::xmpp_domain,
        admin_jid            => $chatadm::admin_jid,
        certificate          => $certificate,
        c2s_port             => $c2s_port,
        api_port             => $chatadm::api_port,
        health_check_sources => $health_check_sources,
        queue_limit          => $queue_limit,
        mod_unread_options   => $mod_unread_options,
    }),
    require => Package['ejabberd'],
    notify  => Service['ejabberd'],
  }

  # Type=notify: systemctl returns once ejabberd reports itself started, so
  # ejabberdctl can be used right after.
  service { 'ejabberd':
    ensure => running,
    enable => true,
  }

  # The password is read on the node, never put in the catalogue; it is an
  # ejabberdctl argument for the moment the account is created.
  $pw = "${chatadm::secrets_dir}/admin.password"
  exec { 'chatadm admin account':
    command  => "${ctl} register ${chatadm::admin_user} ${chatadm::xmpp_domain} \"\$(cat ${pw})\"",
    unless   => "${ctl} check_account ${chatadm::admin_user} ${chatadm::xmpp_domain}",
    provider => 'shell',
    require  => Service['ejabberd'],
  }
}
