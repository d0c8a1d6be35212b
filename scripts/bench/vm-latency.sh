#!/usr/bin/env bash
# Request latency to the real VMs, straight and through the balancer: N sequential requests on one
# kept-alive client connection (curl), p50/p99/max of each. The VMs' busybox httpd ends every
# answer by closing its connection, the case issue 11 was about.
#
#   scripts/bench/vm-latency.sh [--requests 100] [--config debug|release]
# Needs scripts/setup-libvirt.sh done (web_vm1 and web_vm2 on 127.0.0.1:18081 and :18082).
source "$(dirname "$0")/../lib.sh"
requests=100 config=debug
while [ $# -gt 0 ]; do case $1 in
    --requests) requests=$2; shift 2;;
    --config) config=$2; shift 2;;
    -h|--help) sed -n '2,7p' "$0"; exit 0;;
    *) echo "vm-latency.sh: unknown argument: $1" >&2; exit 64;;
esac; done
BIN=$(swift build -c "$config" --show-bin-path)
swift build -c "$config" --product loadbalancer 2>&1 | tail -1
"$BIN/loadbalancer" --port 18380 --admin-port 18381 --backend web_vm1=127.0.0.1:18081 --backend web_vm2=127.0.0.1:18082 \
    --log-level warning &
lb=$!
at_exit "kill $lb 2>/dev/null; wait $lb 2>/dev/null"
wait_for 10 "the balancer" curl -fsS -m 1 -o /dev/null http://127.0.0.1:18381/api/v1/stats

measure() { # label URL
    local urls=() i
    for i in $(seq "$requests"); do urls+=(-o /dev/null "$2"); done
    curl -sS -m 600 -w '%{http_code} %{time_total} %{time_pretransfer}\n' "${urls[@]}" | python3 -c '
import sys
label, n = sys.argv[1], int(sys.argv[2])
rows = [l.split() for l in sys.stdin if l.strip()]
bad = sum(1 for r in rows if r[0] != "200")
t = sorted((float(r[1]) - float(r[2])) * 1000 for r in rows)
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
print("%-22s %d requests, %d not 200: p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (label, len(rows), bad, q(0.5), q(0.99), t[-1]))' "$1" "$requests"
}
measure "straight to web_vm1" http://127.0.0.1:18081/
measure "through the balancer" http://127.0.0.1:18380/
