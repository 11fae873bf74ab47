require 'spec_helper'

describe 'chatadm::repo' do
  let(:node) { 'haproxy.example' }
  let(:facts) { debian12_facts('haproxy.example', '192.168.56.10') }

  it { is_expected.to compile.with_all_deps }

  it 'makes the synced repository an apt source' do
    is_expected.to contain_file('/etc/apt/sources.list.d/chatadm.list')
      .with_content(%r{^deb \[trusted=yes\] file:/srv/chatadm-apt \./$})
  end

  it "refreshes apt's index of that source alone, when a new build arrived" do
    is_expected.to contain_exec('chatadm apt update')
      .with_command(%r{^apt-get update -q -o=Dir::Etc::sourcelist=/etc/apt/sources\.list\.d/chatadm\.list -o=Dir::Etc::sourceparts=- })
      .with_unless('cmp -s /srv/chatadm-apt/Packages /var/lib/chatadm/repo-Packages')
      .that_requires('File[/etc/apt/sources.list.d/chatadm.list]')
  end

  context 'with another repository' do
    let(:params) { { 'path' => '/var/cache/chatadm-apt' } }

    it { is_expected.to contain_file('/etc/apt/sources.list.d/chatadm.list').with_content(%r{file:/var/cache/chatadm-apt \./$}) }
    it { is_expected.to contain_exec('chatadm apt update').with_unless('cmp -s /var/cache/chatadm-apt/Packages /var/lib/chatadm/repo-Packages') }
  end
end
