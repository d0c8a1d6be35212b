#!/usr/bin/env bash
# The monitoring files against a real Prometheus (scripts/test.sh runs it):
#
#   scripts/monitoring-check.sh [BIN]       BIN: the built executables (default: swift's debug path)
#
# promtool checks monitoring/prometheus.yml; a Prometheus scrapes a balancer and a scheduler
# (process instances, min 2) with that file's jobs, pointed at this run's ports; clients send
# requests through the balancer; then every query of every panel of monitoring/grafana/autoscaler.json
# goes to Prometheus's query API. Each must parse, and each must return data except those that
# count failures (none happen here). Prints each query's series count.
source "$(dirname "$0")/lib.sh"

BIN=${1:-$(swift build --show-bin-path)}
ensure_packages prometheus
temp_dir work
LB=18580 ADMIN=18581 API=18590 PROM=18599
for port in $LB $ADMIN $API $PROM; do ! ss -Hltn "sport = :$port" | grep -q . || fail "port $port is in use"; done

promtool check config monitoring/prometheus.yml >/dev/null || fail "promtool refuses monitoring/prometheus.yml"
# The shipped jobs, with this run's ports for the defaults (8081: balancer admin, 8090: scheduler).
sed -e "s/127.0.0.1:8081/127.0.0.1:$ADMIN/; s/127.0.0.1:8090/127.0.0.1:$API/; s/scrape_interval: 5s/scrape_interval: 1s/" \
    monitoring/prometheus.yml >"$work/prometheus.yml"

"$BIN/loadbalancer" --port $LB --admin-port $ADMIN --log-level error >"$work/lb.log" 2>&1 &
lb=$!
at_exit "kill $lb 2>/dev/null; wait $lb 2>/dev/null"
"$BIN/scheduler" --provider process --state-dir "$work/state" --balancer "http://127.0.0.1:$ADMIN" --api-port $API \
    --min 2 --max 3 --interval 0.5 --metric requests --target 1000 --metric cpu --target 95 --log-level error >"$work/scheduler.log" 2>&1 &
scheduler=$!
# Its process instances outlive it (a restarted scheduler adopts them): deleted after it stops.
at_exit "kill $scheduler 2>/dev/null; wait $scheduler 2>/dev/null; remove_created '$BIN' process '$work/state'"
at_exit '[ "$EXIT_STATUS" -eq 0 ] || tail -5 "$work/scheduler.log" "$work/prometheus.log" >&2'

prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" --web.listen-address=127.0.0.1:$PROM \
    >"$work/prometheus.log" 2>&1 &
prom=$!
at_exit "kill $prom 2>/dev/null; wait $prom 2>/dev/null"

two_serving() { [ "$(curl -fs -m 2 "http://127.0.0.1:$ADMIN/api/v1/stats" | json 'sum(1 for b in d["backends"] if b["healthy"])' 2>/dev/null)" = 2 ]; }
wait_for 60 "two instances serving behind the balancer" two_serving
wait_for 30 "Prometheus ready" curl -fs -m 2 -o /dev/null "http://127.0.0.1:$PROM/-/ready"
# Requests for 20 s (rates over 1 m need two scrapes of each series, histograms some traffic).
end=$((SECONDS + 20))
while [ $SECONDS -lt $end ]; do curl -fs -m 2 -o /dev/null "http://127.0.0.1:$LB/" || fail "a request through the balancer failed"; sleep 0.05; done
both_up() {
    [ "$(curl -fs -m 2 "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode 'query=sum(up)' | json 'd["data"]["result"][0]["value"][1]')" = 2 ]
}
wait_for 10 "both jobs up in Prometheus" both_up

failures=0 checked=0
while IFS= read -r query; do
    answer=$(curl -fs -m 5 "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$query") || {
        log "REFUSED: $query"; failures=$((failures + 1)); continue; }
    series=$(json 'len(d["data"]["result"])' <<<"$answer")
    checked=$((checked + 1))
    case $query in
        *failed*|*refused*|*failures*) printf '%3s series  %s\n' "$series" "$query" ;;  # may be 0: no failure here
        *) printf '%3s series  %s\n' "$series" "$query"
           [ "$series" -gt 0 ] || { log "NO DATA: $query"; failures=$((failures + 1)); } ;;
    esac
done < <(json '"\n".join(t["expr"] for p in d["panels"] for t in p.get("targets", []))' <monitoring/grafana/autoscaler.json)
[ "$checked" -gt 0 ] || fail "no query found in the dashboard"
[ "$failures" = 0 ] || fail "$failures of the dashboard's queries failed or returned nothing"
log "OK: promtool accepts the scrape config; Prometheus scraped both jobs; all $checked dashboard queries answer with data"
