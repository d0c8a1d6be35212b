#!/usr/bin/env bash
# install.sh and uninstall.sh end to end, in a temporary prefix (scripts/test.sh runs it):
#
#   scripts/install-check.sh [--release]     (default: installs the debug build, as CI has it)
#
# Installs into a temporary prefix, etc and unit folder; checks every executable, man page and
# completion is there; runs the installed balancer and scheduler with the installed configs (and
# the token file) until the scheduler's instances serve through the balancer, and reloads both
# (SIGHUP) with them; `systemd-analyze verify` on the installed units (installs systemd's tools if
# missing), with their man pages found; installs again over itself; uninstalls, and nothing is left.
source "$(dirname "$0")/lib.sh"

mode=--debug
[ "${1:-}" = --release ] && mode=""
command -v systemd-analyze >/dev/null || ensure_packages systemd
temp_dir work
root=$work/root prefix=$work/root/usr etc=$work/root/etc/autoscaler units=$work/root/units
mkdir -p "$root"
LB=18680 ADMIN=18681 API=18690
for port in $LB $ADMIN $API; do ! ss -Hltn "sport = :$port" | grep -q . || fail "port $port is in use"; done

scripts/install.sh $mode --prefix "$prefix" --etc "$etc" --systemd-dir "$units"
for name in loadbalancer scheduler clientsim scale-up scale-down webserver; do
    for file in "bin/$name" "share/man/man1/$name.1" "share/bash-completion/completions/$name" \
        "share/zsh/site-functions/_$name" "share/fish/vendor_completions.d/$name.fish"; do
        [ -s "$prefix/$file" ] || fail "missing: $prefix/$file"
    done
    "$prefix/bin/$name" --help >/dev/null || fail "installed $name --help failed"
done
[ -s "$prefix/share/man/man1/scheduler.serve.1" ] || fail "no man page for scheduler serve"
for file in "$etc/loadbalancer.json" "$etc/scheduler.json" "$units/autoscaler-loadbalancer.service" \
    "$units/autoscaler-scheduler.service"; do
    [ -s "$file" ] || fail "missing: $file"
done
[ "$(stat -c %a "$etc/autoscaler.env")" = 600 ] || fail "$etc/autoscaler.env is not mode 0600"
grep -q "^ExecStart=$prefix/bin/scheduler serve --config $etc/scheduler.json" "$units/autoscaler-scheduler.service" ||
    fail "the scheduler unit does not start the installed binary with the installed config"

# The installed binaries with the installed configs, as the units run them (ports moved aside).
set -a; source "$etc/autoscaler.env"; set +a
"$prefix/bin/loadbalancer" --config "$etc/loadbalancer.json" --port $LB --admin-port $ADMIN >"$work/lb.log" 2>&1 &
lb=$!
at_exit "kill $lb 2>/dev/null; wait $lb 2>/dev/null"
"$prefix/bin/scheduler" serve --config "$etc/scheduler.json" --provider process --state-dir "$work/state" \
    --balancer "http://127.0.0.1:$ADMIN" --api-port $API >"$work/scheduler.log" 2>&1 &
scheduler=$!
at_exit "kill $scheduler 2>/dev/null; wait $scheduler 2>/dev/null; remove_created '$prefix/bin' process '$work/state'"
at_exit '[ "$EXIT_STATUS" -eq 0 ] || tail -5 "$work/lb.log" "$work/scheduler.log" >&2'
serving() { [ "$(curl -fs -m 2 "http://127.0.0.1:$ADMIN/api/v1/stats" | json 'sum(1 for b in d["backends"] if b["healthy"])' 2>/dev/null)" = 2 ]; }
wait_for 60 "the scheduler's two instances (min 2 in scheduler.json) healthy in the balancer" serving
for _ in $(seq 1 20); do curl -fs -m 2 -o /dev/null "http://127.0.0.1:$LB/" || fail "a request through the installed balancer failed"; done
kill -HUP $lb $scheduler
wait_for 10 "both reloads logged" sh -c "grep -q 'reloaded: nothing changed' '$work/lb.log' && grep -q 'reloaded: no policy setting changed' '$work/scheduler.log'"
kill -0 $lb && kill -0 $scheduler || fail "a SIGHUP ended a process"
kill $scheduler; wait $scheduler 2>/dev/null || true
remove_created "$prefix/bin" process "$work/state"
kill $lb; wait $lb 2>/dev/null || true

# systemd's own check of the units, with their Documentation= man pages looked up in ours.
MANPATH=$prefix/share/man systemd-analyze verify "$units/autoscaler-loadbalancer.service" "$units/autoscaler-scheduler.service" \
    >"$work/verify.log" 2>&1 || { cat "$work/verify.log" >&2; fail "systemd-analyze verify refused the units"; }
if [ -s "$work/verify.log" ]; then cat "$work/verify.log" >&2; fail "systemd-analyze verify warned about the units"; fi

# Again over itself: the same files, one manifest line each.
scripts/install.sh $mode --prefix "$prefix" --etc "$etc" --systemd-dir "$units" 2>/dev/null
dupes=$(awk '{print $2}' "$prefix/share/autoscaler/install-manifest" | sort | uniq -d)
[ -z "$dupes" ] || fail "the manifest lists a path twice: $dupes"

scripts/uninstall.sh --prefix "$prefix"
left=$(find "$root" -mindepth 1 | head -20)
[ -z "$left" ] || fail "left behind by uninstall.sh: $left"
log "OK: installed, ran with the installed configs, reloaded, verified by systemd-analyze, uninstalled without a trace"
