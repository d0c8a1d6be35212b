#!/usr/bin/env bash
# The prometheus scaling metric against a real Prometheus (scripts/test.sh runs it):
#
#   scripts/prometheus-scaling-check.sh [BIN]      BIN: the built executables (default: swift's debug path)
#
# A Prometheus scrapes the balancer every second. Queries that give no single number are refused
# at start (no series, several, a syntax error: exit 12). Then a scheduler (process instances,
# min 1, max 3) scales on sum(rate(lb_requests_total[5s])) per instance against a target of
# 4 req/s: 12 req/s through the balancer must take it to 3, with scale-up events naming the
# metric. With Prometheus stopped it holds (no scaling on a missing signal) and says why in its
# status; back, it reads again. Prints the query's latency per tick.
source "$(dirname "$0")/lib.sh"

BIN=${1:-$(swift build --show-bin-path)}
ensure_packages prometheus
temp_dir work
LB=18680 ADMIN=18681 API=18690 PROM=18699
for port in $LB $ADMIN $API $PROM; do ! ss -Hltn "sport = :$port" | grep -q . || fail "port $port is in use"; done
QUERY='sum(rate(lb_requests_total[5s]))'

cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: loadbalancer
    static_configs: [{targets: ['127.0.0.1:$ADMIN']}]
YAML
"$BIN/loadbalancer" --port $LB --admin-port $ADMIN --check-interval 0.5 --log-level error >"$work/lb.log" 2>&1 &
lb=$!
at_exit "kill $lb 2>/dev/null; wait $lb 2>/dev/null"
start_prometheus() {
    prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" --web.listen-address=127.0.0.1:$PROM \
        >>"$work/prometheus.log" 2>&1 &
    prom=$!
}
start_prometheus
at_exit 'kill $prom 2>/dev/null; wait $prom 2>/dev/null'
at_exit '[ "$EXIT_STATUS" -eq 0 ] || tail -20 "$work/scheduler.log" "$work/prometheus.log" >&2'
wait_for 30 "Prometheus ready" curl -fs -m 2 -o /dev/null "http://127.0.0.1:$PROM/-/ready"
one_series() {
    [ "$(curl -fs -m 2 "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$QUERY" | json 'len(d["data"]["result"])')" = 1 ]
}
wait_for 20 "the balancer scraped twice" one_series

common=(--provider process --state-dir "$work/state" --balancer "http://127.0.0.1:$ADMIN" --api-port $API
    --metric prometheus --target 4 --prometheus-url "http://127.0.0.1:$PROM" --log-level error)
refused() { # QUERY MESSAGE: the scheduler refuses QUERY at start with exit 12 and MESSAGE
    local status=0
    "$BIN/scheduler" "${common[@]}" --prometheus-query "$1" >/dev/null 2>"$work/err" || status=$?
    [ "$status" = 12 ] || fail "query '$1': exit $status, expected 12: $(cat "$work/err")"
    grep -q "^scheduler: error: --prometheus-query: .*$2" "$work/err" || fail "query '$1': unclear refusal: $(cat "$work/err")"
    log "refused at start: '$1': $(sed 's/^scheduler: error: //' "$work/err")"
}
refused 'lb_backend_requests_total' "gives no series"
refused 'sum(rate(lb_requests_total[5s]' "refused the query (400)"

"$BIN/scheduler" "${common[@]}" --prometheus-query "$QUERY" --min 1 --max 3 --interval 0.5 --window 4 --cooldown 2 \
    --history "$work/history.sqlite" --log-level info >"$work/scheduler.log" 2>&1 &
scheduler=$!
# Its process instances outlive it (a restarted scheduler adopts them): deleted after it stops.
at_exit "kill $scheduler 2>/dev/null; wait $scheduler 2>/dev/null; remove_created '$BIN' process '$work/state'"
in_service() { [ "$(status_field $API inService)" = "$1" ]; }
wait_for 30 "the first instance" in_service 1

"$BIN/clientsim" constant --rate 12 --duration 60 --url "http://127.0.0.1:$LB/" --log-level error --json "$work/client.json" \
    >/dev/null 2>&1 &
client=$!
at_exit "kill $client 2>/dev/null; wait $client 2>/dev/null"
load_start=$SECONDS
wait_for 60 "three instances in service" in_service 3
log "12 req/s against a target of 4 per instance: 1 → 3 instances in $((SECONDS - load_start)) s"
events() { curl -fsS "http://127.0.0.1:$API/api/v1/events?since=0"; }
events | json '"\n".join("%s metric=%s value=%s target=%s: %s" % (e["kind"], e.get("metric"), e.get("value"), e.get("target"), e["reason"]) for e in d["events"] if e["kind"] == "scale_up")' >&2
[ "$(events | json 'sum(1 for e in d["events"] if e["kind"] == "scale_up" and e.get("metric") == "prometheus" and e.get("value", 0) > 4)')" -ge 2 ] ||
    fail "the scale-ups do not name the prometheus metric above its target"

# Several series while three backends serve: refused at start too.
refused 'lb_backend_requests_total' "gives 3 series, not one"

kill $client; wait $client 2>/dev/null || true
# Prometheus gone, the load gone: the signal is missing, so the scheduler holds at 3.
kill $prom; wait $prom 2>/dev/null || true
unreadable() { curl -fsS "http://127.0.0.1:$API/api/v1/status" | json 'd["metrics"][0].get("unreadable") or ""' | grep -q "cannot reach Prometheus"; }
wait_for 10 "the status to say Prometheus is unreachable" unreadable
sleep 6
in_service 3 || fail "the scheduler scaled without its signal: $(status_field $API inService) in service"
grep -q "cannot read the prometheus metric from http://127.0.0.1:$PROM .*holding" "$work/scheduler.log" || fail "no log line about the hold"
[ "$(grep -c "cannot read the prometheus metric" "$work/scheduler.log")" = 1 ] || fail "the failure is logged more than once"
log "Prometheus stopped: held at 3 for 6 s and logged it once"

# Back: no traffic now, so the query reads 0 and the group scales in to the minimum.
start_prometheus
wait_for 60 "a scale-in to one instance once the query reads again" in_service 1
grep -q "prometheus metric readable again" "$work/scheduler.log" || fail "no log line about the signal coming back"
curl -fsS "http://127.0.0.1:$API/metrics" | awk '
    /^scheduler_signal_read_duration_seconds_sum\{metric="prometheus"\}/ { sum = $2 }
    /^scheduler_signal_read_duration_seconds_count\{metric="prometheus"\}/ { count = $2 }
    /^scheduler_signal_read_duration_seconds_bucket\{metric="prometheus",le="0.005"\}/ { fast = $2 }
    END { printf "prometheus-scaling-check: query latency per tick: %d queries, mean %.2f ms, %d within 5 ms\n", count, sum / count * 1000, fast }' >&2
python3 -c '
import json, sys; r = json.load(open(sys.argv[1])); e = sum(r["errors"].values())
print("clients: %d sent, %d ok, %d errors" % (r["sent"], r["ok"], e)); sys.exit(1 if e else 0)' "$work/client.json" >&2 ||
    fail "clients saw errors while the scheduler scaled"
log "OK: the prometheus metric scaled out and in, refused bad queries at start, and held while Prometheus was gone"
