#!/usr/bin/env bash
# The whole system in one terminal: the load balancer, the scheduler and the client simulator with
# a traffic spike, their output interleaved with a tag per process. Watch the scheduler scale up
# under the spike and down after it; open the dashboard at the URL printed. Ctrl-C (or --duration)
# stops everything and removes what the demo made: no process, instance or port is left behind.
#
#   scripts/demo.sh                  process instances (no hypervisor), release build
#   scripts/demo.sh --vms            real libvirt VMs (runs scripts/setup-libvirt.sh; root)
#   scripts/demo.sh --haproxy        a stock HAProxy in front instead of our balancer (the scheduler
#                                    drives it over its Runtime API; installs haproxy when missing)
#   scripts/demo.sh --duration 300   stop after 300 s
#   scripts/demo.sh --fast --duration 40 --non-interactive --debug
#                                    what scripts/test.sh runs: a short spike, checks, exit status
source "$(dirname "$0")/lib.sh"
provider=process duration="" interactive=1 fast=0 config=release balancer=ours
while [ $# -gt 0 ]; do case $1 in
    --vms) provider=libvirt; shift;;
    --haproxy) balancer=haproxy; shift;;
    --duration) duration=$2; shift 2;;
    --non-interactive) interactive=0; shift;;
    --fast) fast=1; shift;;
    --debug) config=debug; shift;;
    -h|--help) sed -n '2,15p' "$0"; exit 0;;
    *) echo "demo.sh: unknown argument: $1 (see --help)" >&2; exit 64;;
esac; done

# The clients' p99 must stay under this (ms) in the non-interactive check: a request the web
# servers answer in milliseconds that takes a second means the request path is broken.
P99_BOUND_MS=${DEMO_P99_BOUND_MS:-1000}

say() { printf '\033[1m[demo] %s\033[0m\n' "$*"; }
[ "$interactive" = 1 ] || say() { printf '[demo] %s\n' "$*"; }

for port in 8080 8081 8090; do
    if ss -Hltn "sport = :$port" | grep -q .; then fail "port $port is in use (another loadbalancer or scheduler running?)"; fi
done

scripts/install-build-deps.sh
say "building ($config)"
swift build -c "$config" 2>&1 | tail -1
BIN=$(swift build -c "$config" --show-bin-path)

temp_dir work
providerArgs=(--provider process --state-dir "$work/state")
if [ "$provider" = libvirt ]; then
    scripts/setup-libvirt.sh
    providerArgs=(--provider libvirt)
    domains_before=$(virsh -q list --all --name | sed '/^$/d' | sort)
fi

if [ "$fast" = 1 ]; then
    schedulerArgs=(--window 4 --cooldown 3)
    clientArgs=(step --base-rate 1 --rate 12 --at 3 --period 15)
else
    schedulerArgs=()  # the defaults: 10 s window, up above 20, down below 5 req/VM, 30 s cooldown
    clientArgs=(step --base-rate 1 --rate 12 --at 20 --period 90)
fi
[ -n "$duration" ] && clientArgs+=(--duration "$duration")

pids=()
stopped=0
stop_all() {
    [ "$stopped" = 1 ] && return
    stopped=1
    say "stopping"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    # Remove the instances the demo made (never a VM that was there before).
    if [ "$provider" = process ]; then
        for _ in $(seq 20); do "$BIN/scale-down" "${providerArgs[@]}" --log-level error >/dev/null 2>&1 || break; done
    else
        for vm in $(comm -13 <(echo "$domains_before") <(virsh -q list --all --name | sed '/^$/d' | sort)); do
            "$BIN/scale-down" --provider libvirt "$vm" --log-level error >/dev/null 2>&1 || true
        done
    fi
}
at_exit stop_all
trap 'exit 130' INT TERM

# Each process writes into a tagging filter through process substitution, so that $! is the
# process itself (with a pipe it would be the filter, and stopping it would stop nothing).
tag() { # prefix each line of a process's output
    local name=$1 colour=$2
    if [ "$interactive" = 1 ]; then sed -u "s/^/\x1b[${colour}m[$name]\x1b[0m /"; else sed -u "s/^/[$name] /"; fi
}

