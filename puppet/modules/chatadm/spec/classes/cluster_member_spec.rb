require 'spec_helper'

describe 'chatadm::cluster_member' do
  let(:node) { 'ejabberd2.example' }
  let(:facts) { debian12_facts('ejabberd2.example', '192.168.56.12') }

  it { is_expected.to compile.with_all_deps }
  it { is_expected.to contain_file('/etc/default/ejabberd').with_content(%r{^ERLANG_NODE=ejabberd@ejabberd2\.example$}) }

  it 'joins the first node once ejabberd runs, waiting as long as Hiera says' do
    is_expected.to contain_chatadm__cluster_join('ejabberd@ejabberd1.example')
      .with(seed_api: 'https://ejabberd1.example:5443/api', ca_file: '/etc/chatadm/ca.pem', wait_seconds: 1800)
      .that_requires(['Class[chatadm::node::service]', 'File[/etc/chatadm/ca.pem]', 'Exec[chatadm admin account]'])
    is_expected.to contain_exec('chatadm join cluster of ejabberd@ejabberd1.example')
      .with_command('/usr/local/sbin/chatadm-join-cluster join ejabberd@ejabberd1.example ' \
                    'https://ejabberd1.example:5443/api /etc/chatadm/ca.pem 1800')
  end

  context 'on the platform of the end-to-end step that provisions the slave alone' do
    let(:facts) { super().merge('chatadm_platform' => 'e2e-alone') }

    it { is_expected.to contain_chatadm__cluster_join('ejabberd@ejabberd1.example').with_wait_seconds(20) }
  end

  context 'on the first node itself' do
    let(:node) { 'ejabberd1.example' }
    let(:facts) { debian12_facts('ejabberd1.example', '192.168.56.11') }
    let(:pre_condition) { "class { 'chatadm::node': member => 'ejabberd1' }" }

    it { is_expected.to compile.and_raise_error(%r{cannot join itself}) }
  end
end
