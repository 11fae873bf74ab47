"""Throwaway MariaDB and PostgreSQL servers for tests: each its own data
directory, socket directory and port on 127.0.0.1, never the system
services the Debian packages install. Each has a database `ejabberd`,
owned by (PostgreSQL) or granted to (MariaDB) a password user `ejabberd`,
with ejabberd's new SQL schema loaded by that user over TCP, as ejabberd
itself connects.

    with sqldb.MariaDB(25306) as db:
        harness.Node(..., sql=db)
        db.query("SELECT count(*) FROM spool")   # [('3',)]

Queries go through the servers' own command-line clients over the Unix
socket as the administrator (root / postgres), so the tests need no
Python driver. Values come back as strings (None for SQL NULL)."""

import csv
import datetime
import io
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

PASSWORD = "ejabberd-sql-pw"
DATABASE = "ejabberd"
USER = "ejabberd"
SCHEMA_DIR = Path("/usr/share/ejabberd/sql")
PG_BIN = Path("/usr/lib/postgresql/15/bin")


class SQLError(RuntimeError):
    pass


class _Server:
    """What both servers share: the directories, the process (its own
    session, so kill() takes every process of the server), the wait for
    connections and the clean-up."""

    kind = None          # "mariadb" | "postgres"
    sql_type = None      # ejabberd's sql_type
    os_user = None       # the account the server runs as

    def __init__(self, port, workdir=None, timezone=None):
        self.port = int(port)
        # None: the server's default (the host's zone), as an operator's
        # server would have it; a name ("UTC", "Europe/Berlin") pins it.
        self.timezone = timezone
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix=f"chatadm-{self.kind}-"))
        self.data = self.dir / "data"
        self.run_dir = self.dir / "run"
        self.log = self.dir / "server.log"
        self.proc = None
        self._log_fh = None

    # -- lifecycle ----------------------------------------------------------
    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()

    def start(self):
        pw = pwd.getpwnam(self.os_user)
        # The server's account must get through to its directories, which
        # mkdtemp makes private to root.
        os.chmod(self.dir, 0o711)
        fresh = not self.data.exists()
        for d in (self.data, self.run_dir):
            d.mkdir(exist_ok=True)
            os.chown(d, pw.pw_uid, pw.pw_gid)
        os.chmod(self.data, 0o700)
        if fresh:
            self._init_data()
        self._spawn()
        self._wait_ready()
        if fresh:
            self._create_database()
            self._load_schema()
        return self

    def _spawn(self):
        self._log_fh = open(self.log, "ab")
        # stdin from /dev/null and output to the log: the server holds no
        # descriptor of the test process (a pipe it kept open would make
        # callers waiting for EOF hang), and its own session keeps it out of
        # the test's process group and signals.
        self.proc = subprocess.Popen(self._server_argv(), stdin=subprocess.DEVNULL,
                                     stdout=self._log_fh, stderr=subprocess.STDOUT,
                                     close_fds=True, start_new_session=True,
                                     **self._spawn_kw())

    def _spawn_kw(self):
        return {}

    def _wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SQLError(f"{self.kind} on port {self.port} exited "
                               f"({self.proc.returncode})\n{self.log_tail()}")
            if self._ping():
                return
            time.sleep(0.2)
        raise SQLError(f"{self.kind} on port {self.port} did not accept connections "
                       f"in {timeout}s\n{self.log_tail()}")

    def kill(self):
        """SIGKILL of every process of the server: a crash, no shutdown."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=30)
        self._reap_group()

    def stop(self, timeout=60):
        """A clean shutdown (SIGTERM), then SIGKILL if it takes too long."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def _reap_group(self):
        # PostgreSQL's backends outlive a killed postmaster for a moment;
        # the next start on this data directory refuses while they hold its
        # shared memory.
        if not self.proc:
            return
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        if self._log_fh:
            self._log_fh.close()
            self._log_fh = None

    def restart(self):
        """Starts the server again on the same data directory and port (after
        kill() or stop(); stops it first if it is still running)."""
        if self.proc and self.proc.poll() is None:
            self.stop()
        self._spawn()
        self._wait_ready()
        return self

    def close(self):
        self.stop()
        if self._own_dir and not os.environ.get("CHATADM_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=30):
        if not self.log.exists():
            return f"(no {self.log})"
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join([f"--- {self.kind} log (tail) ---"] + lines[-n:])

    # -- SQL ----------------------------------------------------------------
    def _client(self, argv, sql, timeout=60):
        p = subprocess.run(argv, input=sql, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise SQLError(f"{self.kind}: {sql!r} failed ({p.returncode}): "
                           f"{p.stderr.strip()}")
        return p.stdout

    def query(self, sql, database=DATABASE):
        """The rows the statements return, as tuples of strings (None for NULL)."""
        raise NotImplementedError

    def execute(self, sql, database=DATABASE):
        """Runs statements for their effect."""
        self.query(sql, database)

    def days_ago(self, days):
        """An SQL expression for the server's time `days` ago. created_at is
        a zone-less timestamp in the server's own zone (the column's
        default writes it so, and delete_old_messages compares with the
        server's clock): the server computes it, not Python."""
        raise NotImplementedError

    def insert_spool_row(self, user, host, xml, days_ago=0):
        """A row as mod_offline_sql writes it, behind ejabberd's back."""
        self.execute("INSERT INTO spool (username, server_host, xml, created_at) VALUES "
                     f"({sql_quote(user)}, {sql_quote(host)}, {sql_quote(xml)}, "
                     f"{self.days_ago(days_ago)})")

    def ejabberd_sql_options(self, pool_size=2):
        """ejabberd.yml's top-level options for this database (23.01)."""
        return {
            "sql_type": self.sql_type,
            "sql_server": "127.0.0.1",
            "sql_port": self.port,
            "sql_database": DATABASE,
            "sql_username": USER,
            "sql_password": PASSWORD,
            "new_sql_schema": True,
            "sql_pool_size": pool_size,
            # ejabberd waits this long before reconnecting to a database
            # that went away (30 s by default): crash tests restart it.
            "sql_start_interval": 1,
        }


class MariaDB(_Server):
    kind = "mariadb"
    sql_type = "mysql"
    os_user = "mysql"

    @property
    def socket(self):
        return self.run_dir / "mysqld.sock"

    def _init_data(self):
        # --no-defaults everywhere: Debian's /etc/mysql would otherwise
        # point us at the system instance's data directory and socket.
        p = subprocess.run(["mariadb-install-db", "--no-defaults", "--user=mysql",
                            f"--datadir={self.data}", "--auth-root-authentication-method=normal",
                            "--skip-test-db"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise SQLError(f"mariadb-install-db failed: {p.stdout}{p.stderr}")

    def _server_argv(self):
        argv = ["/usr/sbin/mariadbd", "--no-defaults", "--user=mysql",
                f"--datadir={self.data}", f"--socket={self.socket}",
                f"--pid-file={self.run_dir / 'mysqld.pid'}",
                f"--port={self.port}", "--bind-address=127.0.0.1",
                "--skip-name-resolve", "--innodb-buffer-pool-size=32M",
                "--skip-log-bin", "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci"]
        if self.timezone:
            argv.append(f"--default-time-zone={_mysql_zone(self.timezone)}")
        return argv

    def _admin_argv(self, database):
        argv = ["mariadb", "--no-defaults", "-uroot", f"--socket={self.socket}",
                "--batch", "--skip-column-names"]
        return argv + ([database] if database else [])

    def _ping(self):
        return subprocess.run(self._admin_argv(None) + ["-e", "SELECT 1"],
                              stdin=subprocess.DEVNULL, capture_output=True).returncode == 0

    def _create_database(self):
        # Both host names: 127.0.0.1 is how ejabberd connects (TCP, with
        # --skip-name-resolve no reverse lookup to 'localhost').
        self._client(self._admin_argv(None), f"""
            CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
            CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';
            GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{USER}'@'127.0.0.1';
            FLUSH PRIVILEGES;""")

    def _load_schema(self):
        # As ejabberd's user over TCP with its password: the login ejabberd
        # will use works before ejabberd tries it.
        schema = (SCHEMA_DIR / "mysql.new.sql").read_text()
        self._client(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(self.port),
                      "-u", USER, f"-p{PASSWORD}", DATABASE], schema, timeout=120)

    def days_ago(self, days):
        return f"NOW() - INTERVAL {int(days)} DAY"

    def query(self, sql, database=DATABASE):
        out = self._client(self._admin_argv(database), sql)
        return [tuple(_mysql_unescape(v) for v in line.split("\t"))
                for line in out.splitlines()]


class Postgres(_Server):
    kind = "postgres"
    sql_type = "pgsql"
    os_user = "postgres"

    def _spawn_kw(self):
        pw = pwd.getpwnam("postgres")
        # postgres refuses to run as root; the Popen child is the postmaster
        # itself (no runuser in between), so kill() reaches it.
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": [],
                "cwd": str(self.run_dir)}

    def _init_data(self):
        # trust only on the Unix socket, for the admin client; TCP from
        # 127.0.0.1 needs the role's password (SCRAM), which is how ejabberd
        # logs in.
        pw = pwd.getpwnam("postgres")
        p = subprocess.run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                            "--auth-local=trust", "--auth-host=scram-sha-256",
                            "-E", "UTF8", "--locale=C.UTF-8"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120, user=pw.pw_uid, group=pw.pw_gid, extra_groups=[],
                           cwd=str(self.run_dir))
        if p.returncode != 0:
            raise SQLError(f"initdb failed: {p.stdout}{p.stderr}")

    def _server_argv(self):
        argv = [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-k", str(self.run_dir), "-c", "listen_addresses=127.0.0.1",
                "-c", "shared_buffers=32MB", "-c", "fsync=on"]
        if self.timezone:
            argv += ["-c", f"timezone={self.timezone}"]
        return argv

    def _admin_argv(self, database):
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.run_dir),
                "-p", str(self.port), "-U", "postgres", "-d", database or "postgres"]

    def _ping(self):
        return subprocess.run(self._admin_argv(None) + ["-c", "SELECT 1"],
                              stdin=subprocess.DEVNULL, capture_output=True).returncode == 0

    def _create_database(self):
        self._client(self._admin_argv(None), f"""
            CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}';
            CREATE DATABASE {DATABASE} OWNER {USER} ENCODING 'UTF8';""")

    def _load_schema(self):
        schema = (SCHEMA_DIR / "pg.new.sql").read_text()
        argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", USER, "-d", DATABASE]
        p = subprocess.run(argv, input=schema, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, PGPASSWORD=PASSWORD))
        if p.returncode != 0:
            raise SQLError(f"loading pg.new.sql as {USER} failed: {p.stderr.strip()}")

    def days_ago(self, days):
        return f"now() - interval '{int(days)} days'"

    def query(self, sql, database=DATABASE):
        # CSV, not -A's tab-separated text: values with newlines or tabs
        # (message XML) stay one field. NULL comes back as an empty
        # unquoted field, told apart from '' with a \pset.
        out = self._client(self._admin_argv(database) + ["--csv", "-t", "-P", "null=\\N"], sql)
        return [tuple(None if v == "\\N" else v for v in row)
                for row in csv.reader(io.StringIO(out))]


