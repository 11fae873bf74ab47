#!/usr/bin/python3
"""Whole-process time of `chatadm unread -c alice` against a local ejabberd
node, beside curl making the same HTTP request and `ejabberdctl
get_offline_count`, in rounds of hyperfine runs. Prints a Markdown table.

    sudo bench/cli_bench.py [--runs 100] [--rounds 5]

Needs `cmake --install build --prefix build/prefix` (module and chatadm)."""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100, help="runs of each client per round")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with harness.Node(name="clibench", c2s_port=17322, api_port=17543) as node, \
            tempfile.TemporaryDirectory() as tmp:
        node.register_admin()
        node.register("alice", "pw")
        for i in range(5):
            node.ctl("send_message", "chat", "bob@localhost", "alice@localhost", "", f"m{i}")
        pw = Path(tmp) / "admin.pw"
        pw.write_text(harness.ADMIN_PASSWORD + "\n")
        netrc = Path(tmp) / "netrc"
        netrc.write_text(f"machine {node.ip} login admin@localhost password {harness.ADMIN_PASSWORD}\n")
        os.chmod(pw, 0o600)
        os.chmod(netrc, 0o600)
        token = node.issue_token()
        header = Path(tmp) / "auth.header"
        header.write_text(f"Authorization: Bearer {token}\n")
        os.chmod(header, 0o600)
        # Secrets come from files or the environment, never the command line.
        chatadm_base = [str(harness.prefix() / "bin" / "chatadm"), "-h", f"{node.ip}:{node.api_port}",
                        "-C", str(node.ca)]
        chatadm = chatadm_base + ["unread", "-c", "alice"]
        chatadm_basic = chatadm_base + ["-u", "admin@localhost", "-P", str(pw), "unread", "-c", "alice"]
        curl_base = ["curl", "-sS", "--fail", "--cacert", str(node.ca), "-X", "POST",
                     "-H", "Content-Type: application/json", "-d", '{"user":"alice"}',
                     node.api_url("unread_count")]
        curl = curl_base + ["-H", f"@{header}"]
        curl_basic = curl_base + ["--netrc-file", str(netrc)]
        ctl = node.ctl_argv("get_offline_count", "alice", "localhost")
        for cmd, env in ((chatadm, {"CHATADM_TOKEN": token}), (chatadm_basic, {}), (curl, {}),
                         (curl_basic, {}), (ctl, {})):
            out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                 env=dict(os.environ, **env)).stdout
            assert "5" in out, (cmd, out)
        clients = {"chatadm unread -c alice": chatadm, "curl POST /api/unread_count": curl,
                 "chatadm (Basic auth)": chatadm_basic, "curl (Basic auth)": curl_basic}
        ctl_name = "ejabberdctl get_offline_count"
        times = {n: [] for n in list(clients) + [ctl_name]}
        per_round = []
        # Rounds alternate the clients with ejabberdctl, so that drift in the
        # machine's speed over the run weighs on both sides of each ratio.
        for _ in range(args.rounds):
            means = {}
            # ejabberdctl starts a BEAM per call (~0.3 s): fewer runs of it.
            for runs, named in ((args.runs, list(clients.items())),
                                (max(5, args.runs // 20), [(ctl_name, ctl)])):
                export = Path(tmp) / "hyperfine.json"
                argv = ["hyperfine", "-N", "--warmup", "3", "--runs", str(runs),
                        "--export-json", str(export)]
                for name, cmd in named:
                    argv += ["-n", name, shlex.join(cmd)]
                # chatadm takes the token from its environment, as a script would.
                subprocess.run(argv, check=True, capture_output=True,
                               env=dict(os.environ, CHATADM_TOKEN=token))
                for r in json.loads(export.read_text())["results"]:
                    times[r["command"]].extend(r["times"])
                    means[r["command"]] = r["mean"]
            per_round.append(means)
    report(times, per_round, ctl_name)


def report(times, per_round, ctl_name):
    med = {n: statistics.median(t) for n, t in times.items()}
    print("| command | auth | median | mean | σ | vs curl, same auth (median) "
          "| ejabberdctl / this (median) | per round (means) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    rows = (("chatadm unread -c alice", "OAuth token", "chatadm unread -c alice",
             "curl POST /api/unread_count"),
            ("curl, same request", "OAuth token", "curl POST /api/unread_count",
             "curl POST /api/unread_count"),
            ("chatadm unread -c alice", "Basic (SCRAM-stored password)", "chatadm (Basic auth)",
             "curl (Basic auth)"),
            ("curl, same request", "Basic (SCRAM-stored password)", "curl (Basic auth)",
             "curl (Basic auth)"),
            (ctl_name, "Erlang cookie", ctl_name, None))
    for label, auth, key, ref in rows:
        t = times[key]
        vs = f"{med[key] / med[ref]:.2f}×" if ref else "—"
        rounds = [m[ctl_name] / m[key] for m in per_round]
        spread = f"{min(rounds):.0f}–{max(rounds):.0f}×" if ref else "—"
        print(f"| {label} | {auth} | {med[key] * 1000:.1f} ms | {statistics.mean(t) * 1000:.1f} ms "
              f"| {statistics.stdev(t) * 1000:.1f} ms | {vs} | {med[ctl_name] / med[key]:.0f}× "
              f"| {spread} |")


if __name__ == "__main__":
    main()
