#!/usr/bin/env bash
# Recreates the original project's prerequisites on a Debian/Ubuntu host, idempotently:
#   - libvirt (daemon + qemu driver + clients), qemu-system-x86, qemu-utils, busybox-static;
#   - virtlogd and libvirtd running (started by hand when there is no systemd);
#   - a tiny web VM image: a Debian cloud kernel (taken from its package, not installed) and a
#     busybox initramfs whose httpd answers with the instance name;
#   - a storage pool "autoscaler" over the image directory;
#   - the template domain ubuntu20.04-3_webTemplate (shut off) and web_vm1, web_vm2 (running,
#     forwarded to 127.0.0.1:18081 and :18082), marked in our metadata as found, not created.
#
# Environment: AUTOSCALER_IMAGE_DIR (default /var/lib/autoscaler/images), LIBVIRT_URI
# (default qemu:///system), AUTOSCALER_INITIAL_VMS (default "web_vm1 web_vm2"; empty for none).
#
#   scripts/setup-libvirt.sh --second-host
# after the above: a second, separate libvirt host on this machine for tests of several hosts, the
# qemu:///session daemon of the unprivileged user autoscaler2 reached over ssh on loopback
# (openssh-server, an sshd on 127.0.0.1:2222 only, key authentication; keys in /etc/autoscaler/ssh)
# with its own pool and template and no VMs. Prints the URI to pass as a second --uri. (On a
# machine with systemd, installing openssh-server also starts Debian's own sshd on port 22.)
#
#   scripts/setup-libvirt.sh --network nat
# VMs on a libvirt NAT network instead of loopback forwards: dnsmasq-base and iptables, the network
# "autoscaler" (bridge asbr0, $AUTOSCALER_NAT_PREFIX.1/24, default 192.168.150, DHCP leases of 10
# minutes), the template attached to it (redefined if it had a forward) and booting with
# autoscaler.net=dhcp; the autoscaler then reaches each VM at its leased address on port 80.
# `--network user` attaches the template to a loopback forward again. The test of this mode runs
# it inside a network namespace of its own: scripts/nat-sandbox.sh.
source "$(dirname "$0")/lib.sh"

usage_error() { printf 'setup-libvirt: %s (see the comment at the top of %s)\n' "$1" "$0" >&2; exit 64; }
SECOND_HOST=0 NETWORK=user
while [ $# -gt 0 ]; do
    case $1 in
    --second-host) SECOND_HOST=1 ;;
    --network)
        [ $# -ge 2 ] || usage_error "--network needs user or nat"
        NETWORK=$2
        shift
        ;;
    *) usage_error "unknown argument: $1" ;;
    esac
    shift
done
case $NETWORK in user | nat) ;; *) usage_error "--network is user or nat, not '$NETWORK'" ;; esac

