# @summary An Erlang node's cookie file, copied from a file on the machine.
#
# The title is the cookie file's path. The contents are copied with
# `source` and never enter the catalogue or reports; the file is readable
# by its owner only (Erlang refuses a cookie others can read).
#
# ejabberdctl, and so the unit's ExecStop, reaches the running node with
# the cookie file's contents: once the file changes, a node started with
# the old cookie (say, the package's first start, with the package's own
# random cookie) can no longer be stopped, and a restart fails. So the
# service is stopped first whenever the cookie is about to change; whoever
# declares this restarts it (notify the service).
#
# Unlike RabbitMQ's, mnesia's data does not depend on the cookie: a node
# restarted with a new one keeps its data, and stays in its cluster if the
# other nodes got the same cookie.
#
# @param source
#   The file holding the cookie (a deployment secret).
# @param owner
#   Owner and group of the cookie file: the user the node runs as.
# @param service
#   The systemd service running the node.
#
# @example
#   chatadm::erlang_cookie { '/var/lib/ejabberd/.erlang.cookie':
#     source => '/etc/chatadm-secrets/erlang.cookie',
#     notify => Service['ejabberd'],
#   }
define chatadm::erlang_cookie (
  Stdlib::Absolutepath $source,
  String[1] $owner = 'ejabberd',
  String[1] $service = 'ejabberd',
) {
  $path = $title
  assert_type(Stdlib::Absolutepath, $path)

  exec { "chatadm stop ${service} for a new cookie in ${path}":
    command => shell_join(['systemctl', 'stop', $service]),
    unless  => shell_join(['cmp', '-s', $source, $path]),
    path    => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
    before  => File[$path],
  }

  file { $path:
    ensure    => file,
    source    => $source,
    owner     => $owner,
    group     => $owner,
    mode      => '0400',
    show_diff => false,
  }
}
