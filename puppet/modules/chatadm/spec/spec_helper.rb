# rspec-puppet (Debian's ruby-rspec-puppet) for the chatadm module.
# Catalogues compile against this module, Debian's packaged modules
# (haproxy, stdlib, concat) and the deployment's real Hiera data.
require 'rspec-puppet'

PUPPET_ENV = File.expand_path('../../..', __dir__) # puppet/
MODULES = File.join(PUPPET_ENV, 'modules')
SYSTEM_MODULES = '/usr/share/puppet/modules'.freeze

RSpec.configure do |c|
  c.module_path = [MODULES, SYSTEM_MODULES].join(':')
  c.hiera_config = File.join(PUPPET_ENV, 'hiera.yaml')
  c.strict_variables = true
  c.setup_fixtures = false
  c.before(:each) { Puppet[:strict] = :error }
end

# facterdb (rspec-puppet-facts) has no Debian 12 yet: the facts the module
# and the modules it uses read, as Facter 4 reports them on bookworm.
def debian12_facts(fqdn, address)
  host, domain = fqdn.split('.', 2)
  {
    'kernel' => 'Linux',
    'osfamily' => 'Debian',
    'operatingsystem' => 'Debian',
    'operatingsystemrelease' => '12.5',
    'operatingsystemmajrelease' => '12',
    'os' => {
      'family' => 'Debian', 'name' => 'Debian',
      'release' => { 'full' => '12.5', 'major' => '12', 'minor' => '5' },
      'distro' => { 'codename' => 'bookworm' },
      'architecture' => 'amd64', 'hardware' => 'x86_64',
      'selinux' => { 'enabled' => false },
    },
    'path' => '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'hostname' => host, 'domain' => domain, 'fqdn' => fqdn,
    'ipaddress' => address,
    'networking' => {
      'hostname' => host, 'domain' => domain, 'fqdn' => fqdn, 'ip' => address,
    },
    'processors' => { 'count' => 2 },
    'concat_basedir' => '/var/lib/puppet/concat',
    'service_provider' => 'systemd',
  }
end

# The machines of data/common.yaml.
MACHINES = {
  'ejabberd1.example' => '192.168.56.11',
  'ejabberd2.example' => '192.168.56.12',
  'haproxy.example' => '192.168.56.10',
}.freeze

SITE_MANIFEST = File.join(PUPPET_ENV, 'manifests', 'site.pp')

# What building mod_unread or chatadm takes: none of it belongs on a
# machine of the deployment, which installs the built packages.
BUILD_PACKAGES = [
  'build-essential', 'gcc', 'g++', 'cpp', 'make', 'cmake', 'erlang-dev', 'libgtest-dev', 'googletest',
  'libcurl4-openssl-dev', 'nlohmann-json3-dev', 'python3-pytest', 'erlang-eunit', 'erlang-proper',
].freeze
