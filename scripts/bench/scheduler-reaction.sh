#!/usr/bin/env bash
# Reaction time of the whole system to a load step, with the scheduler's defaults (10 s window,
# scale up above 20 requests per instance, min 2): the balancer, the scheduler (process provider
# unless --vms) and clientsim run as a user runs them; at t0 the client steps from nothing to
# --rate req/s. Reports, from the scheduler's own events:
#   detection  t0 → the scale-up decision          (target: within 2 s)
#   serving    decision → the new instance registered and serving (target: within 1 s for a process)
# usage: scripts/bench/scheduler-reaction.sh [--rate R] [--rounds N] [--vms]
source "$(dirname "$0")/../lib.sh"
rate=50 rounds=3 provider=process
while [ $# -gt 0 ]; do case $1 in
  --rate) rate=$2; shift 2;; --rounds) rounds=$2; shift 2;; --vms) provider=libvirt; shift;;
  *) echo "unknown flag $1" >&2; exit 64;; esac; done
BIN=${BIN:-$(swift build -c release --show-bin-path)}
for exe in loadbalancer scheduler clientsim webserver; do [ -x "$BIN/$exe" ] || swift build -c release >&2; done
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  [ "$provider" = libvirt ] && for vm in $(virsh -q list --all --name | grep -E '^web_vm([3-9]|[1-9][0-9])$' || true); do "$BIN/scale-down" --provider libvirt "$vm" >/dev/null 2>&1 || true; done
  rm -rf "$work"; }
at_exit cleanup
lbport=$((30000 + RANDOM % 10000)); admin=$((lbport + 1)); api=$((lbport + 2))
"$BIN/loadbalancer" --port $lbport --admin-port $admin --check-interval 1 --log-level warning 2>"$work/lb.log" & pids+=($!)
for round in $(seq 1 "$rounds"); do
  rm -f "$work/h.sqlite"
  "$BIN/scheduler" --provider $provider --state-dir "$work/state" --balancer http://127.0.0.1:$admin --api-port $api \
      --max 3 --history "$work/h.sqlite" --log-level warning 2>"$work/s.log" & spid=$!
  in_service() { [ "$(status_field "$api" inService)" = "$1" ]; }
  wait_for 180 "2 instances in service" in_service 2
  sleep 11   # an idle window first (bringing the group to min starts no cooldown): a spike after a quiet spell
  t0=$(date +%s.%N)
  "$BIN/clientsim" constant --rate "$rate" --duration 300 --url http://127.0.0.1:$lbport/ --log-level error >/dev/null 2>&1 & cpid=$!
  # Polled every 50 ms (not wait_for's 0.3 s): the time of serving is read from the events anyway.
  deadline=$((SECONDS + 180))
  until in_service 3; do [ $SECONDS -lt $deadline ] || fail "no third instance within 180 s"; sleep 0.05; done
  kill -TERM $cpid; wait $cpid || true
  curl -fsS http://127.0.0.1:$api/api/v1/events?since=0 | python3 -c '
import json,sys
t0=float(sys.argv[1]); ev=json.load(sys.stdin)["events"]
up=[e for e in ev if e["kind"]=="scale_up" and e["time"]>t0][0]
reg=[e for e in ev if e["kind"]=="register" and e["time"]>up["time"]][0]
print("round %s: detection %.2f s, serving %.2f s after the decision (%s), step to serving %.2f s" % (sys.argv[2], up["time"]-t0, reg["time"]-up["time"], reg["instance"], reg["time"]-t0))' "$t0" "$round"
  kill -TERM $spid; wait $spid || true
  if [ "$provider" = process ]; then "$BIN/scale-down" --provider process --state-dir "$work/state" --log-level error >/dev/null 2>&1 || true
    for n in 1 2 3; do "$BIN/scale-down" --provider process --state-dir "$work/state" --log-level error >/dev/null 2>&1 || true; done
  else for vm in $(virsh -q list --all --name | grep -E '^web_vm([3-9]|[1-9][0-9])$' || true); do "$BIN/scale-down" --provider libvirt "$vm" >/dev/null 2>&1 || true; done; fi
  for b in web_vm1 web_vm2 web_vm3; do curl -fsS -X DELETE http://127.0.0.1:$admin/api/v1/backends/$b >/dev/null 2>&1 || true; done
  sleep 1
done
