require 'spec_helper'

describe 'chatadm::erlang_cookie' do
  let(:node) { 'ejabberd1.example' }
  let(:facts) { debian12_facts('ejabberd1.example', '192.168.56.11') }
  let(:title) { '/var/lib/ejabberd/.erlang.cookie' }
  let(:params) { { 'source' => '/etc/chatadm-secrets/erlang.cookie' } }

  it { is_expected.to compile.with_all_deps }

  it 'copies the cookie readable by its owner only, never showing it' do
    is_expected.to contain_file('/var/lib/ejabberd/.erlang.cookie')
      .with(ensure: 'file', source: '/etc/chatadm-secrets/erlang.cookie',
            owner: 'ejabberd', group: 'ejabberd', mode: '0400', show_diff: false)
  end

  it 'stops the service first, only when the cookie is about to change' do
    is_expected.to contain_exec('chatadm stop ejabberd for a new cookie in /var/lib/ejabberd/.erlang.cookie')
      .with_command('systemctl stop ejabberd')
      .with_unless('cmp -s /etc/chatadm-secrets/erlang.cookie /var/lib/ejabberd/.erlang.cookie')
      .that_comes_before('File[/var/lib/ejabberd/.erlang.cookie]')
  end

  context 'for another service and user' do
    let(:title) { '/var/lib/rabbitmq/.erlang.cookie' }
    let(:params) { { 'source' => '/root/cookie', 'owner' => 'rabbitmq', 'service' => 'rabbitmq-server' } }

    it { is_expected.to contain_file(title).with(owner: 'rabbitmq', group: 'rabbitmq') }
    it { is_expected.to contain_exec("chatadm stop rabbitmq-server for a new cookie in #{title}").with_command('systemctl stop rabbitmq-server') }
  end

  context 'with a relative path as title' do
    let(:title) { 'cookie' }

    it { is_expected.to compile.and_raise_error(%r{Stdlib::Absolutepath}) }
  end
end
