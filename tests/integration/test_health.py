"""Backlog health of mod_unread on a real ejabberd 23.01 node: unread_health
and unread_health_users (HTTP API and ejabberdctl), the Prometheus endpoint
mod_unread_metrics scraped over HTTP and parsed with prometheus_client, and
chatadm health.

Users are filled by a real slixmpp sender. Limits come from ejabberd's own
shaper rule max_user_offline_messages: 20 for all, 8 for bob (a per-user
ACL), 5000 for the admin; mod_offline refuses what is over the limit, so a
user is at its limit exactly when the store stops growing. Parametrized over
mod_offline's store: mnesia, MariaDB and PostgreSQL."""

import contextlib
import datetime
import http.client
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import harness
import sqldb
import xmpp_client as xc

HOST = "localhost"
QUEUE_LIMIT = 20
BOB_LIMIT = 8
NEAR = 0.9
PASSWORD = "pw-{}"
# Messages sent to each user; bob gets more than his limit.
SENT = {"bob": BOB_LIMIT + 3, "carol": 18, "dave": 17, "erin": 3, "frank": 1}
STORED = {u: min(n, BOB_LIMIT if u == "bob" else QUEUE_LIMIT) for u, n in SENT.items()}
USERS = list(SENT) + ["sender", "idle"]
BOUNDS = [1, 5, 10, 50, 100, 500, 1000, 5000]
# Allowed to scrape: 127.0.0.1 (what a loopback client's source is);
# denied: another loopback address, as a remote client would be.
DENIED_SOURCE = "127.0.0.23"

STORES = {
    "mnesia": {"name": "healthmnesia", "c2s": 22222, "api": 22443, "metrics": 22280},
    "mariadb": {"name": "healthmariadb", "c2s": 22223, "api": 22444, "metrics": 22281,
                "db": 22306},
    "postgres": {"name": "healthpostgres", "c2s": 22224, "api": 22445, "metrics": 22282,
                 "db": 22432},
}


@pytest.fixture(scope="module", params=list(STORES))
def store(request):
    return request.param


@pytest.fixture(scope="module")
def node(store):
    conf = STORES[store]
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(sqldb.make(store, conf["db"])) if store != "mnesia" else None
        n = stack.enter_context(harness.Node(
            name=conf["name"], c2s_port=conf["c2s"], api_port=conf["api"],
            queue_limit=QUEUE_LIMIT, sql=db, metrics_port=conf["metrics"],
            metrics_sources=["127.0.0.1/32"],
            user_queue_limits={f"bob@{HOST}": BOB_LIMIT},
            module_opts={"metrics_access": "metrics", "health_near_limit": NEAR}))
        n.register_admin()
        for u in USERS:
            n.register(u, PASSWORD.format(u))
        n.started_us = time.time_ns() // 1000
        for u, count in SENT.items():
            bounced = xc.send_messages((n.ip, n.c2s_port), n.ca, jid("sender"),
                                       PASSWORD.format("sender"), jid(u),
                                       [f"{u} {i}" for i in range(count)])
            assert len(bounced) == count - STORED[u], f"{u}: {len(bounced)} bounced"
        for u, count in STORED.items():
            assert n.store_count(u) == count, u
        yield n


def jid(user):
    return f"{user}@{HOST}"


def health(node, host=HOST):
    rows = node.api("unread_health", {"host": host})
    assert isinstance(rows, list)
    return rows


def health_users(node, host=HOST):
    return node.api("unread_health_users", {"host": host})


def scrape(node, path="/metrics"):
    url = f"http://{node.ip}:{STORES_BY_NAME[node.name]['metrics']}{path}"
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.headers.get("Content-Type"), r.read().decode()


STORES_BY_NAME = {c["name"]: c for c in STORES.values()}


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(family, name=None, **labels):
    return [s for s in family.samples
            if (name is None or s.name == name)
            and all(s.labels.get(k) == v for k, v in labels.items())]


def value(family, name=None, **labels):
    found = samples(family, name, **labels)
    assert len(found) == 1, (family.name, labels, found)
    return found[0].value


def store_oldest_us(node):
    """The oldest stored message's time, from the store itself: mnesia's
    offline_msg timestamps, or the <delay/> mod_offline put in the SQL
    spool's XML (what the index dates SQL rows by), in microseconds."""
    if node.sql is None:
        out = node.rpc("lists:min([element(3, R) || K <- mnesia:dirty_all_keys(offline_msg), "
                       "R <- mnesia:dirty_read(offline_msg, K)])")
        mega, sec, micro = (int(x) for x in out.strip("{}").split(","))
        return (mega * 1_000_000 + sec) * 1_000_000 + micro
    stamps = [re.search(r"stamp=['\"]([^'\"]+)['\"]", xml).group(1)
              for (xml,) in node.sql.query("SELECT xml FROM spool")]
    oldest = min(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps)
    return int(oldest.timestamp() * 1_000_000)


