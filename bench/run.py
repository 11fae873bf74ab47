#!/usr/bin/python3
"""Runs the server-side benchmarks of mod_unread on a real ejabberd node and
prints a Markdown report for docs/benchmarks.md.

    sudo bench/run.py [--users 100000] [--per-user 10] [--store 20000] [--rounds 3]
    sudo bench/run.py --only rebuild     # the rebuild beside the bare select

Needs a build (`cmake --build build`) and an install prefix
(`cmake --install build --prefix build/prefix`; CHATADM_PREFIX selects
another one, e.g. an older revision's, measured by this revision's bench)."""

import argparse
import json
import os
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
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds of bare select and rebuild")
    ap.add_argument("--only", choices=["all", "rebuild"], default="all")
    args = ap.parse_args()

    bench_ebin = REPO / "build" / "bench" / "ebin"
    with harness.Node(name="unreadbench", c2s_port=17222, api_port=17443,
                      queue_limit=10_000_000, extra_pa=[bench_ebin]) as node:
        r = {}
        if args.only == "all":
            r["count"] = call(node, f'unread_bench:count(<<"{HOST}">>)')
            r["store"] = call(node, f'unread_bench:store(<<"{HOST}">>, {args.store})')
        r["fill"] = call(node, f'unread_bench:fill(<<"{HOST}">>, <<"u">>, {args.users}, {args.per_user})')
        if args.only == "all":
            r["top"] = call(node, f'unread_bench:top(<<"{HOST}">>)')
        r["memory"] = call(node, f'unread_bench:memory(<<"{HOST}">>)')
        beam = node_pid(node)
        cpu0, own0 = cpu_times(), process_ticks(beam)
        r["rebuild"] = call(node, f'unread_bench:rebuild(<<"{HOST}">>, {args.rounds})')
        r["rebuild_cpu"] = cpu_share(cpu0, cpu_times(), process_ticks(beam) - own0)
        mem = subprocess.run([str(REPO / "build" / "bench" / "index_memory_bench"),
                              str(args.users), str(args.per_user), "64"],
                             capture_output=True, text=True, check=True).stdout
    print(report(r, mem, args) if args.only == "all" else rebuild_report(r, args))


def cpu_times():
    """The machine's CPU time so far, by kind (/proc/stat, all CPUs)."""
    fields = open("/proc/stat").readline().split()[1:]
    return [int(x) for x in fields]


def node_pid(node):
    """The PID of the node's VM (its command line names the node)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if node.node.encode() in argv and any(a.endswith(b"beam.smp") for a in argv):
            return int(pid)
    raise RuntimeError(f"no VM found for {node.node}")


def process_ticks(pid):
    """User plus system CPU time of a process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_share(before, after, own):
    """Shares of the machine's CPU time between two cpu_times(): idle, used
    by other processes than the node's VM, and stolen by the hypervisor
    (the last two make wall times drift on a shared machine)."""
    d = [b - a for a, b in zip(before, after)]
    total = sum(d[:8]) or 1
    busy = total - d[3] - d[4] - d[7]
    return {"idle": d[3] / total, "steal": d[7] / total,
            "others": max(0, busy - own) / total}


def rebuild_rows(r):
    b, c = r["rebuild"], r["rebuild_cpu"]
    rounds = ", ".join(f"{s:.2f}/{x:.2f}" for s, x in zip(b["select_rounds_s"],
                                                           b["rebuild_rounds_s"]))
    ratios = ", ".join(f"{x:.2f}" for x in b["round_ratios"])
    return [f"| full rebuild from the store (`unread_resync`, median of {b['rounds']}) | "
            f"{b['rebuild_s']:.2f} s | bare `mnesia:foldl`: {b['bare_foldl_s']:.2f} s "
            f"({b['rebuild_vs_foldl']:.2f}×); bare chunked select: {b['bare_select_s']:.2f} s "
            f"({b['rebuild_vs_select']:.2f}×) |", "",
            f"Rebuild rounds (bare select / rebuild, s): {rounds}; rebuild ÷ select per "
            f"round: {ratios}. Of the machine's CPU time during these rounds, other "
            f"processes than the node took {100 * c['others']:.0f}%, the hypervisor "
            f"{100 * c['steal']:.0f}%; {100 * c['idle']:.0f}% was idle."]


def rebuild_report(r, args):
    m, f = r["memory"], r["fill"]
    return "\n".join([
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, module from {harness.prefix()}; "
        f"{m['messages']:,} stored messages in {m['users']:,} users "
        f"(setup: {f['users']:,} × {f['per_user']} written in {f['seconds']:.0f} s)", "",
        "| what | mod_unread | stock way, same run |", "|---|---:|---:|"] + rebuild_rows(r))


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
    t, m, f = r["top"], r["memory"], r["fill"]
    out += ["", f"### At scale: {m['messages']:,} stored messages in {m['users']:,} users "
            f"(setup: {f['users']:,} × {f['per_user']} written in {f['seconds']:.0f} s)", "",
            "| what | mod_unread | stock way, same run |", "|---|---:|---:|",
            f"| top 10 users by unread | {t['unread_top_us']:.1f} µs (`unread_top`) | "
            f"{t['stock_scan_us'] / 1e6:.2f} s (mnesia fold + sort) |",
            f"| index memory | {m['index_bytes'] / 2**20:.1f} MiB, "
            f"{m['bytes_per_message']:.1f} B/message | — |"] + rebuild_rows(r) + ["",
            "Index core alone (`build/bench/index_memory_bench "
            f"{args.users} {args.per_user} 64`, allocator-measured):", "", "```", mem.strip(), "```"]
    return "\n".join(out)


if __name__ == "__main__":
    main()
