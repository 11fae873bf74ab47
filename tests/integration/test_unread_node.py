"""mod_unread on one real ejabberd 23.01 node, driven by a real XMPP client
(slixmpp) and by ejabberd's own commands. After every step that changes the
offline store, the index must equal the store: unread_count equals
get_offline_count and the number of records in mod_offline's table, and
unread_list/unread_senders match what a client receives.

Parametrized over mod_offline's store: mnesia (ejabberd's default), and
MariaDB and PostgreSQL (db_type: sql, each a throwaway server from
sqldb.py), the same steps against each."""

import contextlib
import json
import time
import urllib.error
from collections import Counter

import pytest

import harness
import sqldb
import xmpp_client as xc

HOST = "localhost"
QUEUE_LIMIT = 20
USERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
PASSWORD = "pw-{}"


# mnesia keeps the node name and ports it always had; the SQL variants use
# the SQL tests' range (25000-25999), database ports included.
STORES = {
    "mnesia": {"name": "unreadit", "c2s": 15222, "api": 15443},
    "mariadb": {"name": "sqltunreadmariadb", "c2s": 25225, "api": 25445, "db": 25307},
    "postgres": {"name": "sqltunreadpostgres", "c2s": 25226, "api": 25446, "db": 25433},
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
                                             api_port=conf["api"], queue_limit=QUEUE_LIMIT,
                                             sql=db))
        n.register_admin()
        for u in USERS:
            n.register(u, PASSWORD.format(u))
        yield n


def addr(node):
    return (node.ip, node.c2s_port)


def jid(user):
    return f"{user}@{HOST}"


def send(node, sender, to, bodies, **kw):
    return xc.send_messages(addr(node), node.ca, jid(sender), PASSWORD.format(sender),
                            jid(to), bodies, **kw)


def unread_list(node, user, limit=1000, offset=0, sender=""):
    return node.api("unread_list", {"user": user, "limit": limit, "offset": offset,
                                    "from": sender})


def assert_consistent(node, users=USERS, stock_cached=True):
    """Index == store for each user, through ejabberdctl and the HTTP API.
    stock_cached=False: the store was written behind mod_offline's back, so
    its count cache is stale and the store itself stands in for it."""
    for u in users:
        store = node.store_count(u)
        stock = int(node.ctl("get_offline_count", u, HOST)) if stock_cached else store
        ctl = int(node.ctl("unread_count", u))
        api = node.api("unread_count", {"user": jid(u)})["count"]
        assert (ctl, api, stock) == (store, store, store), f"{u}: index {ctl}/{api}, " \
            f"get_offline_count {stock}, store {store}"
        listed = unread_list(node, u)
        assert len(listed) == store
        senders = node.api("unread_senders", {"user": u})
        assert sum(s["count"] for s in senders) == store
        assert Counter({s["sender"]: s["count"] for s in senders}) == \
            Counter(m["from"] for m in listed)
    assert node.ctl("unread_resync") == "", "a full resync found differences"


def test_store_via_client_and_send_message(node):
    assert_consistent(node)
    errors = send(node, "bob", "alice", ["hello", "multi\nline body", "third"])
    assert errors == []
    node.ctl("send_message", "chat", jid("carol"), jid("alice"), "Subj", "from carol")
    assert_consistent(node)
    listed = unread_list(node, "alice")
    assert [m["body"] for m in listed] == ["from carol", "third", "multi\nline body", "hello"]
    assert listed[0]["subject"] == "Subj" and listed[0]["from"] == jid("carol")
    assert [m["id"] for m in listed] == sorted((m["id"] for m in listed), reverse=True)
    assert node.api("unread_senders", {"user": "alice"}) == [
        {"sender": jid("bob"), "count": 3}, {"sender": jid("carol"), "count": 1}]
    page = unread_list(node, "alice", limit=2, offset=1)
    assert [m["body"] for m in page] == ["third", "multi\nline body"]
    only_bob = unread_list(node, "alice", sender=jid("bob"))
    assert {m["from"] for m in only_bob} == {jid("bob")} and len(only_bob) == 3


