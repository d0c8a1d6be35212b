#!/usr/bin/env bash
# Runs a command next to a libvirt NAT network that lives in a network namespace of its own, so
# that no traffic to the network's private addresses leaves loopback in the machine's namespace
# (a rule of the test machines):
#
#   scripts/nat-sandbox.sh CMD [ARG...]
#
# makes the namespace autoscaler-nat (loopback up), and in it, in a private mount namespace: a
# libvirtd and virtlogd of their own (/run/libvirt, /var/lib/libvirt, /var/cache/libvirt,
# /var/log/libvirt and a copy of /etc/libvirt on tmpfs, so that the machine's own daemon and its
# domains are neither seen nor touched), `setup-libvirt.sh --network nat` with no initial VMs, then
# CMD, with LIBVIRT_URI=qemu:///system pointing at that daemon. Afterwards every domain in it is
# destroyed, its daemons and dnsmasq are stopped and the namespace is removed; CMD's exit status
# is the script's. The libvirtd log is copied to $NAT_SANDBOX_LOG (default
# /tmp/autoscaler-nat-libvirtd.log) for a failed run. Root only.
source "$(dirname "$0")/lib.sh"

NETNS=autoscaler-nat
LOG=${NAT_SANDBOX_LOG:-/tmp/autoscaler-nat-libvirtd.log}
[ "$(id -u)" -eq 0 ] || fail "needs root (network namespaces, a libvirtd of its own); run: sudo $0 $*"

if [ "${1:-}" != --inside ]; then
    [ $# -ge 1 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 64; }
    # Installed here: inside, the namespace has no route to the package mirrors.
    ensure_packages dnsmasq-base iptables
    for f in vmlinuz initrd.img; do
        [ "/var/lib/autoscaler/images/$f" -nt scripts/vm/init ] || fail "/var/lib/autoscaler/images/$f is missing or older than scripts/vm/init: run scripts/setup-libvirt.sh first"
    done
    # A namespace left by an interrupted run: its processes first, then its name.
    if ip netns list | grep -qw "$NETNS"; then
        ip netns pids "$NETNS" | xargs -r kill -9 2>/dev/null || true
        ip netns del "$NETNS"
    fi
    ip netns add "$NETNS" || fail "'ip netns add $NETNS' was refused; this machine cannot host the NAT network test"
    # Anything still running in it (a qemu the inner cleanup missed) would keep it alive unseen.
    at_exit "ip netns pids $NETNS | xargs -r kill -9 2>/dev/null; ip netns del $NETNS"
    # `ip netns exec` also gives the command a mount namespace of its own (for /sys), whose mounts
    # do not propagate back: the tmpfs below stay private.
    status=0
    ip netns exec "$NETNS" "$PWD/scripts/nat-sandbox.sh" --inside "$@" || status=$?
    exit "$status"
fi
shift

ip link set lo up
for dir in /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
    mkdir -p "$dir"
    mount -t tmpfs -o mode=755 "tmpfs-$NETNS" "$dir"
done
mkdir -p /var/log/libvirt/qemu
# The machine's configuration, without its domains, networks and pools.
etc=$(mktemp -d /tmp/autoscaler-nat-etc.XXXXXX)
cp -a /etc/libvirt/. "$etc/"
rm -rf "$etc"/qemu/*.xml "$etc"/qemu/networks "$etc"/qemu/autostart "$etc"/storage
mount --bind "$etc" /etc/libvirt
at_exit "umount /etc/libvirt; rm -rf '$etc'"

# Pid files in the private /run/libvirt: the machine's daemons hold /run/libvirtd.pid and
# /run/virtlogd.pid.
virtlogd -d -p /run/libvirt/virtlogd.pid
libvirtd -d -p /run/libvirt/libvirtd.pid
at_exit 'cp /var/log/libvirt/libvirtd.log "$LOG" 2>/dev/null'
at_exit 'for pid in /run/libvirt/libvirtd.pid /run/libvirt/virtlogd.pid /run/libvirt/network/*.pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null; done'
at_exit 'for d in $(virsh -c qemu:///system list --name 2>/dev/null); do virsh -c qemu:///system destroy "$d" >/dev/null 2>&1; done'
up() { virsh -c qemu:///system uri >/dev/null 2>&1; }
wait_for 20 "the sandbox's libvirtd (see $LOG)" up

# The machine's kernel and initramfs (setup-libvirt.sh rebuilds them if they are out of date).
images=/var/lib/libvirt/autoscaler-images
mkdir -p "$images"
for f in vmlinuz initrd.img; do
    [ -f "/var/lib/autoscaler/images/$f" ] && cp -p "/var/lib/autoscaler/images/$f" "$images/"
done
export LIBVIRT_URI=qemu:///system AUTOSCALER_IMAGE_DIR=$images
AUTOSCALER_INITIAL_VMS="" scripts/setup-libvirt.sh --network nat
log "sandbox ready: network namespace $NETNS, libvirtd with the NAT network 'autoscaler'"
status=0
"$@" || status=$?
exit "$status"
