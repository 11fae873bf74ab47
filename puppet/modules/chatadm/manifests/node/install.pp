# @summary ejabberd and mod_unread, from packages (private to chatadm::node).
#
# The node name goes into /etc/default/ejabberd before the ejabberd package
# is installed: the package starts ejabberd at once, and a node started
# under another name would leave a spool ejabberd later refuses
# (node_name_mismatch). Puppet's apt provider keeps an existing conffile.
# Should the spool still hold another node name (ejabberd installed earlier
# by hand), it is wiped; a node that is part of a cluster gets the
# cluster's data back when it joins.
#
# ejabberd-mod-unread follows the repository (`ensure => latest`): its
# postinst switches a running node to the new code.
class chatadm::node::install {
  assert_private()

  $node = $chatadm::node::erlang_node
  $spool = $chatadm::node::spool

  file { '/etc/default/ejabberd':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('chatadm/ejabberd.default.epp', {
        erlang_node     => $node,
        dist_interface  => $chatadm::node::address,
        dist_port_range => $chatadm::node::dist_port_range,
    }),
  }

  package { $chatadm::node::packages:
    ensure  => installed,
    require => File['/etc/default/ejabberd'],
  }

  package { 'ejabberd-mod-unread':
    ensure  => $chatadm::node::module_ensure,
    require => [Package['ejabberd'], Class['chatadm::repo']],
  }

  if $chatadm::node::wipe_spool_on_rename {
    exec { 'chatadm wipe spool of another node name':
      command => "systemctl stop ejabberd && find ${spool} -mindepth 1 -maxdepth 1 ! -name .erlang.cookie -exec rm -rf {} +",
      # mnesia's schema names the node it was made for.
      unless  => "test ! -e ${spool}/schema.DAT || grep -aqF ${node} ${spool}/schema.DAT",
      path    => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
      require => Package['ejabberd'],
    }
  }
}