def test_queue_full_rejection_stores_nothing(node):
    bodies = [f"m{i}" for i in range(QUEUE_LIMIT + 5)]
    errors = send(node, "alice", "bob", bodies)
    assert len(errors) == 5, "the server bounces what exceeds the offline queue"
    assert node.store_count("bob") == QUEUE_LIMIT
    assert_consistent(node)
    top = node.api("unread_top", {"host": HOST, "limit": 2})
    assert top[0] == {"user": jid("bob"), "count": QUEUE_LIMIT}


def test_login_delivery_matches_listing(node):
    listed = unread_list(node, "alice")
    assert listed, "earlier steps stored messages for alice"
    got = xc.receive_offline(addr(node), node.ca, jid("alice"), PASSWORD.format("alice"))
    # mod_offline delivers oldest first; the listing is newest first.
    assert [(m["from"], m["body"]) for m in got] == \
        [(m["from"], m["body"]) for m in reversed(listed)]
    assert_consistent(node)
    assert node.api("unread_count", {"user": "alice"})["count"] == 0


def test_xep0013_remove_fetch_purge(node):
    send(node, "erin", "dave", [f"d{i}" for i in range(5)])
    assert_consistent(node, ["dave"])
    pw = PASSWORD.format("dave")
    nodes = xc.xep0013(addr(node), node.ca, jid("dave"), pw, "items")
    assert len(nodes) == 5
    xc.xep0013(addr(node), node.ca, jid("dave"), pw, "remove", sorted(nodes)[:2])
    assert node.store_count("dave") == 3
    assert_consistent(node, ["dave"])
    assert [m["body"] for m in unread_list(node, "dave")] == ["d4", "d3", "d2"]
    xc.xep0013(addr(node), node.ca, jid("dave"), pw, "fetch")
    assert_consistent(node, ["dave"])
    xc.xep0013(addr(node), node.ca, jid("dave"), pw, "purge")
    assert node.store_count("dave") == 0
    assert_consistent(node, ["dave"])


def write_old_record(node, user, days_ago, body):
    """Stores a record shaped like mod_offline's, dated in the past: on SQL
    a spool row like mod_offline_sql's, created_at that many days ago."""
    if node.sql is not None:
        node.sql.insert_spool_row(user, HOST, sqldb.offline_message_xml(
            jid("frank"), jid(user), body, days_ago=days_ago, server=HOST), days_ago=days_ago)
        return
    node.rpc(
        f'S = erlang:system_time(second) - {days_ago} * 86400, '
        f'To = jid:make(<<"{user}">>, <<"{HOST}">>), From = jid:make(<<"frank">>, <<"{HOST}">>), '
        f'Pkt = {{xmlel, <<"message">>, [{{<<"xmlns">>, <<"jabber:client">>}}, '
        f'{{<<"type">>, <<"chat">>}}, {{<<"to">>, jid:encode(To)}}, {{<<"from">>, jid:encode(From)}}], '
        f'[{{xmlel, <<"body">>, [], [{{xmlcdata, <<"{body}">>}}]}}]}}, '
        f'mnesia:dirty_write({{offline_msg, {{<<"{user}">>, <<"{HOST}">>}}, '
        f'{{S div 1000000, S rem 1000000, 0}}, never, From, To, Pkt}})')


