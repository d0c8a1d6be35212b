#!/usr/bin/env bash
# Reloads under load: wrk -t1 -c64 through the balancer for S seconds while its config file flips
# between two backends (and two algorithms) and a SIGHUP follows each flip, every 0.5 s. Every
# reload drains one nginx backend and registers the other. Prints wrk's figures and the line
# "reloads N: requests R, non-2xx X, socket errors E" (a dropped connection is a socket error).
#
# usage: scripts/bench/reload-under-load.sh [--seconds S]
#   LB_BIN  the balancer binary (default .build/release/loadbalancer; built if missing)
source "$(dirname "$0")/../lib.sh"
seconds=10
while [ $# -gt 0 ]; do case $1 in --seconds) seconds=$2; shift 2;; *) echo "unknown flag $1" >&2; exit 64;; esac; done
ensure_packages wrk nginx-light
balancer_binary
temp_dir work
base=$((21000 + RANDOM % 10000)); b1=$((base + 1)) b2=$((base + 2)) lb=$((base + 12)) admin=$((base + 13))
nginx_backends "$work" $b1 $b2
config() { printf '{"backends": ["%s=127.0.0.1:%s"], "balance": "%s"}\n' "$1" "$2" "$3" > "$work/lb.json"; }
config one $b1 roundrobin
background "$LB_BIN" --config "$work/lb.json" --port $lb --admin-port $admin --threads 1 >"$work/lb.log" 2>&1
lbpid=${_background[-1]}
wait_for 20 "the balancer" curl -fs -m 1 -o /dev/null "http://127.0.0.1:$lb/"
wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$lb/" > "$work/wrk.txt" 2>&1 & wrkpid=$!
reloads=0
end=$((SECONDS + seconds - 1))
while [ $SECONDS -lt $end ]; do
    sleep 0.5
    if [ $((reloads % 2)) = 0 ]; then config two $b2 leastconn; else config one $b1 roundrobin; fi
    kill -HUP $lbpid; reloads=$((reloads + 1))
done
wait $wrkpid
cat "$work/wrk.txt"
kill -0 $lbpid || fail "the balancer died"
requests=$(awk '/requests in/{print $1}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/{print $NF}' "$work/wrk.txt"); non2xx=${non2xx:-0}
errors=$(awk '/Socket errors/{gsub(",",""); print $4+$6+$8+$10}' "$work/wrk.txt"); errors=${errors:-0}
refused=$(grep -c "reload refused" "$work/lb.log" || true)
echo "reloads $reloads ($(grep -c 'reloaded' "$work/lb.log") applied, $refused refused): requests $requests, non-2xx $non2xx, socket errors $errors"
