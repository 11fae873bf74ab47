# @summary The haproxy machine: chatadm::balancer and the TLS files it uses.
#
# chatadm::balancer takes its parameters from Hiera; this class puts its
# certificate (this machine's `server.pem`, certificate and key) and the
# deployment CA in place first. haproxy reads both as root before dropping
# privileges, so the key stays root-only.
class chatadm::lb {
  include chatadm
  include chatadm::balancer

  file { $chatadm::balancer::api_certificate:
    ensure    => file,
    source    => "${chatadm::secrets_dir}/server.pem",
    owner     => 'root',
    group     => 'root',
    mode      => '0600',
    show_diff => false,
    require   => File[$chatadm::config_dir],
  }

  # haproxy checks its configuration (which names these files) before
  # installing it, and must reload when a certificate changes.
  File[$chatadm::balancer::api_certificate] ~> Class['haproxy']
  File[$chatadm::ca_file] ~> Class['haproxy']
}
