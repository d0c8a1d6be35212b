#!/usr/bin/env bash
# A soak run: the balancer, the scheduler (process provider) and clientsim with a repeating spike
# for a long time, watched every minute for what grows. Not part of scripts/test.sh; run it for the
# figures:
#
#   scripts/soak.sh --duration 3600 [--retention-days 0.01] [--config release|debug] [--bin DIR]
#
# --bin runs executables already built in DIR (a copy, so that builds meanwhile do not touch them).
#
# Every minute and at the end it prints: the clients' errors so far, the balancer's and the
# scheduler's RSS and open file descriptors, the history file's size and rows, the instances and
# the scale events so far; at the end, the slope of RSS and descriptors per hour after the first
# sixth of the run (the warm-up), by least squares. The load: a sine between 0.5 and 60 req/s with a
# 10-minute period, so the group goes from 2 to the maximum (8) and back every cycle (the default
# rule: up above 20 requests per instance in 10 s, down below 5). History keeps --retention-days (default
# 0.01 d = 14.4 min, so that pruning shows within the hour). Ports 18680/18681 (balancer) and 18690.
source "$(dirname "$0")/lib.sh"

duration=3600 retention=0.01 config=debug BIN=
while [ $# -gt 0 ]; do case $1 in
    --duration) duration=$2; shift 2;;
    --retention-days) retention=$2; shift 2;;
    --config) config=$2; shift 2;;
    --bin) BIN=$2; shift 2;;
    -h|--help) sed -n '2,17p' "$0"; exit 0;;
    *) echo "soak.sh: unknown argument: $1 (see --help)" >&2; exit 64;;
esac; done
[[ "$duration" =~ ^[0-9]+$ ]] && [ "$duration" -ge 60 ] || { echo "soak.sh: --duration is whole seconds, at least 60" >&2; exit 64; }

for port in 18680 18681 18690; do ! ss -Hltn "sport = :$port" | grep -q . || fail "port $port is in use"; done
if [ -z "$BIN" ]; then
    swift build -c "$config" 2>&1 | tail -1
    BIN=$(swift build -c "$config" --show-bin-path)
fi
for exe in loadbalancer scheduler clientsim webserver scale-down; do [ -x "$BIN/$exe" ] || fail "$BIN/$exe is missing"; done
temp_dir work

"$BIN/loadbalancer" --port 18680 --admin-port 18681 --check-interval 1 --log-level warning 2>"$work/lb.log" &
lb=$!
"$BIN/scheduler" --provider process --state-dir "$work/state" --balancer http://127.0.0.1:18681 --api-port 18690 \
    --history "$work/history.sqlite" --retention-days "$retention" --log-level warning 2>"$work/scheduler.log" &
scheduler=$!
at_exit "kill $scheduler $lb 2>/dev/null; wait $scheduler $lb 2>/dev/null; remove_created '$BIN' process '$work/state'"
in_service() { [ "$(status_field 18690 inService)" = 2 ]; }
wait_for 30 "two instances in service" in_service
"$BIN/clientsim" sine --base-rate 0.5 --rate 60 --period 600 --duration "$duration" --url http://127.0.0.1:18680/ \
    --status-interval 60 --json "$work/client.json" --log-level error >"$work/client.log" 2>&1 &
client=$!
at_exit "kill $client 2>/dev/null"

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }   # KiB
fds() { ls "/proc/$1/fd" | wc -l; }
rows() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(sum(c.execute("SELECT COUNT(*) FROM "+t).fetchone()[0] for t in ("samples","events")))' "$work/history.sqlite" 2>/dev/null || echo "?"; }
events() { curl -fsS -m 5 "http://127.0.0.1:18690/api/v1/events?since=0" | json '"%d up, %d down" % (sum(1 for e in d["events"] if e["kind"] == "scale_up"), sum(1 for e in d["events"] if e["kind"] == "scale_down"))' 2>/dev/null || echo "?"; }
errors() { tail -n 1 "$work/client.log" | sed -n 's/.*errors \([0-9]*\).*/\1/p'; }
printf '%6s %7s %10s %6s %10s %6s %10s %7s %9s %s\n' min errors lb_rss_kib lb_fd sch_rss_kib sch_fd sqlite_kib rows instances events
: >"$work/samples"
start=$SECONDS
minute=0
while kill -0 "$client" 2>/dev/null; do
    sleep 60 & wait $!   # interruptible
    kill -0 "$client" 2>/dev/null || break
    kill -0 "$lb" 2>/dev/null || fail "the balancer exited (see $work/lb.log)"
    kill -0 "$scheduler" 2>/dev/null || fail "the scheduler exited (see $work/scheduler.log)"
    minute=$((minute + 1))
    line=$(printf '%6d %7s %10d %6d %10d %6d %10d %7s %9s %s' "$minute" "$(errors)" "$(rss $lb)" "$(fds $lb)" "$(rss $scheduler)" "$(fds $scheduler)" \
        "$(( $(stat -c %s "$work/history.sqlite") / 1024 ))" "$(rows)" "$(status_field 18690 inService)" "$(events)")
    echo "$line"
    echo "$line" >>"$work/samples"
done
wait "$client" || true
python3 - "$work/client.json" "$work/samples" "$duration" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); errors = sum(r["errors"].values()); l = r["latencyMilliseconds"]
print("clients: %d sent, %d ok, %d errors, %d skipped; p50 %.1f ms, p99 %.1f ms" % (r["sent"], r["ok"], errors, r["skippedAtCap"], l["p50"], l["p99"]))
rows = [line.split() for line in open(sys.argv[2])]
skip = max(1, len(rows) // 6)
def slope(column):
    points = [(int(row[0]) / 60, int(row[column])) for row in rows[skip:]]
    if len(points) < 2: return float("nan")
    n = len(points); mx = sum(x for x, _ in points) / n; my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0
print("slopes after the first %d min (per hour): balancer RSS %+.0f KiB, fds %+.1f; scheduler RSS %+.0f KiB, fds %+.1f; history file %+.0f KiB"
      % (skip, slope(2), slope(3), slope(4), slope(5), slope(6)))
sys.exit(1 if errors else 0)
PY
