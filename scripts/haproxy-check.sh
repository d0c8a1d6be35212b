#!/usr/bin/env bash
# HAProxy as the data plane, end to end, with process instances (scripts/test.sh runs it):
#
#   scripts/haproxy-check.sh [BIN]       BIN: the built executables (default: swift's debug path)
#
# A stock HAProxy whose backend `web` has one server of its own in haproxy.cfg (`legacy`, a
# webserver), and the scheduler driving it over the Runtime API with clients at 20 req/s through
# HAProxy: a manual scale-up gives a server that takes traffic (timed from the decision), a reload
# (SIGUSR2 to the master) drops the dynamic servers and the scheduler restores them, the Runtime
# API socket taken away leaves the scheduler holding (nothing scaled, nothing deleted) until it is
# back, a scale-down drains and deletes a server; the clients see no failed request during the
# scale-up and the scale-down (during the reload they are counted: HAProxy closes the old worker's
# keep-alive connections); `legacy` is never touched. Prints the figures.
source "$(dirname "$0")/lib.sh"

BIN=${1:-$(swift build --show-bin-path)}
ensure_packages haproxy
temp_dir work
FRONT=18480 API=18490
for port in $FRONT $API; do ! ss -Hltn "sport = :$port" | grep -q . || fail "port $port is in use"; done
hap() { python3 - "$work/admin.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); s.sendall((sys.argv[2] + "\n").encode())
data = b""
while chunk := s.recv(65536): data += chunk
sys.stdout.write(data.decode())
PY
}
# "name status req_tot sid" of each server of backend web
servers() { hap "show stat" | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } $1 == "web" && $2 != "BACKEND" { print $2, $(c["status"]), $(c["req_tot"]), $(c["sid"]) }'; }

"$BIN/webserver" --port 0 --port-file "$work/legacy.port" --name legacy --log-level error &
legacy=$!
at_exit "kill $legacy 2>/dev/null"
wait_for 10 "the legacy webserver" test -s "$work/legacy.port"
{
    haproxy_config "$work/admin.sock" $FRONT
    echo "    server legacy 127.0.0.1:$(cat "$work/legacy.port") check inter 1s"
} >"$work/haproxy.cfg"
haproxy -W -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
haproxy=$!
at_exit "kill $haproxy 2>/dev/null; wait $haproxy 2>/dev/null"
wait_for 10 "HAProxy's Runtime API socket" test -S "$work/admin.sock"

"$BIN/scheduler" --provider process --state-dir "$work/state" --balancer "haproxy:$work/admin.sock" --api-port $API \
    --min 2 --max 4 --scale-up-threshold 1000 --scale-down-threshold 0 --cooldown 2 --window 4 \
    --history "$work/history.sqlite" --log-level info 2>"$work/scheduler.log" &
scheduler=$!
at_exit "kill $scheduler 2>/dev/null; wait $scheduler 2>/dev/null; remove_created '$BIN' process '$work/state'"
at_exit '[ "$EXIT_STATUS" -eq 0 ] || { tail -20 "$work/scheduler.log"; servers 2>/dev/null; } >&2'
in_service() { [ "$(status_field $API inService)" = "$1" ]; }
dynamic_up() { [ "$(servers | awk '$4 >= 100000 && $2 ~ /^UP/' | wc -l)" = "$1" ]; }
wait_for 30 "two instances in service in HAProxy" in_service 2
wait_for 10 "two dynamic servers up" dynamic_up 2

client=""
start_clients() { # the phase's name: its summary goes to $work/<name>.json
    "$BIN/clientsim" constant --rate 20 --duration 300 --url "http://127.0.0.1:$FRONT/" --json "$work/$1.json" --log-level error >/dev/null 2>&1 &
    client=$!
    sleep 1
}
stop_clients() { # name, "strict" to fail on any failed request
    sleep 1
    kill -TERM $client
    wait $client || true
    python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); e=sum(r["errors"].values()); l=r["latencyMilliseconds"]
