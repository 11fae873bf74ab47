# The deployment secrets the Vagrantfile makes (puppet/lib/chatadm_secrets.rb).
require 'tmpdir'
require_relative '../lib/chatadm_secrets'

describe ChatadmSecrets do
  let(:common) { File.expand_path('../data/common.yaml', __dir__) }
  let(:machines) { described_class.machines(common) }

  around do |example|
    Dir.mktmpdir do |d|
      @dir = File.join(d, 'secrets')
      example.run
    end
  end

  def mode(path)
    File.stat(path).mode & 0o777
  end

  def cert(machine)
    OpenSSL::X509::Certificate.new(File.read(File.join(@dir, machine, 'server.pem')))
  end

  it 'knows the three Vagrant machines from the Hiera data' do
    expect(machines.keys).to eq(%w[ejabberd ejabberd_slave haproxy])
    expect(machines['ejabberd']).to include(fqdn: 'ejabberd1.example', ip: '192.168.56.11', node: true)
    expect(machines['haproxy']).to include(fqdn: 'haproxy.example', ip: '192.168.56.10', node: false)
  end

  it 'keeps every file private' do
    described_class.ensure(@dir, machines)
    Dir.glob(File.join(@dir, '**', '*'), File::FNM_DOTMATCH).each do |f|
      next if ['.', '..'].include?(File.basename(f))

      expect(mode(f)).to eq(File.directory?(f) ? 0o700 : 0o600), f
    end
    expect(mode(@dir)).to eq(0o700)
  end

  it 'gives the cookie to the nodes only, the same everywhere' do
    described_class.ensure(@dir, machines)
    cookies = %w[ejabberd ejabberd_slave].map { |m| File.read(File.join(@dir, m, 'erlang.cookie')) }
    expect(cookies.uniq.size).to eq(1)
    expect(cookies.first).to match(%r{\A[A-Za-z0-9]{32}\z})
    expect(File).not_to exist(File.join(@dir, 'haproxy', 'erlang.cookie'))
    expect(Dir.children(File.join(@dir, 'haproxy')).sort).to eq(%w[admin.password ca.pem server.pem])
  end

  it 'issues certificates for each machine, signed by the deployment CA' do
    described_class.ensure(@dir, machines)
    ca = OpenSSL::X509::Certificate.new(File.read(File.join(@dir, 'ca', 'ca.pem')))
    store = OpenSSL::X509::Store.new
    store.add_cert(ca)
    machines.each_key do |m|
      expect(store.verify(cert(m))).to be(true), m
      expect(File.read(File.join(@dir, m, 'ca.pem'))).to eq(ca.to_pem)
      key = OpenSSL::PKey.read(File.read(File.join(@dir, m, 'server.pem')))
      expect(cert(m).check_private_key(key)).to be(true)
    end
    san = cert('ejabberd').extensions.find { |e| e.oid == 'subjectAltName' }.value
    expect(san).to include('DNS:ejabberd1.example', 'DNS:chat.example', 'IP Address:192.168.56.11')
    san = cert('haproxy').extensions.find { |e| e.oid == 'subjectAltName' }.value
    expect(san).to include('DNS:haproxy.example', 'IP Address:192.168.56.10')
  end

  it 'keeps what exists on later runs' do
    described_class.ensure(@dir, machines)
    before = Dir.glob(File.join(@dir, '**', '*')).select { |f| File.file?(f) }.to_h { |f| [f, File.read(f)] }
    described_class.ensure(@dir, machines)
    after = Dir.glob(File.join(@dir, '**', '*')).select { |f| File.file?(f) }.to_h { |f| [f, File.read(f)] }
    expect(after).to eq(before)
  end
end
