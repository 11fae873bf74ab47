#!/usr/bin/python3
"""The unread counts of 10,000 users: one `chatadm unread -c -` run (names
on standard input, unread_counts 1,000 at a time over one connection)
against separate `chatadm unread -c USER` runs and separate `ejabberdctl
unread_count USER` calls, on a local ejabberd node. The separate runs are
timed on a sample (--sample, default 200 of each) and extrapolated to all
users; the report says so. Prints a Markdown table.

    sudo bench/bulk_bench.py [--users 10000] [--sample 200] [--rounds 5]

Needs `cmake --install build --prefix build/prefix` (module and chatadm).
The node uses ports 29422/29643."""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import harness  # noqa: E402


def timed(argv, env, stdin=None, ok=(0,)):
    t0 = time.perf_counter()
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if p.returncode not in ok:
        raise RuntimeError(f"{argv[:3]}… exited {p.returncode}: {p.stderr}")
    return elapsed, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=200, help="separate runs timed, of each kind")
    ap.add_argument("--rounds", type=int, default=5, help="runs of the one bulk chatadm")
    args = ap.parse_args()
    names = [f"u{i}" for i in range(args.users)]
    with harness.Node(name="bulkbench", c2s_port=29422, api_port=29643) as node, \
            tempfile.TemporaryDirectory() as tmp:
        node.register_admin()
        t0 = time.monotonic()
        # One SCRAM hash for all: 4096 PBKDF2 rounds per user take minutes.
        node.rpc('S = ejabberd_auth:password_to_scram(<<"localhost">>, <<"pw">>), '
                 f'[ejabberd_auth:try_register(<<"u", (integer_to_binary(I))/binary>>, '
                 f'<<"localhost">>, S) || I <- lists:seq(0, {args.users - 1})], ok',
                 timeout=1200)
        setup = time.monotonic() - t0
        # Every 10th user gets 3 messages.
        node.rpc('lists:foreach(fun(I) -> [mod_admin_extra:send_message(<<"chat">>, '
                 '<<"admin@localhost">>, <<"u", (integer_to_binary(I))/binary, "@localhost">>, '
                 f'<<>>, <<"m">>) || _ <- [1,2,3]] end, lists:seq(0, {args.users - 1}, 10))',
                 timeout=600)
        want = 3 * len(range(0, args.users, 10))
        while sum(r["total"] for r in node.api("unread_stats", {})) != want:
            time.sleep(0.2)
        token = node.issue_token()
        env = dict(os.environ, CHATADM_TOKEN=token)
        chatadm = [str(harness.prefix() / "bin" / "chatadm"), "-h",
                   f"{node.ip}:{node.api_port}", "-C", str(node.ca)]
        stdin = "\n".join(names) + "\n"

        bulk = []
        for _ in range(args.rounds):
            t, out = timed(chatadm + ["unread", "-c", "-"], env, stdin)
            assert len(out.splitlines()) == args.users
            assert sum(int(line.split("\t")[1]) for line in out.splitlines()) == want
            bulk.append(t)
        ctl_bulk = []
        for _ in range(args.rounds):
            t, out = timed(node.ctl_argv("unread_counts",
                                         "[" + ",".join(f'"{n}"' for n in names) + "]"), env)
            assert len(out.splitlines()) == args.users
            ctl_bulk.append(t)

        sample = random.Random(1).sample(names, min(args.sample, args.users))
        single, ctl = [], []
        for n in sample:
            t, out = timed(chatadm + ["unread", "-c", n], env)
            single.append(t)
            expected = 3 if int(n[1:]) % 10 == 0 else 0
            assert int(out) == expected, (n, out)
            t, out = timed(node.ctl_argv("unread_count", n), env)
            assert int(out) == expected, (n, out)
            ctl.append(t)
        in_node = {prefix: in_node_cost(node, prefix, args.users, args.rounds)
                   for prefix in ("u", "nosuch")}
    report(args, setup, bulk, ctl_bulk, single, ctl, in_node)


def in_node_cost(node, prefix, users, rounds):
    """The command's own work in the node (mod_unread_commands:unread_counts
    on `users` names prefix0.., no transport), fastest of `rounds`: names of
    users who exist, or (an existence check each) of users who do not."""
    best = None
    for _ in range(rounds):
        out = node.rpc(
            f'{{T, R}} = timer:tc(mod_unread_commands, unread_counts, '
            f'[[<<"{prefix}", (integer_to_binary(I))/binary>> || I <- lists:seq(0, {users - 1})]]), '
            f'{{T, length(R)}}')
        us, n = out.strip("{}").split(",")
        assert int(n) == users, out
        best = int(us) if best is None else min(best, int(us))
    return best / 1e6


def report(args, setup, bulk, ctl_bulk, single, ctl, in_node):
    users = args.users
    b = statistics.median(bulk)
    rows = [
        (f"one `chatadm unread -c -` ({users:,} names on stdin)", f"median of {len(bulk)}",
         b, b),
        (f"one `ejabberdctl unread_counts '[…]'` ({users:,} names)",
         f"median of {len(ctl_bulk)}", statistics.median(ctl_bulk), statistics.median(ctl_bulk)),
        ("separate `chatadm unread -c USER`", f"mean of {len(single)}, × {users:,}",
         statistics.mean(single), statistics.mean(single) * users),
        ("separate `ejabberdctl unread_count USER`", f"mean of {len(ctl)}, × {users:,}",
         statistics.mean(ctl), statistics.mean(ctl) * users),
    ]
    print(f"(registering {users:,} users in one rpc: {setup:.1f} s)\n")
    print(f"| how | timed | per run | all {users:,} users | vs one chatadm run |")
    print("|---|---|---:|---:|---:|")
    for label, how, per, total in rows:
        print(f"| {label} | {how} | {per * 1000:,.1f} ms | {total:,.2f} s | {total / b:,.0f}× |")
    print(f"\nIn the node, `mod_unread_commands:unread_counts` of {users:,} names (fastest of "
          f"{args.rounds}): users who exist {in_node['u'] * 1000:,.1f} ms, users who do not "
          f"(an existence check each) {in_node['nosuch'] * 1000:,.1f} ms.")


if __name__ == "__main__":
    main()
