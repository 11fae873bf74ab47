"""The rebuild's replay, on a real ejabberd node: a full rebuild
(unread_resync) reads a store of 200,000 messages while real XMPP clients
keep changing it (stores to offline users, XEP-0013 removes); the changes
that arrive during the rebuild are replayed onto the new index, so the index
equals the store afterwards, user by user.

CI cost: about 40 s (filling the store is most of it)."""

import asyncio
import threading
import time
import xml.etree.ElementTree as ET

import pytest

import harness
import xmpp_client as xc

HOST = "localhost"
FILL_USERS = 20_000
FILL_PER_USER = 10
TARGETS = ["t1", "t2", "t3"]
READER = "reader"
SEEDED = 1000


def pw(user):
    return f"pw-{user}"


def jid(user):
    return f"{user}@{HOST}"


@pytest.fixture(scope="module")
def node():
    with harness.Node(name="replayit", c2s_port=16022, api_port=16043,
                      queue_limit=100_000) as n:
        n.register_admin()
        for u in TARGETS + [READER, "sender"]:
            n.register(u, pw(u))
        yield n


def fill(node):
    """FILL_USERS x FILL_PER_USER records written straight into mod_offline's
    table (as mod_offline stores them), the fast way to a large store."""
    node.rpc(
        f'H = <<"{HOST}">>, From = jid:make(<<"filler">>, H), '
        'Base = erlang:system_time(microsecond) - 86400000000, '
        'lists:foreach(fun(U) -> User = <<"f", (integer_to_binary(U))/binary>>, '
        'To = jid:make(User, H), '
        'lists:foreach(fun(M) -> Usec = Base + U * 100 + M, '
        'ok = mnesia:dirty_write({offline_msg, {User, H}, '
        '{Usec div 1000000000000, Usec div 1000000 rem 1000000, Usec rem 1000000}, never, '
        'From, To, {xmlel, <<"message">>, [{<<"type">>, <<"chat">>}], '
        '[{xmlel, <<"body">>, [], [{xmlcdata, <<"filled">>}]}]}}) end, '
        f'lists:seq(1, {FILL_PER_USER})) end, lists:seq(1, {FILL_USERS}))',
        timeout=600)


async def _stream_stores(client, stop, sent):
    """Sends to the offline targets, round robin, until stop is set."""
    n = 0
    while not stop.is_set():
        client.make_message(mto=jid(TARGETS[n % len(TARGETS)]), mbody=f"m{n}",
                            mtype="chat").send()
        sent.append(time.time())
        n += 1
        if n % 20 == 0:
            await client.get_roster()  # routed: paces the stream to the server
    await client.get_roster()


async def _stream_removes(client, stop, removed):
    """XEP-0013: lists the own offline messages and removes them a few at a
    time, until stop is set or none is left."""
    disco = client["xep_0030"]
    while not stop.is_set():
        items = await disco.get_items(jid=client.boundjid.bare, node=xc.OFFLINE_NS)
        nodes = sorted(node for (_jid, node, _name) in items["disco_items"]["items"])
        if not nodes:
            return
        for first in range(0, min(len(nodes), 40), 4):
            payload = "".join(f"<item action='remove' node='{n}'/>"
                              for n in nodes[first:first + 4])
            iq = client.Iq()
            iq["type"] = "set"
            iq.append(ET.fromstring(f"<offline xmlns='{xc.OFFLINE_NS}'>{payload}</offline>"))
            sent_at = time.time()
            await iq.send(timeout=15)
            removed.append((sent_at, time.time()))
            if stop.is_set():
                return
            await asyncio.sleep(0.02)


def run_client(node, user, work, stop, log, errors):
    try:
        asyncio.run(xc._session(jid(user), pw(user), (node.ip, node.c2s_port), node.ca, False,
                                lambda c: work(c, stop, log), timeout=60))
    except Exception as e:  # reported by the test, not lost in the thread
        errors.append(repr(e))


