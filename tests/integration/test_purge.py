"""Purge by sender and retention preview (unread_purge_sender,
unread_retention_preview, `chatadm purge`, `chatadm retention`) on one real
ejabberd 23.01 node, with real XMPP clients: a spammer and the accounts of a
spam domain send to many users, mixed with legitimate senders. The dry run's
numbers must equal what mod_offline's store holds (read from the store
itself: the mnesia table, or the spool table), the purge must remove exactly
those messages and nothing else, a second purge nothing; index,
get_offline_count's cache and store agree afterwards, and a user who logs in
receives exactly the legitimate messages. The retention preview must equal
what ejabberd's own delete_old_messages then removes.

Parametrized over mod_offline's store: mnesia, MariaDB, PostgreSQL. Ports
23222-23224 (c2s), 23443-23445 (api), databases 23306 and 23432; a second
module-scoped mnesia node (23225/23446) runs the kill -9 test."""

import asyncio
import contextlib
import json
import os
import re
import subprocess
import time
from collections import Counter

import pytest

import harness
import sqldb
import xmpp_client as xc

HOST = "localhost"
BAD = "bad.example"
PASSWORD = "pw-{}"
USERS = [f"u{i}" for i in range(40)]

STORES = {
    "mnesia": {"name": "purge1", "c2s": 23222, "api": 23443},
    "mariadb": {"name": "purgemariadb", "c2s": 23223, "api": 23444, "db": 23306},
    "postgres": {"name": "purgepg", "c2s": 23224, "api": 23445, "db": 23432},
}


@pytest.fixture(scope="module", params=list(STORES))
def store(request):
    return request.param


@pytest.fixture(scope="module")
def node(store):
    conf = STORES[store]
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(sqldb.make(store, conf["db"])) if store != "mnesia" else None
        n = stack.enter_context(harness.Node(name=conf["name"], c2s_port=conf["c2s"],
                                             api_port=conf["api"], hosts=(HOST, BAD),
                                             queue_limit=200, sql=db))
        n.register_admin()
        register_many(n, HOST, USERS + ["bob", "carol", "spam"])
        register_many(n, BAD, ["x1", "x2"])
        yield n


def register_many(node, host, users):
    # One rpc for all: ejabberdctl register costs a VM start per user.
    names = ",".join(f'<<"{u}">>' for u in users)
    pw = ",".join(f'<<"{PASSWORD.format(u)}">>' for u in users)
    out = node.rpc(f'length([ok || {{U, P}} <- lists:zip([{names}], [{pw}]), '
                   f'ok == ejabberd_auth:try_register(U, <<"{host}">>, P)])')
    assert int(out) == len(users), out


def jid(user, host=HOST):
    return f"{user}@{host}"


def send_many(node, sender, pairs, host=HOST):
    """One real client session of `sender` sending each (to, body)."""

    async def work(client):
        for to, body in pairs:
            client.make_message(mto=to, mbody=body, mtype="chat").send()
        await xc._barrier(client)
        await asyncio.sleep(0.3)
        return list(client.errors)

    errors = asyncio.run(xc._session(jid(sender, host), PASSWORD.format(sender),
                                     (node.ip, node.c2s_port), node.ca, False, work))
    assert errors == []


def bare(full):
    return full.split("/", 1)[0].lower()


def store_messages(node):
    """Counter of (user@host, sender bare JID) over every stored message,
    read from the store itself, not through mod_unread."""
    if node.sql is not None:
        rows = node.sql.query("SELECT username, server_host, xml FROM spool")
        out = Counter()
        for user, host, xml in rows:
            m = re.search(r"""\bfrom=(['"])([^'"]*)\1""", xml)
            out[(f"{user}@{host}", bare(m.group(2)))] += 1
        return out
    text = node.rpc(
        'iolist_to_binary([[U, "@", H, " ", case element(5, F) of <<>> -> []; LU -> [LU, "@"] '
        'end, element(6, F), ";"] || {offline_msg, {U, H}, _, _, F, _, _} <- '
        "mnesia:dirty_match_object(offline_msg, {offline_msg, '_', '_', '_', '_', '_', '_'})])",
        timeout=300)
    assert text.startswith('<<"') and text.endswith('">>'), text[:200]
    return Counter(tuple(e.split(" ")) for e in text[3:-3].split(";") if e)


def matching(counts, pred):
    return Counter({k: n for k, n in counts.items() if pred(k[1])})


def summary(counts):
    per_user = Counter()
    for (user, _), n in counts.items():
        per_user[user] += n
    return sum(counts.values()), per_user