if [ "$balancer" = haproxy ]; then
    ensure_packages haproxy
    # The minimal configuration the scheduler needs (README, "HAProxy as the data plane"): a
    # Runtime API socket at level admin and a backend with a dynamic algorithm; its servers are
    # added at run time. Its statistics page on 8081, where our balancer has its admin API.
    {
        haproxy_config "$work/admin.sock" 8080
        printf 'listen stats\n    bind 127.0.0.1:8081\n    stats enable\n    stats uri /\n    stats refresh 2s\n'
    } >"$work/haproxy.cfg"
    say "starting HAProxy on 127.0.0.1:8080 (statistics page on 8081, Runtime API $work/admin.sock)"
    # Through a FIFO, not a process substitution: that would be haproxy's child, and its master
    # waits for every child before it exits, the tagger among them, which waits for its output.
    mkfifo "$work/haproxy.out"
    tag haproxy 36 <"$work/haproxy.out" &
    haproxy -W -db -f "$work/haproxy.cfg" >"$work/haproxy.out" 2>&1 &
    pids+=($!)
    balancerArgs=(--balancer "haproxy:$work/admin.sock")
    socket_up() { [ -S "$work/admin.sock" ]; }
    wait_for 10 "HAProxy's Runtime API socket" socket_up
else
    say "starting the load balancer on 127.0.0.1:8080 (admin 8081)"
    "$BIN/loadbalancer" --check-interval 1 > >(tag loadbalancer 36) 2>&1 &
    pids+=($!)
    balancerArgs=()
    sleep 0.5
fi
say "starting the scheduler (${providerArgs[1]} provider), API and dashboard on 127.0.0.1:8090"
"$BIN/scheduler" "${providerArgs[@]}" "${balancerArgs[@]}" "${schedulerArgs[@]}" --history "$work/history.sqlite" > >(tag scheduler 33) 2>&1 &
pids+=($!)
two_in_service() {
    kill -0 "${pids[1]}" 2>/dev/null || fail "the scheduler exited"
    [ "$(status_field 8090 inService)" = 2 ]
}
wait_for 180 "2 instances in service" two_in_service
stats_url=http://127.0.0.1:8081/api/v1/stats
[ "$balancer" = haproxy ] && stats_url=http://127.0.0.1:8081/
say "2 instances in service. Dashboard: http://127.0.0.1:8090/   Stats: $stats_url"
say "starting the client: 1 req/s, a spike to 12 req/s, then 1 req/s again${duration:+ (for $duration s)}; Ctrl-C stops"
"$BIN/clientsim" "${clientArgs[@]}" --status-interval 5 --json "$work/client.json" > >(tag clientsim 32) 2>&1 &
client=$!
pids+=($client)
wait "$client" || true

if [ "$interactive" = 0 ] || [ -n "$duration" ]; then
    events=$(curl -fsS "http://127.0.0.1:8090/api/v1/events?since=0")
    read -r ups downs < <(json '"%d %d" % (sum(1 for x in d["events"] if x["kind"] == "scale_up" and "req/VM" in x["reason"]), sum(1 for x in d["events"] if x["kind"] == "scale_down"))' <<<"$events")
    # What the clients felt: errors, requests skipped at the concurrency cap (a stalled balancer
    # shows as skips, not errors), and the p99 against a bound.
    read -r errors skipped p99 sent < <(python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
print(sum(r["errors"].values()), r["skippedAtCap"], r["latencyMilliseconds"]["p99"], r["sent"])' "$work/client.json")
    stop_all
    left=$(pgrep -f "$work" || true)
    busy=$(for port in 8080 8081 8090; do ss -Hltn "sport = :$port"; done)
    failed=$((errors + skipped))
    say "summary: $ups scale-up(s) under load, $downs scale-down(s) after it, $failed failed client request(s) of $((sent + skipped)) ($errors errors, $skipped skipped), p99 ${p99} ms (bound ${P99_BOUND_MS} ms)"
    [ -z "$left" ] || fail "processes left: $left"
    [ -z "$busy" ] || fail "ports still listening: $busy"
    say "nothing left running"
    if [ "$interactive" = 0 ]; then
        [ "$ups" -ge 1 ] || fail "no scale-up happened"
        [ "$downs" -ge 1 ] || fail "no scale-down happened"
        [ "$failed" = 0 ] || fail "clients saw $errors errors and $skipped skipped requests"
        python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$p99" "$P99_BOUND_MS" ||
            fail "clients' p99 ${p99} ms is over the bound of ${P99_BOUND_MS} ms"
    fi
fi