def index_vs_store(node):
    """(Differences, IndexTotal, StoreTotal, IndexUsers, StoreUsers): the
    users of the store whose unread_count is not their number of records,
    as [{User, IndexCount, StoreCount}] printed by the node, and totals."""
    return _parse(node.rpc(
        f'H = <<"{HOST}">>, {{ok, I}} = mod_unread_server:lookup(H), '
        'Keys = mnesia:dirty_all_keys(offline_msg), '
        'Diffs = [{U, C, S} || {U, H1} <- Keys, H1 == H, '
        'C <- [mod_unread_commands:unread_count(<<U/binary, $@, H/binary>>)], '
        'S <- [length(mnesia:dirty_read(offline_msg, {U, H}))], C /= S], '
        '{Total, Users, _} = unread_nif:stats(I), '
        '{Diffs, Total, mnesia:table_info(offline_msg, size), Users, length(Keys)}',
        timeout=300))


def _parse(out):
    body = out.strip()[1:-1]
    diffs_end = body.index("]") + 1
    diffs = body[:diffs_end].replace("\n", "").replace(" ", "")
    nums = [int(x) for x in body[diffs_end + 1:].replace("\n", "").split(",")]
    return (diffs, *nums)


def test_changes_during_a_rebuild_are_replayed(node):
    xc.send_messages((node.ip, node.c2s_port), node.ca, jid("sender"), pw("sender"),
                     jid(READER), [f"seed{i}" for i in range(SEEDED)])
    assert node.store_count(READER) == SEEDED
    fill(node)
    assert int(node.rpc("mnesia:table_info(offline_msg, size)")) >= FILL_USERS * FILL_PER_USER

    stop = threading.Event()
    sent, removed, errors = [], [], []
    threads = [threading.Thread(target=run_client,
                                args=(node, "sender", _stream_stores, stop, sent, errors)),
               threading.Thread(target=run_client,
                                args=(node, READER, _stream_removes, stop, removed, errors))]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while (len(sent) < 50 or not removed) and time.time() < deadline and not errors:
        time.sleep(0.05)
    # The rebuild, timed on the node; unread_resync compares the old index
    # (which took every change as it came) with the rebuilt one.
    out = node.rpc('T0 = erlang:system_time(microsecond), '
                   'R = mod_unread_commands:unread_resync(), '
                   'T1 = erlang:system_time(microsecond), {T0, T1, R}', timeout=300)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(60)
    assert not errors, errors
    t0, t1, diffs = out.strip("{}").split(",", 2)
    t0, t1 = int(t0) / 1e6, int(t1) / 1e6
    assert len(sent) > 50, "the store stream ran"
    # Stores: records whose storage timestamp falls in the rebuild. Removes:
    # requests sent after it began and answered before it ended.
    targets = ", ".join(f'<<"{t}">>' for t in TARGETS)
    stores_during = int(node.rpc(
        f'length([x || U <- [{targets}], '
        f'{{offline_msg, _, {{Me, S, Mi}}, _, _, _, _}} <- '
        f'mnesia:dirty_read(offline_msg, {{U, <<"{HOST}">>}}), '
        f'(Me * 1000000 + S) * 1000000 + Mi > {int(t0 * 1e6)}, '
        f'(Me * 1000000 + S) * 1000000 + Mi < {int(t1 * 1e6)}])'))
    removes_during = sum(1 for a, b in removed if t0 < a and b < t1)
    assert stores_during >= 20 and removes_during >= 3, \
        f"the writes must overlap the rebuild ({t1 - t0:.2f} s): {stores_during} stores, " \
        f"{removes_during} removes during it"
    assert diffs.strip() == "[]", f"the rebuilt index differs from the live one: {diffs}"

    bad, total, store_total, users, store_users = index_vs_store(node)
    assert bad == "[]", f"index != store for users: {bad}"
    assert (total, users) == (store_total, store_users)
    assert store_total > FILL_USERS * FILL_PER_USER
    # And a resync now, with nothing changing, finds nothing to repair.
    assert node.ctl("unread_resync") == ""
