# Per-deployment secrets for the chatadm machines, made once on the host
# (by the Vagrantfile, or by bin/chatadm-secrets for other platforms) and
# never committed: a CA, a certificate per machine, the Erlang cookie and the
# admin password.
#
#   <dir>/ca/ca.key, ca.pem        the CA; its key never leaves the host
#   <dir>/<machine>/ca.pem         what the machine gets (synced to
#                  /server.pem      chatadm::secrets_dir): its certificate
#                  /admin.password  and key in one PEM, the admin password,
#                  /erlang.cookie   and, on ejabberd nodes, the cookie
#
# Directories are 0700 and files 0600. Existing files are kept, so a
# deployment keeps its secrets across `vagrant up`s; delete <dir> (and the
# machines) to start afresh. Only Ruby's standard library is used, so this
# runs inside Vagrant on any host.
require 'fileutils'
require 'openssl'
require 'securerandom'
require 'yaml'

module ChatadmSecrets
  # Vagrant machine names, in the order of chatadm::nodes, then the balancer.
  NODE_MACHINES = %w[ejabberd ejabberd_slave].freeze
  BALANCER_MACHINE = 'haproxy'.freeze

  # The machines of the deployment described by Hiera's common.yaml:
  # { machine => { fqdn:, ip:, node: true|false, names: [...] } }.
  def self.machines(common_yaml)
    data = YAML.safe_load(File.read(common_yaml))
    domain = data.fetch('chatadm::xmpp_domain')
    nodes = data.fetch('chatadm::nodes')
    unless nodes.size == NODE_MACHINES.size
      raise "#{common_yaml}: chatadm::nodes must list #{NODE_MACHINES.size} nodes for the Vagrant machines"
    end
    out = {}
    NODE_MACHINES.zip(nodes).each do |machine, n|
      fqdn = n.fetch('tls_name')
      # Clients reach a node through haproxy's TCP passthrough, and check the
      # XMPP domain: the node's certificate names it too.
      out[machine] = { fqdn: fqdn, ip: n.fetch('address'), node: true,
                       names: [fqdn, fqdn.split('.').first, domain] }
    end
    fqdn = data.fetch('chatadm::balancer_name')
    out[BALANCER_MACHINE] = { fqdn: fqdn, ip: data.fetch('chatadm::balancer_address'), node: false,
                              names: [fqdn, fqdn.split('.').first] }
    out
  end

  # Makes whatever is missing under dir. Safe to call from several
  # processes at once (Vagrant brings libvirt machines up in parallel).
  def self.ensure(dir, machines)
    private_dir(dir)
    File.open(File.join(dir, '.lock'), File::RDWR | File::CREAT, 0o600) do |lock|
      lock.flock(File::LOCK_EX)
      ca_key, ca_cert = ca(File.join(dir, 'ca'))
      cookie = secret(File.join(dir, 'erlang.cookie')) { SecureRandom.alphanumeric(32) }
      password = secret(File.join(dir, 'admin.password')) { SecureRandom.alphanumeric(24) }
      machines.each do |name, m|
        mdir = File.join(dir, name)
        private_dir(mdir)
        write_private(File.join(mdir, 'ca.pem'), ca_cert.to_pem)
        write_private(File.join(mdir, 'admin.password'), password)
        write_private(File.join(mdir, 'erlang.cookie'), cookie) if m[:node]
        pem = File.join(mdir, 'server.pem')
        next if File.exist?(pem)

        key, cert = issue(ca_key, ca_cert, m[:names], [m[:ip]])
        write_private(pem, cert.to_pem + private_pem(key))
      end
    end
    dir
  end

  def self.private_dir(path)
    FileUtils.mkdir_p(path)
    File.chmod(0o700, path)
  end

  def self.write_private(path, content)
    return if File.exist?(path) && File.read(path) == content

    tmp = "#{path}.tmp"
    File.open(tmp, File::WRONLY | File::CREAT | File::TRUNC, 0o600) { |f| f.write(content) }
    File.rename(tmp, path)
  end

  def self.secret(path)
    write_private(path, yield) unless File.exist?(path)
    File.read(path)
  end

  def self.private_pem(key)
    key.respond_to?(:private_to_pem) ? key.private_to_pem : key.to_pem
  end

  def self.ca(cadir)
    private_dir(cadir)
    key_file = File.join(cadir, 'ca.key')
    cert_file = File.join(cadir, 'ca.pem')
    if File.exist?(key_file) && File.exist?(cert_file)
      return [OpenSSL::PKey.read(File.read(key_file)), OpenSSL::X509::Certificate.new(File.read(cert_file))]
    end

    key = OpenSSL::PKey::EC.generate('prime256v1')
    name = OpenSSL::X509::Name.parse("/CN=chatadm deployment CA #{SecureRandom.hex(4)}")
    cert = certificate(name, name, key, 3650)
    ef = OpenSSL::X509::ExtensionFactory.new(cert, cert)
    cert.add_extension(ef.create_extension('basicConstraints', 'CA:TRUE', true))
    cert.add_extension(ef.create_extension('keyUsage', 'keyCertSign,cRLSign', true))
    cert.add_extension(ef.create_extension('subjectKeyIdentifier', 'hash'))
    cert.sign(key, OpenSSL::Digest.new('SHA256'))
    write_private(key_file, private_pem(key))
    write_private(cert_file, cert.to_pem)
    [key, cert]
  end

  def self.issue(ca_key, ca_cert, names, ips)
    key = OpenSSL::PKey::EC.generate('prime256v1')
    cert = certificate(OpenSSL::X509::Name.parse("/CN=#{names.first}"), ca_cert.subject, key, 825)
    ef = OpenSSL::X509::ExtensionFactory.new(ca_cert, cert)
    san = names.map { |n| "DNS:#{n}" } + ips.map { |i| "IP:#{i}" }
    cert.add_extension(ef.create_extension('basicConstraints', 'CA:FALSE', true))
    cert.add_extension(ef.create_extension('keyUsage', 'digitalSignature,keyAgreement', true))
    cert.add_extension(ef.create_extension('extendedKeyUsage', 'serverAuth,clientAuth'))
    cert.add_extension(ef.create_extension('subjectAltName', san.join(',')))
    cert.add_extension(ef.create_extension('authorityKeyIdentifier', 'keyid:always'))
    cert.sign(ca_key, OpenSSL::Digest.new('SHA256'))
    [key, cert]
  end

  def self.certificate(subject, issuer, key, days)
    cert = OpenSSL::X509::Certificate.new
    cert.version = 2
    cert.serial = OpenSSL::BN.rand(64)
    cert.subject = subject
    cert.issuer = issuer
    cert.public_key = key
    cert.not_before = Time.now - 3600
    cert.not_after = Time.now + days * 86_400
    cert
  end
end
