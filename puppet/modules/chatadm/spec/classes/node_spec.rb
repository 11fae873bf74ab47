require 'spec_helper'

describe 'chatadm::node' do
  let(:node) { 'ejabberd1.example' }
  let(:facts) { debian12_facts('ejabberd1.example', '192.168.56.11') }

  it { is_expected.to compile.with_all_deps }

  it 'names the node before the package first starts it' do
    is_expected.to contain_file('/etc/default/ejabberd')
      .with_content(%r{^ERLANG_NODE=ejabberd@ejabberd1\.example$})
      .with_content(%r{^INET_DIST_INTERFACE=192\.168\.56\.11$})
      .with_content(%r{^FIREWALL_WINDOW=4200-4210$})
      .that_comes_before('Package[ejabberd]')
  end

  it 'wipes only a spool made for another node name' do
    is_expected.to contain_exec('chatadm wipe spool of another node name')
      .with_unless(%r{grep -aqF ejabberd@ejabberd1\.example /var/lib/ejabberd/schema\.DAT})
      .that_comes_before('Service[ejabberd]')
  end

  it 'installs the deployment cookie privately' do
    is_expected.to contain_file('/var/lib/ejabberd/.erlang.cookie')
      .with(source: '/etc/chatadm-secrets/erlang.cookie', owner: 'ejabberd', mode: '0400', show_diff: false)
      .that_notifies('Service[ejabberd]')
  end

  it 'stops the node running with another cookie before replacing it' do
    is_expected.to contain_exec('chatadm stop ejabberd for a new cookie')
      .with_unless('cmp -s /etc/chatadm-secrets/erlang.cookie /var/lib/ejabberd/.erlang.cookie')
      .that_comes_before('File[/var/lib/ejabberd/.erlang.cookie]')
      .that_requires('Package[ejabberd]')
  end

  it 'keeps the TLS key from other users' do
    is_expected.to contain_file('/etc/ejabberd/chatadm.pem')
      .with(source: '/etc/chatadm-secrets/server.pem', group: 'ejabberd', mode: '0640')
  end

  it 'builds mod_unread before (re)starting ejabberd' do
    is_expected.to contain_class('chatadm::build').with_erlang_module(true).that_notifies('Service[ejabberd]')
    is_expected.to contain_exec('chatadm build and install')
      .with_command(%r{chatadm-build build /vagrant /var/cache/chatadm/build ON$})
      .with_unless(%r{chatadm-build check /vagrant /var/cache/chatadm/build ON$})
    is_expected.to contain_package('erlang-dev')
    is_expected.to contain_package('libgtest-dev')
  end

  describe 'ejabberd.yml' do
    let(:yml) { catalogue.resource('File', '/etc/ejabberd/ejabberd.yml')[:content] }
    let(:config) { YAML.safe_load(yml) }

    it { is_expected.to contain_file('/etc/ejabberd/ejabberd.yml').with_owner('ejabberd').with_mode('0600') }
    it('is YAML') { expect(config).to be_a(Hash) }
    it { expect(config['hosts']).to eq(['chat.example']) }
    it { expect(config['certfiles']).to eq(['/etc/ejabberd/chatadm.pem']) }
    it { expect(config['modules']).to include('mod_offline', 'mod_unread' => { 'preview_length' => 64 }) }
    it { expect(config['oauth_access']).to eq('api_admin') }
    it { expect(config['acl']['admin']).to eq('user' => ['admin@chat.example']) }

    it 'serves the HTTP API over TLS on 5443' do
      api = config['listen'].find { |l| l['module'] == 'ejabberd_http' }
      expect(api).to include('port' => 5443, 'tls' => true, 'request_handlers' => { '/api' => 'mod_http_api' })
    end

    it 'lets the balancer and the nodes ask for status, and nothing else, without credentials' do
      expect(config['acl']['health_checkers']).to eq(
        'ip' => ['192.168.56.11/32', '192.168.56.12/32', '192.168.56.10/32'],
      )
      expect(config['api_permissions']['health check']['what']).to eq(['status'])
      admin = config['api_permissions']['admin access']
      expect(admin['who']['access']).to eq('allow' => [{ 'acl' => 'admin' }])
      expect(admin['who']['oauth']['scope']).to eq('ejabberd:admin')
    end
  end

  it 'creates the admin account once, password read on the node' do
    is_expected.to contain_exec('chatadm admin account')
      .with_command('/usr/sbin/ejabberdctl register admin chat.example "$(cat /etc/chatadm-secrets/admin.password)"')
      .with_unless('/usr/sbin/ejabberdctl check_account admin chat.example')
      .that_requires('Service[ejabberd]')
  end

  it 'maps every machine of the deployment in /etc/hosts' do
    is_expected.to contain_file_line('chatadm hosts ejabberd1.example').that_comes_before('Package[ejabberd]')
    is_expected.to contain_file_line('chatadm hosts ejabberd1.example')
      .with_line('192.168.56.11 ejabberd1.example ejabberd1').with_multiple(true)
      .with_match('^[^#]*\\sejabberd1\\.example(\\s|$)')
    re = Regexp.new(catalogue.resource('File_line', 'chatadm hosts ejabberd1.example')[:match])
    expect(re).to match("127.0.1.1\tejabberd1.example ejabberd1")
    expect(re).to match('192.168.56.11 ejabberd1.example')
    expect(re).not_to match('192.168.56.12 ejabberd12.example')
    expect(re).not_to match('# 127.0.1.1 ejabberd1.example')
    is_expected.to contain_file_line('chatadm hosts ejabberd2.example')
    is_expected.to contain_file_line('chatadm hosts haproxy.example').with_line('192.168.56.10 haproxy.example haproxy')
  end

  it 'never puts a secret into the catalogue' do
    catalogue.resources.each do |r|
      expect(r[:content].to_s).not_to match(%r{BEGIN .*PRIVATE KEY})
    end
  end

  context 'with mod_unread defaults' do
    let(:params) { { 'mod_unread_options' => {} } }

    it { is_expected.to contain_file('/etc/ejabberd/ejabberd.yml').with_content(%r{^  mod_unread: \{\}$}) }
  end

  context 'for a member that is not in chatadm::nodes' do
    let(:params) { { 'member' => 'ejabberd9' } }

    it { is_expected.to compile.and_raise_error(%r{'ejabberd9' is not in chatadm::nodes}) }
  end

  context 'without spool wiping' do
    let(:params) { { 'wipe_spool_on_rename' => false } }

    it { is_expected.not_to contain_exec('chatadm wipe spool of another node name') }
  end
end
