"""Two ejabberd nodes behind haproxy (cluster.py), with mod_offline on
mnesia, or on one MariaDB or PostgreSQL database both nodes share. Whatever
path changes the offline store, on whichever node (or, on SQL, straight in
the database), both nodes' indexes agree with the store within a bounded
lag; the cluster survives a node crash, a node down behind the balancer, a
full restart, a node leaving and, on SQL, the database itself crashing."""

import json
import subprocess
import threading
import time

import pytest

import cluster as cl
import harness
import sqldb
import xmpp_client as xc

HOST = "localhost"
USERS = ["alice", "bob", "carol", "dave", "erin"]
QUEUE_LIMIT = 300
LAG_BOUND_S = 5.0


def pw(user):
    return f"pw-{user}"


STORES = ["mnesia", "mariadb", "postgres"]
SQL_STORES = ["mariadb", "postgres"]
DB_PORTS = {"mariadb": 25316, "postgres": 25442}


@pytest.fixture(scope="module", params=STORES)
def cluster(request):
    store = request.param
    if store == "mnesia":
        with cl.Cluster(queue_limit=QUEUE_LIMIT) as c:
            c.store = store
            for u in USERS:
                c.nodes[0].register(u, pw(u))
            yield c
        return
    with sqldb.make(store, DB_PORTS[store]) as db:
        with cl.Cluster(queue_limit=QUEUE_LIMIT, sql=db) as c:
            c.store, c.db = store, db
            for u in USERS:
                c.nodes[0].register(u, pw(u))
            yield c


def jid(u):
    return f"{u}@{HOST}"


def index_view(node, user):
    """What node's index says of user, through its HTTP API."""
    count = node.api("unread_count", {"user": user})["count"]
    listed = node.api("unread_list", {"user": user, "limit": 1000, "offset": 0, "from": ""})
    senders = node.api("unread_senders", {"user": user})
    return count, sorted(m["id"] for m in listed), sorted((s["sender"], s["count"]) for s in senders)


def agreed(c, user):
    """Both nodes' index views of user equal each other and the store."""
    store = c.nodes[0].store_count(user)
    views = [index_view(n, user) for n in c.nodes]
    return all(v == views[0] for v in views) and views[0][0] == store == len(views[0][1])


def wait_agreed(c, users, what):
    start = time.monotonic()
    while not all(agreed(c, u) for u in users):
        if time.monotonic() - start > LAG_BOUND_S:
            views = {n.node: {u: index_view(n, u)[0] for u in users} for n in c.nodes}
            pytest.fail(f"{what}: indexes {views}, store "
                        f"{ {u: c.nodes[0].store_count(u) for u in users} }")
        time.sleep(0.05)
    # Per host totals and top users agree too.
    tops = [n.api("unread_top", {"host": HOST, "limit": 10}) for n in c.nodes]
    assert tops[0] == tops[1], what
    totals = {(r["node"], r["total"]) for r in c.nodes[0].api("unread_stats", {})}
    assert len({t for _, t in totals}) == 1, f"{what}: totals {totals}"
    return time.monotonic() - start


def send_via(node, sender, to, bodies, **kw):
    return xc.send_messages((node.ip, node.c2s_port), node.ca, jid(sender), pw(sender),
                            jid(to), bodies, **kw)


@pytest.mark.parametrize("on", [0, 1], ids=["on-A", "on-B"])
def test_every_mutation_path_is_seen_by_both_nodes(cluster, on):
    c = cluster
    x = c.nodes[on]
    lags = {}
    x.ctl("send_message", "chat", jid("bob"), jid("alice"), "", "via send_message")
    lags["send_message"] = wait_agreed(c, ["alice"], "send_message")
    send_via(x, "carol", "alice", ["client 1", "client 2"])
    lags["client store"] = wait_agreed(c, ["alice"], "client store")
    errors = send_via(x, "alice", "bob", [f"q{i}" for i in range(QUEUE_LIMIT + 3)])
    assert len(errors) >= 3
    lags["queue full"] = wait_agreed(c, ["bob"], "queue full")
    got = xc.receive_offline((x.ip, x.c2s_port), x.ca, jid("bob"), pw("bob"))
    assert len(got) == QUEUE_LIMIT
    lags["login delivery"] = wait_agreed(c, ["bob"], "login delivery")
    send_via(x, "erin", "dave", ["d1", "d2", "d3"])
    nodes = xc.xep0013((x.ip, x.c2s_port), x.ca, jid("dave"), pw("dave"), "items")
    xc.xep0013((x.ip, x.c2s_port), x.ca, jid("dave"), pw("dave"), "remove", nodes[:1])
    lags["xep0013 remove"] = wait_agreed(c, ["dave"], "xep0013 remove")
    xc.xep0013((x.ip, x.c2s_port), x.ca, jid("dave"), pw("dave"), "purge")
    lags["xep0013 purge"] = wait_agreed(c, ["dave"], "xep0013 purge")
    send_via(x, "erin", "carol", ["expiring"], extra_xml="<x xmlns='jabber:x:expire' seconds='1'/>")
    time.sleep(1.5)
    x.ctl("delete_expired_messages")
    lags["delete_expired_messages"] = wait_agreed(c, ["carol"], "delete_expired")
    x.ctl("delete_old_messages", "0")
    lags["delete_old_messages"] = wait_agreed(c, USERS, "delete_old_messages")
    send_via(x, "alice", "erin", ["to be removed"])
    x.ctl("unregister", "erin", HOST)
    assert c.nodes[1 - on].store_count("erin") == 0
    x.register("erin", pw("erin"))
    lags["remove_user"] = wait_agreed(c, ["erin"], "remove_user")
    send_via(x, "alice", "carol", ["before restart_module"])
    x.ctl("restart_module", HOST, "mod_unread")
    lags["restart_module"] = wait_agreed(c, USERS, "restart_module")
    print(f"lag on {x.node} -> both (s, including polling): "
          + ", ".join(f"{k} {v:.3f}" for k, v in lags.items()))


