#!/usr/bin/env bash
# The highest rate clientsim sustains on one core against a fast backend, next to wrk -t1 on the
# same backend in the same run. nginx (one worker, CPU 1) answers a small body; clientsim and wrk
# run on CPU 0. clientsim is asked for rising constant rates; a rate counts as sustained (issue 18's
# definition) when under 0.1 % of the due requests were skipped at the concurrency cap, all sent
# were answered OK, p99 latency (from the due time) is under 5 ms, and the sent rate is within 5 %
# of the asked one.
#
# usage: scripts/bench/clientsim-max-rate.sh [--seconds S] [--rates "1000 2000 ..."]
#   CLIENTSIM_BIN  default .build/release/clientsim (built if missing)
source "$(dirname "$0")/../lib.sh"
seconds=5 rates="5000 10000 20000 30000 40000 45000 50000 55000 60000 65000 70000 75000 80000"
while [ $# -gt 0 ]; do case $1 in
  --seconds) seconds=$2; shift 2;; --rates) rates=$2; shift 2;;
  *) echo "unknown flag $1" >&2; exit 64;; esac; done
need=(); for t in wrk nginx taskset curl python3; do command -v $t >/dev/null || need+=($t); done
if [ ${#need[@]} -gt 0 ]; then
  pk=(); for t in "${need[@]}"; do case $t in nginx) pk+=(nginx-light);; taskset) pk+=(util-linux);; *) pk+=($t);; esac; done
  if [ "$(id -u)" -ne 0 ]; then echo "missing ${need[*]}: run  sudo apt-get install -y ${pk[*]}" >&2; exit 1; fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pk[@]}") >/dev/null
fi
BIN=${CLIENTSIM_BIN:-.build/release/clientsim}
[ -x "$BIN" ] || swift build -c release --product clientsim >&2

work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
at_exit cleanup
port=$((30000 + RANDOM % 10000))
{ echo "worker_processes 1; daemon off; pid $work/n.pid; error_log $work/n.err; events { worker_connections 4096; }"
  echo "http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:$port; location / { return 200 'hello\n'; } } }"; } > "$work/n.conf"
taskset -c 1 nginx -c "$work/n.conf" -p "$work" & pids+=($!)
for _ in $(seq 1 50); do curl -fs -m 1 "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done

wrk_rps=$(taskset -c 0 wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/{print $2}')
best=0
printf "%-10s %10s %8s %8s %8s %10s %8s\n" asked sent/s ok errors skipped p99 RSS
for rate in $rates; do
  taskset -c 0 "$BIN" constant --rate "$rate" --duration "$seconds" --url "http://127.0.0.1:$port/" \
    --concurrency 512 --json "$work/r.json" --log-level error > "$work/out.txt" 2>&1 &
  pid=$!; rss=0
  while kill -0 $pid 2>/dev/null; do
    r=$(awk '/VmRSS/{print $2}' /proc/$pid/status 2>/dev/null || echo 0); [ "${r:-0}" -gt "$rss" ] && rss=$r; sleep 0.2
  done
  wait $pid || true
  read -r sent ok errors skipped p99 < <(python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
print(round(r["achievedRate"]), r["ok"], sum(r["errors"].values()), r["skippedAtCap"], r["latencyMilliseconds"]["p99"])' "$work/r.json")
  printf "%-10s %10s %8s %8s %8s %8sms %6sMB\n" "$rate" "$sent" "$ok" "$errors" "$skipped" "$p99" "$((rss / 1024))"
  if [ "$errors" = 0 ] && python3 -c "import sys; sys.exit(0 if $sent >= 0.95 * $rate and $skipped < 0.001 * $rate * $seconds and $p99 < 5 else 1)"; then best=$rate; else break; fi
done
awk -v w="$wrk_rps" -v b="$best" 'BEGIN{ printf "wrk -t1 -c64: %s req/s; clientsim sustained: %s req/s; clientsim/wrk=%.2f\n", w, b, b/w }'
