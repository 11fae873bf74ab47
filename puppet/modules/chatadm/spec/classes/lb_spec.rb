require 'spec_helper'

describe 'chatadm::lb' do
  let(:node) { 'haproxy.example' }
  let(:facts) { debian12_facts('haproxy.example', '192.168.56.10') }

  it { is_expected.to compile.with_all_deps }

  it 'gives haproxy a root-only key before it starts' do
    is_expected.to contain_file('/etc/chatadm/haproxy.pem')
      .with(source: '/etc/chatadm-secrets/server.pem', owner: 'root', mode: '0600')
      .that_notifies('Class[haproxy]')
    is_expected.to contain_file('/etc/chatadm/ca.pem').that_notifies('Class[haproxy]')
  end

  it 'balances both nodes, verifying their certificates by name' do
    is_expected.to contain_haproxy__balancermember('api-ejabberd1')
      .with_ipaddresses('192.168.56.11')
      .with_options(%r{verify required ca-file /etc/chatadm/ca.pem verifyhost ejabberd1\.example})
    is_expected.to contain_haproxy__balancermember('api-ejabberd2').with_ipaddresses('192.168.56.12')
    is_expected.to contain_haproxy__balancermember('xmpp-ejabberd1')
    is_expected.to contain_haproxy__balancermember('xmpp-ejabberd2')
  end
end