LAG_PROBE = """
B = list_to_atom("{other}"), Host = <<"localhost">>, JID = <<"admin@localhost">>,
From = <<"lagprobe@localhost">>,
Now = fun() -> erlang:monotonic_time(microsecond) end,
Wait = fun W(Expected, T0) ->
    case erpc:call(B, mod_unread_commands, unread_count, [JID]) of
        Expected -> Now() - T0;
        _ -> W(Expected, T0)
    end end,
mod_offline:remove_user(<<"admin">>, Host),
_ = Wait(0, Now()),
Stores = [begin
     T0 = Now(),
     mod_admin_extra:send_message(<<"chat">>, From, JID, <<>>, integer_to_binary(I)),
     Wait(I, T0)
 end || I <- lists:seq(1, {n_store})],
Ids = [Seq || {{Seq, _, _, _, _}} <- mod_offline_{db}:read_message_headers(<<"admin">>, Host)],
Removes = [begin
     T0 = Now(),
     mod_offline_{db}:remove_message(<<"admin">>, Host, Seq),
     Wait({n_store} - K, T0)
 end || {{K, Seq}} <- lists:zip(lists:seq(1, length(Ids)), Ids)],
Stores ++ Removes
"""


def test_cross_node_lag_over_500_changes(cluster):
    c = cluster
    a, b = c.nodes
    db = "mnesia" if c.store == "mnesia" else "sql"
    out = a.rpc(LAG_PROBE.format(other=b.node, n_store=300, db=db), timeout=600)
    lags = json.loads(out.replace("\n", "").replace(" ", ""))
    assert len(lags) == 600
    lags.sort()
    p50, p99, mx = (lags[len(lags) // 2], lags[int(len(lags) * 0.99)], lags[-1])
    print(f"{c.store}: cross-node lag over {len(lags)} changes (store on A, seen by B's unread_count): "
          f"p50 {p50} µs, p99 {p99} µs, max {mx} µs")
    assert mx < 1_000_000, "every change reached the other node within a second"


def chatadm(c, *args, host=None):
    return subprocess.run([str(harness.prefix() / "bin" / "chatadm"), "-h", host or c.lb_api,
                           "-C", str(c.ca[0]), "-u", f"{harness.ADMIN}@{HOST}", "-P",
                           str(c.dir / "admin.pw"), *args], capture_output=True, text=True,
                          timeout=30)


@pytest.fixture(scope="module")
def admin_pw(cluster):
    p = cluster.dir / "admin.pw"
    p.write_text(harness.ADMIN_PASSWORD + "\n")
    p.chmod(0o600)
    return p


def test_chatadm_through_haproxy(cluster, admin_pw):
    c = cluster
    assert chatadm(c, "send", "bob", "alice", "through the balancer").returncode == 0
    status = chatadm(c, "status")
    assert status.returncode == 0, status.stderr
    for n in c.nodes:
        assert any(n.node in l and "ready" in l for l in status.stdout.splitlines()), status.stdout
        # Both nodes answered through haproxy, each in a cluster of two.
        assert f"answered:   {n.node} (2 in its cluster)" in status.stdout, status.stdout
    count = chatadm(c, "unread", "-c", "alice")
    assert count.returncode == 0 and int(count.stdout) == c.nodes[1].store_count("alice")


def test_balancer_marks_a_dead_node_down_and_keeps_serving(cluster, admin_pw):
    c = cluster
    a, b = c.nodes
    failures, calls = [], 0
    stop = threading.Event()

    def poll():
        nonlocal calls
        while not stop.is_set():
            p = chatadm(c, "unread", "-c", "alice")
            calls += 1
            if p.returncode != 0:
                failures.append(p.stderr)
            time.sleep(0.05)

    t = threading.Thread(target=poll)
    t.start()
    try:
        time.sleep(0.5)
        killed = time.monotonic()
        b.kill()
        took = c.wait_backends({b.name: "DOWN"}, timeout=10)
        bound = c.check_interval_ms * 2 / 1000 + 2.0
        print(f"haproxy marked {b.name} down {took:.2f} s after kill -9 (bound {bound:.1f} s)")
        assert time.monotonic() - killed < bound
        # status through haproxy, answered by A alone, names B down.
        status = chatadm(c, "status")
        assert status.returncode == 5, (status.stdout, status.stderr)
        assert f"node {b.node} is down" in status.stderr, status.stderr
        # Clients still get in, on A.
        assert send_via(a, "carol", "dave", ["while B is down"]) == []
        assert xc.send_messages(c.lb_xmpp, c.ca[0], jid("carol"), pw("carol"), jid("dave"),
                                ["through haproxy, B down"]) == []
        time.sleep(1)
    finally:
        stop.set()
        t.join()
    assert calls > 5
    # Requests that hit B in the moment it died may fail; after haproxy's
    # checks took B out, every one succeeded.
    assert len(failures) <= 2, failures
    b.ctl("start")
    b.wait_started()
    c.wait_backends({b.name: "UP"}, timeout=20)
    wait_agreed(c, USERS, "B back after kill -9")


STREAM_TARGETS = ["alice", "carol", "dave", "erin"]


def start_stream(c):
    """Empties the targets' queues, then streams 1,000 messages from bob
    through haproxy in a thread: 250 per target, each with a unique body,
    under the queue limit. Returns the thread and its result: "bounced"
    (how many the server refused), or "error" if the client's own node or
    session went away."""
    for u in STREAM_TARGETS:
        c.nodes[0].rpc(f'mod_offline:remove_user(<<"{u}">>, <<"{HOST}">>)')
    result = {}

    def stream():
        try:
            result["bounced"] = sum(
                len(xc.send_messages(c.lb_xmpp, c.ca[0], jid("bob"), pw("bob"), jid(u),
                                     [f"{u}-{i}" for i in range(250)]))
                for u in STREAM_TARGETS)
        except Exception as e:
            result["error"] = e

    t = threading.Thread(target=stream)
    t.start()
    return t, result


def test_crash_while_streaming_loses_nothing(cluster):
    c = cluster
    a, b = c.nodes
    t, result = start_stream(c)
    time.sleep(0.5)
    b.kill()
    t.join()
    stored = sum(a.store_count(u) for u in STREAM_TARGETS)
    if "bounced" in result:
        # The client's session survived: every message the server answered
        # for (the roster barrier after each batch) is in the store.
        assert stored == 1000 - result["bounced"], (stored, result)
        assert result["bounced"] == 0
    else:
        print(f"client was on the killed node: {result['error']!r}; {stored} stored")
        assert stored <= 1000
    b.ctl("start")
    b.wait_started()
    c.wait_backends({b.name: "UP"}, timeout=20)
    wait_agreed(c, USERS, "after crash during stream")
    assert sum(b.api("unread_count", {"user": u})["count"] for u in STREAM_TARGETS) == stored


def test_whole_cluster_restart_rebuilds(cluster):
    c = cluster
    expected = {u: c.nodes[0].store_count(u) for u in USERS}
    for n in reversed(c.nodes):
        n.stop()
    for n in c.nodes:
        n.ctl("start")
    for n in c.nodes:
        n.wait_started()
    assert {u: c.nodes[1].store_count(u) for u in USERS} == expected
    wait_agreed(c, USERS, "whole cluster restart")
    rows = c.nodes[0].api("unread_stats", {})
    assert {r["node"] for r in rows if r["state"] == "ready"} == {n.node for n in c.nodes}


# ---- SQL only: the database itself changes, stops, comes back

def wait_agreed_long(c, users, what, bound_s=60):
    """wait_agreed, after giving both nodes up to bound_s to reconnect to a
    database that came back (ejabberd's pool, then each node's reader)."""
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            if all(agreed(c, u) for u in users):
                break
        except Exception:  # a node's SQL pool still reconnecting
            pass
        time.sleep(0.2)
    return wait_agreed(c, users, what)


def states(c):
    return {(r["node"], r["state"].split(":")[0]) for r in c.nodes[0].api("unread_stats", {})}


@pytest.mark.parametrize("cluster", SQL_STORES, indirect=True)
def test_dba_statements_are_seen_by_both_nodes(cluster):
    c = cluster
    a, b = c.nodes
    for u in USERS:
        a.rpc(f'mod_offline:remove_user(<<"{u}">>, <<"{HOST}">>)')
    send_via(a, "bob", "alice", ["dba-1", "dba-2", "dba-3"])
    wait_agreed(c, ["alice"], "stored through A")
    stock_before = int(b.ctl("get_offline_count", "alice", HOST))
    c.db.execute("DELETE FROM spool WHERE username = 'alice' AND xml LIKE '%dba-2%'")
    lag = wait_agreed(c, ["alice"], "a DBA's DELETE")
    assert [m["body"] for m in b.api("unread_list", {"user": "alice", "limit": 10, "offset": 0,
                                                     "from": ""})] == ["dba-3", "dba-1"]
    c.db.insert_spool_row("alice", HOST, sqldb.offline_message_xml(
        "carol@localhost", "alice@localhost", "written by hand"))
    wait_agreed(c, ["alice"], "a DBA's INSERT")
    assert b.api("unread_senders", {"user": "alice"}) == [
        {"sender": jid("bob"), "count": 2}, {"sender": jid("carol"), "count": 1}]
    c.db.execute("UPDATE spool SET xml = REPLACE(xml, 'dba-1', 'edited') "
                 "WHERE username = 'alice' AND xml LIKE '%dba-1%'")
    wait_agreed(c, ["alice"], "a DBA's UPDATE")
    bodies = {m["body"] for m in a.api("unread_list", {"user": "alice", "limit": 10,
                                                       "offset": 0, "from": ""})}
    assert bodies == {"edited", "dba-3", "written by hand"}
    print(f"{c.store}: a DBA's DELETE reached both indexes in {lag:.3f} s; stock "
          f"get_offline_count on B said {stock_before} before it and "
          f"{b.ctl('get_offline_count', 'alice', HOST)} after (its cache)")


@pytest.mark.parametrize("cluster", SQL_STORES, indirect=True)
def test_database_outage_is_shown_and_caught_up_without_rebuild(cluster, admin_pw):
    c = cluster
    a, b = c.nodes
    send_via(a, "bob", "erin", ["before the outage"])
    wait_agreed(c, USERS, "before the outage")
    rebuilt = {(r["node"], r["last_rebuild"]) for r in a.api("unread_stats", {})}
    c.db.kill()
    deadline = time.monotonic() + 20
    while states(c) != {(n.node, "stale") for n in c.nodes}:
        assert time.monotonic() < deadline, f"not shown stale: {states(c)}"
        time.sleep(0.2)
    # The index still answers, from what it last knew.
    assert b.api("unread_count", {"user": "erin"})["count"] == 1
    status = chatadm(c, "status")
    assert status.returncode == 5 and "is stale: store unreachable since" in status.stderr, \
        (status.stdout, status.stderr)
    # Back, and changed before any node reads it: a DBA's statements.
    c.db.restart()
    c.db.execute("DELETE FROM spool WHERE username = 'erin'")
    c.db.insert_spool_row("dave", HOST, sqldb.offline_message_xml(
        "bob@localhost", "dave@localhost", "while the nodes were away"))
    wait_agreed_long(c, USERS, "after the outage")
    assert b.api("unread_count", {"user": "dave"})["count"] == c.nodes[0].store_count("dave")
    assert states(c) == {(n.node, "ready") for n in c.nodes}
    # Caught up from the change log, not by reading spool again.
    assert {(r["node"], r["last_rebuild"]) for r in a.api("unread_stats", {})} == rebuilt


@pytest.mark.parametrize("cluster", SQL_STORES, indirect=True)
def test_database_crash_while_streaming_loses_nothing(cluster):
    c = cluster
    a, b = c.nodes
    t, result = start_stream(c)
    time.sleep(1.0)
    c.db.kill()
    time.sleep(2.0)
    c.db.restart()
    t.join()
    wait_agreed_long(c, USERS, "after the database crashed during a stream")
    stored = sum(a.store_count(u) for u in STREAM_TARGETS)
    for n in c.nodes:
        assert sum(n.api("unread_count", {"user": u})["count"] for u in STREAM_TARGETS) == stored
    print(f"{c.store}: database killed during 1,000 messages: {stored} stored, "
          f"client: {result}")
    assert 0 < stored <= 1000


# Last: B leaves the cluster for good.
def test_leave_cluster_stops_counting_the_node(cluster):
    c = cluster
    a, b = c.nodes
    b.ctl("leave_cluster", b.node)
    deadline = time.monotonic() + 30
    while b.node in a.ctl("list_cluster").split():
        assert time.monotonic() < deadline, "B is still listed"
        time.sleep(0.5)
    rows = a.api("unread_stats", {})
    assert {r["node"] for r in rows} == {a.node}
    assert all(agreed_single(a, u) for u in USERS)


def agreed_single(node, user):
    count, ids, _ = index_view(node, user)
    return count == node.store_count(user) == len(ids)
