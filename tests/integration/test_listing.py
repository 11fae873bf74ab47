"""unread_list on a real ejabberd node, through the HTTP API: every listed
body belongs to its own message, and each preview is a prefix of the body
listed with it. Two cases made that false before: records stored for a user
in the same microsecond (the store is a bag keyed by user; the listing
matched bodies by timestamp alone), and messages with several <body/>
elements in different languages (preview and body were chosen by different
rules)."""

import asyncio

import pytest
import slixmpp

import harness
import xmpp_client as xc

HOST = "localhost"
PREVIEW = 4
USERS = ["alice", "bob", "carol"]


def pw(user):
    return f"pw-{user}"


def jid(user):
    return f"{user}@{HOST}"


@pytest.fixture(scope="module")
def node():
    with harness.Node(name="listingit", c2s_port=15922, api_port=15943,
                      module_opts={"preview_length": PREVIEW}) as n:
        n.register_admin()
        for u in USERS:
            n.register(u, pw(u))
        yield n


def listed(node, user):
    return node.api("unread_list", {"user": user, "limit": 1000, "offset": 0, "from": ""})


def assert_previews_are_prefixes(messages):
    for m in messages:
        assert m["body"].startswith(m["preview"]), m
        assert len(m["preview"]) == min(PREVIEW, len(m["body"])), m


def write_records(node, user, usec, bodies):
    """Writes one record per (sender, body) into mod_offline's table, shaped
    as mod_offline stores them, all with the same timestamp."""
    recs = ", ".join(
        f'{{offline_msg, {{<<"{user}">>, <<"{HOST}">>}}, TS, never, jid:make(<<"{s}">>, H), '
        f'jid:make(<<"{user}">>, H), {{xmlel, <<"message">>, [{{<<"type">>, <<"chat">>}}], '
        f'[{{xmlel, <<"body">>, [], [{{xmlcdata, <<"{b}">>}}]}}]}}}}'
        for s, b in bodies)
    node.rpc(f'U = {usec}, H = <<"{HOST}">>, '
             f'TS = {{U div 1000000000000, U div 1000000 rem 1000000, U rem 1000000}}, '
             f'[ok = mnesia:dirty_write(R) || R <- [{recs}]], ok')


def test_records_of_one_microsecond_keep_their_bodies(node):
    usec = 1_700_000_000_123_456
    same = [("bob", "alpha one"), ("bob", "bravo two"), ("carol", "charlie three")]
    write_records(node, "alice", usec, same)
    write_records(node, "alice", usec + 1, [("bob", "delta four")])
    assert node.store_count("alice") == 4
    messages = listed(node, "alice")
    assert len(messages) == 4
    assert_previews_are_prefixes(messages)
    assert sorted((m["from"], m["body"]) for m in messages if m["id"] == usec) == \
        sorted((jid(s), b) for s, b in same)
    assert [m["body"] for m in messages if m["id"] == usec + 1] == ["delta four"]
    # One sender's page holds only its own bodies.
    only_carol = node.api("unread_list", {"user": "alice", "limit": 10, "offset": 0,
                                          "from": jid("carol")})
    assert [(m["preview"], m["body"]) for m in only_carol] == [("char", "charlie three")]


async def _send_multilingual(client, to, messages):
    for bodies in messages:
        msg = client.make_message(mto=to, mtype="chat")
        # slixmpp writes an interface with a language as <body xml:lang=…/>,
        # in the order set: here the tagged bodies come first.
        for lang, text in bodies:
            msg[f"body|{lang}" if lang else "body"] = text
        msg.send()
    await client.get_roster()  # the server has routed every message sent before
    await asyncio.sleep(0.3)


def send_multilingual(node, sender, to, messages):
    return asyncio.run(xc._session(jid(sender), pw(sender), (node.ip, node.c2s_port), node.ca,
                                   False, lambda c: _send_multilingual(c, jid(to), messages)))


def test_several_bodies_preview_and_body_from_the_same_one(node):
    send_multilingual(node, "carol", "bob", [
        [("de", "Hallo Bob"), ("", "Hello Bob")],
        [("de", "Nur deutsch"), ("fr", "Seulement")],
        [("fr", "Bonjour"), ("", "Good morning"), ("es", "Buenos días")],
    ])
    assert node.store_count("bob") == 3
    messages = listed(node, "bob")
    assert_previews_are_prefixes(messages)
    # Newest first: the first body without xml:lang, else the first body.
    assert [m["body"] for m in messages] == ["Good morning", "Nur deutsch", "Hello Bob"]
    assert [m["preview"] for m in messages] == ["Good", "Nur ", "Hell"]


def test_slixmpp_really_sends_several_bodies():
    """Guards the test above: the stanza slixmpp builds carries both bodies,
    the tagged one first."""
    msg = slixmpp.Message()
    msg["body|de"] = "Hallo"
    msg["body"] = "Hello"
    xml = str(msg)
    assert xml.index('xml:lang="de"') < xml.index(">Hello<"), xml