def test_delete_old_and_expired_messages(node):
    write_old_record(node, "erin", 10, "ten days old")
    write_old_record(node, "erin", 9, "nine days old")
    send(node, "frank", "erin", ["fresh"])
    # XEP-0023: mod_offline records an expiry for this one.
    send(node, "frank", "erin", ["expires soon"],
         extra_xml="<x xmlns='jabber:x:expire' seconds='1'/>")
    assert_consistent(node, ["erin"], stock_cached=False)
    assert node.store_count("erin") == 4
    node.ctl("delete_old_messages", "5")
    assert node.store_count("erin") == 2
    assert_consistent(node, ["erin"])
    time.sleep(2)
    node.ctl("delete_expired_messages")
    if node.sql is None:
        assert node.store_count("erin") == 1
        assert_consistent(node, ["erin"])
        assert [m["body"] for m in unread_list(node, "erin")] == ["fresh"]
    else:
        # mod_offline_sql (23.01) keeps no expiry and its
        # remove_expired_messages does nothing: the message stays, and so
        # must its index entry.
        assert node.store_count("erin") == 2
        assert_consistent(node, ["erin"])
        assert [m["body"] for m in unread_list(node, "erin")] == ["expires soon", "fresh"]


def test_webadmin_remove_all_offline_messages(node):
    """WebAdmin's "Remove All Offline Messages" runs no hook either."""
    import ssl
    import urllib.parse
    import urllib.request
    from base64 import b64encode
    send(node, "alice", "carol", ["w1", "w2"])
    assert node.store_count("carol") >= 2
    assert_consistent(node, ["carol"])
    url = f"https://{node.ip}:{node.api_port}/admin/server/{HOST}/user/carol/"
    req = urllib.request.Request(url, method="POST", data=urllib.parse.urlencode(
        {"removealloffline": "Remove All Offline Messages"}).encode())
    cred = f"{harness.ADMIN}@{HOST}:{harness.ADMIN_PASSWORD}".encode()
    req.add_header("Authorization", "Basic " + b64encode(cred).decode())
    ctx = ssl.create_default_context(cafile=str(node.ca))
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        assert r.status == 200
    assert node.store_count("carol") == 0
    assert_consistent(node, ["carol"])


def test_remove_user(node):
    send(node, "alice", "frank", ["bye"])
    assert node.api("unread_count", {"user": "frank"})["count"] == 1
    node.ctl("unregister", "frank", HOST)
    assert node.store_count("frank") == 0
    assert_consistent(node, [u for u in USERS if u != "frank"])
    with pytest.raises(urllib.error.HTTPError) as err:
        node.api("unread_count", {"user": "frank"})
    assert err.value.code == 404
    assert all(t["user"] != jid("frank") for t in node.api("unread_top", {"host": HOST,
                                                                          "limit": 10}))
    node.register("frank", PASSWORD.format("frank"))


def test_module_restart_picks_up_changes_made_while_stopped(node):
    send(node, "bob", "carol", ["before restart"])
    node.ctl("restart_module", HOST, "mod_unread")
    assert_consistent(node)
    # With the module stopped, the store changes; the start must rebuild.
    node.rpc(f'gen_mod:stop_module(<<"{HOST}">>, mod_unread)')
    send(node, "bob", "carol", ["while stopped"])
    node.rpc(f'gen_mod:start_module(<<"{HOST}">>, mod_unread)')
    time.sleep(0.5)
    assert node.store_count("carol") == 2
    assert_consistent(node)


def test_nif_reload_keeps_answers(node):
    before = node.api("unread_count", {"user": "carol"})["count"]
    for _ in range(2):
        node.rpc("code:purge(unread_nif), {module, unread_nif} = code:load_file(unread_nif), ok")
    assert node.api("unread_count", {"user": "carol"})["count"] == before
    send(node, "bob", "carol", ["after reload"])
    assert_consistent(node, ["carol"])


BACKEND_NAMES = {"mnesia": "mnesia", "mariadb": "sql/mysql", "postgres": "sql/pgsql"}


