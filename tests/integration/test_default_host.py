"""Bare user names on a node with two virtual hosts. Commands resolve them to
mod_unread's default host: the first host in ejabberd.yml where the module
runs, unless `default_host` names another. The cached choice follows the
module being stopped and started on a host."""

import json
import os
import subprocess

import harness

HOSTS = ("localhost", "example.org")


def leave_messages(node, counts):
    for host, n in counts.items():
        node.register("alice", "pw-alice", host)
        for i in range(n):
            node.ctl("send_message", "chat", f"bob@{host}", f"alice@{host}", "", f"m{i}")


def test_bare_names_go_to_the_first_host_running_the_module():
    with harness.Node(name="vhosts1", c2s_port=15622, api_port=15643, hosts=HOSTS) as node:
        leave_messages(node, {"localhost": 1, "example.org": 2})
        assert node.ctl("unread_count", "alice").strip() == "1"
        assert node.ctl("unread_count", "alice@example.org").strip() == "2"
        node.rpc('gen_mod:stop_module(<<"localhost">>, mod_unread)')
        # example.org is now the first (and only) host running the module.
        assert node.ctl("unread_count", "alice").strip() == "2"
        node.rpc('gen_mod:start_module(<<"localhost">>, mod_unread)')
        assert node.ctl("unread_count", "alice").strip() == "1"


def test_default_host_option_names_the_host():
    with harness.Node(name="vhosts2", c2s_port=15722, api_port=15743, hosts=HOSTS,
                      module_opts={"default_host": "example.org"}) as node:
        leave_messages(node, {"localhost": 1, "example.org": 2})
        assert node.ctl("unread_count", "alice").strip() == "2"
        assert node.ctl("unread_count", "alice@localhost").strip() == "1"


def test_chatadm_sender_filter_uses_the_servers_default_host(tmp_path):
    """chatadm sends bare names as given; the server qualifies the user and
    the -f sender alike with default_host (the second vhost here), not with
    the first registered vhost."""
    with harness.Node(name="vhosts3", c2s_port=16222, api_port=16243, hosts=HOSTS,
                      module_opts={"default_host": "example.org"}) as node:
        node.register_admin()
        node.register("alice", "pw-alice", "example.org")
        for host in HOSTS:
            node.register("bob", "pw-bob", host)
        node.ctl("send_message", "chat", "bob@localhost", "alice@example.org", "", "from local bob")
        for i in range(2):
            node.ctl("send_message", "chat", "bob@example.org", "alice@example.org", "", f"org {i}")
        pw = tmp_path / "admin.pw"
        pw.write_text(harness.ADMIN_PASSWORD + "\n")
        pw.chmod(0o600)

        def chatadm(*args):
            argv = [str(harness.prefix() / "bin" / "chatadm"), "-h",
                    f"{node.ip}:{node.api_port}", "-C", str(node.ca),
                    "-u", f"{harness.ADMIN}@localhost", "-P", str(pw), *args]
            env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}
            p = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
            assert p.returncode == 0, (args, p.stderr)
            return p.stdout

        assert chatadm("unread", "-c", "-f", "bob", "alice").strip() == "2"
        assert json.loads(chatadm("-j", "unread", "-c", "-f", "bob", "alice"))["sender"] \
            == "bob@example.org"
        listed = json.loads(chatadm("-j", "unread", "-f", "bob", "alice"))
        listed = listed["messages"] if isinstance(listed, dict) else listed
        assert sorted(m["from"] for m in listed) == ["bob@example.org"] * 2
        assert chatadm("unread", "-c", "-f", "bob@localhost", "alice").strip() == "1"
