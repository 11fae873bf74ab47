"""Provisioning end to end: three Debian 12 hosts (hosts.py: debootstrap +
systemd-nspawn on a bridge with the Vagrantfile's addresses) provisioned by the
same Puppet environment and Hiera data Vagrant uses, then used through the
haproxy host, as an operator would after `vagrant up`: on the haproxy machine
(`vagrant ssh haproxy -c 'chatadm ...'`) and from the host with the
deployment's secrets, as README.md shows.

    sudo /usr/bin/python3 -m pytest -v tests/e2e/test_provisioning.py

Each host's Puppet output is in /var/cache/chatadm-e2e/<machine>.puppet.log.
"""

import os
import subprocess
import time
from pathlib import Path

import pytest

import hosts
import xmpp_client

MACHINES = ["ejabberd", "ejabberd_slave", "haproxy"]
NODES = {"ejabberd@ejabberd1.example", "ejabberd@ejabberd2.example"}
HAPROXY_API = "192.168.56.10:5443"
HAPROXY_XMPP = ("192.168.56.10", 5222)
# The deployment's secrets as an operator's workstation holds them
# (.vagrant/chatadm-secrets under Vagrant).
SECRETS = hosts.CACHE / "secrets"
CA = SECRETS / "ca/ca.pem"


def sh(host, command):
    p = hosts.inside(host, "sh", "-c", command, check=False, capture_output=True, text=True)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def host_chatadm():
    """The chatadm this build made, as an operator's workstation would have."""
    prefix = os.environ.get("CHATADM_PREFIX")
    candidates = [Path(prefix) / "bin/chatadm"] if prefix else []
    candidates.append(hosts.REPO / "build/prefix/bin/chatadm")
    for c in candidates:
        if c.exists():
            return c
    raise RuntimeError("no chatadm binary: run `cmake --install build --prefix build/prefix` "
                       "or set CHATADM_PREFIX")


