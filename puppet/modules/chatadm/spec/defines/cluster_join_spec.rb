require 'spec_helper'

describe 'chatadm::cluster_join' do
  let(:node) { 'ejabberd2.example' }
  let(:facts) { debian12_facts('ejabberd2.example', '192.168.56.12') }
  let(:title) { 'ejabberd@ejabberd1.example' }
  let(:params) { { 'seed_api' => 'https://ejabberd1.example:5443/api', 'ca_file' => '/etc/chatadm/ca.pem' } }
  let(:exec) { 'chatadm join cluster of ejabberd@ejabberd1.example' }

  it { is_expected.to compile.with_all_deps }

  it 'joins once (join_cluster is not idempotent), waiting 30 minutes by default' do
    is_expected.to contain_exec(exec)
      .with_command('/usr/local/sbin/chatadm-join-cluster join ejabberd@ejabberd1.example ' \
                    'https://ejabberd1.example:5443/api /etc/chatadm/ca.pem 1800')
      .with_unless('/usr/local/sbin/chatadm-join-cluster member ejabberd@ejabberd1.example')
      .with_logoutput(true)
      .that_requires('File[/usr/local/sbin/chatadm-join-cluster]')
  end

  it "lets the script's own deadline fail first, with its reason" do
    is_expected.to contain_exec(exec).with_timeout(1800 + 600)
  end

  it { is_expected.to contain_file('/usr/local/sbin/chatadm-join-cluster').with_mode('0755').with_source('puppet:///modules/chatadm/chatadm-join-cluster') }

  context 'with a shorter wait' do
    let(:params) { super().merge('wait_seconds' => 20) }

    it { is_expected.to contain_exec(exec).with_command(%r{ 20$}).with_timeout(620) }
  end

  context 'with a title that is not a node name' do
    let(:title) { 'ejabberd1.example' }

    it { is_expected.to compile.and_raise_error(%r{Pattern}) }
  end
end
