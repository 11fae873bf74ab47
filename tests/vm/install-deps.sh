#!/bin/sh
# Debian 12 packages the real Vagrant/libvirt test (tests/vm/run.sh) needs on
# the host. Not part of scripts/install-deps.sh: CI does not run the VM test.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    vagrant vagrant-libvirt libvirt-daemon-system libvirt-daemon-driver-qemu \
    qemu-system-x86 qemu-utils dnsmasq-base iptables \
    debootstrap fdisk e2fsprogs extlinux syslinux-common rsync