def top_of(per_user, limit):
    return [{"user": u, "count": n}
            for u, n in sorted(per_user.items(),
                               key=lambda x: (-x[1], *x[0].split("@")))[:limit]]


def purge(node, sender, dry_run, host="", limit=5):
    return node.api("unread_purge_sender", {"host": host, "sender": sender,
                                            "dry_run": 1 if dry_run else 0, "limit": limit})


def assert_consistent(node, stock_cached=True):
    """For every user of both hosts: index == get_offline_count's count
    (mod_offline's cached one) == the store; and a full resync finds no
    difference."""
    truth = Counter()
    for (user, _), n in store_messages(node).items():
        truth[user] += n
    names = [jid(u) for u in USERS + ["bob", "carol", "spam"]] + [jid(u, BAD) for u in ("x1", "x2")]
    index = {r["user"]: r["count"] for r in node.api("unread_counts", {"users": names})}
    users = ",".join(f'{{<<"{n.split("@")[0]}">>, <<"{n.split("@")[1]}">>}}' for n in names)
    stock = json.loads(node.rpc(
        f'iolist_to_binary(["[", lists:join(",", [integer_to_binary(mod_offline:count_offline_messages(U, H)) '
        f'|| {{U, H}} <- [{users}]]), "]"])')[3:-3])
    for name, st in zip(names, stock):
        expected = truth.get(name, 0)
        assert index[name] == expected, f"{name}: index {index[name]}, store {expected}"
        if stock_cached:
            assert st == expected, f"{name}: get_offline_count {st}, store {expected}"
    assert node.ctl("unread_resync") == "", "a full resync found differences"


def wait_index(node, timeout=30):
    """Until the index holds as many messages as the store (the SQL change
    log is read every so often)."""
    deadline = time.time() + timeout
    while sum(r["total"] for r in node.api("unread_stats", {})) != \
            sum(store_messages(node).values()):
        assert time.time() < deadline, "the index did not catch up with the store"
        time.sleep(0.2)