def _mysql_unescape(value):
    # --batch escapes these so that a row stays one line.
    if value == "NULL":
        return None
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            out.append({"n": "\n", "t": "\t", "0": "\0", "\\": "\\"}.get(value[i + 1],
                                                                        value[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _mysql_zone(name):
    # Named zones need the time zone tables loaded; an offset does not.
    if name.upper() == "UTC":
        return "+00:00"
    return name


def sql_quote(value):
    """A string literal both servers read the same way (standard quoting;
    MariaDB's backslash escapes are avoided by doubling quotes and keeping
    backslashes out)."""
    if "\\" in value:
        raise ValueError("backslashes read differently in MariaDB and PostgreSQL")
    return "'" + value.replace("'", "''") + "'"


def offline_message_xml(sender, to, body, days_ago=0, server="localhost"):
    """A message as mod_offline_sql stores it (23.01): the stanza with the
    delay element mod_offline adds, stamped `days_ago` days ago (UTC)."""
    from xml.sax.saxutils import escape
    stamp = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
             ).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (f"<message xmlns='jabber:client' from='{sender}' to='{to}' type='chat'>"
            f"<body>{escape(body)}</body><delay xmlns='urn:xmpp:delay' from='{server}' "
            f"stamp='{stamp}'>Offline Storage</delay></message>")


def make(store, port, workdir=None, **kw):
    """MariaDB or Postgres by the name tests parametrize with."""
    return {"mariadb": MariaDB, "postgres": Postgres}[store](port, workdir, **kw)
