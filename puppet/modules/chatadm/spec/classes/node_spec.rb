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
      .that_requires('Package[ejabberd]')
  end

  it 'installs the deployment cookie privately' do
    is_expected.to contain_file('/var/lib/ejabberd/.erlang.cookie')
      .with(source: '/etc/chatadm-secrets/erlang.cookie', owner: 'ejabberd', mode: '0400', show_diff: false)
      .that_notifies('Service[ejabberd]')
      .that_requires('Package[ejabberd]')
  end

  it 'keeps the TLS key from other users' do
    is_expected.to contain_file('/etc/ejabberd/chatadm.pem')
      .with(source: '/etc/chatadm-secrets/server.pem', group: 'ejabberd', mode: '0640')
  end

  it 'installs, configures and runs ejabberd in that order' do
    is_expected.to contain_class('chatadm::node::install').that_comes_before('Class[chatadm::node::config]')
    is_expected.to contain_class('chatadm::node::config').that_notifies('Class[chatadm::node::service]')
    is_expected.to contain_service('ejabberd').with(ensure: 'running', enable: true)
  end

  it 'installs mod_unread from the package repository, no compiler' do
    is_expected.to contain_package('ejabberd-mod-unread').with_ensure('latest')
      .that_requires(['Package[ejabberd]', 'Class[chatadm::repo]'])
    is_expected.to contain_file('/etc/apt/sources.list.d/chatadm.list')
      .with_content(%r{^deb \[trusted=yes\] file:/srv/chatadm-apt \./$})
    BUILD_PACKAGES.each { |p| is_expected.not_to contain_package(p) }
    dev = catalogue.resources.select { |r| r.type == 'Package' && r.title.end_with?('-dev') }
    expect(dev).to be_empty
    is_expected.not_to contain_exec('chatadm build and install')
  end

  it 'uses the cookie type, which stops a node running with another cookie' do
    is_expected.to contain_chatadm__erlang_cookie('/var/lib/ejabberd/.erlang.cookie')
      .with_source('/etc/chatadm-secrets/erlang.cookie')
  end

  describe 'ejabberd.yml' do
    let(:yml) { catalogue.resource('File', '/etc/ejabberd/ejabberd.yml')[:content] }
    let(:config) { YAML.safe_load(yml) }

    it { is_expected.to contain_file('/etc/ejabberd/ejabberd.yml').with_owner('ejabberd').with_mode('0600') }
    it('is YAML') { expect(config).to be_a(Hash) }
    it { expect(config['hosts']).to eq(['chat.example']) }
    it { expect(config['certfiles']).to eq(['/etc/ejabberd/chatadm.pem']) }
    it { expect(config['modules']).to include('mod_offline', 'mod_unread' => { 'preview_length' => 64 }) }
    it { expect(config['modules']['mod_offline']).to eq('access_max_user_messages' => 'max_user_offline_messages') }
    it { expect(config['listen'].map { |l| l['ip'] }).to eq(['0.0.0.0', '0.0.0.0']) }
    it { expect(config['listen'][1]['request_handlers']).to eq('/api' => 'mod_http_api') }
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

  context 'with a metrics listener' do
    let(:params) { { 'metrics_port' => 9280, 'metrics_sources' => ['192.168.56.0/24', '2001:db8::/64'] } }
    let(:yml) { YAML.safe_load(catalogue.resource('File', '/etc/ejabberd/ejabberd.yml')[:content]) }

    it 'serves /metrics over plain HTTP on that port, to those addresses only' do
      metrics = yml['listen'].find { |l| l['port'] == 9280 }
      expect(metrics).to include('module' => 'ejabberd_http', 'request_handlers' => { '/metrics' => 'mod_unread_metrics' })
      expect(metrics).not_to include('tls')
      expect(yml['acl']['metrics_readers']).to eq('ip' => ['192.168.56.0/24', '2001:db8::/64'])
      expect(yml['access_rules']['metrics']).to eq('allow' => 'metrics_readers')
      expect(yml['modules']['mod_unread']).to include('metrics_access' => 'metrics', 'preview_length' => 64)
    end
  end

  context 'with a metrics listener and no readers named' do
    let(:params) { { 'metrics_port' => 9280 } }
    let(:yml) { YAML.safe_load(catalogue.resource('File', '/etc/ejabberd/ejabberd.yml')[:content]) }

    it "leaves mod_unread's loopback-only default" do
      expect(yml['listen'].map { |l| l['port'] }).to include(9280)
      expect(yml['acl']).not_to include('metrics_readers')
      expect(yml['modules']['mod_unread']).not_to include('metrics_access')
    end
  end

  context 'with a metrics reader that is not an address' do
    let(:params) { { 'metrics_port' => 9280, 'metrics_sources' => ['prometheus.example'] } }

    it { is_expected.to compile.and_raise_error(%r{metrics_sources}) }
  end

  context 'with extra modules' do
    let(:params) do
      {
        'extra_modules' => {
          'mod_mam' => { 'db_type' => 'mnesia', 'default' => 'always', 'assume_mam_usage' => true },
          'mod_offline' => { 'use_mam_for_storage' => false },
        },
      }
    end
    let(:modules) { YAML.safe_load(catalogue.resource('File', '/etc/ejabberd/ejabberd.yml')[:content])['modules'] }

    it 'adds them, and mod_offline options to its own' do
      expect(modules['mod_mam']).to eq('db_type' => 'mnesia', 'default' => 'always', 'assume_mam_usage' => true)
      expect(modules['mod_offline']).to eq(
        'access_max_user_messages' => 'max_user_offline_messages', 'use_mam_for_storage' => false,
      )
      expect(modules).to include('mod_unread')
    end
  end

  context 'with top-level options (an SQL database)' do
    let(:params) do
      {
        'top_level_options' => {
          'sql_type' => 'pgsql', 'sql_server' => '127.0.0.1', 'sql_port' => 5432,
          'sql_password' => 'p: w#"x', 'new_sql_schema' => true,
        },
        'extra_modules' => { 'mod_offline' => { 'db_type' => 'sql' } },
      }
    end
    let(:settings) { YAML.safe_load(catalogue.resource('File', '/etc/ejabberd/ejabberd.yml')[:content]) }

    it 'writes them at the top level with their types, beside the usual config' do
      expect(settings).to include(
        'sql_type' => 'pgsql', 'sql_server' => '127.0.0.1', 'sql_port' => 5432,
        'sql_password' => 'p: w#"x', 'new_sql_schema' => true,
      )
      expect(settings['hosts']).to eq(['chat.example'])
      expect(settings['modules']['mod_offline']).to include('db_type' => 'sql')
    end
  end

  context 'with a top-level option the template writes itself' do
    let(:params) { { 'top_level_options' => { 'hosts' => ['other.example'] } } }

    it { is_expected.to compile.and_raise_error(%r{top_level_options may not set hosts}) }
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
