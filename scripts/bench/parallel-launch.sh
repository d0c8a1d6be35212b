#!/usr/bin/env bash
# Time to capacity of one instance against a step of several launched in parallel: the balancer
# and the scheduler run as a user runs them; a manual scale (POST /api/v1/scale) asks for one more
# instance, then, back at the minimum, for --step more. Reports, from the scheduler's own events,
# the time from the scale-up decision until the last new instance is registered and serving.
#   target: a step of 4 cold VMs within 1.5 × one VM's time (parallel launches, not 4 ×)
# usage: scripts/bench/parallel-launch.sh [--step N] [--rounds N] [--vms]
source "$(dirname "$0")/../lib.sh"
step=4 rounds=2 provider=process
while [ $# -gt 0 ]; do case $1 in
  --step) step=$2; shift 2;; --rounds) rounds=$2; shift 2;; --vms) provider=libvirt; shift;;
  -h|--help) sed -n '2,7p' "$0"; exit 0;;
  *) echo "parallel-launch.sh: unknown argument: $1" >&2; exit 64;; esac; done
BIN=${BIN:-$(swift build -c release --show-bin-path)}
for exe in loadbalancer scheduler webserver scale-down; do [ -x "$BIN/$exe" ] || swift build -c release >&2; done
temp_dir work
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; remove_created "$BIN" "$provider" "$work/state"; }
at_exit cleanup
lbport=$((30000 + RANDOM % 10000)); admin=$((lbport + 1)); api=$((lbport + 2))
"$BIN/loadbalancer" --port $lbport --admin-port $admin --check-interval 0.2 --log-level warning 2>"$work/lb.log" & pids+=($!)
minimum=2
[ "$provider" = libvirt ] && minimum=2   # web_vm1 and web_vm2, found VMs
"$BIN/scheduler" --provider $provider --state-dir "$work/state" --balancer http://127.0.0.1:$admin --api-port $api \
    --min $minimum --max $((minimum + step)) --max-parallel-launches "$step" --cooldown 0 --scale-down-threshold 0 \
    --history "$work/h.sqlite" --log-level warning 2>"$work/s.log" & pids+=($!)
in_service() { [ "$(status_field "$api" inService)" = "$1" ]; }
wait_for 300 "$minimum instances in service" in_service $minimum
# Scales to `count`, waits until that many serve, prints the seconds from the decision to the last
# registration.
measure() {
  local count=$1 t0
  t0=$(python3 -c 'import time; print(time.time())')
  scale_to $api $count >/dev/null
  wait_for 300 "$count instances in service" in_service "$count"
  curl -fsS "http://127.0.0.1:$api/api/v1/events?since=$t0" | python3 -c '
import json, sys
n = int(sys.argv[1]); ev = json.load(sys.stdin)["events"]
up = [e for e in ev if e["kind"] == "scale_up"][-1]
regs = [e for e in ev if e["kind"] == "register" and e["time"] >= up["time"]]
assert len(regs) >= n, regs
print("%.2f" % (regs[n - 1]["time"] - up["time"]))' "$((count - minimum))"
}
back_to_minimum() {
  scale_to $api $minimum >/dev/null
  wait_for 300 "back to $minimum" in_service $minimum
  pending_zero() { [ "$(status_field "$api" pending)" = 0 ] && [ "$(status_field "$api" busy)" = False ]; }
  wait_for 120 "no action running" pending_zero
}
for round in $(seq 1 "$rounds"); do
  one=$(measure $((minimum + 1))); back_to_minimum
  many=$(measure $((minimum + step))); back_to_minimum
  python3 -c "print('round $round ($provider): one instance %.2f s, a step of $step in parallel %.2f s: %.2f ×' % ($one, $many, $many / $one))"
done
