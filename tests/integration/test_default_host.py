"""Bare user names on a node with two virtual hosts. Commands resolve them to
mod_unread's default host: the first host in ejabberd.yml where the module
runs, unless `default_host` names another. The cached choice follows the
module being stopped and started on a host."""

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
