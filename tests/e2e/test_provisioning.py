"""Issue 5 end to end: three Debian 12 hosts (hosts.py: debootstrap +
systemd-nspawn on a bridge with the Vagrantfile's addresses) provisioned by the
same Puppet environment and Hiera data Vagrant uses, then used through the
haproxy host, as an operator would after `vagrant up`.

Not yet in CTest: the first three tests pass (first provisioning of all three
hosts, the cluster, send/unread through haproxy across nodes; ~6.5 min with a
cached image), but the second provisioning run of ejabberd_slave restarts
ejabberd, which then fails to come back within the run.

    sudo /usr/bin/python3 -m pytest -v tests/e2e/test_provisioning.py
"""

import pytest

import hosts

ORDER = ["ejabberd", "ejabberd_slave", "haproxy"]


def sh(host, command):
    p = hosts.inside(host, "sh", "-c", command, check=False, capture_output=True, text=True)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


@pytest.fixture(scope="module")
def deployment():
    hosts.up()
    try:
        first = {h: hosts.provision(h).returncode for h in ORDER}
        yield first
    finally:
        hosts.down()
        hosts.destroy()


def test_first_provisioning_applies_without_failures(deployment):
    # puppet apply --detailed-exitcodes: 2 = changes, 4/6 = failures.
    assert deployment == {h: 2 for h in ORDER}


def test_cluster_formed_and_chatadm_sees_both_nodes(deployment):
    rc, out, err = sh("ejabberd", "ejabberdctl list_cluster")
    assert rc == 0 and set(out.replace("'", "").split()) == {
        "ejabberd@ejabberd1.example", "ejabberd@ejabberd2.example"}, err
    rc, out, err = sh("haproxy", "chatadm status")
    assert rc == 0, err
    for node in ("ejabberd@ejabberd1.example", "ejabberd@ejabberd2.example"):
        assert any(node in line and "ready" in line for line in out.splitlines()), out


def test_send_and_unread_through_haproxy_across_nodes(deployment):
    for user in ("alice", "bob"):
        assert sh("ejabberd", f"ejabberdctl register {user} chat.example pw-{user}")[0] == 0
    rc, out, err = sh("haproxy", "chatadm send bob alice 'hello through haproxy'")
    assert rc == 0, err
    # Stored through the other node, counted through the first and haproxy.
    rc, out, err = sh("ejabberd_slave", "ejabberdctl send_message chat bob@chat.example "
                      "alice@chat.example '' 'via the second node'")
    assert rc == 0, err
    assert sh("ejabberd", "ejabberdctl unread_count alice")[1] == "2"
    assert sh("ejabberd_slave", "ejabberdctl unread_count alice")[1] == "2"
    rc, out, err = sh("haproxy", "chatadm unread alice")
    assert rc == 0 and "hello through haproxy" in out and "via the second node" in out, err
    assert sh("haproxy", "chatadm unread -c alice")[1] == "2"


def test_second_provisioning_changes_nothing(deployment):
    assert {h: hosts.provision(h).returncode for h in ORDER} == {h: 0 for h in ORDER}
