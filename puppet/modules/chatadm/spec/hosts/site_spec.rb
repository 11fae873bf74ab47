require 'spec_helper'

# site.pp, which class specs must not load (it would declare the machine's
# roles a second time).
SITE = File.read(SITE_MANIFEST)

# site.pp with the real Hiera data: each machine of the Vagrantfile gets its
# roles, and the whole catalogue compiles (no dependency cycles, every
# referenced resource declared), with no compiler, development package or
# test framework in it.
shared_examples 'a machine that builds nothing' do
  it 'has no compiler, development package or test framework' do
    BUILD_PACKAGES.each { |p| is_expected.not_to contain_package(p) }
    dev = catalogue.resources.select { |r| r.type == 'Package' && r.title.end_with?('-dev') }
    expect(dev.map(&:title)).to be_empty
    expect(catalogue.resources.map(&:title).grep(%r{build})).to be_empty
  end
end

describe 'ejabberd1.example', type: :host do
  let(:pre_condition) { SITE }
  let(:facts) { debian12_facts('ejabberd1.example', '192.168.56.11') }

  it { is_expected.to compile.with_all_deps }
  it { is_expected.to contain_class('chatadm::node') }
  it { is_expected.not_to contain_class('chatadm::cluster_member') }
  it { is_expected.not_to contain_class('haproxy') }
  it { is_expected.to contain_package('ejabberd-mod-unread') }

  it_behaves_like 'a machine that builds nothing'
end

describe 'ejabberd2.example', type: :host do
  let(:pre_condition) { SITE }
  let(:facts) { debian12_facts('ejabberd2.example', '192.168.56.12') }

  it { is_expected.to compile.with_all_deps }
  it { is_expected.to contain_class('chatadm::node') }
  it { is_expected.to contain_class('chatadm::cluster_member') }

  it_behaves_like 'a machine that builds nothing'
end

describe 'haproxy.example', type: :host do
  let(:pre_condition) { SITE }
  let(:facts) { debian12_facts('haproxy.example', '192.168.56.10') }

  it { is_expected.to compile.with_all_deps }
  it { is_expected.to contain_class('chatadm::lb') }
  it { is_expected.to contain_class('chatadm::balancer') }
  it { is_expected.to contain_class('chatadm::admin') }
  it { is_expected.not_to contain_package('ejabberd') }
  it { is_expected.to contain_file('/root/.config/chatadm/config') }
  it { is_expected.not_to contain_file('/home/vagrant/.config/chatadm/config') }
  it { is_expected.to contain_package('chatadm') }

  it_behaves_like 'a machine that builds nothing'

  context 'under Vagrant' do
    let(:facts) { super().merge('chatadm_platform' => 'vagrant') }

    it { is_expected.to compile.with_all_deps }
    it { is_expected.to contain_file('/home/vagrant/.config/chatadm/config').with_owner('vagrant').with_mode('0600') }
  end
end

describe 'unknown.example', type: :host do
  let(:pre_condition) { SITE }
  let(:facts) { debian12_facts('unknown.example', '192.168.56.99') }

  # A machine with no data gets no role rather than a half-configured one.
  it { is_expected.to compile.with_all_deps }
  it { is_expected.not_to contain_class('chatadm') }
end
