"""Real ejabberd nodes for tests: the Debian package, each node with its own
config, spool, logs, node name, address and ports, and mod_unread loaded from
the build's install prefix.

Used by the integration tests and by scripts/demo.sh; nothing here mocks
ejabberd."""

import json
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EJABBERDCTL = "/usr/sbin/ejabberdctl"
MOD_UNREAD_VERSION = "0.1.0"
ADMIN = "admin"
ADMIN_PASSWORD = "admin-secret-pw"


def prefix():
    """Where `cmake --install` put mod_unread (CHATADM_PREFIX, else build/prefix)."""
    return Path(os.environ.get("CHATADM_PREFIX", REPO / "build" / "prefix"))


def module_ebin():
    ebin = prefix() / "lib/erlang/lib" / f"mod_unread-{MOD_UNREAD_VERSION}" / "ebin"
    if not (ebin / "mod_unread.beam").exists():
        raise RuntimeError(f"mod_unread is not installed under {prefix()}: "
                           "run `cmake --install build --prefix build/prefix`")
    return ebin


def _chown_ejabberd(path):
    pw = pwd.getpwnam("ejabberd")
    for root, dirs, files in os.walk(path):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.chown(name, pw.pw_uid, pw.pw_gid)


def make_ca(workdir):
    """A test CA (key and certificate) in workdir. Returns (ca.pem, ca.key)."""
    workdir = Path(workdir)
    ca_key, ca_crt = workdir / "ca.key", workdir / "ca.pem"
    subprocess.run(["openssl", "req", "-x509", *_EC, "-nodes", "-days", "2",
                    "-subj", "/CN=chatadm test CA", "-keyout", ca_key, "-out", ca_crt],
                   check=True, capture_output=True)
    os.chmod(ca_key, 0o600)
    return ca_crt, ca_key


# ECDSA P-256: what a current deployment uses, and a cheaper handshake.
_EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")


def make_cert(workdir, ca, names, ips, stem="server"):
    """A certificate for names and ips signed by ca = (ca.pem, ca.key);
    returns the PEM file holding certificate and key."""
    workdir = Path(workdir)
    key, csr, crt = (workdir / f"{stem}.{x}" for x in ("key", "csr", "crt"))
    san = ",".join([f"DNS:{n}" for n in names] + [f"IP:{i}" for i in ips])
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", *_EC, "-nodes", "-subj", f"/CN={names[0]}", "-keyout", key, "-out", csr)
    ext = workdir / f"{stem}.ext"
    ext.write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
        "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt)
    pem = workdir / f"{stem}.pem"
    pem.write_text(crt.read_text() + key.read_text())
    os.chmod(pem, 0o640)
    for f in (key, csr, crt, ext):
        f.unlink()
    return pem


def make_tls(workdir, names=("localhost",), ips=("127.0.0.1",)):
    """A test CA and a server certificate signed by it. Returns (ca, server.pem)."""
    ca = make_ca(workdir)
    return ca[0], make_cert(workdir, ca, list(names), list(ips))


# ejabberd.yml comes from the template Puppet configures the cluster's nodes
# with, rendered by Puppet itself (puppet/bin/chatadm-epp): one config
# shape for tests and deployments.
EJABBERD_TEMPLATE = "chatadm/ejabberd.yml.epp"
_EPP = REPO / "puppet" / "bin" / "chatadm-epp"
_renderer = None
_renderer_lock = threading.Lock()


