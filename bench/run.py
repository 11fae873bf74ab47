#!/usr/bin/python3
"""Runs the server-side benchmarks of mod_unread on a real ejabberd node and
prints a Markdown report for docs/benchmarks.md.

    sudo bench/run.py [--users 100000] [--per-user 10] [--store 20000]

Needs a build (`cmake --build build`) and an install prefix
(`cmake --install build --prefix build/prefix`)."""

import argparse
import json
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import harness  # noqa: E402

HOST = "localhost"


def erl_map(out):
    """Turns the ~p of a flat map or list of maps into Python (numbers and
    binaries only, as unread_bench returns)."""
    s = re.sub(r"<<\"([^\"]*)\">>", r'"\1"', out)
    s = re.sub(r"#\{", "{", s)
    s = re.sub(r"(\w+) =>", r'"\1":', s)
    s = s.replace("{\"", "{\"")
    s = re.sub(r"\{(\"[^\"]*@[^\"]*\"),(\d+)\}", r"[\1,\2]", s)
    return json.loads(s)


def call(node, expr, timeout=3600):
    return erl_map(node.rpc(expr, timeout=timeout))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=100000)
    ap.add_argument("--per-user", type=int, default=10)
    ap.add_argument("--store", type=int, default=20000)
    args = ap.parse_args()

    bench_ebin = REPO / "build" / "bench" / "ebin"
    with harness.Node(name="unreadbench", c2s_port=17222, api_port=17443,
                      queue_limit=10_000_000, extra_pa=[bench_ebin]) as node:
        r = {}
        r["count"] = call(node, f'unread_bench:count(<<"{HOST}">>)')
        r["store"] = call(node, f'unread_bench:store(<<"{HOST}">>, {args.store})')
        r["fill"] = call(node, f'unread_bench:fill(<<"{HOST}">>, <<"u">>, {args.users}, {args.per_user})')
        r["top"] = call(node, f'unread_bench:top(<<"{HOST}">>)')
        r["memory"] = call(node, f'unread_bench:memory(<<"{HOST}">>)')
        r["rebuild"] = call(node, f'unread_bench:rebuild(<<"{HOST}">>)')
        mem = subprocess.run([str(REPO / "build" / "bench" / "index_memory_bench"),
                              str(args.users), str(args.per_user), "64"],
                             capture_output=True, text=True, check=True).stdout
    print(report(r, mem, args))


def report(r, mem, args):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.machine())
    out = [f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {cpu}, "
           f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
           "ejabberd 23.01 (Debian 12), mnesia, one node.", ""]
    out += ["### unread_count vs stock count_offline_messages (µs per call)", "",
            "| queue | unread_count (command) | NIF count | stock, cold cache | stock, warm cache | cold / unread_count |",
            "|---:|---:|---:|---:|---:|---:|"]
    for c in r["count"]:
        out.append(f"| {c['queue']:,} | {c['unread_count_us']:.2f} | {c['nif_count_us']:.2f} | "
                   f"{c['stock_cold_us']:.1f} | {c['stock_warm_us']:.2f} | "
                   f"{c['stock_cold_us'] / c['unread_count_us']:,.0f}× |")
    s = r["store"]
    out += ["", f"### Store throughput to offline users ({s['messages_per_round']:,} messages "
            "through ejabberd_router, median of 3 alternating rounds)", "",
            "| | messages/s | vs without |", "|---|---:|---:|",
            f"| without mod_unread | {s['without_module_per_s']:,.0f} | 100% |",
            f"| with mod_unread (stored) | {s['with_module_per_s']:,.0f} | "
            f"{100 * s['with_module_per_s'] / s['without_module_per_s']:.1f}% |",
            f"| with mod_unread (stored and indexed) | {s['with_module_indexed_per_s']:,.0f} | "
            f"{100 * s['with_module_indexed_per_s'] / s['without_module_per_s']:.1f}% |"]
    t, m, b, f = r["top"], r["memory"], r["rebuild"], r["fill"]
    out += ["", f"### At scale: {m['messages']:,} stored messages in {m['users']:,} users "
            f"(setup: {f['users']:,} × {f['per_user']} written in {f['seconds']:.0f} s)", "",
            "| what | mod_unread | stock way, same run |", "|---|---:|---:|",
            f"| top 10 users by unread | {t['unread_top_us']:.1f} µs (`unread_top`) | "
            f"{t['stock_scan_us'] / 1e6:.2f} s (mnesia fold + sort) |",
            f"| full rebuild from the store | {b['rebuild_s']:.2f} s | bare `mnesia:foldl`: "
            f"{b['bare_foldl_s']:.2f} s ({b['rebuild_vs_foldl']:.2f}×); bare chunked select: "
            f"{b['bare_select_s']:.2f} s ({b['rebuild_vs_select']:.2f}×) |",
            f"| index memory | {m['index_bytes'] / 2**20:.1f} MiB, "
            f"{m['bytes_per_message']:.1f} B/message | — |", "",
            "Index core alone (`build/bench/index_memory_bench "
            f"{args.users} {args.per_user} 64`, allocator-measured):", "", "```", mem.strip(), "```"]
    return "\n".join(out)


if __name__ == "__main__":
    main()
