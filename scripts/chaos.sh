#!/usr/bin/env bash
# Fault injection with process instances (not part of scripts/test.sh; run it for the figures):
#
#   scripts/chaos.sh [--reps N] [--bin DIR] [--vms] [--only CASE]   (default 5 repetitions of each case)
#
# Cases, each repetition at a random point, each ending with a consistency check: the provider's
# instances = the scheduler's view = the balancer's pool, one webserver process per instance and
# none other, nothing left after the last repetition.
#   kill-scheduler   SIGKILL of the scheduler during a scale-up (clone, boot: instances answer
#                    503 for 0.8 s, register) or a scale-in (drain, delete), then a restart;
#   kill-balancer    SIGKILL of the balancer under 20 req/s, back after 1 s: every instance
#                    registered again within 3 s of its return; clients fail only while it is down;
#   history-full     the history on a full filesystem (a 64 KiB tmpfs; root): the loop goes on
#                    scaling, with a warning.
#   libvirtd-restart (--vms; root, after scripts/setup-libvirt.sh) libvirtd killed at a random point
#                    of a scale-up of real VMs (clone, start, boot) and started again 2 s later: the
#                    group reaches its size, then scales in, with no orphan domain or disk.
#   clock-jump       the scheduler's wall clock (only its own: the LD_PRELOAD shim
#                    scripts/clock-shift.c) jumps 1 h ahead right after a scale-up under load, then
#                    2 h back after the next, and so on: each next scale-up still waits out the
#                    cooldown (12 s), no sooner and no hour later, since the window and the
#                    cooldowns run on the monotonic clock. CHAOS_FAKE_MONOTONIC=1 jumps that one
#                    too, and the case fails, as it should (seen: the window then spans the hour,
#                    the load reads as nothing and no scale-up comes).
source "$(dirname "$0")/lib.sh"

reps=5 BIN="" vms=0 only=""
while [ $# -gt 0 ]; do case $1 in
    --vms) vms=1; shift;;
    --reps) reps=$2; shift 2;;
    --bin) BIN=$2; shift 2;;
    --only) only=$2; shift 2;;
    -h|--help) sed -n '2,/^source/p' "$0" | sed '$d'; exit 0;;
    *) echo "chaos.sh: unknown argument: $1 (see --help)" >&2; exit 64;;
esac; done
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "chaos.sh: --reps is a positive number" >&2; exit 64; }
case "$only" in ""|kill-scheduler|kill-balancer|history-full|clock-jump|libvirtd-restart) ;;
    *) echo "chaos.sh: no case '$only' (kill-scheduler, kill-balancer, history-full, clock-jump, libvirtd-restart)" >&2; exit 64;; esac
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }
[ -n "$BIN" ] || BIN=$(swift build --show-bin-path)
LB=18780 ADMIN=18781 API=18790
for port in $LB $ADMIN $API; do ! ss -Hltn "sport = :$port" | grep -q . || fail "port $port is in use"; done
temp_dir work
state=$work/state
# Instances that boot slowly (503 for 0.8 s), so that a kill can land while one boots.
printf '#!/bin/sh\nexec %s/webserver --ready-after 0.8 "$@"\n' "$BIN" >"$work/slow-webserver"
chmod +x "$work/slow-webserver"

