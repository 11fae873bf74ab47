#!/usr/bin/python3
"""Cluster benchmarks (issue 4), in one run on the local cluster harness
(two ejabberd nodes behind haproxy, tests/integration/cluster.py):

* store throughput through haproxy: parallel XMPP clients (slixmpp) stream
  messages to offline users, with both nodes in haproxy's XMPP backend, then
  with node 2 disabled there (all sessions on node 1); alternating rounds;
* cross-node lag: changes made on node 1 (stores, then single-message
  removes), timed until node 2's unread_count shows them, while the clients
  stream (sustained load) and with no load.

    sudo bench/cluster_bench.py [--clients 4] [--messages 500] [--changes 500]
"""

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import cluster as cl  # noqa: E402
import xmpp_client as xc  # noqa: E402
from test_cluster import LAG_PROBE  # noqa: E402


def client(args):
    addr, ca, i, n = args
    return xc.send_messages(addr, ca, f"sender{i}@localhost", "pw", f"rcpt{i}@localhost",
                            [f"m{k}" for k in range(n)])


def throughput(c, clients, messages):
    for i in range(clients):
        c.nodes[0].rpc(f'mod_offline:remove_user(<<"rcpt{i}">>, <<"localhost">>)')
    start = time.monotonic()
    with multiprocessing.Pool(clients) as pool:
        bounced = sum(len(r) for r in pool.map(
            client, [(c.lb_xmpp, str(c.ca[0]), i, messages) for i in range(clients)]))
    took = time.monotonic() - start
    assert bounced == 0
    return clients * messages / took


def lag(c, changes, under_load=None):
    a, b = c.nodes
    if under_load:
        pool = multiprocessing.Pool(under_load[0])
        res = pool.map_async(client, [(c.lb_xmpp, str(c.ca[0]), i, under_load[1])
                                      for i in range(under_load[0])])
        time.sleep(1)
    out = a.rpc(LAG_PROBE.format(other=b.node, n_store=changes // 2), timeout=900)
    if under_load:
        res.wait()
        pool.close()
    lags = sorted(json.loads(out.replace("\n", "").replace(" ", "")))
    return lags[len(lags) // 2], lags[int(len(lags) * 0.99)], lags[-1], len(lags)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--changes", type=int, default=500)
    args = ap.parse_args()
    with cl.Cluster(queue_limit=1_000_000) as c:
        a = c.nodes[0]
        for i in range(args.clients):
            a.register(f"sender{i}", "pw")
            a.register(f"rcpt{i}", "pw")
        rates = {"2 nodes": [], "1 node": []}
        for _ in range(2):
            c.haproxy_stat(f"enable server xmpp/{c.nodes[1].name}")
            c.wait_backends({c.nodes[1].name: "UP"}, proxy="xmpp")
            rates["2 nodes"].append(throughput(c, args.clients, args.messages))
            c.haproxy_stat(f"disable server xmpp/{c.nodes[1].name}")
            rates["1 node"].append(throughput(c, args.clients, args.messages))
        c.haproxy_stat(f"enable server xmpp/{c.nodes[1].name}")
        idle = lag(c, args.changes)
        loaded = lag(c, args.changes, under_load=(args.clients, args.messages * 2))
    print(f"| backends in haproxy | messages/s ({args.clients} clients x {args.messages}, "
          "2 rounds, best) |")
    print("|---|---:|")
    for k, v in rates.items():
        print(f"| {k} | {max(v):,.0f} |")
    print()
    print("| cross-node lag | changes | p50 | p99 | max |")
    print("|---|---:|---:|---:|---:|")
    for name, (p50, p99, mx, n) in (("idle", idle), (f"while {args.clients} clients stream", loaded)):
        print(f"| {name} | {n} | {p50 / 1000:.2f} ms | {p99 / 1000:.2f} ms | {mx / 1000:.2f} ms |")


if __name__ == "__main__":
    main()
