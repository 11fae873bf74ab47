"""unread_counts (many users' counts in one command) on a real ejabberd
23.01 node, from mod_http_api and ejabberdctl, and `chatadm unread -c -`
with 10,000 registered users on standard input: its answers equal the
per-user unread_count answers and unread_stats' total, in far less time than
separate runs.

The node has its own ports (29322/29543), away from the other suites'."""

import json
import os
import random
import subprocess
import time
import urllib.error

import pytest

import harness

HOST = "localhost"
USERS = 10_000
# u0 … u9999; every 20th user gets (i // 20) % 5 + 1 messages, the others none.
NAMES = [f"u{i}" for i in range(USERS)]


def expected(i):
    return (i // 20) % 5 + 1 if i % 20 == 0 else 0


def chatadm_path():
    return str(harness.prefix() / "bin" / "chatadm")


@pytest.fixture(scope="module")
def node():
    with harness.Node(name="bulkcounts", c2s_port=29322, api_port=29543) as n:
        n.register_admin()
        t0 = time.monotonic()
        # One rpc registers them all (10,000 ejabberdctl calls would take
        # an hour), with the SCRAM hash of the password made once (4096
        # PBKDF2 rounds per user would take minutes).
        out = n.rpc(f'S = ejabberd_auth:password_to_scram(<<"{HOST}">>, <<"pw">>), '
                    f'length([ok || I <- lists:seq(0, {USERS - 1}), '
                    f'ok == ejabberd_auth:try_register(<<"u", (integer_to_binary(I))/binary>>, '
                    f'<<"{HOST}">>, S)])', timeout=600)
        assert int(out) == USERS, out
        print(f"registered {USERS} users in {time.monotonic() - t0:.1f} s")
        n.register("bob", "pw-bob")
        sends = [(i, k) for i in range(USERS) for k in range(expected(i))]
        n.rpc("lists:foreach(fun({I, K}) -> mod_admin_extra:send_message(<<\"chat\">>, "
              "<<\"bob@localhost\">>, <<\"u\", (integer_to_binary(I))/binary, \"@localhost\">>, "
              "<<>>, <<\"m\", (integer_to_binary(K))/binary>>) end, "
              f"[{','.join(f'{{{i},{k}}}' for i, k in sends)}])", timeout=300)
        total = sum(expected(i) for i in range(USERS))
        deadline = time.time() + 60
        while sum(r["total"] for r in n.api("unread_stats", {})) != total:
            assert time.time() < deadline, "messages were not all stored"
            time.sleep(0.2)
        yield n


@pytest.fixture(scope="module")
def creds(node, tmp_path_factory):
    pw = tmp_path_factory.mktemp("creds") / "admin.pw"
    pw.write_text(harness.ADMIN_PASSWORD + "\n")
    os.chmod(pw, 0o600)
    return pw


def chatadm(node, creds, *args, stdin=None):
    argv = [chatadm_path(), "-h", f"{node.ip}:{node.api_port}", "-C", str(node.ca),
            "-u", f"{harness.ADMIN}@{HOST}", "-P", str(creds), *args]
    env = {"PATH": os.environ["PATH"], "HOME": str(creds.parent), "LANG": "C.UTF-8"}
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=300,
                          env=env)


def test_api_resolves_each_user_and_gives_minus_one_for_no_such_user(node):
    rows = node.api("unread_counts", {"users": [
        "u0", "U0", "u20@localhost", "u1@LOCALHOST/res", "zed", "bad<name", "u0@nohost.example",
        "example.com", "u0"]})
    assert rows == [{"user": "u0@localhost", "count": 1},
                    {"user": "u0@localhost", "count": 1},
                    {"user": "u20@localhost", "count": 2},
                    {"user": "u1@localhost", "count": 0},
                    {"user": "zed@localhost", "count": -1},
                    {"user": "bad<name", "count": -1},
                    {"user": "u0@nohost.example", "count": -1},
                    {"user": "example.com@localhost", "count": -1},
                    {"user": "u0@localhost", "count": 1}]
    assert node.api("unread_counts", {"users": []}) == []


def test_more_than_10000_users_is_a_bad_argument(node):
    with pytest.raises(urllib.error.HTTPError) as e:
        node.api("unread_counts", {"users": NAMES + ["bob"]})
    assert e.value.code == 400
    assert "at most 10000 users per call, got 10001" in e.value.read().decode()
    assert len(node.api("unread_counts", {"users": NAMES})) == USERS


def test_ejabberdctl_takes_the_list_as_json(node):
    assert node.ctl("unread_counts", '["u40", "zed", "bob@localhost"]').splitlines() == \
        ["u40@localhost\t3", "zed@localhost\t-1", "bob@localhost\t0"]
    help_text = node.ctl("help", "unread_counts")
    assert "users" in help_text and "-1" in help_text


def test_chatadm_10000_users_from_stdin_equal_per_user_counts(node, creds):
    stdin = "\n".join(NAMES + ["zed"]) + "\n"
    t0 = time.monotonic()
    p = chatadm(node, creds, "unread", "-c", "-", stdin=stdin)
    bulk = time.monotonic() - t0
    assert p.returncode == 4, p.stderr
    assert p.stderr == "chatadm: no such user: zed@localhost\n" \
                       "chatadm: 1 of 10001 users not found\n"
    lines = [line.split("\t") for line in p.stdout.splitlines()]
    assert [u for u, _ in lines] == [f"{n}@{HOST}" for n in NAMES], "input order"
    got = {u.split("@")[0]: int(c) for u, c in lines}
    assert got == {f"u{i}": expected(i) for i in range(USERS)}
    total = sum(r["total"] for r in node.api("unread_stats", {}))
    assert sum(got.values()) == total

    # A sample of separate runs, half of them users with messages.
    rnd = random.Random(7)
    sample = rnd.sample([n for i, n in enumerate(NAMES) if expected(i)], 60) + \
        rnd.sample([n for i, n in enumerate(NAMES) if not expected(i)], 60)
    t0 = time.monotonic()
    for name in sample:
        single = chatadm(node, creds, "unread", "-c", name)
        assert single.returncode == 0, single.stderr
        assert int(single.stdout) == got[name], name
    per_run = (time.monotonic() - t0) / len(sample)
    print(f"one chatadm run for {USERS} users: {bulk:.2f} s; separate runs: "
          f"{per_run * 1000:.1f} ms each, {per_run * USERS:.0f} s for {USERS} (extrapolated)")
    assert bulk < per_run * USERS / 20

    as_json = chatadm(node, creds, "-j", "unread", "-c", "-", stdin="\n".join(NAMES[:50]))
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [{"user": f"{n}@{HOST}", "count": got[n]}
                                          for n in NAMES[:50]]
