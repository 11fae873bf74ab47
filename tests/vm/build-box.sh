#!/bin/sh
# Builds a libvirt box of Debian 12 the way debian/bookworm64 is made
# (debootstrap into a qcow2 disk with a bootloader, openssh-server, sudo,
# rsync, the vagrant user with Vagrant's insecure key, passwordless sudo) and
# caches it. Prints the box file's path.
#
#   tests/vm/build-box.sh [CACHE_DIR]     (default /var/cache/chatadm-vm)
#
# Loop devices here get no partition scan (no /dev/loopNp1), so the one
# partition is reached with losetup -o 1MiB, and extlinux boots it (GRUB would
# need the partition device).
set -eu
CACHE=${1:-/var/cache/chatadm-vm}
MIRROR=${CHATADM_VM_MIRROR:-http://deb.debian.org/debian}
BOX="$CACHE/bookworm64-libvirt.box"
SIZE_G=20
if [ -s "$BOX" ]; then echo "$BOX"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "build-box: needs root (debootstrap, losetup, mount)" >&2; exit 1; }
for c in debootstrap sfdisk losetup mkfs.ext4 extlinux qemu-img; do
    command -v "$c" >/dev/null || { echo "build-box: $c missing; run tests/vm/install-deps.sh" >&2; exit 1; }
done
KEY=$(ls /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub 2>/dev/null | head -1)
[ -n "$KEY" ] || { echo "build-box: Vagrant's insecure public key not found (is vagrant installed?)" >&2; exit 1; }

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
MNT="$WORK/root"; LOOP=""
cleanup() {
    for d in dev/pts dev proc sys; do umount "$MNT/$d" 2>/dev/null || true; done
    umount "$MNT" 2>/dev/null || true
    [ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

RAW="$WORK/disk.raw"
truncate -s "${SIZE_G}G" "$RAW"
echo '2048,,L,*' | sfdisk -q "$RAW"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$RAW" bs=440 count=1 conv=notrunc status=none
LOOP=$(losetup --find --show -o 1MiB "$RAW")
# extlinux reads ext4 without 64bit block numbers most reliably.
mkfs.ext4 -q -O ^64bit -L root "$LOOP"
UUID=$(blkid -s UUID -o value "$LOOP")
mkdir -p "$MNT"; mount "$LOOP" "$MNT"

debootstrap --include=linux-image-amd64,openssh-server,sudo,rsync,ifupdown,isc-dhcp-client,ca-certificates \
    bookworm "$MNT" "$MIRROR"

echo "UUID=$UUID / ext4 errors=remount-ro 0 1" > "$MNT/etc/fstab"
echo bookworm > "$MNT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tbookworm\n' > "$MNT/etc/hosts"
# net.ifnames=0 below: the first NIC is eth0 whatever bus libvirt gives it.
printf 'auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n' > "$MNT/etc/network/interfaces"
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
    "$MIRROR" "$MIRROR" > "$MNT/etc/apt/sources.list"
mount --bind /dev "$MNT/dev"; mount --bind /dev/pts "$MNT/dev/pts"
mount -t proc proc "$MNT/proc"; mount -t sysfs sys "$MNT/sys"
chroot "$MNT" sh -eu -c '
    useradd -m -s /bin/bash vagrant
    echo vagrant:vagrant | chpasswd
    echo root:vagrant | chpasswd
    install -d -m 700 -o vagrant -g vagrant /home/vagrant/.ssh
    echo "vagrant ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/vagrant
    chmod 440 /etc/sudoers.d/vagrant
    echo "UseDNS no" > /etc/ssh/sshd_config.d/vagrant.conf
    apt-get clean
'
install -m 600 "$KEY" "$MNT/home/vagrant/.ssh/authorized_keys"
chroot "$MNT" chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys

mkdir -p "$MNT/boot/extlinux"
cat > "$MNT/boot/extlinux/extlinux.conf" <<CONF
DEFAULT debian
TIMEOUT 1
LABEL debian
    LINUX /vmlinuz
    INITRD /initrd.img
    APPEND root=UUID=$UUID ro net.ifnames=0 console=tty0 console=ttyS0,115200
CONF
extlinux --install "$MNT/boot/extlinux" 2>/dev/null
for d in dev/pts dev proc sys; do umount "$MNT/$d"; done
umount "$MNT"; losetup -d "$LOOP"; LOOP=""

qemu-img convert -O qcow2 "$RAW" "$WORK/box.img"
rm -f "$RAW"
printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %s}\n' "$SIZE_G" > "$WORK/metadata.json"
cat > "$WORK/Vagrantfile" <<'VF'
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.driver = "kvm"
  end
end
VF
tar -C "$WORK" -cf "$BOX.tmp" metadata.json Vagrantfile box.img
mv "$BOX.tmp" "$BOX"
echo "$BOX"