IMAGE_DIR=${AUTOSCALER_IMAGE_DIR:-/var/lib/autoscaler/images}
URI=${LIBVIRT_URI:-qemu:///system}
TEMPLATE=ubuntu20.04-3_webTemplate
INITIAL_VMS=${AUTOSCALER_INITIAL_VMS-web_vm1 web_vm2}
FIRST_PORT=18081
POOL=autoscaler
NS=http://autoscaler.localhost/xmlns/instance/1
HERE=$PWD/scripts   # lib.sh changed to the repository root

virsh() { command virsh -q -c "$URI" "$@"; }

if [ "$SECOND_HOST" = 1 ]; then
    [ "$(id -u)" -eq 0 ] || fail "--second-host makes a user and starts an sshd; run as root"
    SECOND_USER=autoscaler2 SSH_DIR=/etc/autoscaler/ssh SSH_PORT=2222
    KEY=$SSH_DIR/client_ed25519
    SECOND_URI="qemu+ssh://$SECOND_USER@127.0.0.1:$SSH_PORT/session?keyfile=$KEY&no_verify=1"
    if ! command -v sshd >/dev/null && [ ! -x /usr/sbin/sshd ]; then
        log "installing openssh-server"
        (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-server) >/dev/null
    fi
    getent passwd "$SECOND_USER" >/dev/null || useradd --create-home --shell /bin/bash "$SECOND_USER"
    usermod -p '*' "$SECOND_USER"   # no password, but not locked: sshd refuses locked accounts
    mkdir -p "$SSH_DIR" /run/sshd
    [ -f "$SSH_DIR/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/host_ed25519"
    [ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -f "$KEY"
    home=$(getent passwd "$SECOND_USER" | cut -d: -f6)
    install -d -m 700 -o "$SECOND_USER" -g "$SECOND_USER" "$home/.ssh"
    install -m 600 -o "$SECOND_USER" -g "$SECOND_USER" "$KEY.pub" "$home/.ssh/authorized_keys"
    cat >"$SSH_DIR/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $SSH_DIR/host_ed25519
PidFile /run/autoscaler-sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers $SECOND_USER
UsePAM no
CONF
    if ! { [ -f /run/autoscaler-sshd.pid ] && kill -0 "$(cat /run/autoscaler-sshd.pid)" 2>/dev/null; }; then
        log "starting sshd on 127.0.0.1:$SSH_PORT for $SECOND_USER"
        "$(command -v sshd || echo /usr/sbin/sshd)" -f "$SSH_DIR/sshd_config"
    fi
    reachable() { command virsh -q -c "$SECOND_URI" list >/dev/null 2>&1; }
    wait_for 20 "the session daemon of $SECOND_USER over ssh" reachable
    # Its own image directory, writable by its qemu; the same kernel and initramfs as the first.
    install -d -m 755 -o "$SECOND_USER" -g "$SECOND_USER" "$home/images"
    for f in vmlinuz initrd.img; do install -m 644 "$IMAGE_DIR/$f" "$home/images/$f"; done
    LIBVIRT_URI=$SECOND_URI AUTOSCALER_IMAGE_DIR=$home/images AUTOSCALER_INITIAL_VMS="" "$HERE/setup-libvirt.sh" >&2
    chown -R "$SECOND_USER:$SECOND_USER" "$home/images"
    echo "$SECOND_URI"
    exit 0
fi

# --- packages ---------------------------------------------------------------------------------
PACKAGES=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils busybox-static cpio)
# A NAT network: libvirt runs dnsmasq for DHCP and DNS and adds iptables rules for the NAT.
[ "$NETWORK" = user ] || PACKAGES+=(dnsmasq-base iptables)
ensure_packages "${PACKAGES[@]}"

# --- daemons ----------------------------------------------------------------------------------
if [[ "$URI" == qemu:///system ]]; then
    [ "$(id -u)" -eq 0 ] || fail "qemu:///system needs root to start daemons; run: sudo $0"
    mkdir -p /var/log/libvirt /var/log/libvirt/qemu /run/libvirt
    # libvirt-daemon-system's postinst makes the user qemu runs as; without that package, we do.
    getent group kvm >/dev/null || groupadd --system kvm
    getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
    getent passwd libvirt-qemu >/dev/null ||
        useradd --system --gid kvm --groups libvirt-qemu --home-dir /var/lib/libvirt --no-create-home \
            --shell /usr/sbin/nologin libvirt-qemu
    # udev normally gives /dev/kvm to group kvm (0660). Without udev it stays root-only; libvirt then
    # finds KVM unusable for qemu's user, distrusts its capabilities cache and re-probes qemu on every
    # define (about 45 s each). Domains here are type='qemu' (TCG) either way.
    if [ -c /dev/kvm ] && [ "$(stat -c %G /dev/kvm)" != kvm ]; then
        chgrp kvm /dev/kvm && chmod 660 /dev/kvm
    fi
    if ! pgrep -x virtlogd >/dev/null; then
        log "starting virtlogd"
        virtlogd -d
    fi
    if ! pgrep -x libvirtd >/dev/null; then
        log "starting libvirtd"
        libvirtd -d
    fi
    # libvirt-daemon-system's postinst also makes the user its dnsmasq runs as.
    getent passwd libvirt-dnsmasq >/dev/null ||
        useradd --system --no-create-home --home-dir /var/lib/libvirt/dnsmasq --shell /usr/sbin/nologin libvirt-dnsmasq
    libvirtd_up() { virsh uri >/dev/null 2>&1; }
    wait_for 10 "libvirtd to come up (see /var/log/libvirt/libvirtd.log)" libvirtd_up
fi

# --- the web VM image -------------------------------------------------------------------------
mkdir -p "$IMAGE_DIR"
KERNEL=$IMAGE_DIR/vmlinuz
INITRD=$IMAGE_DIR/initrd.img
if [ ! -s "$KERNEL" ] || [ ! -s "$INITRD" ] || [ "$HERE/vm/init" -nt "$INITRD" ] || [ "$0" -nt "$INITRD" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    meta=linux-image-cloud-amd64
    pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
    if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq # a fresh machine may have no package lists yet
        pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
    fi
    [ -n "$pkg" ] || fail "cannot find the package behind $meta (apt-get update?)"
    log "taking the kernel from $pkg (downloaded, not installed)"
    (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || fail "apt-get download $pkg failed"
    dpkg-deb -x "$work"/*.deb "$work/pkg"
    cp "$work"/pkg/boot/vmlinuz-* "$KERNEL"
    modules=$(ls -d "$work"/pkg/lib/modules/*)

    root=$work/initramfs
    mkdir -p "$root"/{bin,etc,lib/modules,proc,sys,dev,tmp,www}
    cp /bin/busybox "$root/bin/busybox"
    : >"$root/etc/modules"
    # Dependency order (virtio needs virtio_ring): virtio core, the PCI transport, then the network
    # and block drivers; then the ACPI power button and evdev, whose events busybox acpid reads.
    for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk button evdev; do
        f=$(find "$modules" -name "$m.ko" | head -n 1)
        [ -n "$f" ] || continue
        cp "$f" "$root/lib/modules/"
        echo "$m" >>"$root/etc/modules"
    done
    cp "$HERE/vm/init" "$root/init"
    chmod 755 "$root/init"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$INITRD.tmp"
    mv "$INITRD.tmp" "$INITRD"
    log "built $INITRD ($(du -h "$INITRD" | cut -f1)) and $KERNEL"
fi
chmod 755 "$IMAGE_DIR"
chmod 644 "$KERNEL" "$INITRD"

# --- storage pool -----------------------------------------------------------------------------
if ! virsh pool-info "$POOL" >/dev/null 2>&1; then
    log "defining storage pool $POOL at $IMAGE_DIR"
    virsh pool-define-as "$POOL" dir --target "$IMAGE_DIR" >/dev/null
    virsh pool-autostart "$POOL" >/dev/null
fi
[[ "$(virsh pool-info "$POOL")" == *running* ]] || virsh pool-start "$POOL" >/dev/null
TEMPLATE_DISK=$IMAGE_DIR/$TEMPLATE.qcow2
[ -f "$TEMPLATE_DISK" ] || qemu-img create -q -f qcow2 "$TEMPLATE_DISK" 16M
virsh pool-refresh "$POOL" >/dev/null

# --- network ----------------------------------------------------------------------------------
NET_NAME=autoscaler
if [ "$NETWORK" = nat ]; then
    prefix=${AUTOSCALER_NAT_PREFIX:-192.168.150}
    if ! virsh net-info "$NET_NAME" >/dev/null 2>&1; then
        log "defining NAT network $NET_NAME ($prefix.0/24 on asbr0)"
        file=$(mktemp)
        # Leases of 10 minutes: a guest that is destroyed without releasing its address (a crash,
        # a forced delete) gives it back within that time rather than libvirt's default hour.
        cat >"$file" <<XML
<network>
  <name>$NET_NAME</name>
  <forward mode='nat'/>
  <bridge name='asbr0' stp='off' delay='0'/>
  <ip address='$prefix.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='$prefix.10' end='$prefix.250'>
        <lease expiry='10' unit='minutes'/>
      </range>
    </dhcp>
  </ip>
</network>
XML
        virsh net-define "$file" >/dev/null
        rm -f "$file"
        virsh net-autostart "$NET_NAME" >/dev/null
    fi
    [ "$(virsh net-info "$NET_NAME" | awk '$1 == "Active:" { print $2 }')" = yes ] || virsh net-start "$NET_NAME" >/dev/null
fi

# --- domains ----------------------------------------------------------------------------------
random_mac() { printf '52:54:00:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)); }

# domain_xml NAME DISK PORT [METADATA]: attached to a loopback forward on PORT, or (--network nat)
# to the NAT network, where the guest asks for an address by DHCP.
domain_xml() {
    local name=$1 disk=$2 port=$3 metadata=${4:-} net_args='' interface='' qemu=''
    if [ "$NETWORK" = nat ]; then
        net_args=' autoscaler.net=dhcp'
        interface="<interface type='network'>
      <source network='$NET_NAME'/>
      <mac address='$(random_mac)'/>
      <model type='virtio'/>
    </interface>"
    else
        qemu="<qemu:commandline>
    <qemu:arg value='-netdev'/>
    <qemu:arg value='user,id=asnet0,hostfwd=tcp:127.0.0.1:$port-:80'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='virtio-net-pci,netdev=asnet0,bus=pci.0,addr=0x10,mac=$(random_mac)'/>
  </qemu:commandline>"
    fi
    cat <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <metadata>$metadata</metadata>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$KERNEL</kernel>
    <initrd>$INITRD</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 autoscaler.instance=$name$net_args</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    $interface
    <serial type='pty'/>
    <console type='pty'/>
    <memballoon model='none'/>
  </devices>
  $qemu
</domain>
XML
}

define() { # define NAME XML
    local file
    file=$(mktemp)
    printf '%s\n' "$2" >"$file"
    virsh define "$file" >/dev/null
    rm -f "$file"
}

on_network() { virsh dumpxml --inactive "$1" | grep -q "<source network='$NET_NAME'"; }
has_acpi() { virsh dumpxml --inactive "$1" | grep -q "<acpi/>"; }
if virsh dominfo "$TEMPLATE" >/dev/null 2>&1; then
    # Redefine the (shut off) template when it is on the other network, or when it predates ACPI
    # (without it qemu has no power button, and a clean shutdown never comes); clones copy it.
    if { [ "$NETWORK" = nat ] && ! on_network "$TEMPLATE"; } || { [ "$NETWORK" = user ] && on_network "$TEMPLATE"; } || ! has_acpi "$TEMPLATE"; then
        [[ "$(virsh domstate "$TEMPLATE")" == "shut off" ]] || fail "template $TEMPLATE is running; shut it off first"
        log "redefining template $TEMPLATE ($NETWORK network, ACPI)"
        virsh undefine "$TEMPLATE" >/dev/null
    fi
fi
if ! virsh dominfo "$TEMPLATE" >/dev/null 2>&1; then
    log "defining template $TEMPLATE (shut off, $NETWORK network)"
    define "$TEMPLATE" "$(domain_xml "$TEMPLATE" "$TEMPLATE_DISK" 18080)"
fi

# The address a VM serves on: its loopback forward, or its DHCP lease on the NAT network.
vm_address() { # vm_address VM PORT
    if [ "$NETWORK" = nat ]; then
        virsh domifaddr "$1" --source lease | awk '$3 == "ipv4" { sub("/.*", "", $4); print $4; exit }'
    else
        echo "127.0.0.1:$2"
    fi
}

port=$FIRST_PORT
for vm in $INITIAL_VMS; do
    if ! virsh dominfo "$vm" >/dev/null 2>&1; then
        disk=$IMAGE_DIR/$vm.qcow2
        [ -f "$disk" ] || qemu-img create -q -f qcow2 -b "$TEMPLATE_DISK" -F qcow2 "$disk" >/dev/null
        if [ "$NETWORK" = nat ]; then
            log "defining $vm (found VM, NAT network)"
            define "$vm" "$(domain_xml "$vm" "$disk" "$port" "<autoscaler:instance xmlns:autoscaler='$NS' origin='found'/>")"
        else
            log "defining $vm (found VM, 127.0.0.1:$port)"
            define "$vm" "$(domain_xml "$vm" "$disk" "$port" \
                "<autoscaler:instance xmlns:autoscaler='$NS' origin='found' host='127.0.0.1' port='$port'/>")"
        fi
    fi
    if [[ "$(virsh domstate "$vm")" != running ]]; then
        log "starting $vm"
        virsh start "$vm" >/dev/null
    fi
    port=$((port + 1))
done
virsh pool-refresh "$POOL" >/dev/null

# Wait for the initial VMs to serve, so that whatever runs next finds them ready.
port=$FIRST_PORT
for vm in $INITIAL_VMS; do
    serves() { local a; a=$(vm_address "$vm" "$port") && [ -n "$a" ] && curl -fsS -m 2 -o /dev/null "http://$a/healthz"; }
    wait_for 90 "$vm to serve (see 'virsh console $vm')" serves
    log "$vm serves on $(vm_address "$vm" "$port")"
    port=$((port + 1))
done
log "ready: template $TEMPLATE ($NETWORK network), VMs: ${INITIAL_VMS:-none} ($URI)"
