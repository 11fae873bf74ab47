# @summary The apt repository chatadm's own packages come from.
#
# `ejabberd-mod-unread` and `chatadm` are Debian packages built from this
# repository (scripts/build-debs.sh). Under Vagrant they are built on the
# host into a flat apt repository that every machine gets as a synced
# folder; `path` names it on the machine and this class makes it an apt
# source. Without `path` the packages come from the machine's own apt
# sources (an operator's repository, say).
#
# apt's index of this one source is refreshed when its `Packages` file
# changes (a new build), and only then: no network is needed for it, and a
# run on an unchanged repository changes nothing.
#
# @param path
#   A flat apt repository on this machine (`Packages` next to the .debs).
# @param list_file
#   The apt source file to write.
class chatadm::repo (
  Optional[Stdlib::Absolutepath] $path = undef,
  Stdlib::Absolutepath $list_file = '/etc/apt/sources.list.d/chatadm.list',
) {
  if $path {
    $seen = '/var/lib/chatadm/repo-Packages'

    file { $list_file:
      ensure  => file,
      owner   => 'root',
      group   => 'root',
      mode    => '0644',
      content => "# Managed by Puppet (chatadm::repo): chatadm's own packages.\ndeb [trusted=yes] file:${path} ./\n",
    }

    file { dirname($seen):
      ensure => directory,
      owner  => 'root',
      group  => 'root',
      mode   => '0755',
    }

    # Only this source: the others may need a network this run has not.
    $update = "apt-get update -q -o=Dir::Etc::sourcelist=${list_file} -o=Dir::Etc::sourceparts=- -o=APT::Get::List-Cleanup=0"
    exec { 'chatadm apt update':
      command => "${update} && cp ${path}/Packages ${seen}",
      unless  => "cmp -s ${path}/Packages ${seen}",
      path    => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
      require => [File[$list_file], File[dirname($seen)]],
    }
  }
}
