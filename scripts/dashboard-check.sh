#!/usr/bin/env bash
# The dashboard in a real browser: headless Chromium against a scheduler (process provider) with
# a real balancer and real traffic. Checks that the page loads without console errors, that the
# instance count on the page changes after a scale-up, and that the scale-up event appears; saves
# dashboard.png (desktop) and dashboard-phone.png (phone width) in --out (default
# .build/dashboard-check, so that a test run leaves the README's pictures alone).
#
#   scripts/dashboard-check.sh [--out DIR]     (run by scripts/test.sh; needs a built tree)
source "$(dirname "$0")/lib.sh"
out=.build/dashboard-check
[ "${1:-}" = --out ] && out=$2
BIN=${BIN:-$(swift build --show-bin-path)}

browser=$(command -v chromium || command -v chromium-browser || true)
python3 -c 'import websocket' 2>/dev/null || python3 -m pip install --quiet websocket-client 2>/dev/null ||
    fail "python3's websocket-client is missing: python3 -m pip install websocket-client"
if [ -z "$browser" ]; then
    if [ "$(id -u)" -ne 0 ]; then fail "Chromium is missing; run as root: apt-get update && apt-get install -y chromium"; fi
    echo "dashboard-check: installing chromium" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
    browser=$(command -v chromium)
fi
for exe in loadbalancer scheduler clientsim webserver; do [ -x "$BIN/$exe" ] || fail "$BIN/$exe missing: run swift build"; done

temp_dir work
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    # Every instance by name: scale-down without one skips the warm-pool member, which was left
    # behind, paused (SIGSTOP), after every run.
    pids=()
    remove_created "$BIN" process "$work/state"
    remove_created "$BIN" process "$work/state-metrics"
}
at_exit cleanup
# Below the kernel's ephemeral range (32768+), so that no outgoing connection holds one of them.
base=$((22000 + RANDOM % 8000)); lb=$base admin=$((base + 1)) api=$((base + 2))
"$BIN/loadbalancer" --port $lb --admin-port $admin --check-interval 1 --log-level warning 2>"$work/lb.log" & pids+=($!)
"$BIN/scheduler" --provider process --state-dir "$work/state" --balancer http://127.0.0.1:$admin --api-port $api \
    --max 4 --window 4 --cooldown 3 --scale-up-threshold 10 --scale-down-threshold 2 --capacity 5 --token dashboard-test --warm-pool 1 \
    --history "$work/history.sqlite" --log-level warning 2>"$work/scheduler.log" & pids+=($!)
url=http://127.0.0.1:$api/
in_service() {
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { tail -5 "$work"/*.log >&2; fail "a process exited"; }; done
    [ "$(status_field "$api" inService)" = "$1" ]
}
wait_for 30 "2 in service" in_service 2

# One page load, driven through the DevTools protocol: the count changes on the open page (live,
# no reload) when real traffic makes the scheduler scale up (taking the warm-pool member); the
# event and the pool show.
# 20 req/s over two instances is 40 per instance per 4 s window > 10.
mkdir -p "$out"
python3 scripts/dashboard-cdp.py "$url" --timeout 60 \
    --expect in-service=2 --expect warm=1/1 \
    --run "'$BIN/clientsim' constant --rate 20 --duration 45 --url http://127.0.0.1:$lb/ --log-level error >/dev/null 2>&1 &" \
    --expect in-service=3 --contains "scale up: " --contains "taken from the warm pool" --contains "Scaling quality over the range" \
    --screenshot "$out/dashboard.png" 1280x1500 --screenshot "$out/dashboard-phone.png" 390x1700 ||
    fail "the dashboard check failed (see above)"
pkill -TERM -f "clientsim constant --rate 20 --duration 45 --url http://127.0.0.1:$lb/" || true

# The scaling metrics' charts, on a second stack: a scheduler scaling on cpu and in-flight
# requests, its process instances burning real CPU (?work=40): one chart per metric against its
# target, and the scale-up the cpu metric decides.
cleanup
"$BIN/loadbalancer" --port $lb --admin-port $admin --check-interval 1 --log-level warning 2>"$work/lb.log" & pids+=($!)
"$BIN/scheduler" --provider process --state-dir "$work/state-metrics" --balancer http://127.0.0.1:$admin --api-port $api \
    --min 1 --max 2 --window 4 --cooldown 3 --metric cpu --target 25 --metric inflight --target 4 --cpu-warmup 1 --token dashboard-test \
    --history "$work/history-metrics.sqlite" --log-level warning 2>"$work/scheduler.log" & pids+=($!)
wait_for 30 "1 in service" in_service 1
python3 scripts/dashboard-cdp.py "$url" --timeout 60 \
    --contains "scaling on cpu 25 % CPU, inflight 4 in flight/VM" \
    --contains "CPU of the in-service VMs (% CPU) against its target" --contains "Requests in flight per VM (in flight/VM) against its target" \
    --run "'$BIN/clientsim' constant --rate 12 --work 40 --duration 40 --url http://127.0.0.1:$lb/ --log-level error >/dev/null 2>&1 &" \
    --expect in-service=2 --contains "scale up: cpu" \
    --screenshot "$out/dashboard-metrics.png" 1280x1700 ||
    fail "the dashboard check of the metric charts failed (see above)"
pkill -TERM -f "clientsim constant --rate 12 --work 40 --duration 40 --url http://127.0.0.1:$lb/" || true
