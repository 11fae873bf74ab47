"""Purge by sender on a two-node cluster behind haproxy, on mnesia (the
offline table on both nodes) and on MariaDB (one database shared by both
nodes, port 23306): a spammer logged in on one node, legitimate
senders on the other. The dry run through the load balancer equals the
store; the purge, run on one node, removes exactly the spam, and afterwards
both nodes' indexes and both nodes' get_offline_count caches (filled before
the purge) equal the store; a second purge through the other node removes
nothing; a user logging in on the other node receives only the legitimate
messages. Backlog health, asked of either node or the load balancer, gives
the store's numbers, and a user filled to the limit through one node is at
its limit on the other.

Own addresses and ports: nodes 127.0.0.32/127.0.0.33 (purge1, purge2),
haproxy 127.0.0.34, c2s 23522, api 23543."""

import json
import ssl
import time
import urllib.request
from base64 import b64encode
from collections import Counter

import pytest

import contextlib

import cluster
import harness
import sqldb
import xmpp_client as xc
from test_purge import (HOST, PASSWORD, USERS, bare, jid, matching, register_many,
                        send_many, store_messages, summary, top_of)


@pytest.fixture(scope="module", params=["mnesia", "mariadb"])
def purge_cluster(request):
    with contextlib.ExitStack() as stack:
        db = (stack.enter_context(sqldb.make(request.param, 23306))
              if request.param != "mnesia" else None)
        c = cluster.Cluster(node_ips=("127.0.0.32", "127.0.0.33"), lb_ip="127.0.0.34",
                            c2s_port=23522, api_port=23543, queue_limit=200, sql=db)
        for i, n in enumerate(c.nodes):
            n.name = f"purge{i + 1}"
            n.node = f"{n.name}@{n.ip}"
        stack.enter_context(c)
        c.wait_backends({n.name: "UP" for n in c.nodes})
        register_many(c.nodes[0], HOST, USERS + ["bob", "carol", "spam"])
        yield c


