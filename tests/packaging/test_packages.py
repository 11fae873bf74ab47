"""The Debian packages (debian/, scripts/build-debs.sh): lintian, contents,
dependencies, and a real install, upgrade and removal under this machine's
ejabberd (the system node ejabberd@localhost, run with ejabberdctl).

    sudo flock /tmp/chatadm-ejabberd.lock /usr/bin/python3 -m pytest -v tests/packaging

CHATADM_DEBS_DIR names a directory scripts/build-debs.sh already filled (as
CTest's packages_built fixture does); without it the packages are built
here. The install test leaves the system as it found it: ejabberd.yml
restored, the two packages purged (or, if they were installed before, the
freshly built ones installed: a demo's setup keeps working), ejabberd
stopped, or started again if it was running.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import harness  # noqa: E402

YML = Path("/etc/ejabberd/ejabberd.yml")
MODULES = ["mod_unread", "mod_unread_commands", "mod_unread_mnesia", "mod_unread_server",
           "unread_nif"]


def run(*argv, check=True, **kw):
    return subprocess.run([str(a) for a in argv], check=check, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    given = os.environ.get("CHATADM_DEBS_DIR")
    if given and list(Path(given).glob("*.deb")):
        out = Path(given)
    else:
        out = tmp_path_factory.mktemp("apt")
        subprocess.run([REPO / "scripts/build-debs.sh", out], check=True,
                       env=dict(os.environ, CHATADM_BUILD_JOBS=os.environ.get("CHATADM_BUILD_JOBS", "2")))
    found = {p.name.split("_")[0]: p for p in out.glob("*.deb")}
    assert set(found) == {"ejabberd-mod-unread", "chatadm"}, found
    return found


def field(deb, name):
    return run("dpkg-deb", "-f", deb, name).stdout.strip()


def contents(deb):
    return {line.split()[-1].lstrip(".") for line in run("dpkg-deb", "-c", deb).stdout.splitlines()}


def test_lintian_reports_no_errors(debs):
    p = run("lintian", "--tag-display-limit", "0", *debs.values(), check=False)
    errors = [line for line in p.stdout.splitlines() if line.startswith("E:")]
    assert errors == [] and p.returncode == 0, p.stdout + p.stderr


def test_module_package_is_an_otp_application_directory(debs):
    deb = debs["ejabberd-mod-unread"]
    files = {f for f in contents(deb) if not f.endswith("/")}
    app = "/usr/lib/erlang/lib/mod_unread-0.1.0"
    assert {f"{app}/ebin/{m}.beam" for m in MODULES} | {
        f"{app}/ebin/mod_unread.app", f"{app}/priv/unread_nif.so",
        # Loaded only when used (a health command, a /metrics listener).
        f"{app}/ebin/mod_unread_health.beam", f"{app}/ebin/mod_unread_metrics.beam",
        "/usr/libexec/ejabberd-mod-unread/mod-unread-reload"} <= files
    # Nothing else than the application, the reload helper and the docs.
    assert all(f.startswith((app + "/", "/usr/libexec/ejabberd-mod-unread/", "/usr/share/doc/"))
               for f in files), files


def test_module_package_runs_only_with_the_ejabberd_it_was_built_for(debs):
    depends = field(debs["ejabberd-mod-unread"], "Depends")
    built_with = run("dpkg-query", "-W", "-f", "${Version}", "ejabberd").stdout
    upstream = re.sub(r"-[^-]*$", "", built_with)
    major, minor = upstream.split(".")[:2]
    assert f"ejabberd (>= {upstream})" in depends, depends
    assert f"ejabberd (<< {major}.{int(minor) + 1:0{len(minor)}d}~)" in depends, depends
    # The NIF: the ERTS ABI and the C++ runtime, as computed by the tools.
    assert re.search(r"erlang-abi \(= [0-9.]+\)", depends), depends
    assert "libstdc++6" in depends and "libc6" in depends, depends
    assert "-dev" not in depends, depends


def test_chatadm_package_has_the_program_and_its_manual(debs):
    deb = debs["chatadm"]
    assert {"/usr/bin/chatadm", "/usr/share/man/man1/chatadm.1.gz"} <= contents(deb)
    depends = field(deb, "Depends")
    assert "libcurl4" in depends and "libc6" in depends and "-dev" not in depends, depends


def test_versions_sort_above_the_changelog_version(debs):
    base = run("dpkg-parsechangelog", "-l", REPO / "debian/changelog", "-S", "Version").stdout.strip()
    for deb in debs.values():
        version = field(deb, "Version")
        assert re.fullmatch(re.escape(base) + r"\+git\d+\.g[0-9a-f]{8}(\.d\d{14})?", version), version
        assert run("dpkg", "--compare-versions", version, "gt", base, check=False).returncode == 0


def next_version(deb, workdir):
    """A newer ejabberd-mod-unread made from DEB: mod_unread_server gains a
    function (so the node can tell new code from old), and the application
    directory a new version (so the code path changes, as in a real upgrade
    from one release to the next)."""
    root = workdir / "root"
    run("dpkg-deb", "-R", deb, root)
    old_app = next((root / "usr/lib/erlang/lib").glob("mod_unread-*"))
    app = old_app.with_name("mod_unread-99.0.0")
    old_app.rename(app)
    dotapp = app / "ebin/mod_unread.app"
    dotapp.write_text(re.sub(r'\{vsn, "[^"]*"\}', '{vsn, "99.0.0"}', dotapp.read_text()))
    src = workdir / "mod_unread_server.erl"
    text = (REPO / "ejabberd_mod/src/mod_unread_server.erl").read_text()
    text = text.replace("-module(mod_unread_server).",
                        "-module(mod_unread_server).\n-export([pkg_upgrade_marker/0]).", 1)
    src.write_text(text + "\npkg_upgrade_marker() -> upgraded.\n")
    ej = "/usr/lib/x86_64-linux-gnu/ejabberd-23.01-1"
    xmpp = next(Path("/usr/lib/erlang/lib").glob("p1_xmpp-*/include"))
    run("erlc", "+debug_info", "-I", f"{ej}/include", "-I", xmpp, "-pa", f"{ej}/ebin",
        "-o", app / "ebin", src)
    control = root / "DEBIAN/control"
    version = field(deb, "Version") + ".1"
    control.write_text(re.sub(r"(?m)^Version: .*$", f"Version: {version}", control.read_text()))
    sums = run("sh", "-c", "find usr -type f | sort | xargs md5sum", cwd=root).stdout
    (root / "DEBIAN/md5sums").write_text(sums)
    out = workdir / f"ejabberd-mod-unread_{version}_amd64.deb"
    run("dpkg-deb", "-b", root, out)
    return out, version


def ctl(*args, check=True):
    p = run("ejabberdctl", *args, check=False, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"ejabberdctl {' '.join(args)}: {p.returncode} {p.stdout}{p.stderr}")
    return p


def apt_install(*debs):
    return run("apt-get", "install", "-y", "--no-install-recommends", "--allow-downgrades",
               *[Path(d).resolve() for d in debs], check=False,
               env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def beam_pid():
    p = run("pgrep", "-f", "beam.*-name ejabberd@localhost|beam.*-sname ejabberd@localhost", check=False)
    pids = p.stdout.split()
    assert len(pids) == 1, p.stdout
    return pids[0]


def installed(package):
    p = run("dpkg-query", "-W", "-f", "${Status}", package, check=False)
    return p.returncode == 0 and p.stdout.endswith(" installed")


@pytest.fixture
def system_ejabberd(debs):
    """The system ejabberd with mod_unread in its configuration; everything
    restored afterwards."""
    if os.geteuid() != 0:
        pytest.skip("installs packages: needs root")
    had = [name for name in debs if installed(name)]
    was_running = ctl("status", check=False).returncode == 0
    saved = YML.read_bytes()
    if was_running:
        ctl("stop"), ctl("stopped", check=False)
    text = saved.decode()
    if not re.search(r"(?m)^  mod_unread:", text):
        text = re.sub(r"(?m)^modules:\n", "modules:\n  mod_unread: {}\n", text, count=1)
    YML.write_text(text)
    node = harness.Node(name="ejabberd")
    node.node = "ejabberd@localhost"
    try:
        yield node
    finally:
        ctl("stop", check=False), ctl("stopped", check=False)
        YML.write_bytes(saved)
        run("dpkg", "--purge", "ejabberd-mod-unread", "chatadm", check=False)
        if had:
            apt_install(*[debs[name] for name in had])
        if was_running:
            ctl("start", check=False), ctl("started", check=False)


def test_install_upgrade_under_running_ejabberd_and_remove(debs, system_ejabberd, tmp_path):
    node = system_ejabberd
    p = apt_install(debs["ejabberd-mod-unread"], debs["chatadm"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert run("chatadm", check=False).returncode == 2  # usage, from the installed binary
    assert run("man", "-w", "chatadm").stdout.strip() == "/usr/share/man/man1/chatadm.1.gz"

    # ejabberd finds the module on its own code path: no -pa, no ERL_LIBS.
    ctl("start"), ctl("started")
    assert ctl("unread_stats").stdout.split()[1:3] == ["localhost", "ready"]
    pid = beam_pid()
    old_app = node.rpc('code:lib_dir(mod_unread)')

    # The upgrade, under the running node: its postinst switches the node to
    # the new code, in every module, the NIF library included.
    newer, version = next_version(debs["ejabberd-mod-unread"], tmp_path)
    p = apt_install(newer)
    assert p.returncode == 0 and "mod_unread reloaded" in p.stdout + p.stderr, p.stdout + p.stderr
    assert beam_pid() == pid, "ejabberd was restarted instead of reloaded"
    assert node.rpc("mod_unread_server:pkg_upgrade_marker()") == "upgraded"
    assert node.rpc("code:lib_dir(mod_unread)") == '"/usr/lib/erlang/lib/mod_unread-99.0.0"', old_app
    assert node.rpc(f"[M || M <- {MODULES}, code:module_status(M) =/= loaded]".replace("'", "")) == "[]"
    nif_maps = [line for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
                if "unread_nif.so" in line]
    assert nif_maps and all("mod_unread-99.0.0/priv/unread_nif.so" in line and "(deleted)" not in line
                            for line in nif_maps), nif_maps
    assert node.rpc('gen_mod:is_loaded(<<"localhost">>, mod_unread)') == "true"
    assert ctl("unread_stats").stdout.split()[1:3] == ["localhost", "ready"]

    # Removal while ejabberd.yml still enables the module: a clear warning.
    p = run("dpkg", "-r", "ejabberd-mod-unread", check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"WARNING: {YML} still enables mod_unread" in p.stderr, p.stdout + p.stderr
    assert not list(Path("/usr/lib/erlang/lib").glob("mod_unread-*"))
