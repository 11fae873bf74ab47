"""A store the index cannot follow exactly is refused, visibly, on a real node.

With mod_offline's use_mam_for_storage: true, ejabberd 23.01 writes only the
first message of a burst into offline_msg and counts the rest from the
archive (mod_mam), so an index of offline_msg would undercount. mod_unread
then indexes nothing on that host, logs one ERROR naming the option, and the
node still starts and serves everything else."""

import os
import re
import subprocess

import pytest

import harness

HOST = "localhost"
REFUSAL = "refused: mod_offline use_mam_for_storage is true"


@pytest.fixture(scope="module")
def node():
    with harness.Node(name="mamrefuse", c2s_port=16122, api_port=16143,
                      extra_modules={"mod_mam": {"default": "always"},
                                     "mod_offline": {"use_mam_for_storage": True}}) as n:
        n.register_admin()
        n.register("alice", "pw-alice")
        yield n


@pytest.fixture(scope="module")
def creds(node, tmp_path_factory):
    pw = tmp_path_factory.mktemp("creds") / "admin.pw"
    pw.write_text(harness.ADMIN_PASSWORD + "\n")
    os.chmod(pw, 0o600)
    return pw


def chatadm(node, creds, *args):
    argv = [str(harness.prefix() / "bin" / "chatadm"), "-h", f"{node.ip}:{node.api_port}",
            "-C", str(node.ca), "-u", f"{harness.ADMIN}@{HOST}", "-P", str(creds), *args]
    env = {"PATH": os.environ["PATH"], "HOME": str(creds.parent), "LANG": "C.UTF-8"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)


def test_node_runs_and_logs_one_error_naming_the_option(node):
    assert node.rpc("gen_mod:is_loaded(<<\"localhost\">>, mod_mam)").strip() == "true"
    log = (node.dir / "logs" / "ejabberd.log").read_text(errors="replace")
    errors = [l for l in log.splitlines()
              if "[error]" in l and "mod_unread will not index" in l]
    assert len(errors) == 1, errors
    assert "use_mam_for_storage" in errors[0]
    # The server itself is up: mod_offline keeps storing messages.
    node.ctl("send_message", "chat", f"bob@{HOST}", f"alice@{HOST}", "", "kept")
    assert node.ctl("get_offline_count", "alice", HOST).strip() == "1"


def test_stats_and_status_say_why(node, creds):
    stats = node.ctl("unread_stats")
    assert REFUSAL in stats, stats
    # Refused with mod_offline's db_type mnesia: the row names that store.
    rows = node.api("unread_stats", {})
    assert [(r["state"], r["backend"]) for r in rows] == [(REFUSAL, "mnesia")], rows
    p = chatadm(node, creds, "status")
    assert REFUSAL in p.stdout + p.stderr, (p.returncode, p.stdout, p.stderr)


def test_user_commands_answer_with_the_refusal_not_a_wrong_count(node, creds):
    p = chatadm(node, creds, "unread", "-c", "alice")
    assert p.returncode != 0, p.stdout
    assert re.search(r"refused", p.stderr), p.stderr
    assert p.stdout.strip() != "0"