def lb_api(c, command, args):
    ctx = ssl.create_default_context(cafile=str(c.nodes[0].ca))
    req = urllib.request.Request(f"https://{c.lb_ip}:{c.api_port}/api/{command}",
                                 data=json.dumps(args).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    cred = f"{harness.ADMIN}@{HOST}:{harness.ADMIN_PASSWORD}"
    req.add_header("Authorization", "Basic " + b64encode(cred.encode()).decode())
    with urllib.request.urlopen(req, context=ctx, timeout=60) as r:
        return json.loads(r.read().decode() or "null")


def counts_everywhere(c):
    """Per node: (index counts, mod_offline's cached counts) of every user."""
    names = [jid(u) for u in USERS + ["bob", "carol", "spam"]]
    users = ",".join(f'<<"{n.split("@")[0]}">>' for n in names)
    out = []
    for n in c.nodes:
        index = {r["user"]: r["count"] for r in n.api("unread_counts", {"users": names})}
        stock = json.loads(n.rpc(
            'iolist_to_binary(["[", lists:join(",", [integer_to_binary('
            f'mod_offline:count_offline_messages(U, <<"{HOST}">>)) || U <- [{users}]]), "]"])'
        )[3:-3])
        out.append((index, dict(zip(names, stock))))
    return out


def truth_per_user(c):
    per = Counter()
    for (u, _), k in store_messages(c.nodes[0]).items():
        per[u] += k
    return per


def wait_in_step(c, timeout=30):
    deadline = time.time() + timeout
    while True:
        truth = truth_per_user(c)
        names = [jid(u) for u in USERS + ["bob", "carol", "spam"]]
        expected = {n: truth.get(n, 0) for n in names}
        got = counts_everywhere(c)
        if all(index == expected and stock == expected for index, stock in got):
            return
        assert time.time() < deadline, f"nodes disagree with the store: {got} vs {expected}"
        time.sleep(0.3)


def test_purge_on_one_node_keeps_both_nodes_exact(purge_cluster):
    c = purge_cluster
    a, b = c.nodes
    # The spammer on node b, legitimate senders on node a.
    send_many(b, "spam", [(jid(u), f"spam {k}") for u in USERS[:25] for k in range(4)])
    send_many(a, "bob", [(jid(u), f"hi {u}") for u in USERS[::2]])
    send_many(a, "carol", [(jid(u), f"lunch {u}") for u in USERS[:10]])
    deadline = time.time() + 30
    while sum(store_messages(a).values()) != 100 + 20 + 10:
        assert time.time() < deadline
        time.sleep(0.3)
    # Fills both nodes' count caches, and checks them with the indexes.
    wait_in_step(c)
    before = store_messages(a)
    assert store_messages(b) == before
    spam = matching(before, lambda s: s == jid("spam"))
    messages, per_user = summary(spam)
    r = lb_api(c, "unread_purge_sender", {"host": "", "sender": "spam@localhost",
                                          "dry_run": 1, "limit": 5})
    assert r == {"dry_run": 1, "messages": messages, "users": len(per_user),
                 "top": top_of(per_user, 5)}
    # The same answer from each node's own index.
    for n in c.nodes:
        assert n.api("unread_purge_sender", {"host": "", "sender": "spam@localhost",
                                             "dry_run": 1, "limit": 5}) == r
    removed = a.api("unread_purge_sender", {"host": "", "sender": "spam@localhost",
                                            "dry_run": 0, "limit": 5})
    assert (removed["messages"], removed["users"]) == (messages, len(per_user))
    assert store_messages(a) == before - spam
    assert store_messages(b) == before - spam
    # Node b's index followed the store, and its count cache was flushed.
    wait_in_step(c)
    again = b.api("unread_purge_sender", {"host": "", "sender": "spam@localhost",
                                          "dry_run": 0, "limit": 5})
    assert (again["messages"], again["users"]) == (0, 0)
    got = xc.receive_offline((b.ip, b.c2s_port), b.ca, jid("u0"), PASSWORD.format("u0"))
    assert Counter(bare(m["from"]) for m in got) == Counter({jid("bob"): 1, jid("carol"): 1})
    wait_in_step(c)
    for n in c.nodes:
        assert n.ctl("unread_resync") == ""


HEALTH_BOUNDS = [1, 5, 10, 50, 100, 500, 1000, 5000]


def test_health_is_the_same_through_either_node(purge_cluster):
    """Backlog health on a cluster: each node answers from its own index, so
    both nodes and the load balancer must give the store's numbers, and a
    user filled to the cluster's offline limit (200) through node a shows up
    at its limit on node b too."""
    c = purge_cluster
    a, b = c.nodes
    # u1 already holds a few: fill it up to exactly the limit (past it,
    # ejabberd bounces, which test_health.py covers).
    have = truth_per_user(c)[jid("u1")]
    send_many(a, "bob", [(jid("u1"), f"fill {k}") for k in range(200 - have)])
    deadline = time.time() + 60
    while truth_per_user(c)[jid("u1")] != 200:
        assert time.time() < deadline, truth_per_user(c)[jid("u1")]
        time.sleep(0.3)
    wait_in_step(c)
    counts = [n for n in truth_per_user(c).values() if n > 0]
    expected = [{"le": str(bound), "count": sum(1 for n in counts if n <= bound)}
                for bound in HEALTH_BOUNDS] + [{"le": "+Inf", "count": len(counts)}]
    rows = [n.api("unread_health", {"host": HOST}) for n in c.nodes]
    rows.append(lb_api(c, "unread_health", {"host": HOST}))
    for [row] in rows:
        assert row["state"] == "ready", row
        assert (row["messages"], row["users"]) == (sum(counts), len(counts)), row
        assert row["buckets"] == expected, row
        assert (row["at_limit"], row["near_limit"]) == (1, 0), row
    # The same oldest message everywhere (its age moves with the clock).
    assert len({(r[0]["oldest_user"], r[0]["oldest_time"]) for r in rows}) == 1, rows
    for n in c.nodes:
        assert n.api("unread_health_users", {"host": HOST}) == [
            {"user": jid("u1"), "count": 200, "limit": 200, "state": "at_limit"}]
