# @summary haproxy in front of the ejabberd nodes.
#
# XMPP client connections pass through as TCP (STARTTLS runs end to end
# between client and node), to the node with the fewest connections. The
# HTTP API is TLS-terminated here and re-encrypted to the nodes, whose
# certificates are verified; nodes are health-checked with POST /api/status
# (allowed without credentials from the balancer by the nodes'
# api_permissions).
#
# @param nodes
#   The ejabberd nodes: name (haproxy's server name), address, and tls_name
#   (a name in the node's certificate).
# @param listen_address
#   Address haproxy binds to.
# @param api_certificate
#   PEM file (certificate and key) haproxy presents to API clients.
# @param node_ca_file
#   CA certificates that signed the nodes' API certificates.
# @param check_interval_ms
#   Health check interval; a node is marked down after `fall` failed checks.
# @param config_file
#   Where to write haproxy.cfg (default: the haproxy module's).
# @param manage_service
#   Whether Puppet runs the haproxy service (false when something else, such
#   as a test harness, starts haproxy with the rendered file).
# @param global_options
#   Merged into the haproxy module's global section (after this class's
#   own: logging to the local syslog socket).
class chatadm::balancer (
  Array[Struct[{
        name     => String[1],
        address  => Stdlib::IP::Address,
        tls_name => String[1],
  }], 1] $nodes,
  Stdlib::IP::Address $listen_address,
  Stdlib::Absolutepath $api_certificate,
  Stdlib::Absolutepath $node_ca_file,
  Stdlib::Port $xmpp_port = 5222,
  Stdlib::Port $api_port = 5443,
  Stdlib::Port $node_xmpp_port = 5222,
  Stdlib::Port $node_api_port = 5443,
  Integer[100] $check_interval_ms = 1000,
  Integer[1] $fall = 2,
  Integer[1] $rise = 2,
  Optional[Stdlib::Absolutepath] $config_file = undef,
  Boolean $manage_service = true,
  Hash $global_options = {},
) {
  $checks = "inter ${check_interval_ms} fall ${fall} rise ${rise}"
  $config_dir = $config_file ? {
    undef   => '/etc/haproxy',
    default => dirname($config_file),
  }

  class { 'haproxy':
    service_manage => $manage_service,
    config_file    => $config_file,
    config_dir     => $config_dir,
    # The haproxy module's default logs to a documentation address over UDP.
    global_options => { 'log' => '/dev/log local0' } + $global_options,
    merge_options  => true,
  }

  haproxy::listen { 'xmpp':
    collect_exported => false,
    bind             => { "${listen_address}:${xmpp_port}" => [] },
    mode             => 'tcp',
    options          => {
      'balance'        => 'leastconn',
      'option'         => ['tcplog', 'tcp-check'],
      # Client sessions are long-lived: idle ones must not be cut.
      'timeout'        => ['tunnel 1h', 'client-fin 30s'],
      'default-server' => $checks,
    },
  }

  haproxy::listen { 'api':
    collect_exported => false,
    bind             => { "${listen_address}:${api_port}" => ['ssl', 'crt', $api_certificate] },
    mode             => 'http',
    options          => {
      'balance'        => 'roundrobin',
      'option'         => ['httplog', 'forwardfor', 'httpchk'],
      # mod_http_api wants a JSON body even for a command without arguments.
      'http-check'     => [
        'send meth POST uri /api/status ver HTTP/1.1 hdr Host localhost hdr Content-Type application/json body "{}"',
        'expect status 200',
      ],
      'default-server' => $checks,
    },
  }

  $nodes.each |$node| {
    haproxy::balancermember { "xmpp-${node['name']}":
      listening_service => 'xmpp',
      server_names      => $node['name'],
      ipaddresses       => $node['address'],
      ports             => String($node_xmpp_port),
      options           => 'check',
    }
    haproxy::balancermember { "api-${node['name']}":
      listening_service => 'api',
      server_names      => $node['name'],
      ipaddresses       => $node['address'],
      ports             => String($node_api_port),
      options           => "check ssl verify required ca-file ${node_ca_file} verifyhost ${node['tls_name']}",
    }
  }
}
