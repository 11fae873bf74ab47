"""Debian 12 test hosts for the provisioning end-to-end test: a debootstrap
image with what a Vagrant box has plus Puppet, and, as a local apt
repository, the Debian packages the roles install (the hosts sit on a
private bridge with no route to the Debian mirror); one copy per machine of
the Vagrantfile, booted with systemd-nspawn on a bridge carrying the
Vagrantfile's subnet, the repository bound at /vagrant and chatadm's own
packages (scripts/build-debs.sh) at /srv/chatadm-apt, as the Vagrantfile
syncs them.

    sudo /usr/bin/python3 tests/e2e/hosts.py up | provision [machine...] | down | destroy

The image is cached in /var/cache/chatadm-e2e (CHATADM_E2E_CACHE); the hosts
are copies of it, made anew by `up` after `destroy`.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("CHATADM_E2E_CACHE", "/var/cache/chatadm-e2e"))
BRIDGE = "br-chatadm"
GATEWAY = "192.168.56.1/24"
MACHINES = {  # name: (fqdn, address), as in puppet/data/common.yaml
    "ejabberd": ("ejabberd1.example", "192.168.56.11"),
    "ejabberd_slave": ("ejabberd2.example", "192.168.56.12"),
    "haproxy": ("haproxy.example", "192.168.56.10"),
}
# What a debian/bookworm64 box has, plus what the Vagrantfile's shell
# provisioner installs before Puppet runs.
BASE_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "iproute2", "ca-certificates", "procps", "sudo",
    "puppet", "puppet-module-puppetlabs-haproxy", "puppet-module-puppetlabs-stdlib",
    "puppet-module-puppetlabs-concat",
]
# What the roles install (Puppet's package resources): downloaded into a
# local apt repository in the image, not installed, so a package the Puppet
# code forgets to declare is missing on these hosts as on a Vagrant box.
ROLE_PACKAGES = ["ejabberd", "erlang-p1-oauth2", "curl", "haproxy"]
MIRROR = "http://deb.debian.org/debian"
LOCAL_REPO = "/var/local/chatadm-e2e-apt"
# chatadm's own packages: a flat apt repository made by scripts/build-debs.sh
# (CHATADM_DEBS_DIR, as CTest's packages_built fixture makes it, else built
# here), where the Vagrantfile syncs .vagrant/chatadm-apt
# (chatadm::repo::path in puppet/data/common.yaml).
PACKAGES_GUEST_DIR = "/srv/chatadm-apt"


def run(*argv, **kw):
    return subprocess.run([str(a) for a in argv], check=True, **kw)


def image():
    """The cached base image for these package lists."""
    tag = hashlib.sha256(" ".join(BASE_PACKAGES + ["|"] + ROLE_PACKAGES).encode()).hexdigest()[:12]
    root = CACHE / f"image-{tag}"
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        run("debootstrap", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES + ["apt-utils"]),
            "bookworm", root, MIRROR)
        # The hosts sit on a bridge with no route to the mirror: the role
        # packages come from a repository inside the image.
        run("chroot", root, "apt-get", "install", "-y", "--download-only", "--no-install-recommends",
            *ROLE_PACKAGES)
        repo = root / LOCAL_REPO.lstrip("/")
        repo.mkdir(parents=True)
        for deb in (root / "var/cache/apt/archives").glob("*.deb"):
            shutil.move(deb, repo / deb.name)
        with open(repo / "Packages", "w") as index:
            run("chroot", root, "sh", "-c", f"cd {LOCAL_REPO} && apt-ftparchive packages .",
                stdout=index)
        (root / "etc/apt/sources.list").write_text(f"deb [trusted=yes] file:{LOCAL_REPO} ./\n")
        for f in (root / "etc/apt/sources.list.d").glob("*"):
            f.unlink()
        run("chroot", root, "apt-get", "update")
        # The hosts' own network configuration comes from systemd-networkd.
        wants = root / "etc/systemd/system/multi-user.target.wants"
        wants.mkdir(parents=True, exist_ok=True)
        link = wants / "systemd-networkd.service"
        if not link.exists():
            link.symlink_to("/lib/systemd/system/systemd-networkd.service")
        (root / ".complete").touch()
    return root


def packages():
    """The flat apt repository of chatadm's packages built from this tree."""
    given = os.environ.get("CHATADM_DEBS_DIR")
    out = Path(given) if given else CACHE / "chatadm-apt"
    if not given or not (out / "Packages").exists():
        run(REPO / "scripts/build-debs.sh", out)
    return out


def machine_dir(name):
    return CACHE / "hosts" / name


