"""The SQL test infrastructure itself, with ejabberd's stock modules only
(no mod_unread): a real ejabberd 23.01 node whose mod_offline keeps its
messages in a throwaway MariaDB or PostgreSQL (tests/integration/sqldb.py)
stores what is sent to an offline user in the spool table, counts it with
get_offline_count, delivers it at login and then deletes the rows."""

import time

import pytest

import harness
import sqldb
import xmpp_client as xc

HOST = "localhost"
# Ports of this file (25000-25999: the SQL tests' range).
PORTS = {"mariadb": {"db": 25306, "c2s": 25222, "api": 25443},
         "postgres": {"db": 25432, "c2s": 25223, "api": 25444}}


@pytest.fixture(scope="module", params=["mariadb", "postgres"])
def node(request):
    ports = PORTS[request.param]
    with sqldb.make(request.param, ports["db"]) as db, \
            harness.Node(name=f"sqltstore{request.param}", c2s_port=ports["c2s"],
                         api_port=ports["api"], with_module=False, sql=db) as n:
        for u in ("alice", "bob"):
            n.register(u, f"pw-{u}")
        yield n


def spool_rows(node, user):
    return node.sql.query("SELECT xml, created_at FROM spool WHERE username = "
                          f"{sqldb.sql_quote(user)} AND server_host = '{HOST}' ORDER BY seq")


def test_offline_messages_go_through_the_database(node):
    assert node.ctl("get_offline_count", "alice", HOST) == "0"
    errors = xc.send_messages((node.ip, node.c2s_port), node.ca, f"bob@{HOST}", "pw-bob",
                              f"alice@{HOST}", ["one", "two"])
    assert errors == []
    node.ctl("send_message", "chat", f"bob@{HOST}", f"alice@{HOST}", "", "three")
    rows = spool_rows(node, "alice")
    assert len(rows) == 3 == node.store_count("alice")
    assert int(node.ctl("get_offline_count", "alice", HOST)) == 3
    for row, body in zip(rows, ["one", "two", "three"]):
        assert f"<body>{body}</body>" in row[0]
        assert "urn:xmpp:delay" in row[0] and row[1]
    got = xc.receive_offline((node.ip, node.c2s_port), node.ca, f"alice@{HOST}", "pw-alice")
    assert [m["body"] for m in got] == ["one", "two", "three"]
    assert node.store_count("alice") == 0
    assert int(node.ctl("get_offline_count", "alice", HOST)) == 0


def test_rows_written_behind_ejabberds_back_count(node):
    """What test_unread_node's write_old_record relies on: a row shaped like
    mod_offline_sql's, inserted by hand, is counted and deleted by age."""
    node.sql.insert_spool_row("bob", HOST, sqldb.offline_message_xml(
        f"frank@{HOST}", f"bob@{HOST}", "ten days old", days_ago=10), days_ago=10)
    assert node.store_count("bob") == 1
    assert int(node.ctl("get_offline_count", "bob", HOST)) == 1
    node.ctl("delete_old_messages", "5")
    assert node.store_count("bob") == 0



def test_node_reconnects_after_database_crash(node):
    """kill() and restart() of sqldb, as crash tests use them: ejabberd's
    pool reconnects (sql_start_interval: 1) and the rows written before the
    crash are still there."""
    xc.send_messages((node.ip, node.c2s_port), node.ca, f"bob@{HOST}", "pw-bob",
                     f"alice@{HOST}", ["before crash"])
    assert node.store_count("alice") == 1
    node.sql.kill()
    node.sql.restart()
    assert node.store_count("alice") == 1
    deadline = time.time() + 30
    while True:
        # The first queries after the crash may meet a dead connection.
        errors = xc.send_messages((node.ip, node.c2s_port), node.ca, f"bob@{HOST}", "pw-bob",
                                  f"alice@{HOST}", ["after crash"])
        if node.store_count("alice") == 2 or time.time() > deadline:
            break
        time.sleep(1)
    assert node.store_count("alice") == 2, errors
    assert int(node.ctl("get_offline_count", "alice", HOST)) == 2
    got = xc.receive_offline((node.ip, node.c2s_port), node.ca, f"alice@{HOST}", "pw-alice")
    assert [m["body"] for m in got] == ["before crash", "after crash"]
    assert node.store_count("alice") == 0
