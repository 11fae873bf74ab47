"""Two ejabberd nodes joined in a cluster (ejabberdctl join_cluster): each
node's mod_unread follows changes made on either node, because mnesia reports
writes and deletes to every node holding a replica of offline_msg. This is the
mechanism the cluster work (issue 4) builds on; stock get_offline_count on the
other node is shown stale beside it (its cache is per node)."""

import subprocess
import time

import pytest

import harness

HOST = "localhost"


@pytest.fixture(scope="module")
def cluster():
    a = harness.Node(name="clustera", c2s_port=15722, api_port=15743)
    b = harness.Node(name="clusterb", c2s_port=15822, api_port=15843)
    a.start()
    b.start()
    try:
        a.register_admin()
        for u in ("alice", "bob"):
            a.register(u, "pw")
        b.ctl("join_cluster", a.node)
        b.wait_started()
        assert set(a.ctl("list_cluster").split()) == {a.node, b.node}
        yield a, b
    finally:
        b.stop()
        a.stop()


def counts(node, user):
    return int(node.ctl("unread_count", user)), node.store_count(user)


def wait_equal(nodes, user, timeout=5.0):
    """Both nodes' index equals the (replicated) store; returns the lag."""
    start = time.monotonic()
    while True:
        got = [counts(n, user) for n in nodes]
        if all(idx == store for idx, store in got) and len({s for _, s in got}) == 1:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            pytest.fail(f"{user}: (index, store) per node {got}")
        time.sleep(0.1)


def test_the_replica_was_indexed_at_join(cluster):
    a, b = cluster
    assert b.rpc("mnesia:table_info(offline_msg, storage_type)") == "disc_only_copies"
    # Each node reports its own index, through either node.
    for n in cluster:
        rows = n.api("unread_stats", {})
        assert {(r["node"], r["host"], r["state"]) for r in rows} == \
            {(a.node, HOST, "ready"), (b.node, HOST, "ready")}


def test_stores_on_either_node_reach_both_indexes(cluster):
    a, b = cluster
    a.ctl("send_message", "chat", "bob@localhost", "alice@localhost", "", "via A")
    b.ctl("send_message", "chat", "bob@localhost", "alice@localhost", "", "via B")
    wait_equal(cluster, "alice")
    assert counts(b, "alice") == (2, 2)
    bodies = {m["body"] for m in b.api("unread_list", {"user": "alice", "limit": 10,
                                                        "offset": 0, "from": ""})}
    assert bodies == {"via A", "via B"}


def test_hookless_delete_on_one_node_reaches_the_other(cluster):
    a, b = cluster
    a.ctl("delete_old_messages", "0")
    wait_equal(cluster, "alice")
    assert counts(b, "alice") == (0, 0)
    # Stock ejabberd's count on the other node still answers from its cache.
    print("stock get_offline_count on B:", b.ctl("get_offline_count", "alice", HOST))


def test_remove_user_on_b_reaches_a(cluster):
    a, b = cluster
    a.ctl("send_message", "chat", "alice@localhost", "bob@localhost", "", "bye")
    wait_equal(cluster, "bob")
    assert counts(a, "bob") == (1, 1)
    b.ctl("unregister", "bob", HOST)
    assert a.store_count("bob") == 0
    # bob is gone: no count, an error, on both nodes.
    for n in cluster:
        p = n.ctl("unread_count", "bob", check=False)
        assert p.returncode != 0 and "does not exist" in p.stdout
    assert "bob@localhost" not in a.ctl("unread_top", HOST, "10")


def test_chatadm_status_lists_every_node(cluster, tmp_path):
    a, b = cluster
    pw = tmp_path / "admin.pw"
    pw.write_text(harness.ADMIN_PASSWORD + "\n")
    pw.chmod(0o600)
    out = subprocess.run([str(harness.prefix() / "bin" / "chatadm"), "-h", f"{b.ip}:{b.api_port}",
                          "-C", str(b.ca), "-u", f"{harness.ADMIN}@{HOST}", "-P", str(pw), "status"],
                         capture_output=True, text=True, check=True).stdout
    for n in cluster:
        assert n.node in out
        assert any(n.node in line and "ready" in line for line in out.splitlines()), out
