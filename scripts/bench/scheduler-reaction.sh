#!/usr/bin/env bash
# Reaction time of the whole system to a load step, with the scheduler's defaults (10 s window,
# scale up above 20 requests per instance, min 2): the balancer, the scheduler (process provider
# unless --vms) and clientsim run as a user runs them; at t0 the client steps from nothing to
# --rate req/s. Reports, from the scheduler's own events:
#   detection  t0 → the scale-up decision          (target: within 2 s)
#   serving    decision → the new instance registered and serving (its first health check passed)
# With --warm paused|saved every round runs twice: cold, then with a warm pool of one held so
# (targets: process ≤ 0.2 s, paused VM ≤ 0.5 s, saved VM ≤ 2 s), and the medians are printed;
# with VMs, the resident memory of a held member's qemu too.
# usage: scripts/bench/scheduler-reaction.sh [--rate R] [--rounds N] [--vms] [--warm paused|saved]
source "$(dirname "$0")/../lib.sh"
rate=50 rounds=3 provider=process warm=
while [ $# -gt 0 ]; do case $1 in
  --rate) rate=$2; shift 2;; --rounds) rounds=$2; shift 2;; --vms) provider=libvirt; shift;;
  --warm) warm=$2; shift 2;;
  *) echo "unknown flag $1" >&2; exit 64;; esac; done
BIN=${BIN:-$(swift build -c release --show-bin-path)}
for exe in loadbalancer scheduler clientsim webserver; do [ -x "$BIN/$exe" ] || swift build -c release >&2; done
temp_dir work
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; remove_created "$BIN" "$provider" "$work/state"; }
at_exit cleanup
lbport=$((30000 + RANDOM % 10000)); admin=$((lbport + 1)); api=$((lbport + 2))
"$BIN/loadbalancer" --port $lbport --admin-port $admin --check-interval 1 --log-level warning 2>"$work/lb.log" & pids+=($!)
in_service() { [ "$(status_field "$api" inService)" = "$1" ]; }
warm_ready() { [ "$(status_field "$api" warm)" = 1 ]; }
# One round: prints "MODE SERVING_SECONDS" on stdout, the details on stderr.
one_round() {
  local mode=$1 round=$2 pool=()
  [ "$mode" = cold ] || pool=(--warm-pool 1 --warm-state "$mode")
  rm -f "$work/h.sqlite"
  "$BIN/scheduler" --provider $provider --state-dir "$work/state" --balancer http://127.0.0.1:$admin --api-port $api \
      --max 3 "${pool[@]}" --history "$work/h.sqlite" --log-level warning 2>"$work/s.log" & spid=$!
  wait_for 180 "2 instances in service" in_service 2
  [ "$mode" = cold ] || wait_for 180 "a warm-pool member" warm_ready
  if [ "$provider" = libvirt ] && [ "$mode" != cold ]; then
    member=$(curl -fsS http://127.0.0.1:$api/api/v1/instances | json '[i["name"] for i in d["instances"] if i["health"] == "warm"][0]')
    qpid=$(pgrep -f "guest=$member," | head -1 || true)
    [ -n "$qpid" ] && log "$member held $mode: qemu RSS $(($(awk '/VmRSS/ {print $2}' /proc/$qpid/status) / 1024)) MiB" ||
      log "$member held $mode: no qemu process (its memory is on disk)"
  fi
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
print("round %s %s: detection %.2f s, serving %.2f s after the decision (%s), step to serving %.2f s" % (sys.argv[2], sys.argv[3], up["time"]-t0, reg["time"]-up["time"], reg["instance"], reg["time"]-t0), file=sys.stderr)
print(sys.argv[3], round(reg["time"]-up["time"], 3))' "$t0" "$round" "$mode"
  kill -TERM $spid; wait $spid || true
  remove_created "$BIN" "$provider" "$work/state"
  for b in web_vm1 web_vm2 web_vm3 web_vm4; do admin_call DELETE $admin /api/v1/backends/$b >/dev/null 2>&1 || true; done
  sleep 1
}
for round in $(seq 1 "$rounds"); do
  one_round cold "$round" >>"$work/results"
  [ -z "$warm" ] || one_round "$warm" "$round" >>"$work/results"
done
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for mode in dict.fromkeys(r[0] for r in rows):
    values = [float(r[1]) for r in rows if r[0] == mode]
    print("%s: decision → serving p50 %.3f s (%s)" % (mode, statistics.median(values), ", ".join("%.3f" % v for v in values)))
PY
