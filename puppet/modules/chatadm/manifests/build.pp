# @summary Builds and installs mod_unread and chatadm from this repository.
#
# The build happens on each machine, from the source tree Vagrant syncs to
# /vagrant: no package repository or build host is needed, and a changed
# source tree is rebuilt on the next provisioning run. `chatadm-build check`
# compares a hash of the sources the build reads with the hash recorded at
# the last install, so an unchanged tree costs one `sha256sum` per run.
# The build directory lives outside the source tree (which may be read-only
# or shared with the host's own builds).
#
# `cmake --install --prefix /usr` puts mod_unread at
# /usr/lib/erlang/lib/mod_unread-<vsn>, where ejabberd finds it with no
# configuration change, and chatadm at /usr/bin/chatadm.
#
# @param source_dir
#   The repository's root on this machine.
# @param erlang_module
#   Whether to build mod_unread (ejabberd nodes) or only chatadm.
# @param build_dir
#   CMake build directory.
# @param packages
#   Debian packages the build needs (the ejabberd headers come with the
#   ejabberd package, which chatadm::node installs). CMake's configure step
#   looks for GoogleTest and, with the module, python3 even though only
#   chatadm and mod_unread are built.
class chatadm::build (
  Stdlib::Absolutepath $source_dir,
  Boolean $erlang_module = false,
  Stdlib::Absolutepath $build_dir = '/var/cache/chatadm/build',
  Array[String[1]] $packages = [
    'build-essential', 'cmake', 'g++', 'libgtest-dev', 'libcurl4-openssl-dev', 'nlohmann-json3-dev',
  ],
) {
  $erlang_packages = $erlang_module ? {
    true  => ['erlang-dev', 'python3'],
    false => [],
  }
  ensure_packages($packages + $erlang_packages)

  file { '/usr/local/sbin/chatadm-build':
    ensure => file,
    source => 'puppet:///modules/chatadm/chatadm-build',
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }

  file { dirname($build_dir):
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }

  $flag = $erlang_module ? {
    true  => 'ON',
    false => 'OFF',
  }
  $args = shell_join([$source_dir, $build_dir, $flag])

  exec { 'chatadm build and install':
    command   => "/usr/local/sbin/chatadm-build build ${args}",
    unless    => "/usr/local/sbin/chatadm-build check ${args}",
    path      => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
    timeout   => 3600,
    logoutput => 'on_failure',
    require   => [File['/usr/local/sbin/chatadm-build'], File[dirname($build_dir)], Package[$packages + $erlang_packages]],
  }
}
