require 'spec_helper'

describe 'chatadm::cluster_member' do
  let(:node) { 'ejabberd2.example' }
  let(:facts) { debian12_facts('ejabberd2.example', '192.168.56.12') }

  it { is_expected.to compile.with_all_deps }
  it { is_expected.to contain_file('/etc/default/ejabberd').with_content(%r{^ERLANG_NODE=ejabberd@ejabberd2\.example$}) }

  it 'joins the first node once, after ejabberd runs' do
    is_expected.to contain_exec('chatadm join cluster')
      .with_command('/usr/local/sbin/chatadm-join-cluster join ejabberd@ejabberd1.example ' \
                    'https://ejabberd1.example:5443/api /etc/chatadm/ca.pem 300')
      .with_unless('/usr/local/sbin/chatadm-join-cluster member ejabberd@ejabberd1.example')
      .that_requires('Service[ejabberd]')
  end

  context 'on the first node itself' do
    let(:node) { 'ejabberd1.example' }
    let(:facts) { debian12_facts('ejabberd1.example', '192.168.56.11') }
    let(:pre_condition) { "class { 'chatadm::node': member => 'ejabberd1' }" }

    it { is_expected.to compile.and_raise_error(%r{cannot join itself}) }
  end
end
