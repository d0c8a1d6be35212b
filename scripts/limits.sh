#!/usr/bin/env bash
# The balancer at its limits (not part of scripts/test.sh; run it for the figures):
#
#   scripts/limits.sh [--churn-minutes M] [--bin DIR]     (default 10 minutes of churn)
#
#   idle     10,000 idle keep-alive client connections (one request each, then quiet; the cap
#            raised to 11,000 from its default of 10,000), then 100 req/s through the balancer: no
#            error; its RSS and descriptors;
#   cap      --max-connections 1000 reached: the next connection is closed at once (counted in
#            lb_connections_refused_total), the 1,000 held ones still get answers;
#   slow     100 clients sending request bodies at 1 byte/s while others send 50 req/s: no error
#            for the others, their p99;
#   churn    1,000 backends (at the two webservers' addresses) registered and removed, 16 calls
#            at a time, in a loop for M minutes: RSS 15 s after the last round within 25 % of the
#            baseline before the first (the balancer trims its heap after removals).
# Ports 18880 (clients) and 18881 (admin).
source "$(dirname "$0")/lib.sh"

churn_minutes=10 BIN=""
while [ $# -gt 0 ]; do case $1 in
    --churn-minutes) churn_minutes=$2; shift 2;;
    --bin) BIN=$2; shift 2;;
    -h|--help) sed -n '2,/^source/p' "$0" | sed '$d'; exit 0;;
    *) echo "limits.sh: unknown argument: $1 (see --help)" >&2; exit 64;;
esac; done
[[ "$churn_minutes" =~ ^[0-9]+$ ]] || { echo "limits.sh: --churn-minutes is whole minutes" >&2; exit 64; }
[ -n "$BIN" ] || BIN=$(swift build --show-bin-path)
PORT=18880 ADMIN=18881
for port in $PORT $ADMIN; do ! ss -Hltn "sport = :$port" | grep -q . || fail "port $port is in use"; done
temp_dir work
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 12000 ] || fail "need 12,000 descriptors per process (ulimit -n is $(ulimit -n)); raise the hard limit"

pids=()
at_exit 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null'
backends=()
for i in 1 2; do
    "$BIN/webserver" --port 0 --port-file "$work/web$i.port" --name "web_vm$i" --log-level error &
    pids+=($!)
done
wait_for 10 "the webservers" test -s "$work/web2.port"
for i in 1 2; do backends+=(--backend "web_vm$i=127.0.0.1:$(cat "$work/web$i.port")"); done

lb=""
start_lb() { # extra arguments
    "$BIN/loadbalancer" --port $PORT --admin-port $ADMIN --check-interval 1 "${backends[@]}" --log-level warning "$@" 2>>"$work/lb.log" &
    lb=$!
    pids+=($lb)
    up() { curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; }
    wait_for 15 "the balancer to serve" up
}
stop_lb() { kill "$lb"; wait "$lb" 2>/dev/null || true; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
load() { # seconds rate -> "errors p99"
    "$BIN/clientsim" constant --rate "$2" --duration "$1" --url "http://127.0.0.1:$PORT/" --json "$work/load.json" --log-level error >/dev/null 2>&1
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(r["errors"].values()) + r["skippedAtCap"], "%.1f" % r["latencyMilliseconds"]["p99"], r["ok"], json.dumps(r["errors"], separators=(",", ":")), r["skippedAtCap"])' "$work/load.json"
}
# hold N [then]: N idle connections to the balancer for as long as $work/hold.go exists; writes
# $work/hold.ready when they are open. With "then": afterwards one more connection, reporting
# whether it was closed at once, and one request on an early connection.
hold() {
    python3 - "$PORT" "$1" "$work" "${2:-}" <<'PY' &
import os, resource, socket, sys, time
port, count, work, then = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]; resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
# Keep-alive clients gone quiet: one request each, answered, then nothing (a connection that never
# sends a request is closed after the 10 s header timeout; a quiet keep-alive one after 60 s).
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); held.append(s)
for s in held:
    if not s.recv(65536).startswith(b"HTTP/1.1 200"): sys.exit("a held connection got no 200")
time.sleep(0.5)
report = []
if then:
    extra = socket.create_connection(("127.0.0.1", port), timeout=5)
    extra.settimeout(2)
    try: closed = extra.recv(1) == b""
    except socket.timeout: closed = False
    except ConnectionResetError: closed = True
    report.append("extra_closed=%s" % closed)
    early = held[0]; early.settimeout(5)
    early.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    answer = b""
    while chunk := early.recv(4096): answer += chunk
    report.append("early_status=%s" % answer.split(b" ")[1].decode() if answer else "early_status=none")
open(os.path.join(work, "hold.ready"), "w").write(" ".join(report) + "\n")
while os.path.exists(os.path.join(work, "hold.go")): time.sleep(0.2)
PY
    hold_pid=$!
}

results=()

# --- idle ---------------------------------------------------------------------------------------
start_lb --max-connections 11000   # the default cap is 10,000
base_rss=$(rss $lb) base_fds=$(fds $lb)
touch "$work/hold.go"; rm -f "$work/hold.ready"
hold 10000
wait_for 120 "10,000 idle connections" test -e "$work/hold.ready"
held_rss=$(rss $lb) held_fds=$(fds $lb)
read -r errors p99 ok kinds skipped < <(load 5 100)
rm -f "$work/hold.go"; wait "$hold_pid" || true
[ "$errors" = 0 ] || fail "with 10,000 idle connections, clients saw $errors errors: $kinds, $skipped skipped"
results+=("idle: 10,000 quiet keep-alive connections held: RSS $((base_rss / 1024)) → $((held_rss / 1024)) MiB, descriptors $base_fds → $held_fds; 100 req/s beside them: $ok ok, 0 errors, p99 $p99 ms")
stop_lb

