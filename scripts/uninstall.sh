#!/usr/bin/env bash
# Removes what scripts/install.sh installed, as its manifest lists it:
#
#   scripts/uninstall.sh [--prefix /usr/local]
#
# Files go, except one changed since (a config you edited, a binary another program put there:
# kept, and said so); folders go when install.sh made them and they are empty. Stop the units first (systemctl disable --now autoscaler-loadbalancer
# autoscaler-scheduler); their state directories under /var/lib are systemd's, not removed here.
source "$(dirname "$0")/lib.sh"

prefix=/usr/local
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) prefix=${2:?--prefix needs a folder}; shift 2 ;;
        -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "uninstall.sh: unknown argument: $1" >&2; exit 64 ;;
    esac
done
prefix=$(realpath -m "$prefix")
manifest=$prefix/share/autoscaler/install-manifest
[ -f "$manifest" ] || fail "no install manifest at $manifest: nothing installed with --prefix $prefix"

mapfile -t entries < "$manifest"
kept=0
for ((i = ${#entries[@]} - 1; i >= 0; i--)); do
    read -r kind path sum <<<"${entries[i]}"
    case $kind in
        file)
            [ -e "$path" ] || continue
            if [ "$(sha256sum "$path" | cut -d' ' -f1)" != "$sum" ]; then
                log "kept $path: changed since it was installed (yours, or another program's now)"
                kept=$((kept + 1))
                continue
            fi
            rm -f "$path" ;;
        dir)
            [ "$path" = "$prefix/share/autoscaler" ] && rm -f "$manifest"
            rmdir "$path" 2>/dev/null || true ;;
        *) fail "unreadable manifest line: ${entries[i]}" ;;
    esac
done
rm -f "$manifest"
rmdir "$prefix/share/autoscaler" 2>/dev/null || true
if [ -d /run/systemd/system ] && [ "$(id -u)" = 0 ]; then systemctl daemon-reload; fi
log "removed what was installed into $prefix$([ $kept = 0 ] || echo "; $kept changed config file(s) kept")"
