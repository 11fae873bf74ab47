# @summary ejabberd running under systemd (private to chatadm::node).
#
# Debian's unit is Type=notify: `systemctl start` returns once ejabberd
# reports itself started, so ejabberdctl can be used right after.
class chatadm::node::service {
  assert_private()

  service { 'ejabberd':
    ensure => running,
    enable => true,
  }
}
