require 'spec_helper'

describe 'chatadm::admin' do
  let(:node) { 'haproxy.example' }
  let(:facts) { debian12_facts('haproxy.example', '192.168.56.10') }

  it { is_expected.to compile.with_all_deps }

  it 'writes root a private config for the balancer' do
    is_expected.to contain_file('/root/.config/chatadm/config')
      .with(owner: 'root', mode: '0600')
      .with_content(%r{^host = haproxy\.example:5443$})
      .with_content(%r{^user = admin@chat\.example$})
      .with_content(%r{^password_file = /root/\.config/chatadm/admin\.password$})
      .with_content(%r{^ca_file = /etc/chatadm/ca\.pem$})
    is_expected.to contain_file('/root/.config/chatadm/admin.password')
      .with(source: '/etc/chatadm-secrets/admin.password', owner: 'root', mode: '0600', show_diff: false)
  end

  it 'installs chatadm from the package repository, and nothing to build it' do
    is_expected.to contain_package('chatadm').with_ensure('latest').that_requires('Class[chatadm::repo]')
    is_expected.to contain_exec('chatadm apt update')
    BUILD_PACKAGES.each { |p| is_expected.not_to contain_package(p) }
    is_expected.not_to contain_package('ejabberd-mod-unread')
  end

  it 'only uses keys chatadm knows' do
    content = catalogue.resource('File', '/root/.config/chatadm/config')[:content]
    keys = content.lines.grep(%r{^\w}).map { |l| l.split('=').first.strip }
    expect(keys - ['host', 'user', 'password_file', 'password', 'ca_file', 'insecure', 'timeout', 'token']).to be_empty
  end
end