def test_server_restart_rebuilds_from_store(node, store):
    expected = {u: node.store_count(u) for u in USERS}
    node.restart()
    assert {u: int(node.ctl("unread_count", u)) for u in USERS} == expected
    assert_consistent(node)
    stats = node.api("unread_stats", {})
    assert stats[0]["host"] == HOST and stats[0]["state"] == "ready"
    assert stats[0]["backend"] == BACKEND_NAMES[store]
    assert stats[0]["total"] == sum(expected.values())
    assert stats[0]["users"] == sum(1 for v in expected.values() if v)


def test_resync_reports_and_repairs_drift(node):
    send(node, "bob", "dave", ["real"])
    # Make the index drift on purpose: drop dave's entry behind the store's back.
    node.rpc(f'{{ok, I}} = mod_unread_server:lookup(<<"{HOST}">>), unread_nif:delete_user(I, <<"dave">>)')
    assert node.api("unread_count", {"user": "dave"})["count"] == 0
    assert node.ctl("unread_resync_user", "dave") == f"{jid('dave')}\t0\t1\t1\t0"
    assert node.api("unread_count", {"user": "dave"})["count"] == 1
    node.rpc(f'{{ok, I}} = mod_unread_server:lookup(<<"{HOST}">>), unread_nif:delete_user(I, <<"dave">>)')
    diffs = node.api("unread_resync", {})
    assert diffs == [{"user": jid("dave"), "index_count": 0, "store_count": 1, "added": 1,
                      "removed": 0}]
    assert_consistent(node)


def test_errors_are_clear(node):
    p = node.ctl("unread_count", "nobody", check=False)
    assert p.returncode != 0 and "nobody@localhost does not exist" in p.stdout
    for bad in ["a@@b", "@localhost"]:
        with pytest.raises(urllib.error.HTTPError) as err:
            node.api("unread_count", {"user": bad})
        assert err.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as err:
        node.api("unread_top", {"host": "elsewhere.example", "limit": 5})
    assert err.value.code == 404 and b"not served" in err.value.read()
    with pytest.raises(urllib.error.HTTPError) as err:
        node.api("unread_list", {"user": "alice", "limit": 100000, "offset": 0, "from": ""})
    assert err.value.code == 400


def test_api_needs_admin_credentials(node):
    with pytest.raises(urllib.error.HTTPError) as err:
        node.api("unread_count", {"user": "alice"}, auth=False)
    assert err.value.code in (401, 403)
    with pytest.raises(urllib.error.HTTPError) as err:
        node.api("unread_count", {"user": "alice"}, password="wrong")
    assert err.value.code == 401
    # A normal user is authenticated but not allowed by api_permissions.
    with pytest.raises(urllib.error.HTTPError) as err:
        node.api("unread_count", {"user": "alice"}, user=jid("bob"), password=PASSWORD.format("bob"))
    assert err.value.code in (401, 403)
    assert json.loads(err.value.read())["status"] == "error"


BULK_USERS = 2_000
BULK_PER_USER = 10


def fill_bulk(node, store):
    """BULK_USERS x BULK_PER_USER messages to users bulk1.., written straight
    into the store: enough for a rebuild to be caught while it reads."""
    xml = sqldb.offline_message_xml(jid("bulksender"), jid("bulk"), "bulk")
    n = BULK_USERS * BULK_PER_USER
    if store == "postgres":
        node.sql.execute("INSERT INTO spool (username, server_host, xml) SELECT "
                         f"'bulk' || ((n - 1) / {BULK_PER_USER} + 1), '{HOST}', "
                         f"{sqldb.sql_quote(xml)} FROM generate_series(1, {n}) AS n;")
    elif store == "mariadb":
        node.sql.execute("INSERT INTO spool (username, server_host, xml) SELECT "
                         f"CONCAT('bulk', (seq - 1) DIV {BULK_PER_USER} + 1), '{HOST}', "
                         f"{sqldb.sql_quote(xml)} FROM seq_1_to_{n};")
    else:
        node.rpc(
            f'H = <<"{HOST}">>, From = jid:make(<<"bulksender">>, H), '
            'Base = erlang:system_time(microsecond) - 86400000000, '
            f'lists:foreach(fun(I) -> U = <<"bulk", (integer_to_binary((I - 1) div {BULK_PER_USER} + 1))/binary>>, '
            'Usec = Base + I, '
            'ok = mnesia:dirty_write({offline_msg, {U, H}, '
            '{Usec div 1000000000000, Usec div 1000000 rem 1000000, Usec rem 1000000}, never, '
            'From, jid:make(U, H), {xmlel, <<"message">>, [{<<"type">>, <<"chat">>}], '
            '[{xmlel, <<"body">>, [], [{xmlcdata, <<"bulk">>}]}]}}) end, '
            f'lists:seq(1, {n}))', timeout=300)


