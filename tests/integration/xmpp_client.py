"""A real XMPP client (python3-slixmpp) for the integration tests: logs in over
STARTTLS verified against the test CA, sends, receives, and drives XEP-0013."""

import asyncio
import logging
import xml.etree.ElementTree as ET

import slixmpp

OFFLINE_NS = "http://jabber.org/protocol/offline"
logging.getLogger("slixmpp").setLevel(logging.ERROR)


class _Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca, presence):
        super().__init__(jid, password)
        self.ca_certs = str(ca)
        self.presence = presence
        self.received = []
        self.errors = []
        self.ready = asyncio.Event()
        self.failed = None
        self.last_message = 0.0
        self.register_plugin("xep_0030")
        self.add_event_handler("session_start", self._start)
        self.add_event_handler("message", self._message)
        self.add_event_handler("failed_auth", lambda _: self._fail("authentication failed"))
        self.add_event_handler("connection_failed", lambda e: self._fail(f"connection failed: {e}"))

    def _fail(self, why):
        self.failed = why
        self.ready.set()

    async def _start(self, _event):
        if self.presence:
            self.send_presence()
        self.ready.set()

    def _message(self, msg):
        self.last_message = asyncio.get_event_loop().time()
        if msg["type"] == "error":
            self.errors.append(msg)
            return
        self.received.append({"from": msg["from"].bare, "body": msg["body"],
                              "subject": msg["subject"], "type": msg["type"]})


async def _session(jid, password, addr, ca, presence, work, timeout=30):
    client = _Client(jid, password, ca, presence)
    client.connect(address=addr, force_starttls=True, disable_starttls=False)
    try:
        await asyncio.wait_for(client.ready.wait(), timeout)
        if client.failed:
            raise RuntimeError(f"{jid}: {client.failed}")
        return await work(client)
    finally:
        client.disconnect()
        await asyncio.sleep(0.1)


async def _barrier(client):
    # The server answers stanzas of a stream in order: once a roster get is
    # answered, every message sent before it has been routed.
    await client.get_roster()


def send_messages(addr, ca, jid, password, to, bodies, mtype="chat", subject=None,
                  extra_xml=None):
    """Sends each body as a message; returns error messages bounced back."""

    async def work(client):
        for body in bodies:
            msg = client.make_message(mto=to, mbody=body, mtype=mtype, msubject=subject)
            if extra_xml:
                msg.append(ET.fromstring(extra_xml))
            msg.send()
        await _barrier(client)
        await asyncio.sleep(0.3)
        return list(client.errors)

    return asyncio.run(_session(jid, password, addr, ca, False, work))


def receive_offline(addr, ca, jid, password, idle=1.5, timeout=20):
    """Logs in with an available presence (mod_offline then delivers the
    stored messages) and returns what arrived, in arrival order."""

    async def work(client):
        loop = asyncio.get_event_loop()
        start = loop.time()
        client.last_message = start
        while loop.time() - client.last_message < idle and loop.time() - start < timeout:
            await asyncio.sleep(0.1)
        return list(client.received)

    return asyncio.run(_session(jid, password, addr, ca, True, work))


async def _offline_iq(client, payload, iq_type):
    iq = client.Iq()
    iq["type"] = iq_type
    iq.append(ET.fromstring(f"<offline xmlns='{OFFLINE_NS}'>{payload}</offline>"))
    return await iq.send(timeout=15)


def xep0013(addr, ca, jid, password, action, nodes=()):
    """XEP-0013 without sending presence (so nothing is delivered at login):
    action 'items' lists message nodes, 'view' fetches the given nodes,
    'remove' removes them, 'fetch' fetches all, 'purge' removes all."""

    async def work(client):
        if action == "items":
            items = await client["xep_0030"].get_items(jid=client.boundjid.bare, node=OFFLINE_NS)
            return [node for (_jid, node, _name) in items["disco_items"]["items"]]
        if action in ("view", "remove"):
            payload = "".join(f"<item action='{action}' node='{n}'/>" for n in nodes)
        else:
            payload = f"<{action}/>"
        # XEP-0013: retrieving (view, fetch) is a get, removing a set.
        await _offline_iq(client, payload, "get" if action in ("view", "fetch") else "set")
        await asyncio.sleep(0.5)
        return list(client.received)

    return asyncio.run(_session(jid, password, addr, ca, False, work))


def stay_online(addr, ca, jid, password, ready_file):
    """Logs in with presence and stays connected until killed; touches
    ready_file once the session is up (used to test `chatadm online`)."""

    async def work(client):
        open(ready_file, "w").close()
        while True:
            await asyncio.sleep(3600)

    asyncio.run(_session(jid, password, addr, ca, True, work))


if __name__ == "__main__":
    import sys
    if sys.argv[1] == "online":
        host, port = sys.argv[2].rsplit(":", 1)
        stay_online((host, int(port)), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6])
