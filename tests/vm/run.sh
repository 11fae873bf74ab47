#!/bin/bash
# The README's Vagrant deployment for real: three libvirt VMs from a locally
# built debian/bookworm64 box, brought up in parallel (vagrant-libvirt's
# default), then chatadm through haproxy, an idempotent second provision, the
# slave halted and brought back, and destroy. Exits non-zero on the first
# failed step, and when this machine cannot run VMs at all.
#
#   sudo tests/vm/run.sh          (packages: tests/vm/install-deps.sh)
#
# CHATADM_VM_DRIVER=qemu|kvm forces the libvirt domain type; by default qemu
# (software emulation) is chosen where /dev/kvm is missing or is nested PVM,
# on which an ordinary guest fails. CHATADM_VM_CACHE (default
# /var/cache/chatadm-vm) holds the box and this test's own VAGRANT_HOME.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${CHATADM_VM_CACHE:-/var/cache/chatadm-vm}
LOGDIR=${CHATADM_VM_LOGS:-$CACHE/logs/$(date -u +%Y%m%dT%H%M%S)}
export VAGRANT_HOME="$CACHE/vagrant.d" VAGRANT_DEFAULT_PROVIDER=libvirt
mkdir -p "$LOGDIR" "$VAGRANT_HOME"
cd "$ROOT"

fail() { echo "FAIL: $*" >&2; echo "logs: $LOGDIR" >&2; exit 1; }
declare -a TIMES=()
# step NAME CMD...: runs CMD with its output in $LOGDIR/NAME.log, timed.
step() {
    local name=$1; shift
    local t0=$SECONDS
    echo "== $name: $*"
    if ! "$@" >"$LOGDIR/$name.log" 2>&1; then
        tail -30 "$LOGDIR/$name.log" >&2
        fail "$name ($*) exited non-zero after $((SECONDS - t0)) s"
    fi
    TIMES+=("$name $((SECONDS - t0)) s")
    echo "   ok in $((SECONDS - t0)) s"
}
on() { vagrant ssh "$1" -c "$2" -- -q; }

# -- can this machine run VMs at all?
[ "$(id -u)" = 0 ] || fail "needs root (libvirt system connection, box build)"
for c in vagrant virsh qemu-system-x86_64 libvirtd virtlogd; do
    command -v "$c" >/dev/null || fail "$c missing: run tests/vm/install-deps.sh"
done
vagrant plugin list 2>/dev/null | grep -q vagrant-libvirt || fail "vagrant-libvirt plugin missing (apt-get install vagrant-libvirt)"
# No systemd here in containers: start the daemons by hand when not running.
pgrep -x virtlogd >/dev/null || virtlogd -d
pgrep -x libvirtd >/dev/null || libvirtd -d
for _ in $(seq 20); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 1; done
virsh -c qemu:///system version >/dev/null 2>&1 || fail "libvirtd does not answer on qemu:///system"

# The nspawn e2e (tests/e2e) puts the same 192.168.56.0/24 on its own bridge:
# two routes to one subnet would send the VMs' traffic to the wrong hosts.
if ip link show br-chatadm >/dev/null 2>&1; then
    fail "bridge br-chatadm (the nspawn e2e) holds 192.168.56.0/24: run this when the e2e is not running"
fi

DRIVER=${CHATADM_VM_DRIVER:-}
if [ -z "$DRIVER" ]; then
    if [ ! -c /dev/kvm ] || [ -d /sys/module/kvm_pvm ]; then DRIVER=qemu; else DRIVER=kvm; fi
fi
if [ "$DRIVER" = qemu ]; then
    # The user's own Vagrantfile (VAGRANT_HOME) is merged under the project's:
    # software emulation with a CPU model QEMU's TCG provides.
    cat > "$VAGRANT_HOME/Vagrantfile" <<'VF'
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.driver = "qemu"
    lv.cpu_mode = "custom"
    lv.cpu_model = "qemu64"
  end
end
VF
else
    rm -f "$VAGRANT_HOME/Vagrantfile"
fi
echo "libvirt domain type: $DRIVER; logs in $LOGDIR"

# -- the box
step build-box "$ROOT/tests/vm/build-box.sh" "$CACHE"
BOX=$(tail -1 "$LOGDIR/build-box.log")
if ! vagrant box list 2>/dev/null | grep -q '^debian/bookworm64 .*libvirt'; then
    step box-add vagrant box add --name debian/bookworm64 "$BOX"
fi

# -- a clean start
vagrant destroy -f >/dev/null 2>&1 || true
trap 'vagrant destroy -f >"$LOGDIR/destroy-on-exit.log" 2>&1' EXIT

# -- the README's commands
step up-three vagrant up --provider libvirt ejabberd ejabberd_slave haproxy
grep -q "Running provisioner: puppet" "$LOGDIR/up-three.log" || fail "vagrant up ran no Puppet"

