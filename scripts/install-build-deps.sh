#!/usr/bin/env bash
# Installs what building the package needs beyond the Swift toolchain: the headers of libvirt and
# libxml2 (the CLibvirt and CLibXML2 module maps find them through pkg-config), SQLite (GRDB), pkg-config, and the
# tools the scripts use (curl, bc, ss).
set -euo pipefail
missing=()
pkg-config --exists libvirt 2>/dev/null || missing+=(libvirt-dev)
pkg-config --exists libxml-2.0 2>/dev/null || missing+=(libxml2-dev)
pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v curl >/dev/null || missing+=(curl)
command -v bc >/dev/null || missing+=(bc)
command -v ss >/dev/null || missing+=(iproute2)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "install-build-deps: missing ${missing[*]}; run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
echo "install-build-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