def chatadm(node, creds, *args):
    argv = [str(harness.prefix() / "bin" / "chatadm"), "-h", f"{node.ip}:{node.api_port}",
            "-C", str(node.ca), "-u", f"{harness.ADMIN}@{HOST}", "-P", str(creds), *args]
    env = {"PATH": os.environ["PATH"], "HOME": str(creds.parent), "LANG": "C.UTF-8"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def creds(tmp_path_factory):
    pw = tmp_path_factory.mktemp("creds") / "admin.pw"
    pw.write_text(harness.ADMIN_PASSWORD + "\n")
    os.chmod(pw, 0o600)
    return pw


@pytest.fixture(scope="module")
def traffic(node):
    """The spammer sends 3 messages to each of u0..u29, x1@bad.example one
    to u0..u19, x2@bad.example two to u10..u29, the server bad.example one
    to u5; bob two to every even user, carol one to u0..u9."""
    send_many(node, "spam", [(jid(u), f"buy now {k}") for u in USERS[:30] for k in range(3)])
    send_many(node, "x1", [(jid(u), "cheap pills") for u in USERS[:20]], host=BAD)
    send_many(node, "x2", [(jid(u), f"win {k}") for u in USERS[10:30] for k in range(2)],
              host=BAD)
    node.ctl("send_message", "chat", BAD, jid("u5"), "", "server notice")
    send_many(node, "bob", [(jid(u), f"hi {u} {k}") for u in USERS[::2] for k in range(2)])
    send_many(node, "carol", [(jid(u), f"lunch {u}?") for u in USERS[:10]])
    expected_total = 90 + 20 + 40 + 1 + 40 + 10
    deadline = time.time() + 30
    while sum(store_messages(node).values()) != expected_total:
        assert time.time() < deadline, "not every message was stored"
        time.sleep(0.3)
    assert_consistent(node)
    return store_messages(node)


def test_dry_run_equals_the_store(node, traffic):
    spam = matching(traffic, lambda s: s == jid("spam"))
    messages, per_user = summary(spam)
    assert messages == 90 and len(per_user) == 30
    for host in ("", HOST):
        r = purge(node, "spam@localhost/anyresource", dry_run=True, host=host, limit=5)
        assert r == {"dry_run": 1, "messages": messages, "users": len(per_user),
                     "top": top_of(per_user, 5)}
    bad = matching(traffic, lambda s: s.split("@")[-1] == BAD)
    messages, per_user = summary(bad)
    assert messages == 61
    for name in ("@bad.example", "BAD.example"):
        r = purge(node, name, dry_run=True, limit=3)
        assert (r["messages"], r["users"], r["top"]) == (messages, len(per_user),
                                                         top_of(per_user, 3))
    # Nobody's messages, and a host that holds none of the sender's.
    assert purge(node, "nobody@nowhere.example", dry_run=True)["messages"] == 0
    assert purge(node, "spam@localhost", dry_run=True, host=BAD)["users"] == 0
    assert store_messages(node) == traffic, "a dry run removed something"


def test_bad_arguments_are_refused(node, traffic):
    for args in ({"sender": "", "dry_run": 1}, {"sender": "a@b@c", "dry_run": 1},
                 {"sender": "spam@localhost", "dry_run": 2}):
        with pytest.raises(Exception) as e:
            node.api("unread_purge_sender", {"host": "", "limit": 5, **args})
        assert getattr(e.value, "code", None) in (400, 500), e.value
    with pytest.raises(Exception) as e:
        purge(node, "spam@localhost", dry_run=True, host="nohost.example")
    assert getattr(e.value, "code", None) == 404


def test_chatadm_purge_is_a_dry_run_unless_told(node, traffic, creds):
    p = chatadm(node, creds, "purge", "spam@localhost")
    assert p.returncode == 0, p.stderr
    assert "90" in p.stdout and "30" in p.stdout and "dry run" in p.stdout.lower(), p.stdout
    p = chatadm(node, creds, "-j", "purge", "-l", "2", "spam@localhost")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert (r["dry_run"], r["messages"], r["users"], len(r["top"])) == (True, 90, 30, 2)
    # Without -y and without a terminal to ask on, nothing is removed.
    p = chatadm(node, creds, "purge", "-n", "spam@localhost")
    assert p.returncode == 0
    assert store_messages(node) == traffic
    p = chatadm(node, creds, "purge")
    assert p.returncode == 2 and "usage" in p.stderr.lower()


def chatadm_on_terminal(node, creds, answer, *args):
    """chatadm with a terminal on standard input; `answer` is typed there."""
    import pty
    master, slave = pty.openpty()
    argv = [str(harness.prefix() / "bin" / "chatadm"), "-h", f"{node.ip}:{node.api_port}",
            "-C", str(node.ca), "-u", f"{harness.ADMIN}@{HOST}", "-P", str(creds), *args]
    env = {"PATH": os.environ["PATH"], "HOME": str(creds.parent), "LANG": "C.UTF-8"}
    p = subprocess.Popen(argv, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    os.close(slave)
    os.write(master, answer.encode())
    out, err = p.communicate(timeout=120)
    os.close(master)
    return p.returncode, out, err


def test_chatadm_purge_asks_on_a_terminal(node, traffic, creds):
    # Declined: the dry run is shown, nothing is removed.
    rc, out, err = chatadm_on_terminal(node, creds, "n\n", "purge", "spam@localhost")
    assert rc == 0, err
    assert "dry run" in out and "[y/N]" in err and "nothing removed" in err
    assert store_messages(node) == traffic
    # -n never asks, even on a terminal.
    rc, out, err = chatadm_on_terminal(node, creds, "y\n", "purge", "-n", "spam@localhost")
    assert rc == 0 and "[y/N]" not in err
    assert store_messages(node) == traffic


def test_purge_leaves_rows_the_index_cannot_read(node, traffic):
    """A spool row whose recipient does not decode is one mod_offline cannot
    deliver and the index does not hold: a purge of its sender removes what
    the dry run counted, not that row."""
    if node.sql is None:
        pytest.skip("SQL rows only: mnesia holds records already decoded")
    sender, user = jid("junk"), "u31"
    node.sql.insert_spool_row(user, HOST, sqldb.offline_message_xml(sender, jid(user), "ok"))
    node.sql.insert_spool_row(user, HOST, sqldb.offline_message_xml(sender, "", "unreadable"))
    deadline = time.time() + 30
    while purge(node, sender, dry_run=True)["messages"] != 1:
        assert time.time() < deadline, "the index did not take the readable row"
        time.sleep(0.2)
    r = purge(node, sender, dry_run=False)
    assert (r["messages"], r["users"]) == (1, 1), r
    rows = node.sql.query(f"SELECT xml FROM spool WHERE username = '{user}'")
    assert len(rows) == 1 and "unreadable" in rows[0][0], rows
    node.sql.execute(f"DELETE FROM spool WHERE username = '{user}'")
    assert store_messages(node) == traffic
    wait_index(node)
    assert_consistent(node)


def test_purge_removes_exactly_the_senders_messages(node, traffic):
    spam = matching(traffic, lambda s: s == jid("spam"))
    messages, per_user = summary(spam)
    r = purge(node, "spam@localhost", dry_run=False, limit=5)
    assert r == {"dry_run": 0, "messages": messages, "users": len(per_user),
                 "top": top_of(per_user, 5)}
    after = store_messages(node)
    assert after == traffic - spam
    wait_index(node)
    assert_consistent(node)
    again = purge(node, "spam@localhost", dry_run=False)
    assert (again["messages"], again["users"]) == (0, 0)
    assert store_messages(node) == after


def test_chatadm_purge_a_domain_with_yes(node, traffic, creds):
    before = store_messages(node)
    bad = matching(before, lambda s: s.split("@")[-1] == BAD)
    messages, per_user = summary(bad)
    assert messages == 61
    p = chatadm(node, creds, "-j", "purge", "-y", "@bad.example")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert (r["dry_run"], r["messages"], r["users"]) == (False, messages, len(per_user))
    assert store_messages(node) == before - bad
    wait_index(node)
    assert_consistent(node)
    p = chatadm(node, creds, "purge", "-y", "bad.example")
    assert p.returncode == 0 and "0 messages" in p.stdout, p.stdout
    # Confirmed on a terminal: removed.
    before = store_messages(node)
    send_many(node, "x1", [(jid("u1"), f"again {k}") for k in range(3)], host=BAD)
    wait_index(node)
    rc, out, err = chatadm_on_terminal(node, creds, "y\n", "purge", "x1@bad.example")
    assert rc == 0 and "[y/N]" in err, err
    assert "removed 3 messages of 1 users" in out, out
    assert store_messages(node) == before


def test_legitimate_messages_are_still_delivered(node, traffic):
    legit = [(s, n) for (u, s), n in traffic.items() if u == jid("u0")]
    assert dict(legit) .keys() >= {jid("bob"), jid("carol"), jid("spam")}
    got = xc.receive_offline((node.ip, node.c2s_port), node.ca, jid("u0"),
                             PASSWORD.format("u0"))
    assert Counter(bare(m["from"]) for m in got) == Counter({jid("bob"): 2, jid("carol"): 1})
    assert all(m["body"].startswith(("hi ", "lunch ")) for m in got)
    assert_consistent(node)


def old_message(node, user, sender, days, body):
    """A message stored `days` days ago, written into the store behind
    mod_offline's back (as an import or an old spool would hold it)."""
    if node.sql is not None:
        node.sql.insert_spool_row(user, HOST, sqldb.offline_message_xml(
            sender, jid(user), body, days_ago=days), days_ago=days)
        return
    us = int((time.time() - days * 86400) * 1_000_000)
    node.rpc(
        f'mnesia:dirty_write({{offline_msg, {{<<"{user}">>, <<"{HOST}">>}}, '
        f'{{{us // 10**12}, {us // 10**6 % 10**6}, {us % 10**6}}}, never, '
        f'jid:decode(<<"{sender}">>), jid:decode(<<"{jid(user)}">>), '
        f'{{xmlel, <<"message">>, [{{<<"type">>, <<"chat">>}}], '
        f'[{{xmlel, <<"body">>, [], [{{xmlcdata, <<"{body}">>}}]}}]}}}})')


def test_retention_preview_equals_what_delete_old_messages_removes(node, traffic, creds):
    for i, u in enumerate(USERS[:6]):
        old_message(node, u, "news@localhost", 40 + i, f"old news {i}")
        old_message(node, u, "news@localhost", 35, "older news")
    old_message(node, "u7", "bob@localhost", 32, "old hello")
    old_message(node, "u8", "bob@localhost", 20, "recent enough")
    wait_index(node)
    r = node.api("unread_retention_preview", {"host": "", "days": 30, "limit": 5})
    assert (r["messages"], r["users"]) == (13, 7), r
    assert r["top_senders"] == [{"sender": "news@localhost", "count": 12},
                                {"sender": "bob@localhost", "count": 1}]
    p = chatadm(node, creds, "-j", "retention", "30")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["messages"] == 13
    before = store_messages(node)
    node.ctl("delete_old_messages", "30")
    after = store_messages(node)
    removed = before - after
    wait_index(node)
    messages, per_user = summary(removed)
    assert (messages, len(per_user)) == (r["messages"], r["users"])
    by_sender = Counter()
    for (_, s), n in removed.items():
        by_sender[s] += n
    assert by_sender == Counter(
        {t["sender"]: t["count"] for t in r["top_senders"]})
    assert node.api("unread_retention_preview", {"host": "", "days": 30, "limit": 5})[
        "messages"] == 0
    # The old messages went in behind mod_offline's back: its cache was
    # never told of them (delete_old_messages clears it, though).
    assert_consistent(node)


# -- kill -9 during a large purge ---------------------------------------------
KILL_USERS = 2000
SPAM_PER_USER = 10


@pytest.fixture(scope="module")
def big_node():
    with harness.Node(name="purgekill", c2s_port=23225, api_port=23446) as n:
        n.register_admin()
        register_many(n, HOST, [f"k{i}" for i in range(KILL_USERS)] + ["bob", "spam"])
        # 20,000 spam messages and one from bob to every tenth user, through
        # ejabberd's own send_message (routing, mod_offline's hooks, store).
        n.rpc(f'[mod_admin_extra:send_message(<<"chat">>, <<"spam@{HOST}">>, '
              f'<<"k", (integer_to_binary(I))/binary, "@{HOST}">>, <<>>, '
              f'<<"spam ", (integer_to_binary(K))/binary>>) '
              f'|| I <- lists:seq(0, {KILL_USERS - 1}), K <- lists:seq(1, {SPAM_PER_USER})], ok',
              timeout=600)
        n.rpc(f'[mod_admin_extra:send_message(<<"chat">>, <<"bob@{HOST}">>, '
              f'<<"k", (integer_to_binary(I))/binary, "@{HOST}">>, <<>>, <<"hello">>) '
              f'|| I <- lists:seq(0, {KILL_USERS - 1}, 10)], ok', timeout=600)
        wait_index(n, timeout=120)
        yield n


def index_counts(node, names):
    out = {}
    for i in range(0, len(names), 1000):
        out.update({r["user"]: r["count"]
                    for r in node.api("unread_counts", {"users": names[i:i + 1000]})})
    return out


def test_kill_during_a_large_purge_leaves_store_and_index_in_step(big_node):
    node = big_node
    before = store_messages(node)
    spam = matching(before, lambda s: s == jid("spam"))
    assert sum(spam.values()) == KILL_USERS * SPAM_PER_USER
    legit = before - spam
    assert sum(legit.values()) == KILL_USERS // 10
    # The purge runs inside the node; a watcher there kills the VM with
    # SIGKILL once the index shows about half of the spam gone: a crash in
    # the middle of the purge, with no chance to finish a batch.
    node.rpc(
        'spawn(fun() -> mod_unread_commands:unread_purge_sender(<<"">>, <<"spam@localhost">>, 0, 0) '
        'end), {ok, Index} = mod_unread_server:lookup(<<"localhost">>), '
        'spawn(fun W() -> case unread_nif:sender_impact(Index, <<"spam@localhost">>, jid, 0) of '
        '{M, _, _, _} when M < 11000 -> os:cmd("kill -9 " ++ os:getpid()); '
        '_ -> timer:sleep(2), W() end end), ok')
    deadline = time.time() + 120
    while node.ctl("status", check=False, timeout=30).returncode == 0:
        assert time.time() < deadline, "the node was not killed"
        time.sleep(0.5)
    node.kill()  # nothing left to kill, normally
    node.ctl("start")
    node.wait_started()
    deadline = time.time() + 120
    while not all(r["state"] == "ready" for r in node.api("unread_stats", {})):
        assert time.time() < deadline
        time.sleep(0.5)
    after = store_messages(node)
    left = sum(matching(after, lambda s: s == jid("spam")).values())
    assert 0 < left < KILL_USERS * SPAM_PER_USER, f"{left} spam messages left: not interrupted"
    assert after - matching(after, lambda s: s == jid("spam")) == legit
    names = [jid(f"k{i}") for i in range(KILL_USERS)]
    index = index_counts(node, names)
    truth = Counter()
    for (u, _), n in after.items():
        truth[u] += n
    assert {n: index[n] for n in names} == {n: truth.get(n, 0) for n in names}
    assert node.ctl("unread_resync", timeout=300) == ""
    preview = purge(node, "spam@localhost", dry_run=True)
    assert preview["messages"] == left
    t0 = time.monotonic()
    r = node.api("unread_purge_sender", {"host": "", "sender": "spam@localhost",
                                         "dry_run": 0, "limit": 0})
    print(f"purged the remaining {r['messages']} messages of {r['users']} users "
          f"in {time.monotonic() - t0:.1f} s")
    assert (r["messages"], r["users"]) == (left, preview["users"])
    final = store_messages(node)
    assert final == legit
    wait_index(node)
    assert index_counts(node, names) == {n: sum(c for (u, _), c in legit.items() if u == n)
                                         for n in names}
    assert node.ctl("unread_resync", timeout=300) == ""
    assert purge(node, "spam@localhost", dry_run=False)["messages"] == 0
