"""The built chatadm binary against a real ejabberd 23.01 node: every command,
-j output parsed back as JSON, and every documented exit status produced by a
real case (0 success, 1 server or network failure, 2 usage, 3 authentication
or permission refused, 4 no such user or object)."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import harness
import xmpp_client as xc

HOST = "localhost"
USERS = {"alice": "pw-alice", "bob": "pw-bob", "carol": "pw-carol"}


def chatadm_path():
    return str(harness.prefix() / "bin" / "chatadm")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with harness.Node(name="chatadmit", c2s_port=15322, api_port=15543) as n:
        n.register_admin()
        for u, pw in USERS.items():
            n.register(u, pw)
        yield n


@pytest.fixture(scope="module")
def creds(node, tmp_path_factory):
    d = tmp_path_factory.mktemp("creds")
    pw = d / "admin.pw"
    pw.write_text(harness.ADMIN_PASSWORD + "\n")
    os.chmod(pw, 0o600)
    return pw


def run(node, creds, *args, stdin=None, auth=True, ca=True, host=None, env_extra=None,
        timeout=60, prefix=()):
    argv = [*prefix, chatadm_path(), "-h", host or f"{node.ip}:{node.api_port}"]
    if ca:
        argv += ["-C", str(node.ca)]
    if auth:
        argv += ["-u", f"{harness.ADMIN}@{HOST}", "-P", str(creds)]
    env = {"PATH": os.environ["PATH"], "HOME": str(creds.parent), "LANG": "C.UTF-8"}
    env.update(env_extra or {})
    return subprocess.run(argv + list(args), input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr}"
    return p.stdout


def test_send_then_unread_shows_messages(node, creds):
    ok(run(node, creds, "send", "bob@localhost", "alice@localhost", "hello", "alice"))
    p = run(node, creds, "send", "-s", "Report", "carol@localhost", "alice@localhost", "-",
            stdin="line one\nline two\n")
    ok(p)
    p = run(node, creds, "send", "bob@localhost", "alice", stdin="from stdin, no operand")
    ok(p)
    assert node.store_count("alice") == 3
    out = ok(run(node, creds, "unread", "alice"))
    assert "hello alice" in out and "line one" in out and "from stdin, no operand" in out
    assert out.index("from stdin") < out.index("line one") < out.index("hello alice"), \
        "newest first"
    assert "Report" in out and "carol@localhost" in out
    assert ok(run(node, creds, "unread", "-c", "alice")).strip() == "3"
    assert ok(run(node, creds, "-q", "unread", "-c", "alice@localhost")).strip() == "3"


def test_unread_json_paging_and_sender_filter(node, creds):
    full = json.loads(ok(run(node, creds, "-j", "unread", "alice")))
    msgs = full["messages"] if isinstance(full, dict) else full
    assert len(msgs) == 3
    assert [m["from"] for m in msgs][0] == "bob@localhost"
    page = json.loads(ok(run(node, creds, "-j", "unread", "-n", "1", "-o", "1", "alice")))
    page = page["messages"] if isinstance(page, dict) else page
    assert len(page) == 1 and page[0]["id"] == msgs[1]["id"]
    only = json.loads(ok(run(node, creds, "-j", "unread", "-f", "carol@localhost", "alice")))
    only = only["messages"] if isinstance(only, dict) else only
    assert [m["from"] for m in only] == ["carol@localhost"]
    count = json.loads(ok(run(node, creds, "-j", "unread", "-c", "alice")))
    assert count == 3 or count.get("count") == 3


def test_control_characters_are_escaped(node, creds):
    body = "evil\x1b[31mred\x07bell\u202eflip"
    ok(run(node, creds, "send", "bob@localhost", "carol@localhost", body))
    out = ok(run(node, creds, "unread", "carol"))
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "red" in out and "bell" in out


def test_senders_top_online_status(node, creds, tmp_path):
    out = ok(run(node, creds, "senders", "alice"))
    lines = [l.split() for l in out.strip().splitlines()]
    assert ["2", "bob@localhost"] in lines and ["1", "carol@localhost"] in lines
    senders = json.loads(ok(run(node, creds, "-j", "senders", "alice")))
    senders = senders["senders"] if isinstance(senders, dict) else senders
    assert senders[0] == {"sender": "bob@localhost", "count": 2}

    top = json.loads(ok(run(node, creds, "-j", "top", "-n", "1", HOST)))
    top = top["users"] if isinstance(top, dict) else top
    assert top == [{"user": "alice@localhost", "count": 3}]
    assert "alice@localhost" in ok(run(node, creds, "top"))

    ready = tmp_path / "online"
    client = subprocess.Popen([sys.executable, str(Path(xc.__file__)), "online",
                               f"{node.ip}:{node.c2s_port}", str(node.ca), "bob@localhost",
                               USERS["bob"], str(ready)])
    try:
        for _ in range(100):
            if ready.exists():
                break
            time.sleep(0.1)
        assert ready.exists(), "the XMPP client did not log in"
        out = ok(run(node, creds, "online"))
        assert "bob@localhost/" in out
        online = json.loads(ok(run(node, creds, "-j", "online", HOST)))
        online = online["users"] if isinstance(online, dict) else online
        assert any(str(u).startswith("bob@localhost/") for u in online)
    finally:
        client.kill()
        client.wait()

    status = ok(run(node, creds, "status"))
    assert "23.01" in status and node.node in status and "mod_unread" in status
    js = json.loads(ok(run(node, creds, "-j", "status")))
    assert node.node in json.dumps(js)


def test_status_names_the_mnesia_backend(node, creds):
    # The server's own answer, through the HTTP API: backend is the last field.
    rows = node.api("unread_stats", {})
    assert [(r["node"], r["host"], r["backend"]) for r in rows] == [(node.node, HOST, "mnesia")]
    assert node.ctl("unread_stats").rstrip("\n").split("\t")[-1] == "mnesia"
    # chatadm status shows it on the host's line and in -j.
    status = ok(run(node, creds, "status"))
    line = next(l for l in status.splitlines() if l.startswith(f"  {node.node} {HOST}: "))
    assert line.startswith(f"  {node.node} {HOST}: ready, backend mnesia, "), status
    js = json.loads(ok(run(node, creds, "-j", "status")))
    assert [r["backend"] for r in js["mod_unread"]["stats"]] == ["mnesia"], js


def test_usage_errors_exit_2(node, creds):
    for args in (["unread"], ["frobnicate"], ["-x", "status"], ["unread", "-n"],
                 ["unread", "-z", "alice"], ["send", "bob@localhost"]):
        p = run(node, creds, *args)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert "usage:" in p.stderr
    p = run(node, creds)
    assert p.returncode == 2 and "usage:" in p.stderr
    # Malformed JID: refused by the server (HTTP 400), reported as bad input.
    p = run(node, creds, "unread", "a@@b")
    assert p.returncode == 2 and "a@@b" in p.stderr


def test_no_such_user_exit_4(node, creds):
    for args in (["unread", "nobody"], ["unread", "-c", "nobody"], ["senders", "nobody@localhost"],
                 ["top", "elsewhere.example"]):
        p = run(node, creds, *args)
        assert p.returncode == 4, (args, p.returncode, p.stderr)
    before = node.store_count("alice")
    p = run(node, creds, "send", "alice@localhost", "nobody@localhost", "lost?")
    assert p.returncode == 4 and "nobody@localhost" in p.stderr
    assert node.store_count("alice") == before


def test_auth_and_permission_exit_3(node, creds, tmp_path):
    wrong = tmp_path / "wrong.pw"
    wrong.write_text("not-the-password\n")
    os.chmod(wrong, 0o600)
    p = run(node, creds, "-u", "admin@localhost", "-P", str(wrong), "status", auth=False)
    assert p.returncode == 3 and p.stderr
    user_pw = tmp_path / "bob.pw"
    user_pw.write_text(USERS["bob"] + "\n")
    os.chmod(user_pw, 0o600)
    p = run(node, creds, "-u", "bob@localhost", "-P", str(user_pw), "unread", "alice", auth=False)
    assert p.returncode == 3, p.stderr
    # The test config grants the API to the admin ACL only, not to loopback.
    p = run(node, creds, "unread", "alice", auth=False)
    assert p.returncode == 3, p.stderr
    # A config file holding a secret that others may read is refused.
    cfg = tmp_path / "xdg" / "chatadm" / "config"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f"user = admin@localhost\npassword = {harness.ADMIN_PASSWORD}\n")
    os.chmod(cfg, 0o644)
    p = run(node, creds, "status", auth=False, env_extra={"XDG_CONFIG_HOME": str(cfg.parent.parent)})
    assert p.returncode == 3 and "chmod" in p.stderr
    os.chmod(cfg, 0o600)
    ok(run(node, creds, "status", auth=False, env_extra={"XDG_CONFIG_HOME": str(cfg.parent.parent)}))


def test_network_failures_exit_1(node, creds):
    # TLS certificate not trusted (our test CA is not in the system store).
    p = run(node, creds, "status", ca=False)
    assert p.returncode == 1 and "-C" in p.stderr
    p = run(node, creds, "-k", "unread", "-c", "alice", ca=False)
    assert p.returncode == 0 and "TLS" in p.stderr.upper()
    # Connection refused: nothing listens there.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = run(node, creds, "status", host=f"127.0.0.1:{port}")
    assert p.returncode == 1 and str(port) in p.stderr
    # Unreachable: a network namespace with no usable interface at all.
    p = run(node, creds, "status", prefix=("unshare", "-n"))
    assert p.returncode == 1 and p.stderr
    # Timeout: a server that accepts and never answers.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    held = []
    t = threading.Thread(target=lambda: held.append(srv.accept()), daemon=True)
    t.start()
    start = time.time()
    p = run(node, creds, "-T", "1", "status", host=f"https://127.0.0.1:{srv.getsockname()[1]}")
    assert p.returncode == 1 and time.time() - start < 10
    assert "tim" in p.stderr.lower()
    srv.close()
    # Not JSON: an HTML error page where the API should be.
    p = run(node, creds, "status", host=f"https://{node.ip}:{node.api_port}/notapi")
    assert p.returncode == 1 and p.stderr


def test_server_error_json_exit_1(node, creds):
    # Put the index into its "being rebuilt" state, as at start-up with a
    # large store: the listing commands get ejabberd's error JSON (HTTP 500),
    # while the count is answered from the store.
    flag = ('{{Pid, Index, _}} = persistent_term:get({{mod_unread_server, <<"localhost">>}}), '
            'persistent_term:put({{mod_unread_server, <<"localhost">>}}, {{Pid, Index, {0}}})')
    node.rpc(flag.format("false"))
    try:
        p = run(node, creds, "unread", "alice")
        assert p.returncode == 1 and "rebuilt" in p.stderr, p.stderr
        assert ok(run(node, creds, "unread", "-c", "alice")).strip() == str(node.store_count("alice"))
    finally:
        node.rpc(flag.format("true"))
    ok(run(node, creds, "unread", "alice"))


def test_stock_server_without_mod_unread(creds):
    with harness.Node(name="stockit", c2s_port=15422, api_port=15643, with_module=False) as n:
        n.register_admin()
        n.register("alice", "pw")
        n.ctl("send_message", "chat", "bob@localhost", "alice@localhost", "", "stock")
        assert ok(run(n, creds, "unread", "-c", "alice")).strip() == "1"
        p = run(n, creds, "unread", "alice")
        assert p.returncode != 0 and "mod_unread" in p.stderr
        p = run(n, creds, "unread", "-c", "nobody")
        assert p.returncode == 4


def test_oauth_token_from_environment(node, creds):
    token = node.issue_token()
    p = run(node, creds, "unread", "-c", "alice", auth=False, env_extra={"CHATADM_TOKEN": token})
    assert p.returncode == 0 and p.stdout.strip() == str(node.store_count("alice")), p.stderr
    p = run(node, creds, "unread", "-c", "alice", auth=False,
            env_extra={"CHATADM_TOKEN": "not-a-valid-token"})
    assert p.returncode == 3, p.stderr
