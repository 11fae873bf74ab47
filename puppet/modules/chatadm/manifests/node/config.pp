# @summary ejabberd's configuration, cookie and certificate (private to
# chatadm::node).
class chatadm::node::config {
  assert_private()

  chatadm::erlang_cookie { "${chatadm::node::spool}/.erlang.cookie":
    source => "${chatadm::secrets_dir}/erlang.cookie",
  }

  file { $chatadm::node::certificate:
    ensure    => file,
    source    => "${chatadm::secrets_dir}/server.pem",
    owner     => 'root',
    group     => 'ejabberd',
    mode      => '0640',
    show_diff => false,
  }

  # The nodes and the balancer may ask any node for `status` without
  # credentials (health checks, and a joining node waiting for the first).
  $health_check_sources = ($chatadm::nodes.map |$n| { $n['address'] } + [$chatadm::balancer_address]).map |$a| {
    $a ? {
      Stdlib::IP::Address::V6 => "${a}/128",
      default                 => "${a}/32",
    }
  }

  # Readers of /metrics are the template's access rule `metrics`, unless
  # mod_unread's options name another.
  $mod_unread_options = $chatadm::node::metrics_sources.empty ? {
    true    => $chatadm::node::mod_unread_options,
    default => { 'metrics_access' => 'metrics' } + $chatadm::node::mod_unread_options,
  }

  file { '/etc/ejabberd/ejabberd.yml':
    ensure  => file,
    owner   => 'ejabberd',
    group   => 'ejabberd',
    mode    => '0600',
    content => epp('chatadm/ejabberd.yml.epp', {
        hosts                => [$chatadm::xmpp_domain],
        admin_jids           => [$chatadm::admin_jid],
        certificate          => $chatadm::node::certificate,
        c2s_port             => $chatadm::node::c2s_port,
        api_port             => $chatadm::api_port,
        health_check_sources => $health_check_sources,
        queue_limit          => $chatadm::node::queue_limit,
        mod_unread_options   => $mod_unread_options,
        metrics_port         => $chatadm::node::metrics_port,
        metrics_sources      => $chatadm::node::metrics_sources,
        extra_modules        => $chatadm::node::extra_modules,
        top_level_options    => $chatadm::node::top_level_options,
    }),
  }
}