lb_pid="" scheduler_pid="" client_pid="" wrap=()
start_lb() {
    "$BIN/loadbalancer" --port $LB --admin-port $ADMIN --check-interval 0.5 --log-level warning 2>>"$work/lb.log" &
    lb_pid=$!
    up() { curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$ADMIN/api/v1/stats" 2>/dev/null; }
    wait_for 10 "the balancer" up
}
start_scheduler() { # extra arguments
    "${wrap[@]}" "$BIN/scheduler" --provider process --state-dir "$state" --webserver-path "$work/slow-webserver" --balancer "http://127.0.0.1:$ADMIN" \
        --api-port $API --min 2 --max 6 --cooldown 1 --window 4 --scale-up-threshold 100000 --scale-down-threshold 0 \
        --history "${history:-$work/history.sqlite}" --log-level info "$@" 2>>"$work/scheduler.log" &
    scheduler_pid=$!
    up() { curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$API/api/v1/status" 2>/dev/null; }
    wait_for 10 "the scheduler's API" up
}
stop_all() {
    [ -z "$client_pid" ] || kill "$client_pid" 2>/dev/null || true
    [ -z "$scheduler_pid" ] || { kill "$scheduler_pid" 2>/dev/null; wait "$scheduler_pid" 2>/dev/null || true; }
    [ -z "$lb_pid" ] || { kill "$lb_pid" 2>/dev/null; wait "$lb_pid" 2>/dev/null || true; }
    client_pid="" scheduler_pid="" lb_pid=""
}
at_exit 'stop_all; remove_created "$BIN" process "$state"; [ "$EXIT_STATUS" -eq 0 ] || tail -15 "$work/scheduler.log" >&2'

names_provider() { for f in "$state"/instances/*.json; do [ -e "$f" ] && basename "$f" .json; done | sort; }
names_scheduler() { curl -fsS -m 2 "http://127.0.0.1:$API/api/v1/instances" | json '"\n".join(sorted(i["name"] for i in d["instances"]))'; }
names_balancer() { curl -fsS -m 2 "http://127.0.0.1:$ADMIN/api/v1/backends" | json '"\n".join(sorted(b["name"] for b in d["backends"] if b["state"] == "active"))'; }
processes() { pgrep -f -- "--port-file $state/instances/" | wc -l; }
consistent() { # $1: the instance count wanted
    local p s b
    p=$(names_provider); s=$(names_scheduler 2>/dev/null) || return 1; b=$(names_balancer 2>/dev/null) || return 1
    [ "$(echo "$p" | grep -c .)" = "$1" ] && [ "$p" = "$s" ] && [ "$p" = "$b" ] && [ "$(processes)" = "$1" ]
}
check() { # $1: the instance count wanted, $2: what happened
    if ! wait_for_quietly 20 consistent "$1"; then
        fail "inconsistent after $2: provider [$(names_provider | xargs)], scheduler [$(names_scheduler 2>/dev/null | xargs)], balancer [$(names_balancer 2>/dev/null | xargs)], $(processes) processes"
    fi
}
wait_for_quietly() { local until=$((SECONDS + $1)); shift; until "$@"; do [ "$SECONDS" -lt "$until" ] || return 1; sleep 0.3; done; }
random_delay() { python3 -c 'import random; print("%.2f" % random.uniform(0, 1.2))'; }

results=()

# --- kill-scheduler -----------------------------------------------------------------------------
if want kill-scheduler; then
    start_lb
    start_scheduler
    check 2 "start"
    ok=0 phases=()
    for rep in $(seq 1 "$reps"); do
        for target in 5 2; do
            scale_to $API $target >/dev/null
            delay=$(random_delay)
            sleep "$delay"
            kill -9 "$scheduler_pid"; wait "$scheduler_pid" 2>/dev/null || true
            phase=$(grep -o 'event [a-z_]*' "$work/scheduler.log" | tail -1)
            start_scheduler
            scale_to $API $target >/dev/null   # the ask does not survive a restart: ask again
            check $target "SIGKILL of the scheduler $delay s into scaling to $target (last: $phase)"
            ok=$((ok + 1))
            phases+=("${phase#event }")
        done
    done
    results+=("kill-scheduler: $ok of $((reps * 2)) kills (during scale-ups to 5 and scale-ins to 2) ended consistent; last event before each kill: $(printf '%s\n' "${phases[@]}" | sort | uniq -c | awk '{ printf "%s%s ×%d", (NR > 1 ? ", " : ""), $2, $1 }')")
fi

# --- kill-balancer ------------------------------------------------------------------------------
if want kill-balancer; then
    [ -n "$lb_pid" ] || { start_lb; start_scheduler; check 2 "start"; }
    scale_to $API 3 >/dev/null
    check 3 "scaling to 3"
    "$BIN/clientsim" constant --rate 20 --duration 600 --url "http://127.0.0.1:$LB/" --status-interval 1 --log-level error >"$work/client.log" 2>&1 &
    client_pid=$!
    worst=0
    for rep in $(seq 1 "$reps"); do
        sleep "$(random_delay)"
        kill -9 "$lb_pid"; wait "$lb_pid" 2>/dev/null || true
        sleep 1
        back=$(date +%s.%N)
        start_lb
        all_back() { [ "$(names_balancer 2>/dev/null | grep -c .)" = 3 ]; }
        wait_for 10 "every instance registered again" all_back
        took=$(echo "$(date +%s.%N) - $back" | bc)
        worst=$(echo "if ($took > $worst) $took else $worst" | bc)
        check 3 "SIGKILL of the balancer"
    done
    sleep 2
    errors_before=$(tail -n 1 "$work/client.log" | sed -n 's/.*errors \([0-9]*\).*/\1/p')
    sleep 5
    errors_after=$(tail -n 1 "$work/client.log" | sed -n 's/.*errors \([0-9]*\).*/\1/p')
    kill "$client_pid" 2>/dev/null; client_pid=""
    [ "$errors_after" = "$errors_before" ] || fail "clients kept failing after the balancer was back ($errors_before → $errors_after)"
    (( $(echo "$worst <= 3" | bc) )) || fail "re-registration took $worst s (bound 3 s)"
    results+=("kill-balancer: $reps kills under 20 req/s; every instance registered again within $(printf '%.2f' "$worst") s of its return (bound 3 s); $errors_after client errors, all between a kill and the re-registration")
fi

# --- history-full -------------------------------------------------------------------------------
if want history-full && [ "$(id -u)" -eq 0 ]; then
    stop_all
    mkdir -p "$work/full"
    mount -t tmpfs -o size=64k tmpfs "$work/full"
    at_exit "umount '$work/full' 2>/dev/null"
    history=$work/full/history.sqlite
    start_lb
    start_scheduler
    head -c 100k /dev/zero >"$work/full/filler" 2>/dev/null || true   # the filesystem is full now
    ok=0
    for rep in $(seq 1 "$reps"); do
        for target in 4 2; do
            scale_to $API $target >/dev/null
            check $target "scaling to $target with the history's filesystem full"
            ok=$((ok + 1))
        done
    done
    grep -q "history" "$work/scheduler.log" && grep -qi "warning.*\(history\|record\)" "$work/scheduler.log" ||
        fail "no warning about the history while its filesystem was full"
    results+=("history-full: $ok of $((reps * 2)) scalings done with the history's filesystem full; warned: $(grep -i 'warning' "$work/scheduler.log" | grep -i -m1 'history\|record' | sed 's/.*\] //' | cut -c1-100)")
    unset history
elif want history-full; then
    results+=("history-full: skipped (mounting a small tmpfs needs root)")
fi

# --- clock-jump ---------------------------------------------------------------------------------
if want clock-jump; then
    stop_all
    clang -shared -fPIC -O2 -o "$work/clock-shift.so" scripts/clock-shift.c -ldl || fail "cannot build scripts/clock-shift.c"
    echo 0 >"$work/clock-shift"
    wrap=(env LD_PRELOAD="$work/clock-shift.so" CLOCK_SHIFT_FILE="$work/clock-shift")
    [ "${CHAOS_FAKE_MONOTONIC:-0}" = 1 ] && wrap+=(CLOCK_SHIFT_MONOTONIC=1)
    start_lb
    start_scheduler --cooldown 12 --window 4 --scale-up-threshold 4 --min 2 --max $((2 * reps + 3))
    wrap=()
    check 2 "a start with the clock shim"
    "$BIN/clientsim" constant --rate $((8 * reps + 20)) --duration 900 --url "http://127.0.0.1:$LB/" --log-level error >"$work/client.log" 2>&1 &
    client_pid=$!
    ups() { grep -c 'event scale_up' "$work/scheduler.log" || true; }
    next_up() { # waits for the next scale-up; prints the seconds it took
        local before began
        before=$(ups) began=$(date +%s.%N)
        more() { [ "$(ups)" -gt "$before" ]; }
        wait_for 60 "a scale-up" more
        echo "$(date +%s.%N) - $began" | bc
    }
    next_up >/dev/null
    gaps=()
    for rep in $(seq 1 "$reps"); do
        for jump in 3600 -3600; do
            echo "$jump" >"$work/clock-shift"   # relative to the real clock: 1 h ahead, then 1 h behind
            gap=$(next_up)
            gaps+=("$gap")
            (( $(echo "$gap >= 10 && $gap <= 30" | bc) )) || fail "after the wall clock jumped to $jump the next scale-up came $gap s later (cooldown 12 s)"
        done
    done
    curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$API/api/v1/status" || fail "the scheduler's API did not answer after the jumps"
    kill "$client_pid" 2>/dev/null; client_pid=""
    range=$(printf '%s\n' "${gaps[@]}" | sort -n | sed -n '1p;$p' | xargs printf '%.1f ' | sed 's/ $//; s/ / – /')
    results+=("clock-jump: ${#gaps[@]} jumps of the scheduler's wall clock (+1 h, -2 h, +2 h, …) right after a scale-up under load; each next scale-up came $range s later (cooldown 12 s)")
    stop_all
fi

stop_all
remove_created "$BIN" process "$state"
[ "$(processes)" = 0 ] || fail "webserver processes left: $(processes)"

# --- libvirtd-restart ---------------------------------------------------------------------------
if [ "$vms" = 1 ] && want libvirtd-restart; then
    [ "$(id -u)" -eq 0 ] || fail "--vms restarts libvirtd: run as root"
    images=/var/lib/autoscaler/images
    created_domains() { virsh -q list --all --name | grep -E '^web_vm([3-9]|[1-9][0-9])$' | sort || true; }
    [ -z "$(created_domains)" ] || fail "created domains exist already: $(created_domains | xargs)"
    files_before=$(ls "$images" | sort)
    at_exit 'pgrep -x libvirtd >/dev/null || libvirtd -d; remove_created "$BIN" libvirt ""'
    start_lb
    "$BIN/scheduler" --provider libvirt --balancer "http://127.0.0.1:$ADMIN" --api-port $API --min 2 --max 4 --cooldown 1 \
        --window 4 --scale-up-threshold 100000 --scale-down-threshold 0 --startup-timeout 90 \
        --history "$work/vm-history.sqlite" --log-level info 2>>"$work/scheduler.log" &
    scheduler_pid=$!
    vm_consistent() { # $1: created domains wanted
        local d s b
        d=$(created_domains)
        s=$(names_scheduler 2>/dev/null) || return 1
        b=$(names_balancer 2>/dev/null) || return 1
        s=$(grep -vE '^web_vm[12]$' <<<"$s" || true)
        b=$(grep -vE '^web_vm[12]$' <<<"$b" || true)
        # Disks beyond the ones there before belong to created domains (web_vm3-vda.qcow2).
        local extra
        extra=$(comm -13 <(echo "$files_before") <(ls "$images" | sort) | sed 's/-[^-]*$//' | sort -u)
        [ "$(echo "$d" | grep -c .)" = "$1" ] && [ "$d" = "$s" ] && [ "$d" = "$b" ] && [ "$extra" = "$d" ]
    }
    vm_check() { wait_for_quietly 120 vm_consistent "$1" || fail "inconsistent after $2: domains [$(created_domains | xargs)], scheduler [$(names_scheduler 2>/dev/null | xargs)], balancer [$(names_balancer 2>/dev/null | xargs)], files [$(ls "$images" | xargs)]"; }
    up() { curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$API/api/v1/status" 2>/dev/null; }
    wait_for 30 "the scheduler's API" up
    vm_check 0 "start"
    ok=0
    for rep in $(seq 1 "$reps"); do
        scale_to $API 3 >/dev/null
        delay=$(python3 -c 'import random; print("%.2f" % random.uniform(0.3, 4))')
        sleep "$delay"
        phase=$(grep -o 'event [a-z_]*' "$work/scheduler.log" | tail -1)
        pkill -x libvirtd
        sleep 2
        libvirtd -d
        vm_check 1 "libvirtd killed $delay s into a scale-up (last: $phase) and started again"
        scale_to $API 2 >/dev/null
        vm_check 0 "the scale-in after it"
        ok=$((ok + 1))
    done
    results+=("libvirtd-restart: $ok of $reps scale-ups of a VM with libvirtd killed 0.3-4 s in and back 2 s later ended with the VM serving and, after a scale-in, no orphan domain or disk")
    stop_all
fi
printf '%s\n' "${results[@]}"
