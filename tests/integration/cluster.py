"""A local ejabberd cluster for tests and for developers: two nodes with the
same generated Erlang cookie, each on its own loopback address, joined with
`ejabberdctl join_cluster`, and a real haproxy in front on a third address.
haproxy's configuration is rendered by the Puppet class chatadm::balancer
(puppetlabs-haproxy), the same code that configures the haproxy VM.

    sudo /usr/bin/python3 tests/integration/cluster.py   # start, print, wait for Ctrl-C
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import harness

PUPPET_MODULES = harness.REPO / "puppet" / "modules"
SYSTEM_MODULES = Path("/usr/share/puppet/modules")


class Cluster:
    def __init__(self, node_ips=("127.0.0.2", "127.0.0.3"), lb_ip="127.0.0.4",
                 c2s_port=25222, api_port=25443, check_interval_ms=500, queue_limit=5000,
                 sql=None):
        # sql: a running sqldb server that both nodes keep offline messages
        # in (one database shared by the cluster, as deployments do).
        self.dir = Path(tempfile.mkdtemp(prefix="chatadm-cluster-"))
        os.chmod(self.dir, 0o755)
        self.ca = harness.make_ca(self.dir)
        self.cookie = secrets.token_hex(16)
        self.lb_ip = lb_ip
        self.c2s_port = c2s_port
        self.api_port = api_port
        self.check_interval_ms = check_interval_ms
        self.nodes = [harness.Node(name=f"unread{i + 1}", ip=ip, c2s_port=c2s_port,
                                   api_port=api_port, node_host=ip, cookie=self.cookie,
                                   ca=self.ca, queue_limit=queue_limit, sql=sql,
                                   workdir=self.dir / f"node{i + 1}")
                      for i, ip in enumerate(node_ips)]
        self.haproxy_cfg = self.dir / "haproxy" / "haproxy.cfg"
        self.haproxy_pid = self.dir / "haproxy" / "haproxy.pid"

    # -- nodes --------------------------------------------------------------
    def start(self):
        first, *others = self.nodes
        first.start()
        first.register_admin()
        for n in others:
            n.start()
            self.join(n)
        self.start_haproxy()
        return self

    def join(self, node):
        """Joins node to the first node's cluster, unless it is in it already
        (join_cluster is not idempotent)."""
        first = self.nodes[0]
        if node.node not in first.ctl("list_cluster").split():
            node.ctl("join_cluster", first.node)
            node.wait_started()

    def stop(self):
        self.stop_haproxy()
        for n in reversed(self.nodes):
            n.stop()
        if not os.environ.get("CHATADM_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    # -- haproxy ------------------------------------------------------------
    def render_haproxy(self):
        """Runs the Puppet class that configures the haproxy VM, told to
        write its file here and leave the service alone."""
        d = self.haproxy_cfg.parent
        d.mkdir(exist_ok=True)
        lb_pem = harness.make_cert(d, self.ca, ["localhost"], [self.lb_ip], stem="balancer")
        nodes = ", ".join(f"{{ name => '{n.name}', address => '{n.ip}', tls_name => 'localhost' }}"
                          for n in self.nodes)
        manifest = d / "balancer.pp"
        manifest.write_text(f"""
class {{ 'chatadm::balancer':
  nodes             => [{nodes}],
  listen_address    => '{self.lb_ip}',
  xmpp_port         => {self.c2s_port},
  api_port          => {self.api_port},
  node_xmpp_port    => {self.c2s_port},
  node_api_port     => {self.api_port},
  api_certificate   => '{lb_pem}',
  node_ca_file      => '{self.ca[0]}',
  check_interval_ms => {self.check_interval_ms},
  config_file       => '{self.haproxy_cfg}',
  manage_service    => false,
  global_options    => {{ 'pidfile' => '{self.haproxy_pid}',
                          'stats'   => 'socket {d}/stats mode 600 level admin' }},
}}
""")
        p = subprocess.run(["puppet", "apply", "--detailed-exitcodes", "--color=false",
                            f"--modulepath={PUPPET_MODULES}:{SYSTEM_MODULES}", str(manifest)],
                           capture_output=True, text=True)
        if p.returncode not in (0, 2):
            raise RuntimeError(f"puppet apply failed ({p.returncode}):\n{p.stdout}{p.stderr}")
        return self.haproxy_cfg

    def start_haproxy(self):
        self.render_haproxy()
        subprocess.run(["haproxy", "-f", str(self.haproxy_cfg), "-c", "-q"], check=True)
        subprocess.run(["haproxy", "-f", str(self.haproxy_cfg), "-D"], check=True)
        self.wait_backends({n.name: "UP" for n in self.nodes})

    def stop_haproxy(self):
        try:
            pid = int(self.haproxy_pid.read_text().split()[0])
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            pass

    def haproxy_stat(self, command):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.haproxy_cfg.parent / "stats"))
            s.sendall(command.encode() + b"\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out.decode()

    def backend_status(self, proxy="api"):
        """{server name: status} of one haproxy proxy (api or xmpp)."""
        lines = self.haproxy_stat("show stat").splitlines()
        head = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(head, l.split(","))) for l in lines[1:] if l]
        return {r["svname"]: r["status"].split()[0] for r in rows
                if r["pxname"] == proxy and r["svname"] not in ("FRONTEND", "BACKEND")}

    def wait_backends(self, expected, proxy="api", timeout=30):
        """Waits until haproxy's health checks report `expected`; returns the
        seconds it took."""
        start = time.monotonic()
        while True:
            got = self.backend_status(proxy)
            if all(got.get(k) == v for k, v in expected.items()):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"haproxy {proxy}: expected {expected}, got {got}")
            time.sleep(0.05)

    @property
    def lb_api(self):
        return f"{self.lb_ip}:{self.api_port}"

    @property
    def lb_xmpp(self):
        return (self.lb_ip, self.c2s_port)


if __name__ == "__main__":
    with Cluster() as c:
        print(f"cluster in {c.dir}")
        for n in c.nodes:
            print(f"  {n.node}: XMPP {n.ip}:{n.c2s_port}, API https://{n.ip}:{n.api_port}/api")
        print(f"  haproxy: XMPP {c.lb_ip}:{c.c2s_port}, API https://{c.lb_api}/api "
              f"(config {c.haproxy_cfg})")
        print(f"  CA: {c.ca[0]}; admin: {harness.ADMIN}@localhost / {harness.ADMIN_PASSWORD}")
        print("Ctrl-C stops it.")
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
