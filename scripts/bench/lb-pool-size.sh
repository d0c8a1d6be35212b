#!/usr/bin/env bash
# Throughput of the load balancer with a large pool against a small one, in one run: the same
# nginx (one worker, on CPU 1) serves N ports; the balancer (one event loop, on CPU 0) fronts the
# first 2 of them, then all N; wrk -t1 (CPU 1) drives each. The shared lb-vs-peers.sh cannot run
# N > 100 (its proxy ports fall inside the backend range), hence this script.
#
# HAProxy (one thread, CPU 0) is measured the same way, for reference: how much of the drop is the
# cost of spreading over many backends (cold connections, caches) rather than ours.
#
# usage: scripts/bench/lb-pool-size.sh [--backends N] [--rounds R] [--seconds S] [--conns C] [--haproxy-checks]
#   --haproxy-checks  HAProxy checks its servers every 2 s too (`option httpchk GET /healthz`,
#                     `check inter 2s`), as the balancer does by default; without it, no checks
#   LB_BIN  the balancer binary (default .build/release/loadbalancer; built if missing)
# Prints a table and, last, the line "pool N/2: lb=<ratio> haproxy=<ratio>".
source "$(dirname "$0")/../lib.sh"
nback=1000 rounds=3 seconds=5 conns=64 hcheck=""
while [ $# -gt 0 ]; do case $1 in
  --backends) nback=$2; shift 2;; --rounds) rounds=$2; shift 2;;
  --seconds) seconds=$2; shift 2;; --conns) conns=$2; shift 2;;
  --haproxy-checks) hcheck=" check inter 2s"; shift;;
  *) echo "unknown flag $1" >&2; exit 64;; esac; done
need=(); for t in wrk nginx haproxy taskset curl; do command -v $t >/dev/null || need+=($t); done
if [ ${#need[@]} -gt 0 ]; then
  pk=(); for t in "${need[@]}"; do case $t in nginx) pk+=(nginx-light);; taskset) pk+=(util-linux);; *) pk+=($t);; esac; done
  if [ "$(id -u)" -ne 0 ]; then echo "missing ${need[*]}: run  sudo apt-get install -y ${pk[*]}" >&2; exit 1; fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pk[@]}") >/dev/null
fi
LB_BIN=${LB_BIN:-.build/release/loadbalancer}
[ -x "$LB_BIN" ] || swift build -c release --product loadbalancer >&2

work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
at_exit cleanup
base=$((21000 + RANDOM % 10000)); lbport=$((base - 2)); adminport=$((base - 1))
ulimit -n 65536 2>/dev/null || true
{ echo "worker_processes 1; daemon off; pid $work/b.pid; error_log $work/b.err; events { worker_connections 8192; }"
  echo "worker_rlimit_nofile 65536;"
  echo "http { access_log off; keepalive_requests 1000000;"
  for i in $(seq 1 "$nback"); do echo "server { listen 127.0.0.1:$((base + i)); location / { return 200 'hello from $((base + i))\n'; } }"; done
  echo "}"; } > "$work/back.conf"
taskset -c 1 nginx -c "$work/back.conf" -p "$work" & pids+=($!)
for _ in $(seq 1 100); do curl -fs -m 1 "http://127.0.0.1:$((base + nback))/" >/dev/null 2>&1 && break; sleep 0.1; done

declare -A rps p99
measure() { # $1 = label (lb-small, lb-large, haproxy-small, haproxy-large), $2 = backend count
  local pid
  if [[ $1 == lb-* ]]; then
    local args=(--host 127.0.0.1 --port "$lbport" --admin-port "$adminport" --threads 1)
    for i in $(seq 1 "$2"); do args+=(--backend "127.0.0.1:$((base + i))"); done
    taskset -c 0 "$LB_BIN" "${args[@]}" > "$work/$1.log" 2>&1 & pid=$!
  else
    { echo "global"; echo "  nbthread 1"; echo "  maxconn 8192"
      echo "defaults"; echo "  mode http"; echo "  timeout connect 5s"; echo "  timeout client 30s"; echo "  timeout server 30s"; echo "  http-reuse always"
      echo "frontend fe"; echo "  bind 127.0.0.1:$lbport"; echo "  default_backend be"
      echo "backend be"; echo "  balance roundrobin"; [ -z "$hcheck" ] || echo "  option httpchk GET /healthz"
      for i in $(seq 1 "$2"); do echo "  server s$i 127.0.0.1:$((base + i))$hcheck"; done; } > "$work/$1.cfg"
    taskset -c 0 haproxy -db -f "$work/$1.cfg" > "$work/$1.log" 2>&1 & pid=$!
  fi
  for _ in $(seq 1 100); do curl -fs -m 1 "http://127.0.0.1:$lbport/" >/dev/null 2>&1 && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$lbport/" >/dev/null   # warm-up: fills the pools
  for _ in $(seq 1 "$rounds"); do
    local out; out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${seconds}s" --latency "http://127.0.0.1:$lbport/")
    rps[$1]+="$(awk '/Requests\/sec/{print $2}' <<<"$out") "
    p99[$1]+="$(awk '/^ +99%/{print $2}' <<<"$out") "
  done
  rss[$1]=$(awk '/VmRSS/{print $2/1024 " MB"}' "/proc/$pid/status")
  # Backends our balancer took out on a failed health check during the run (all should pass).
  [[ $1 == lb-* ]] && downs[$1]=$(grep -c "backend down" "$work/$1.log" || true)
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  port_free() { ! ss -ltn | grep -q ":$1 "; }
  wait_for 30 "port $lbport to be free" port_free "$lbport"
}
declare -A rss downs
measure lb-small 2
measure lb-large "$nback"
measure haproxy-small 2
measure haproxy-large "$nback"
med() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END{ print a[int((NR+1)/2)] }'; }
printf "%-14s %12s %12s  %-28s %s\n" "proxy/pool" "req/s(med)" "RSS" "rounds req/s" "rounds p99"
for k in lb-small lb-large haproxy-small haproxy-large; do
  printf "%-14s %12s %12s  %-28s %s\n" "${k%-*}/$([[ $k == *small ]] && echo 2 || echo "$nback")" "$(echo ${rps[$k]} | med)" "${rss[$k]}" "${rps[$k]}" "${p99[$k]}"
done
echo "health checks failed during the runs: lb/2 ${downs[lb-small]:-0}, lb/$nback ${downs[lb-large]:-0}"
awk -v l="$(echo ${rps[lb-large]} | med)" -v s="$(echo ${rps[lb-small]} | med)" \
    -v hl="$(echo ${rps[haproxy-large]} | med)" -v hs="$(echo ${rps[haproxy-small]} | med)" -v n="$nback" \
    'BEGIN{ printf "pool %d/2: lb=%.2f haproxy=%.2f\n", n, l/s, hl/hs }'
