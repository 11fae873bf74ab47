#!/usr/bin/python3
"""Purge by sender and retention preview on a real ejabberd node (mnesia),
beside the stock way in the same run, and prints a Markdown section for
docs/benchmarks.md:

* the dry run (unread_purge_sender with dry_run 1) for a sender present in
  1 of every 10 queues of USERS users x PER_USER messages, and for its whole
  domain (every message), against a full fold of offline_msg counting the
  same;
* the retention preview for a cutoff halfway through the store, against the
  fold delete_old_messages runs;
* the real purge of the sender: messages and users per second;
* store throughput of other traffic (messages routed to offline users)
  while a purge runs, against the same traffic without one, alternating.

    sudo bench/purge_bench.py [--users 100000] [--per-user 10] [--spam 3]
                              [--traffic 5000] [--traffic-rounds 5]
                              [--traffic-spam-users 20000]

Needs a build and an install prefix (as bench/run.py)."""

import argparse
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.path.insert(0, str(REPO / "bench"))
import harness  # noqa: E402
from run import call  # noqa: E402

HOST = "localhost"
SENDER = f"spam@{HOST}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=100000)
    ap.add_argument("--per-user", type=int, default=10)
    ap.add_argument("--spam-every", type=int, default=10)
    ap.add_argument("--spam", type=int, default=3, help="spam messages per spammed queue")
    ap.add_argument("--traffic", type=int, default=5000,
                    help="messages routed per round of the traffic-during-purge rounds")
    ap.add_argument("--traffic-rounds", type=int, default=5)
    ap.add_argument("--traffic-spam-users", type=int, default=20000,
                    help="queues a spam message is planted in before each round's purge")
    args = ap.parse_args()

    bench_ebin = REPO / "build" / "bench" / "ebin"
    with harness.Node(name="purgebench", c2s_port=23226, api_port=23447,
                      queue_limit=10_000_000, extra_pa=[bench_ebin]) as node:
        node.register_admin()
        fill = call(node, f'purge_bench:fill(<<"{HOST}">>, {args.users}, {args.per_user}, '
                          f'{args.spam_every}, {args.spam})')
        total = args.users * args.per_user
        t0 = time.monotonic()
        while True:
            stats = [r for r in node.api("unread_stats", {}) if r["host"] == HOST][0]
            if stats["total"] == total:
                break
            time.sleep(0.5)
        caught_up = time.monotonic() - t0
        dry = call(node, f'purge_bench:dry_run(<<"{HOST}">>, <<"{SENDER}">>)')
        cutoff = fill["base"] + args.users * 1000 // 2
        ret = call(node, f'purge_bench:retention(<<"{HOST}">>, {cutoff})')
        purge = call(node, f'purge_bench:purge(<<"{HOST}">>, <<"{SENDER}">>)')
        traffic = call(node, f'purge_bench:traffic(<<"{HOST}">>, {args.traffic}, '
                             f'{args.traffic_rounds}, {min(args.traffic_spam_users, args.users)})')

    print(f"### Purge by sender and retention preview "
          f"({args.users:,} users × {args.per_user}, mnesia)\n")
    print(f"`sudo bench/purge_bench.py --users {args.users} --per-user {args.per_user} "
          f"--spam-every {args.spam_every} --spam {args.spam} --traffic {args.traffic} "
          f"--traffic-rounds {args.traffic_rounds} "
          f"--traffic-spam-users {args.traffic_spam_users}` on {platform.node()} "
          f"({platform.processor() or platform.machine()}), "
          f"{time.strftime('%Y-%m-%d')}. Filled straight into offline_msg in "
          f"{fill['seconds']:.0f} s (the index followed {caught_up:.0f} s later); "
          f"index {stats['memory'] / 2**20:.1f} MiB for {stats['total']:,} messages.\n")
    print("| question | mod_unread | stock way (full fold of offline_msg) |")
    print("|---|---|---|")
    print(f"| dry run, {SENDER} ({dry['messages']:,} messages in {dry['users']:,} queues) | "
          f"{dry['command_us'] / 1000:.2f} ms command, {dry['nif_us'] / 1000:.2f} ms NIF | "
          f"{dry['stock_fold_us'] / 1e6:.1f} s |")
    print(f"| dry run, @{HOST} (every sender: {dry['domain_messages']:,} messages, "
          f"{dry['domain_users']:,} users) | {dry['domain_command_us'] / 1000:.1f} ms | "
          f"{dry['domain_stock_fold_us'] / 1e6:.1f} s |")
    print(f"| retention preview, half the store ({ret['messages']:,} messages, "
          f"{ret['users']:,} users, top senders) | {ret['nif_us'] / 1000:.1f} ms | "
          f"{ret['stock_fold_us'] / 1e6:.1f} s (the fold delete_old_messages runs) |")
    print(f"| purge of {SENDER} | {purge['messages']:,} messages of {purge['users']:,} users "
          f"in {purge['seconds']:.1f} s: {purge['messages_per_s']:,.0f} messages/s, "
          f"{purge['users_per_s']:,.0f} users/s; second run removed "
          f"{purge['second_run_removed']}, {purge['left_in_index']} left in the index | "
          f"no purge by sender (XEP-0013 or WebAdmin per user) |")
    t = traffic
    print(f"| store throughput of other traffic during a purge ({t['messages_per_round']:,} "
          f"messages routed to offline users per round, median of {t['rounds']} alternating "
          f"rounds) | {t['with_purge_per_s']:,.0f} messages/s while purging "
          f"{t['spam_users']:,} queues ({t['ratio'] * 100:.0f}% of without; purge "
          f"{t['purge_messages_per_s']:,.0f} messages/s meanwhile) | "
          f"{t['without_purge_per_s']:,.0f} messages/s without a purge |")
    print()
    print("Traffic rounds (messages/s, with purge / without): "
          + ", ".join(f"{w:,.0f}/{o:,.0f}" for w, o in zip(t["with_rounds"], t["without_rounds"]))
          + "; ratio per round: " + ", ".join(f"{r * 100:.0f}%" for r in t["round_ratios"])
          + (". The purge was still running when each round's traffic ended."
             if t["purge_outlasted_traffic"] else
             ". In some round the purge ended before the traffic: raise "
             "--traffic-spam-users."))


if __name__ == "__main__":
    main()