def expected_buckets(counts):
    return [sum(1 for c in counts if c <= b) for b in BOUNDS]


def test_users_at_and_near_their_limit(node):
    [row] = health(node)
    assert row["host"] == HOST and row["state"] == "ready"
    assert row["at_limit"] == 1, row
    assert row["near_limit"] == 1, row
    assert row["near_fraction"] == str(NEAR)
    # At limit first; carol's 18 is 0.9 x 20, dave's 17 is not.
    assert health_users(node) == [
        {"user": jid("bob"), "count": BOB_LIMIT, "limit": BOB_LIMIT, "state": "at_limit"},
        {"user": jid("carol"), "count": 18, "limit": QUEUE_LIMIT, "state": "near_limit"},
    ]
    # The same from ejabberdctl, and for "" (every host).
    out = node.ctl("unread_health_users", HOST)
    assert f"{jid('bob')}\t{BOB_LIMIT}\t{BOB_LIMIT}\tat_limit" in out, out
    assert [r["host"] for r in health(node, "")] == [HOST]


def test_totals_oldest_and_histogram_match_the_store(node):
    [row] = health(node)
    counts = {u: node.api("unread_count", {"user": jid(u)}) for u in USERS}
    counts = {u: (c if isinstance(c, int) else c["count"]) for u, c in counts.items()}
    with_unread = [c for c in counts.values() if c > 0]
    assert row["users"] == len(with_unread) == len(SENT)
    assert row["messages"] == sum(with_unread) == sum(STORED.values())
    assert row["buckets"] == [{"le": str(b), "count": n}
                              for b, n in zip(BOUNDS, expected_buckets(with_unread))] + \
        [{"le": "+Inf", "count": len(with_unread)}]
    # bob was written to first.
    assert row["oldest_user"] == jid("bob")
    oldest = store_oldest_us(node)
    shown = datetime.datetime.fromisoformat(row["oldest_time"].replace("Z", "+00:00"))
    # SQL rows are dated by mod_offline's <delay/>, to the millisecond or so.
    tolerance_us = 0 if node.sql is None else 1_000_000
    assert abs(int(shown.timestamp() * 1_000_000) - oldest) <= tolerance_us, \
        (row["oldest_time"], oldest)
    now_us = time.time_ns() // 1000
    assert node.started_us - 1_000_000 <= oldest <= now_us
    assert (now_us - oldest) // 1_000_000 - 2 <= row["oldest_age"] <= \
        (now_us - node.started_us) // 1_000_000 + 2


def test_metrics_equal_the_command(node):
    content_type, text = scrape(node)
    assert content_type == "text/plain; version=0.0.4"
    [row] = health(node)
    fams = families(text)
    for name in ("ejabberd_unread_messages", "ejabberd_unread_users",
                 "ejabberd_unread_oldest_message_age_seconds",
                 "ejabberd_unread_users_near_limit", "ejabberd_unread_users_at_limit",
                 "ejabberd_unread_index_state"):
        assert fams[name].type == "gauge", name
        assert fams[name].documentation, name
    assert "# TYPE ejabberd_unread_queue_length histogram" in text
    assert value(fams["ejabberd_unread_messages"], host=HOST) == row["messages"]
    assert value(fams["ejabberd_unread_users"], host=HOST) == row["users"]
    assert value(fams["ejabberd_unread_users_at_limit"], host=HOST) == row["at_limit"] == 1
    assert value(fams["ejabberd_unread_users_near_limit"], host=HOST) == row["near_limit"] == 1
    assert value(fams["ejabberd_unread_health_near_limit_ratio"], host=HOST) == NEAR
    age = value(fams["ejabberd_unread_oldest_message_age_seconds"], host=HOST)
    assert abs(age - row["oldest_age"]) <= 2, (age, row["oldest_age"])
    stamp = value(fams["ejabberd_unread_oldest_message_timestamp_seconds"], host=HOST)
    shown = datetime.datetime.fromisoformat(row["oldest_time"].replace("Z", "+00:00"))
    assert abs(stamp - shown.timestamp()) < 1e-3
    hist = fams["ejabberd_unread_queue_length"]
    assert hist.type == "histogram"
    buckets = {s.labels["le"]: s.value for s in samples(hist, "ejabberd_unread_queue_length_bucket",
                                                        host=HOST)}
    want = {b["le"]: b["count"] for b in row["buckets"]}
    # prometheus_client reads le as written; compare by number.
    assert {float(k): v for k, v in buckets.items()} == {float(k): v for k, v in want.items()}
    assert value(hist, "ejabberd_unread_queue_length_sum", host=HOST) == row["messages"]
    assert value(hist, "ejabberd_unread_queue_length_count", host=HOST) == row["users"]
    states = {s.labels["state"]: s.value for s in fams["ejabberd_unread_index_state"].samples
              if s.labels["host"] == HOST}
    assert states == {"ready": 1, "rebuilding": 0, "stale": 0, "refused": 0}