def up():
    base = image()
    debs = packages()
    if subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode != 0:
        run("ip", "link", "add", BRIDGE, "type", "bridge")
        run("ip", "addr", "add", GATEWAY, "dev", BRIDGE)
    run("ip", "link", "set", BRIDGE, "up")
    secrets = CACHE / "secrets"
    run(REPO / "puppet/bin/chatadm-secrets", secrets, capture_output=True)
    for name, (fqdn, address) in MACHINES.items():
        root = machine_dir(name)
        if not root.exists():
            puppet_log(name).unlink(missing_ok=True)
            root.parent.mkdir(parents=True, exist_ok=True)
            run("cp", "-a", "--reflink=auto", base, root)
        (root / "etc/hostname").write_text(fqdn + "\n")
        # debootstrap's minbase has none; Vagrant's boxes have this one.
        hosts = root / "etc/hosts"
        if not hosts.exists():
            hosts.write_text("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
        net = root / "etc/systemd/network/10-host0.network"
        net.write_text(f"[Match]\nName=host0\n\n[Network]\nAddress={address}/24\n")
        dest = root / "etc/chatadm-secrets"
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(secrets / name, dest)
        os.chmod(dest, 0o700)
        log = open(CACHE / f"{name}.console", "w")
        subprocess.Popen(["systemd-nspawn", "-D", str(root), "--boot", "--keep-unit",
                          "--register=no", f"--network-bridge={BRIDGE}",
                          f"--bind-ro={REPO}:/vagrant", f"--bind-ro={debs}:{PACKAGES_GUEST_DIR}",
                          f"--machine={name.replace('_', '-')}"],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    for name in MACHINES:
        wait_booted(name)


def leader(name):
    out = subprocess.run(["pgrep", "-f", f"systemd-nspawn -D {machine_dir(name)} "],
                         capture_output=True, text=True).stdout.split()
    if not out:
        raise RuntimeError(f"{name} is not running")
    child = subprocess.run(["pgrep", "--parent", out[0]], capture_output=True,
                           text=True).stdout.split()
    return child[0]


def inside(name, *argv, check=True, **kw):
    return subprocess.run(["nsenter", "-t", leader(name), "-a", *map(str, argv)],
                          check=check, **kw)


def wait_booted(name, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            p = inside(name, "systemctl", "is-system-running", check=False,
                       capture_output=True, text=True)
            if p.stdout.strip() in ("running", "degraded"):
                return
        except RuntimeError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{name} did not boot")


def puppet_log(name):
    return CACHE / f"{name}.puppet.log"


def start_provisioning(name, platform=None):
    """`puppet apply` of the Vagrant environment inside NAME, in the
    background, as `vagrant provision NAME` would run it; its output is
    appended to puppet_log(NAME). PLATFORM sets the fact that picks
    puppet/data/platform/<PLATFORM>.yaml (Vagrant sets `vagrant`)."""
    env = ["env", f"FACTER_chatadm_platform={platform}"] if platform else []
    # The child keeps its own copy of the log's descriptor.
    with open(puppet_log(name), "a") as log:
        log.write(f"==== puppet apply on {name}, platform {platform}, "
                  f"{time.strftime('%H:%M:%S')}\n")
        log.flush()
        return subprocess.Popen(
            ["nsenter", "-t", leader(name), "-a", *env, "puppet", "apply", "--detailed-exitcodes",
             "--color=false", "--environmentpath", "/vagrant", "--environment", "puppet",
             "/vagrant/puppet/manifests/site.pp"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def provision(name, platform=None):
    """Exit status of `puppet apply --detailed-exitcodes` inside NAME:
    0 no change, 2 changes, 4 or 6 failures."""
    return start_provisioning(name, platform).wait()


def down():
    for name in MACHINES:
        try:
            inside(name, "systemctl", "poweroff", check=False)
        except RuntimeError:
            pass
    deadline = time.time() + 30
    while time.time() < deadline and subprocess.run(
            ["pgrep", "-f", f"systemd-nspawn -D {CACHE / 'hosts'}"],
            capture_output=True).returncode == 0:
        time.sleep(0.5)
    subprocess.run(["pkill", "-9", "-f", f"systemd-nspawn -D {CACHE / 'hosts'}"])
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


def destroy():
    """Removes the hosts (not the cached image)."""
    shutil.rmtree(CACHE / "hosts", ignore_errors=True)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "up":
        up()
    elif cmd == "provision":
        for name in sys.argv[2:] or MACHINES:
            print(name, "->", provision(name), "log:", puppet_log(name))
    elif cmd == "down":
        down()
    elif cmd == "destroy":
        down()
        destroy()
