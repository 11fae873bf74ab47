# @summary An ejabberd node with mod_unread and the HTTP API.
#
# ejabberd 23.01 from Debian and mod_unread from the package
# ejabberd-mod-unread (chatadm::repo), configured for a cluster: its long
# Erlang node name, the deployment's Erlang cookie, distribution on the
# private address and a fixed port window, the HTTP API over TLS with a
# certificate for its FQDN, and the admin account. No compiler and no
# development package: everything comes built.
#
# chatadm::node::install (packages; the node name before the first start),
# chatadm::node::config (ejabberd.yml, cookie, certificate) and
# chatadm::node::service are contained in that order; a configuration
# change restarts ejabberd.
#
# @param member
#   This machine's entry (name) in chatadm::nodes.
# @param mod_unread_options
#   mod_unread's options (preview_length, default_host).
# @param extra_modules
#   Further ejabberd modules and their options ({module => {option =>
#   value}}); options for mod_offline are added to its own.
# @param top_level_options
#   Further top-level ejabberd.yml options ({option => value}), such as the
#   sql_* options of an SQL database; options the template writes itself
#   (hosts, listen, modules, ...) are refused.
# @param queue_limit
#   Offline messages kept per user (admins: 5000).
# @param metrics_port
#   Port of a plain-HTTP listener serving mod_unread's Prometheus metrics
#   at /metrics; none by default.
# @param metrics_sources
#   Addresses (with a prefix length, as 192.0.2.0/24) that may read
#   /metrics: given, mod_unread's metrics_access is set to them; empty,
#   mod_unread's own default (loopback only) applies.
# @param c2s_port
#   XMPP client port.
# @param dist_port_range
#   Erlang distribution ports (FIREWALL_WINDOW).
# @param wipe_spool_on_rename
#   Whether a spool made under another node name may be wiped.
# @param packages
#   ejabberd and what its configuration needs (OAuth, curl for the join's
#   wait for the first node).
# @param module_ensure
#   ensure of the ejabberd-mod-unread package (default: the repository's
#   latest build).
class chatadm::node (
  String[1] $member,
  Hash[String[1], Variant[String, Numeric, Boolean]] $mod_unread_options = {},
  Hash[String[1], Hash[String[1], Data]] $extra_modules = {},
  Hash[String[1], Data] $top_level_options = {},
  Integer[1] $queue_limit = 5000,
  Optional[Stdlib::Port] $metrics_port = undef,
  Array[Stdlib::IP::Address] $metrics_sources = [],
  Stdlib::Port $c2s_port = 5222,
  Pattern[/\A\d+-\d+\z/] $dist_port_range = '4200-4210',
  Boolean $wipe_spool_on_rename = true,
  Array[String[1]] $packages = ['ejabberd', 'erlang-p1-oauth2', 'curl'],
  String[1] $module_ensure = 'latest',
) {
  include chatadm
  include chatadm::repo

  $me = $chatadm::nodes.filter |$n| { $n['name'] == $member }
  if $me.empty {
    fail("chatadm::node: '${member}' is not in chatadm::nodes")
  }
  $fqdn = $me[0]['tls_name']
  $address = $me[0]['address']
  $erlang_node = "ejabberd@${fqdn}"
  $spool = '/var/lib/ejabberd'
  $certificate = '/etc/ejabberd/chatadm.pem'
  $ctl = '/usr/sbin/ejabberdctl'

  # The package starts ejabberd, whose node name must already resolve.
  Class['chatadm'] -> Class['chatadm::node::install']

  contain chatadm::node::install
  contain chatadm::node::config
  contain chatadm::node::service

  Class['chatadm::node::install']
  -> Class['chatadm::node::config']
  ~> Class['chatadm::node::service']

  # The password is read on the node, never put in the catalogue; it is an
  # ejabberdctl argument for the moment the account is created.
  $pw = "${chatadm::secrets_dir}/admin.password"
  exec { 'chatadm admin account':
    command  => "${ctl} register ${chatadm::admin_user} ${chatadm::xmpp_domain} \"\$(cat ${pw})\"",
    unless   => "${ctl} check_account ${chatadm::admin_user} ${chatadm::xmpp_domain}",
    provider => 'shell',
    require  => Class['chatadm::node::service'],
  }
}