def test_metrics_refused_to_a_disallowed_address(node):
    conn = http.client.HTTPConnection(node.ip, STORES_BY_NAME[node.name]["metrics"], timeout=30,
                                      source_address=(DENIED_SOURCE, 0))
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        body = r.read().decode()
    finally:
        conn.close()
    assert r.status == 403, body
    assert "ejabberd_unread" not in body and "metrics_access" in body
    # Other paths and methods under the handler.
    with pytest.raises(urllib.error.HTTPError) as e:
        scrape(node, "/metrics/other")
    assert e.value.code == 404
    req = urllib.request.Request(
        f"http://{node.ip}:{STORES_BY_NAME[node.name]['metrics']}/metrics", data=b"x",
        method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 405


def chatadm(node, tmp_path, *args):
    pw = tmp_path / "admin.pw"
    pw.write_text(harness.ADMIN_PASSWORD + "\n")
    os.chmod(pw, 0o600)
    argv = [str(harness.prefix() / "bin" / "chatadm"), "-h", f"{node.ip}:{node.api_port}",
            "-C", str(node.ca), "-u", f"{harness.ADMIN}@{HOST}", "-P", str(pw), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ["PATH"], "HOME": str(tmp_path),
                               "LANG": "C.UTF-8"})


def test_chatadm_health_exits_6_while_a_user_is_at_its_limit(node, tmp_path):
    p = chatadm(node, tmp_path, "health")
    assert p.returncode == 6, p.stderr
    assert f"{HOST}: ready" in p.stdout
    assert jid("bob") in p.stdout and "at limit" in p.stdout
    assert "at the offline message limit" in p.stderr
    p = chatadm(node, tmp_path, "-j", "health", HOST)
    assert p.returncode == 6
    report = json.loads(p.stdout)
    # The oldest message's age is in whole seconds and grows between the
    # two calls; everything else must be equal.
    direct = health(node)
    assert [{**r, "oldest_age": None} for r in report["hosts"]] == \
        [{**r, "oldest_age": None} for r in direct]
    for got, want in zip(report["hosts"], direct):
        assert 0 <= want["oldest_age"] - got["oldest_age"] <= 2, (got, want)
    assert report["users"] == health_users(node)


def test_delivery_takes_a_user_off_its_limit(node, tmp_path):
    """bob reads his messages: the tests after this one do not look at him."""
    got = xc.receive_offline((node.ip, node.c2s_port), node.ca, jid("bob"), PASSWORD.format("bob"))
    assert len(got) == BOB_LIMIT
    deadline = time.time() + 15
    while time.time() < deadline and health(node)[0]["at_limit"] != 0:
        time.sleep(0.2)
    [row] = health(node)
    assert row["at_limit"] == 0 and row["users"] == len(SENT) - 1
    assert row["messages"] == sum(STORED.values()) - BOB_LIMIT
    assert row["oldest_user"] != jid("bob")
    assert health_users(node) == [
        {"user": jid("carol"), "count": 18, "limit": QUEUE_LIMIT, "state": "near_limit"}]
    fams = families(scrape(node)[1])
    assert value(fams["ejabberd_unread_users_at_limit"], host=HOST) == 0
    assert chatadm(node, tmp_path, "health").returncode == 0


def test_default_metrics_access_is_loopback_only(node):
    """Without metrics_access the module's default rule applies: matched
    here by ejabberd's acl:match_rule/3 on addresses, as the handler does."""
    rule = "proplists:get_value(metrics_access, mod_unread:mod_options(<<\"localhost\">>))"
    for ip, want in (("{127,0,0,1}", "allow"), ("{127,10,0,3}", "allow"),
                     ("{0,0,0,0,0,0,0,1}", "allow"), ("{192,0,2,7}", "deny"),
                     ("{8193,3512,0,0,0,0,0,1}", "deny")):
        assert node.rpc(f"acl:match_rule(<<\"localhost\">>, {rule}, {ip})") == want, ip


def test_near_limit_option_is_validated(node):
    check = "catch econf:validate(mod_unread:mod_opt_type(health_near_limit), {})"
    assert node.rpc(check.format("0.5")) == "{ok,0.5}"
    assert node.rpc(check.format("1")) == "{ok,1.0}"
    assert node.rpc(check.format("-1")).startswith("{error,")
    for bad in ("0", "1.5"):
        assert "not a fraction above 0 and at most 1" in node.rpc(
            f"case {check.format(bad)} of {{error, R, C}} -> lists:flatten(econf:format_error(R, C)); "
            "Other -> Other end"), bad