def from_host(*args, ca=True, password_file=SECRETS / "admin.password"):
    argv = [host_chatadm(), "-h", HAPROXY_API, "-u", "admin@chat.example", "-P", password_file]
    if ca:
        argv += ["-C", CA]
    # No chatadm config of the test machine's own user may leak in.
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent"}
    return subprocess.run([str(a) for a in argv + list(args)], capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.fixture(scope="module")
def deployment():
    """Brings the machines up in an order Vagrant users may choose, one at a
    time or in parallel. Yields each run's exit status, and what the slave
    looked like when it had been provisioned alone."""
    hosts.up()
    try:
        codes, alone = {}, {}
        # The balancer before any node.
        codes["haproxy"] = hosts.provision("haproxy")
        # The slave alone: there is no first node to join, so its run fails,
        # saying so, and ejabberd runs there on its own. (Its wait for the
        # first node is cut from 30 minutes to 20 s for this run only:
        # puppet/data/platform/e2e-alone.yaml.)
        codes["slave alone"] = hosts.provision("ejabberd_slave", platform="e2e-alone")
        alone["cluster"] = sh("ejabberd_slave", "ejabberdctl list_cluster")[1]
        alone["service"] = sh("ejabberd_slave", "systemctl is-active ejabberd")[1]
        # Then the slave again, in parallel with the first node's first run
        # (as `vagrant up --parallel` would), started before it: the join
        # waits for the first node's API.
        slave = hosts.start_provisioning("ejabberd_slave")
        time.sleep(5)
        codes["ejabberd"] = hosts.provision("ejabberd")
        codes["slave again"] = slave.wait()
        yield {"codes": codes, "alone": alone}
    finally:
        hosts.down()
        hosts.destroy()


def test_provisioning_in_any_order_fails_only_where_the_join_cannot_happen(deployment):
    # puppet apply --detailed-exitcodes: 2 = changes, 4 = failures, 6 =
    # changes and failures. The slave alone installs everything (changes)
    # and cannot join (failure); its second run changes things: it joins.
    assert deployment["codes"] == {"haproxy": 2, "slave alone": 6, "ejabberd": 2,
                                   "slave again": 2}, \
        f"see {[str(hosts.puppet_log(h)) for h in MACHINES]}"


def first_run_of_slave_alone():
    log = hosts.puppet_log("ejabberd_slave").read_text()
    return log.split("==== puppet apply on ejabberd_slave")[1]


def test_slave_without_first_node_fails_clearly_and_joins_when_provisioned_again(deployment):
    log = first_run_of_slave_alone()
    assert ("ERROR: ejabberd@ejabberd1.example did not answer at "
            "https://ejabberd1.example:5443/api/status within 20s") in log, log[-3000:]
    assert "is NOT in its cluster" in log
    assert "Error: " in log and "chatadm join cluster of ejabberd@ejabberd1.example" in log
    # It runs on its own meanwhile, and the next run joins (test below).
    alone = deployment["alone"]
    assert alone["cluster"].replace("'", "").split() == ["ejabberd@ejabberd2.example"]
    assert alone["service"] == "active"


def test_packages_come_from_the_repository_and_nothing_is_compiled(deployment):
    repo = hosts.packages()
    built = {line.split(": ", 1)[1] for line in (repo / "Packages").read_text().splitlines()
             if line.startswith("Version: ")}
    assert len(built) == 1, built
    [version] = built
    for host, pkg in [("ejabberd", "ejabberd-mod-unread"), ("ejabberd_slave", "ejabberd-mod-unread"),
                      ("haproxy", "chatadm")]:
        rc, out, err = sh(host, f"dpkg-query -W -f '${{Status}} ${{Version}}' {pkg}")
        assert (rc, out) == (0, f"install ok installed {version}"), (host, pkg, out, err)
    for host in MACHINES:
        rc, out, _ = sh(host, "for c in gcc g++ cc c++ cpp cmake make; do command -v $c; done")
        assert out == "", (host, out)
        rc, out, _ = sh(host, "dpkg-query -W -f '${Package} ${Status}\\n' | "
                              "awk '$NF == \"installed\" && $1 ~ /-dev$/ { print $1 }'")
        assert out == "", (host, out)


def test_cluster_formed_and_chatadm_sees_both_nodes(deployment):
    for host in ("ejabberd", "ejabberd_slave"):
        rc, out, err = sh(host, "ejabberdctl list_cluster")
        assert rc == 0 and set(out.replace("'", "").split()) == NODES, (host, out, err)
    rc, out, err = sh("haproxy", "chatadm status")
    assert rc == 0, err
    for node in NODES:
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


def modes(host, *paths):
    rc, out, err = sh(host, "stat -c '%n %a %U %G' " + " ".join(paths))
    assert rc == 0, err
    return {line.split()[0]: tuple(line.split()[1:]) for line in out.splitlines()}


def test_secrets_are_not_world_readable(deployment):
    assert modes("haproxy", "/root/.config/chatadm/config", "/root/.config/chatadm/admin.password",
                 "/etc/chatadm/haproxy.pem", "/etc/chatadm-secrets") == {
        "/root/.config/chatadm/config": ("600", "root", "root"),
        "/root/.config/chatadm/admin.password": ("600", "root", "root"),
        "/etc/chatadm/haproxy.pem": ("600", "root", "root"),
        "/etc/chatadm-secrets": ("700", "root", "root"),
    }
    for host in ("ejabberd", "ejabberd_slave"):
        assert modes(host, "/var/lib/ejabberd/.erlang.cookie", "/etc/ejabberd/chatadm.pem",
                     "/etc/chatadm-secrets") == {
            "/var/lib/ejabberd/.erlang.cookie": ("400", "ejabberd", "ejabberd"),
            "/etc/ejabberd/chatadm.pem": ("640", "root", "ejabberd"),
            "/etc/chatadm-secrets": ("700", "root", "root"),
        }, host


def test_api_through_haproxy_refuses_wrong_or_missing_credentials(deployment, tmp_path):
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    wrong.chmod(0o600)
    p = from_host("unread", "-c", "admin", password_file=wrong)
    assert p.returncode == 3, (p.returncode, p.stderr)
    # No credentials at all: only `status` is open to callers without any.
    p = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "--cacert", str(CA),
                        "-X", "POST", "-H", "Content-Type: application/json",
                        "-d", '{"user":"admin@chat.example"}',
                        f"https://{HAPROXY_API}/api/unread_count"], capture_output=True, text=True)
    body, _, code = p.stdout.rpartition("\n")
    assert code == "403" and "AccessRules" in body, (p.stdout, p.stderr)


def test_chatadm_from_the_host_through_haproxy(deployment):
    p = from_host("status")
    assert p.returncode == 0, p.stderr
    for node in NODES:
        assert node in p.stdout, p.stdout
    p = from_host("send", "bob", "alice", "from the host")
    assert p.returncode == 0, p.stderr
    p = from_host("unread", "-c", "alice")
    assert (p.returncode, p.stdout.strip()) == (0, "3"), p.stderr
    # Without the deployment's CA the balancer's certificate is not trusted.
    p = from_host("status", ca=False)
    assert p.returncode == 1 and "certificate" in p.stderr.lower(), p.stderr


def test_xmpp_clients_through_haproxy(deployment):
    errors = xmpp_client.send_messages(HAPROXY_XMPP, CA, "bob@chat.example", "pw-bob",
                                       "alice@chat.example", ["over XMPP"])
    assert errors == []
    assert from_host("unread", "-c", "alice").stdout.strip() == "4"
    # Logging in delivers the stored messages, and both indexes drop them.
    got = xmpp_client.receive_offline(HAPROXY_XMPP, CA, "alice@chat.example", "pw-alice")
    assert sorted(m["body"] for m in got) == sorted(
        ["hello through haproxy", "via the second node", "from the host", "over XMPP"])
    for host in ("ejabberd", "ejabberd_slave"):
        assert sh(host, "ejabberdctl unread_count alice")[1] == "0", host


def test_second_provisioning_changes_nothing(deployment):
    assert {h: hosts.provision(h) for h in MACHINES} == {h: 0 for h in MACHINES}, \
        f"see {[str(hosts.puppet_log(h)) for h in MACHINES]}"