NODES="ejabberd@ejabberd1.example ejabberd@ejabberd2.example"
# One mnesia cluster, seen from both nodes: list_cluster is mnesia's running
# db nodes, so two one-node clusters show one name each.
check_cluster() { # check_cluster LOGNAME
    local m out
    for m in ejabberd ejabberd_slave; do
        out=$(on "$m" 'sudo ejabberdctl list_cluster' 2>&1) || fail "list_cluster on $m: $out"
        printf '%s: %s\n' "$m" "$(echo $out)" >>"$LOGDIR/$1.log"
        for n in $NODES; do
            echo "$out" | grep -q "$n" || fail "$n not in $m's cluster (two clusters, not one): $out"
        done
    done
}
check_cluster cluster-after-up
# Packages only: no compiler, no -dev package on any machine.
for m in ejabberd ejabberd_slave haproxy; do
    on "$m" 'for c in gcc g++ cc c++ cmake; do command -v $c && exit 1; done; dpkg -l "*-dev" 2>/dev/null | grep "^ii" && exit 1; exit 0' \
        >"$LOGDIR/no-compiler-$m.log" 2>&1 || fail "$m has a compiler or a -dev package: $(cat "$LOGDIR/no-compiler-$m.log")"
done
check_status() { # check_status EXPECT_SLAVE(ready|down)
    # chatadm status exits 5 when a cluster member is down or the nodes
    # behind haproxy are not one cluster, naming the problem.
    local out rc; out=$(on haproxy 'chatadm status' 2>&1); rc=$?
    echo "$out" >>"$LOGDIR/status.log"
    echo "$out" | grep 'ejabberd@ejabberd1.example' | grep -q ready || fail "ejabberd1 not ready in: $out"
    if [ "$1" = ready ]; then
        [ "$rc" = 0 ] || fail "chatadm status exited $rc with both nodes up: $out"
        echo "$out" | grep 'ejabberd@ejabberd2.example' | grep -q ready || fail "ejabberd2 not ready in: $out"
        for n in ejabberd@ejabberd1.example ejabberd@ejabberd2.example; do
            echo "$out" | grep -q "answered: *$n (2 in its cluster)" || fail "$n did not answer in a cluster of two: $out"
        done
    else
        [ "$rc" = 5 ] || fail "chatadm status exited $rc, not 5, with the slave halted: $out"
        echo "$out" | grep -q "node ejabberd@ejabberd2.example is down" || fail "status does not name ejabberd2 down: $out"
        echo "$out" | grep 'ejabberd@ejabberd2.example' | grep -q ready && fail "halted ejabberd2 still ready in: $out"
    fi
    return 0
}
check_status ready
on ejabberd 'sudo ejabberdctl register alice chat.example pw-alice' >"$LOGDIR/register.log" 2>&1 \
    || fail "registering alice: $(cat "$LOGDIR/register.log")"
on haproxy 'chatadm send admin alice "hello from the vm test"' >"$LOGDIR/send.log" 2>&1 \
    || fail "chatadm send: $(cat "$LOGDIR/send.log")"
on haproxy 'chatadm unread alice' >"$LOGDIR/unread.log" 2>&1 || fail "chatadm unread failed"
grep -q "hello from the vm test" "$LOGDIR/unread.log" || fail "unread lacks the message: $(cat "$LOGDIR/unread.log")"

# From the host, with the deployment's CA and admin password.
HOSTCLI=$(command -v chatadm || ls "$ROOT"/build/prefix/bin/chatadm 2>/dev/null || true)
if [ -n "$HOSTCLI" ]; then
    "$HOSTCLI" -h 192.168.56.10:5443 -C .vagrant/chatadm-secrets/ca/ca.pem \
        -u admin@chat.example -P .vagrant/chatadm-secrets/admin.password unread alice \
        >"$LOGDIR/host-unread.log" 2>&1 || fail "chatadm from the host: $(cat "$LOGDIR/host-unread.log")"
    grep -q "hello from the vm test" "$LOGDIR/host-unread.log" || fail "host unread lacks the message"
else
    fail "no chatadm on the host (build it: cmake --install build --prefix build/prefix)"
fi

# -- a second provision changes nothing: Puppet reports no resource change.
step provision-again vagrant provision
if grep -E 'Notice: /Stage\[' "$LOGDIR/provision-again.log"; then
    fail "second vagrant provision changed resources (above)"
fi
[ "$(grep -c 'Notice: Applied catalog' "$LOGDIR/provision-again.log")" -eq 3 ] \
    || fail "second vagrant provision did not apply Puppet on all three machines"

# -- the slave halted: status shows it down, haproxy still serves.
step halt-slave vagrant halt ejabberd_slave
check_status down
on haproxy 'chatadm unread alice' 2>&1 | grep -q "hello from the vm test" || fail "haproxy stopped serving with the slave down"

# -- back up: it rejoins.
step up-slave vagrant up ejabberd_slave
check_status ready
check_cluster cluster-after-rejoin

step destroy vagrant destroy -f
trap - EXIT
echo "== all steps passed"
printf '   %s\n' "${TIMES[@]}" | tee "$LOGDIR/times.txt"
