# @summary chatadm, ready to use, on an admin machine (the haproxy VM).
#
# Installs the chatadm package (from chatadm::repo) and gives each listed
# user a chatadm config (~/.config/chatadm/config, mode 0600)
# pointing at the balancer's HTTP API as the admin JID, with the
# deployment CA and a private copy of the admin password, so that
# `chatadm unread alice` works with no options.
#
# @param users
#   Users to configure, and their home directories.
# @param api_host
#   host:port chatadm connects to (default: the balancer's name and the API
#   port; the name is the one in the balancer's certificate).
# @param package_ensure
#   ensure of the chatadm package (default: the repository's latest build).
class chatadm::admin (
  Hash[Pattern[/\A[a-z_][a-z0-9_-]*\z/], Stdlib::Absolutepath] $users = { 'root' => '/root' },
  Optional[String[1]] $api_host = undef,
  String[1] $package_ensure = 'latest',
) {
  include chatadm
  include chatadm::repo

  package { 'chatadm':
    ensure  => $package_ensure,
    require => Class['chatadm::repo'],
  }

  $host = pick($api_host, "${chatadm::balancer_name}:${chatadm::api_port}")

  $users.each |$user, $home| {
    $dir = "${home}/.config/chatadm"
    $password_file = "${dir}/admin.password"

    # ~/.config may hold other programs' files: create it if missing, with
    # the mode XDG asks for, but leave an existing one alone.
    exec { "chatadm config dir of ${user}":
      command => "install -d -o ${user} -g ${user} -m 0700 ${home}/.config",
      creates => "${home}/.config",
      path    => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
    }

    file { $dir:
      ensure  => directory,
      owner   => $user,
      group   => $user,
      mode    => '0700',
      require => Exec["chatadm config dir of ${user}"],
    }

    file { $password_file:
      ensure    => file,
      source    => "${chatadm::secrets_dir}/admin.password",
      owner     => $user,
      group     => $user,
      mode      => '0600',
      show_diff => false,
    }

    file { "${dir}/config":
      ensure  => file,
      owner   => $user,
      group   => $user,
      mode    => '0600',
      content => epp('chatadm/chatadm.config.epp', {
          host          => $host,
          user          => $chatadm::admin_jid,
          password_file => $password_file,
          ca_file       => $chatadm::ca_file,
      }),
    }
  }
}