# --- cap ----------------------------------------------------------------------------------------
start_lb --max-connections 1000
touch "$work/hold.go"; rm -f "$work/hold.ready"
hold 1000 then
wait_for 60 "1,000 connections and one more" test -e "$work/hold.ready"
report=$(cat "$work/hold.ready")
refused=$(curl -fsS -m 2 "http://127.0.0.1:$ADMIN/metrics" | awk '/^lb_connections_refused_total/ { print $2 }')
rm -f "$work/hold.go"; wait "$hold_pid" || true
[[ "$report" == *extra_closed=True* ]] || fail "the connection over the cap was not closed at once: $report"
[[ "$report" == *early_status=200* ]] || fail "a held connection got no answer: $report"
results+=("cap: --max-connections 1000 reached: the next connection closed at once (lb_connections_refused_total $refused), a held one answered 200")
stop_lb

# --- slow ---------------------------------------------------------------------------------------
start_lb
python3 - "$PORT" <<'PY' &
import socket, sys, threading, time
port = int(sys.argv[1])
def slow():
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n\r\n")
    for _ in range(30):
        try: s.sendall(b"x")
        except OSError: return
        time.sleep(1)
threads = [threading.Thread(target=slow, daemon=True) for _ in range(100)]
for t in threads: t.start()
for t in threads: t.join()
PY
slow_pid=$!
sleep 2
read -r errors p99 ok kinds skipped < <(load 10 50)
kill "$slow_pid" 2>/dev/null; wait "$slow_pid" 2>/dev/null || true
[ "$errors" = 0 ] || fail "with 100 slow bodies, other clients saw $errors errors: $kinds, $skipped skipped"
results+=("slow: 100 clients sending bodies at 1 byte/s; beside them 50 req/s: $ok ok, 0 errors, p99 $p99 ms")
stop_lb

# --- churn --------------------------------------------------------------------------------------
if [ "$churn_minutes" -gt 0 ]; then
    start_lb
    sleep 2
    base_rss=$(rss $lb)
    token=$(cat "$(state_dir)/loadbalancer-$ADMIN.token")
    round() { # 1,000 backends at the two webservers' addresses, added then removed, 16 calls at once
        python3 - "$ADMIN" "$token" "$(cat "$work/web1.port")" "$(cat "$work/web2.port")" <<'PY'
import http.client, sys, threading
port, token, ports = int(sys.argv[1]), sys.argv[2], (sys.argv[3], sys.argv[4])
failed = []
def work(indices, method):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in indices:
        headers = {"Authorization": "Bearer " + token}
        body = None
        if method == "PUT":
            headers["Content-Type"] = "application/json"
            body = '{"address":"127.0.0.1:%s"}' % ports[i % 2]
        c.request(method, "/api/v1/backends/churn%d" % i, body=body, headers=headers)
        r = c.getresponse(); r.read()
        if r.status not in (200, 201, 202): failed.append("%s churn%d: %d" % (method, i, r.status))
for method in ("PUT", "DELETE"):
    threads = [threading.Thread(target=work, args=(range(k, 1000, 16), method)) for k in range(16)]
    for t in threads: t.start()
    for t in threads: t.join()
if failed: sys.exit("; ".join(failed[:5]))
PY
    }
    gone() { [ "$(curl -fsS -m 2 "http://127.0.0.1:$ADMIN/api/v1/backends" | json 'len(d["backends"])')" = 2 ]; }
    round; wait_for 60 "the churn backends gone" gone
    first_rss=$(rss $lb)
    rounds=1
    end=$((SECONDS + churn_minutes * 60))
    echo "$first_rss" >"$work/churn-rss"
    while [ "$SECONDS" -lt "$end" ]; do
        round; wait_for 60 "the churn backends gone" gone; rounds=$((rounds + 1))
        rss $lb >>"$work/churn-rss"
    done
    # RSS (MiB) after the first round and at each quarter of the run: a leak climbs steadily, a
    # heap that found its size levels off.
    quarters=$(awk '{ v[NR] = $1 } END { for (q = 0; q <= 4; q++) { i = int(1 + (NR - 1) * q / 4); printf "%s%d", (q ? " → " : ""), v[i] / 1024 } }' "$work/churn-rss")
    # Then quiet: the balancer gives what it freed back to the system within its trim period (10 s).
    sleep 15
    quiet_rss=$(rss $lb)
    (( quiet_rss <= base_rss * 125 / 100 )) ||
        fail "RSS $((quiet_rss / 1024)) MiB 15 s after the churn, baseline $((base_rss / 1024)) MiB: not back (bound +25 %)"
    results+=("churn: $rounds rounds of 1,000 backends added and removed in $churn_minutes min: RSS before $((base_rss / 1024)) MiB; after the first round and at each quarter: $quarters MiB; 15 s after the last: $((quiet_rss / 1024)) MiB (bound +25 %)")
    stop_lb
fi
printf '%s\n' "${results[@]}"