print("clients through HAProxy, %s: %d sent, %d ok, %d errors %s, %d skipped; p50 %.1f ms, p99 %.1f ms" % (sys.argv[2], r["sent"], r["ok"], e, json.dumps(r["errors"]), r["skippedAtCap"], l["p50"], l["p99"]))
sys.exit(1 if sys.argv[3] == "strict" and (e or r["skippedAtCap"] or r["ok"] == 0) else 0)' "$work/$1.json" "$1" "${2:-}" || fail "clients saw failed requests ($1)"
}
at_exit '[ -z "$client" ] || kill $client 2>/dev/null'
start_clients scale-up

# Scale-up: from the decision to HAProxy sending the new server requests.
before=$(servers | awk '{ print $1 }')
t0=$(date +%s.%N)
scale_to $API 3 >/dev/null
new_serves() { servers | awk -v before="$before" 'BEGIN { split(before, b, "\n"); for (i in b) old[b[i]] = 1 } !($1 in old) && $3 > 0 { found = 1 } END { exit !found }'; }
wait_for 30 "the new server taking requests" new_serves
t1=$(date +%s.%N)
echo "scale-up: decision to HAProxy sending the new server requests $(printf '%.2f' "$(echo "$t1 - $t0" | bc)") s"
stop_clients scale-up strict

# A reload closes the old worker's idle keep-alive connections: a client that sends on one at that
# moment gets an error (HAProxy's own behaviour; browsers retry). Counted, not failed.
start_clients reload

# Reload: HAProxy's new worker has only haproxy.cfg's servers; the scheduler adds the rest back.
worker_pid() { hap "show info" 2>/dev/null | sed -n 's/^Pid: //p'; }
old_worker=$(worker_pid)
[ -n "$old_worker" ] || fail "no worker pid from 'show info'"
t0=$(date +%s.%N)
kill -USR2 $haproxy
reloaded() { local pid; pid=$(worker_pid); [ -n "$pid" ] && [ "$pid" != "$old_worker" ]; }
wait_for 10 "the new worker" reloaded
restored() { dynamic_up 3; }
wait_for 20 "the three instances back in HAProxy" restored
t1=$(date +%s.%N)
echo "reload: membership restored $(printf '%.2f' "$(echo "$t1 - $t0" | bc)") s after SIGUSR2 (scheduler ticks every 1 s)"

# The Runtime API gone: the scheduler holds (no action) and comes back when it is.
mv "$work/admin.sock" "$work/admin.sock.away"
unreachable() { [ "$(status_field $API balancerReachable)" = False ]; }
wait_for 10 "the scheduler to see HAProxy's socket gone" unreachable
sleep 3
kill -0 $scheduler || fail "the scheduler exited while HAProxy's socket was gone"
[ "$(ls "$work/state/instances"/*.json | wc -l)" = 3 ] || fail "instances changed while HAProxy's socket was gone: $(ls "$work/state/instances")"
mv "$work/admin.sock.away" "$work/admin.sock"
reachable() { [ "$(status_field $API balancerReachable)" = True ]; }
wait_for 10 "the scheduler to reach HAProxy again" reachable
echo "Runtime API socket gone for 3 s: the scheduler held, then went on"
stop_clients reload

start_clients scale-down

# Scale-down: drained, then deleted from HAProxy and from the provider.
scale_to $API 2 >/dev/null
two_left() { [ "$(servers | awk '$4 >= 100000' | wc -l)" = 2 ] && [ "$(ls "$work/state/instances"/*.json | wc -l)" = 2 ]; }
wait_for 30 "a server drained and deleted" two_left
grep -q "event drain" "$work/scheduler.log" || fail "no drain before the delete"
stop_clients scale-down strict
servers | grep -q "^legacy UP" || fail "haproxy.cfg's own server was touched: $(servers)"
echo "haproxy.cfg's own server untouched: $(servers | grep ^legacy)"