def render_template(template, values):
    """Renders one of the Puppet module's EPP templates with values (a dict
    of the template's parameters). One Puppet process per test process
    serves every rendering (its start costs seconds, a rendering
    milliseconds)."""
    global _renderer
    with _renderer_lock:
        if _renderer is None or _renderer.poll() is not None:
            _renderer = subprocess.Popen([str(_EPP), "--serve"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
        _renderer.stdin.write(json.dumps({"template": template, "values": values}) + "\n")
        _renderer.stdin.flush()
        line = _renderer.stdout.readline()
    if not line:
        raise RuntimeError(f"{_EPP} exited ({_renderer.poll()})")
    reply = json.loads(line)
    if "error" in reply:
        raise RuntimeError(f"rendering {template}: {reply['error']}")
    return reply["output"]


class Node:
    """One ejabberd node. Use as a context manager, or call start()/stop()."""

    def __init__(self, name="unread1", ip="127.0.0.1", c2s_port=15222, api_port=15443,
                 hosts=("localhost",), queue_limit=100, with_module=True, workdir=None,
                 module_opts=None, extra_pa=(), loopback_api=False, node_host="localhost",
                 cookie=None, ca=None, extra_modules=None, sql=None, metrics_port=None,
                 metrics_sources=(), user_queue_limits=None):
        self.name = name
        # A node host with dots (an address) makes ejabberdctl use long names.
        self.node = f"{name}@{node_host}"
        self.cookie = cookie
        self.shared_ca = ca
        self.ip = ip
        self.c2s_port = c2s_port
        self.api_port = api_port
        self.hosts = list(hosts)
        self.queue_limit = queue_limit
        self.with_module = with_module
        self.module_opts = module_opts or {}
        # {module: {option: value}} for ejabberd.yml's modules; mod_offline's
        # options are added to the ones it always has.
        self.extra_modules = dict(extra_modules or {})
        # sql: a running tests/integration/sqldb.py server; the node then
        # keeps offline messages there (the only module on SQL) and
        # store_count() reads its spool table.
        self.sql = sql
        if sql is not None:
            self.extra_modules["mod_offline"] = {"db_type": "sql",
                                                 **self.extra_modules.get("mod_offline", {})}
        # A plain HTTP listener for mod_unread_metrics at /metrics, the
        # addresses of the access rule `metrics`, and per-user offline
        # limits ({"bob@localhost": 8}) ahead of queue_limit.
        self.metrics_port = metrics_port
        self.metrics_sources = list(metrics_sources)
        self.user_queue_limits = dict(user_queue_limits or {})
        self.extra_pa = list(extra_pa)
        self.loopback_api = loopback_api
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix=f"chatadm-{name}-"))
        self.ca = None

    # -- files --------------------------------------------------------------
    def write_config(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        for sub in ("spool", "logs"):
            (self.dir / sub).mkdir(exist_ok=True)
        if not (self.dir / "server.pem").exists():
            if self.shared_ca:
                make_cert(self.dir, self.shared_ca, ["localhost"] + self.hosts, [self.ip])
                shutil.copy(self.shared_ca[0], self.dir / "ca.pem")
            else:
                make_tls(self.dir, names=["localhost"] + self.hosts, ips=[self.ip])
        self.ca = self.dir / "ca.pem"
        (self.dir / "ejabberd.yml").write_text(render_template(EJABBERD_TEMPLATE, {
            "hosts": self.hosts,
            "admin_jids": [f"{ADMIN}@{h}" for h in self.hosts],
            "certificate": str(self.dir / "server.pem"),
            "listen_ip": self.ip,
            "c2s_port": self.c2s_port,
            "api_port": self.api_port,
            # Loopback callers (haproxy, tests) may ask for these without
            # credentials, as Debian's default config allows.
            "health_check_sources": ["127.0.0.0/8"],
            "open_commands": ["status", "connected_users_number"],
            # Debian's default config also lets them use the whole API;
            # tests keep it closed unless asked.
            "trusted_api_sources": ["127.0.0.0/8"] if self.loopback_api else [],
            "queue_limit": self.queue_limit,
            "mod_unread": self.with_module,
            "mod_unread_options": self.module_opts,
            "extra_modules": self.extra_modules,
            "web_admin": True,
            "top_level_options": self.sql.ejabberd_sql_options() if self.sql else {},
            **({"metrics_port": self.metrics_port} if self.metrics_port else {}),
            "metrics_sources": self.metrics_sources,
            "user_queue_limits": self.user_queue_limits,
        }))
        paths = ([self._readable_ebin()] if self.with_module else []) + self.extra_pa
        erl_options = " ".join(f"-pa {p}" for p in paths)
        if self.cookie:
            erl_options += f" -setcookie {self.cookie}"
        (self.dir / "ejabberdctl.cfg").write_text(
            f'ERLANG_NODE={self.node}\nERL_OPTIONS="{erl_options}"\n'
            f'INET_DIST_INTERFACE={self.ip}\n')
        (self.dir / "inetrc").write_text("{lookup,[file,native]}.\n{host,{127,0,0,1}, [\"localhost\"]}.\n{file, resolv, \"/etc/resolv.conf\"}.\n")
        _chown_ejabberd(self.dir)

    def _readable_ebin(self):
        """The install prefix's ebin, or, if the ejabberd user cannot reach it
        (a checkout under /root, say), a copy of the installed application
        directory in the node's own directory."""
        ebin = module_ebin()
        if subprocess.run(["runuser", "-u", "ejabberd", "--", "test", "-r",
                           str(ebin / "mod_unread.beam")]).returncode == 0:
            return ebin
        app = self.dir / "lib" / ebin.parent.name
        shutil.rmtree(app, ignore_errors=True)
        shutil.copytree(ebin.parent, app)
        return app / "ebin"

    # -- control ------------------------------------------------------------
    def ctl_argv(self, *args):
        d = self.dir
        return [EJABBERDCTL, "--config-dir", str(d), "--config", str(d / "ejabberd.yml"),
                "--ctl-config", str(d / "ejabberdctl.cfg"), "--logs", str(d / "logs"),
                "--spool", str(d / "spool"), "--node", self.node, *map(str, args)]

    def ctl(self, *args, check=True, timeout=120):
        """Runs ejabberdctl against this node; returns its stdout (stripped)."""
        p = subprocess.run(self.ctl_argv(*args), capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"ejabberdctl {' '.join(map(str, args))} failed "
                               f"({p.returncode}): {p.stdout}{p.stderr}\n{self.log_tail()}")
        return p.stdout.strip() if check else p

    def start(self):
        self.write_config()
        self.ctl("start")
        self.wait_started()
        return self

    def wait_started(self, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            p = self.ctl("status", check=False, timeout=30)
            if p.returncode == 0 and "is started" in p.stdout:
                # The listeners come up after the applications report started.
                if self._api_up():
                    return
            time.sleep(0.5)
        raise RuntimeError(f"{self.node} did not start in {timeout}s\n{self.log_tail()}")

    def _api_up(self):
        try:
            self.api("status", {}, auth=False)
            return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def stop(self):
        self.ctl("stop", check=False)
        self.ctl("stopped", check=False)

    def kill(self):
        """kill -9 of the node's VM: a crash, with no chance to clean up."""
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            for flag in (b"-name", b"-sname"):
                if flag in argv and argv.index(flag) + 1 < len(argv) and \
                        argv[argv.index(flag) + 1] == self.node.encode():
                    os.kill(int(pid), 9)
        time.sleep(0.5)

    def restart(self):
        self.stop()
        self.ctl("start")
        self.wait_started()

    def log_tail(self, n=40):
        log = self.dir / "logs" / "ejabberd.log"
        if not log.exists():
            return "(no ejabberd.log)"
        lines = log.read_text(errors="replace").splitlines()
        return "\n".join(["--- ejabberd.log (tail) ---"] + lines[-n:])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self._own_dir and not os.environ.get("CHATADM_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- users and messages -------------------------------------------------
    def register(self, user, password, host=None):
        self.ctl("register", user, host or self.hosts[0], password)

    def register_admin(self):
        for h in self.hosts:
            self.register(ADMIN, ADMIN_PASSWORD, h)

    def rpc(self, expr, timeout=120):
        """Evaluates an Erlang expression on the node, as an operator would in
        `ejabberdctl debug`; returns the result printed with ~p."""
        cookie = self.cookie or Path("/var/lib/ejabberd/.erlang.cookie").read_text().strip()
        script = ('{ok, T, _} = erl_scan:string(os:getenv("RPC_EXPR") ++ "."), '
                  '{ok, Es} = erl_parse:parse_exprs(T), '
                  'R = rpc:call(list_to_atom(os:getenv("RPC_NODE")), erl_eval, exprs, [Es, []]), '
                  'case R of {value, V, _} -> io:format("~p~n", [V]); '
                  'Other -> io:format("RPC_ERROR ~p~n", [Other]) end, halt().')
        env = dict(os.environ, RPC_EXPR=expr, RPC_NODE=self.node)
        host = self.node.split("@", 1)[1]
        name_opt = "-name" if "." in host else "-sname"
        probe = f"probe{os.getpid()}-{time.monotonic_ns() % 10**9}@{host}"
        p = subprocess.run(["erl", "-noshell", "-hidden", name_opt, probe, "-setcookie", cookie,
                            "-eval", script], capture_output=True, text=True, timeout=timeout, env=env)
        out = p.stdout.strip()
        if p.returncode != 0 or out.startswith("RPC_ERROR") or not out:
            raise RuntimeError(f"rpc {expr!r} on {self.node} failed: {out}{p.stderr}")
        return out

    def store_count(self, user, host=None):
        """The truth: the user's records in mod_offline's mnesia table, or
        rows in the SQL spool table when the node is on SQL."""
        host = host or self.hosts[0]
        if self.sql is not None:
            from sqldb import sql_quote
            rows = self.sql.query(f"SELECT count(*) FROM spool WHERE username = {sql_quote(user)} "
                                  f"AND server_host = {sql_quote(host)}")
            return int(rows[0][0])
        return int(self.rpc(f'length(mnesia:dirty_read(offline_msg, {{<<"{user}">>, <<"{host}">>}}))'))

    def issue_token(self, ttl=3600):
        """An OAuth token for the admin (needs Debian's erlang-p1-oauth2)."""
        out = self.ctl("oauth_issue_token", f"{ADMIN}@{self.hosts[0]}", ttl, "ejabberd:admin")
        return out.split()[0]

    def api_url(self, command=""):
        return f"https://{self.ip}:{self.api_port}/api/{command}"

    def api(self, command, args, auth=True, user=None, password=None):
        """POSTs to mod_http_api over TLS verified against the test CA."""
        ctx = ssl.create_default_context(cafile=str(self.ca))
        req = urllib.request.Request(self.api_url(command), data=json.dumps(args).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        if auth:
            cred = f"{user or ADMIN + '@' + self.hosts[0]}:{password or ADMIN_PASSWORD}"
            req.add_header("Authorization", "Basic " + b64encode(cred.encode()).decode())
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return json.loads(r.read().decode() or "null")
