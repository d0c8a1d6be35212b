#!/usr/bin/env bash
# Scaling quality on the real traces: every trace in the team's shared/traces replayed by
# `scheduler simulate` with the threshold rule, target tracking and the predictive policy, and a
# Markdown table of what each cost and how well it kept up (the README's results table).
#
#   scripts/bench/simulate-traces.sh [--traces DIR] [--startup S] [--config debug|release]
# Each trace's capacity is set so that it peaks near 20 instances (peak rate / 20); the group may
# grow to 25. The rule's thresholds match that capacity: up above a full instance's requests per
# 10 s window, down below a quarter of it (the original's 20:5); target tracking aims at 80 % of it.
# A fourth row per trace: the rule with a warm pool of two.
source "$(dirname "$0")/../lib.sh"
traces=../shared/traces startup=30 config=debug
while [ $# -gt 0 ]; do case $1 in
    --traces) traces=$2; shift 2;;
    --startup) startup=$2; shift 2;;
    --config) config=$2; shift 2;;
    -h|--help) sed -n '2,9p' "$0"; exit 0;;
    *) echo "simulate-traces.sh: unknown argument: $1" >&2; exit 64;;
esac; done
[ -d "$traces" ] || fail "no traces at $traces"
swift build -c "$config" --product scheduler 2>&1 | tail -1 >&2
BIN=$(swift build -c "$config" --show-bin-path)
temp_dir work

echo "| trace | policy | instance-hours | τ_U % | θ_U % | θ_O % | k % | actions |"
echo "|---|---|---|---|---|---|---|---|"
for trace in "$traces"/*.csv; do
    name=$(basename "$trace" .csv)
    peak=$(python3 -c 'import csv,sys; print(max(float(r[1]) for r in csv.reader(open(sys.argv[1])) if r and r[0].replace(".","",1).isdigit()))' "$trace")
    capacity=$(python3 -c "print(round($peak / 20, 3))")
    up=$(python3 -c "print(round($capacity * 10, 3))")
    down=$(python3 -c "print(round($capacity * 10 / 4, 3))")
    target=$(python3 -c "print(round($capacity * 10 * 0.8, 3))")
    for policy in threshold target predictive warm; do
        args=(simulate "$trace" --capacity "$capacity" --startup "$startup" --max 25 --json "$work/r.json")
        label=$policy
        case $policy in
            threshold|predictive) args+=(--policy "$policy" --scale-up-threshold "$up" --scale-down-threshold "$down");;
            target) args+=(--policy target --target "$target");;
            # The rule with a warm pool of 2 (a member serves 1 s after it is taken) and a 5 s
            # scale-up cooldown: the 30 s one was set for cold starts. Pool members are not in
            # the instance-hours; their held hours are in the label.
            warm) args+=(--policy threshold --scale-up-threshold "$up" --scale-down-threshold "$down" --warm-pool 2 --scale-up-cooldown 5);;
        esac
        "$BIN/scheduler" "${args[@]}" > "$work/out.txt" || fail "scheduler ${args[*]}"
        [ "$policy" = warm ] && label="threshold + warm pool 2 ($(awk '/warm pool/ {print $3}' "$work/out.txt") member-h)"
        json '"| %s (capacity %s req/s) | %s | %.1f | %.2f | %.2f | %.1f | %.2f | %d |" % ("'"$name"'", "'"$capacity"'", "'"$label"'", d["instanceSeconds"] / 3600, d["metrics"]["tauU"], d["metrics"]["thetaU"], d["metrics"]["thetaO"], d["metrics"]["instability"], d["actions"])' < "$work/r.json"
    done
done
