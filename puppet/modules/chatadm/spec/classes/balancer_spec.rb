require 'spec_helper'

# chatadm::balancer as the local cluster harness (tests/integration/cluster.py)
# uses it: its own file, no service.
describe 'chatadm::balancer' do
  let(:node) { 'haproxy.example' }
  let(:facts) { debian12_facts('haproxy.example', '192.168.56.10') }
  let(:params) do
    {
      'nodes' => [
        { 'name' => 'unread1', 'address' => '127.0.0.2', 'tls_name' => 'localhost' },
        { 'name' => 'unread2', 'address' => '127.0.0.3', 'tls_name' => 'localhost' },
      ],
      'listen_address' => '127.0.0.4',
      'api_certificate' => '/tmp/balancer.pem',
      'node_ca_file' => '/tmp/ca.pem',
      'config_file' => '/tmp/haproxy/haproxy.cfg',
      'manage_service' => false,
    }
  end

  it { is_expected.to compile.with_all_deps }
  it { is_expected.to contain_class('haproxy').with_config_dir('/tmp/haproxy').with_service_manage(false) }
  it { is_expected.to contain_haproxy__listen('xmpp').with_mode('tcp').with_bind('127.0.0.4:5222' => []) }

  it 'health-checks the API with POST /api/status' do
    options = catalogue.resource('Haproxy::Listen', 'api')[:options]
    expect(options['http-check']).to include(%r{^send meth POST uri /api/status })
  end
end