def store_total(node):
    """Every message of the host in the store."""
    if node.sql is not None:
        return int(node.sql.query(f"SELECT count(*) FROM spool WHERE server_host = '{HOST}'")[0][0])
    return int(node.rpc("mnesia:table_info(offline_msg, size)"))


def remove_bulk(node, store):
    if store == "mnesia":
        node.rpc(f'[ok = mnesia:dirty_delete(offline_msg, {{<<"bulk", (integer_to_binary(I))/binary>>, '
                 f'<<"{HOST}">>}}) || I <- lists:seq(1, {BULK_USERS})], ok', timeout=300)
    else:
        node.sql.execute("DELETE FROM spool WHERE username LIKE 'bulk%';")


def test_module_stop_during_a_rebuild_leaves_none_of_its_processes(node, store):
    """A rebuild reads with processes of its own (on SQL one reader per range
    of seqs, on mnesia two readers taking turns); stopping the module while
    they read must end them all, not leave them waiting for pages nobody
    takes."""
    fill_bulk(node, store)
    try:
        # One expression on the node, so the stop lands while the readers
        # are at work rather than a round trip later.
        out = node.rpc(
            f'H = <<"{HOST}">>, '
            # Processes running code of these modules (spawned funs all
            # have erlang:apply/2 as their initial call).
            'Ours = fun(Mods) -> [P || P <- processes(), '
            '{current_stacktrace, St} <- [erlang:process_info(P, current_stacktrace)], '
            'lists:any(fun({M, F, _, _}) -> lists:member({M, F}, Mods) orelse '
            'lists:member(M, Mods) end, St)] end, '
            'Readers = [{mod_unread_sql, page_reader}, {mod_unread_mnesia, take_turns}], '
            'spawn(fun() -> catch mod_unread_server:resync(H) end), '
            'Wait = fun W(0) -> not_seen; W(N) -> case Ours(Readers) of '
            '[] -> timer:sleep(1), W(N - 1); Ps -> {seen, length(Ps)} end end, '
            'Seen = Wait(10000), '
            'Stop = gen_mod:stop_module(H, mod_unread), '
            'timer:sleep(1000), '
            '{Seen, Stop, [erlang:process_info(P, current_stacktrace) || P <- '
            'Ours([mod_unread_sql, mod_unread_mnesia, mod_unread_server])]}', timeout=120)
        assert out.startswith("{{seen,"), f"no rebuild reader seen at work: {out}"
        assert out.rstrip().endswith(",ok,[]}"), f"left behind after the stop: {out}"
    finally:
        node.rpc(f'gen_mod:is_loaded(<<"{HOST}">>, mod_unread) orelse '
                 f'gen_mod:start_module(<<"{HOST}">>, mod_unread), ok')
        remove_bulk(node, store)
    # The removal reaches the index through the store's changes: wait for it.
    deadline = time.time() + 60
    while True:
        stats = node.api("unread_stats", {})[0]
        if stats["state"] == "ready" and stats["total"] == store_total(node):
            break
        assert time.time() < deadline, f"index not back to the store: {stats}"
        time.sleep(0.2)
    assert_consistent(node)
