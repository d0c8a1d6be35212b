#!/usr/bin/env bash
# Regenerates the README's pictures from a real run: scripts/demo.sh (short spike, process
# instances) is run once; excerpts of its real output (the balancer serving, the scheduler scaling
# up, scaling down, the client's requests) are rendered as terminal pictures by headless Chromium,
# and the dashboard is captured mid-run through the DevTools protocol.
#   scripts/screenshots.sh [--debug]     writes images/*.png (a release build unless --debug)
source "$(dirname "$0")/lib.sh"
demoArgs=(--fast --duration 45 --non-interactive)
[ "${1:-}" = --debug ] && demoArgs+=(--debug)   # demo.sh builds release unless told --debug
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || fail "needs chromium (apt-get install -y chromium)"
temp_dir work
mkdir -p images

scripts/demo.sh "${demoArgs[@]}" > "$work/demo.log" 2>&1 &
demo=$!
at_exit "kill -TERM $demo 2>/dev/null; wait $demo 2>/dev/null"
demo_serving() {
    kill -0 "$demo" 2>/dev/null || { tail -20 "$work/demo.log" >&2; fail "demo.sh exited"; }
    [ "$(status_field 8090 inService)" = 2 ]
}
# The first release build takes ~12 minutes.
wait_for 1200 "the demo's 2 instances" demo_serving
python3 scripts/dashboard-cdp.py http://127.0.0.1:8090/ --timeout 60 --expect in-service=3 --contains "scale up: " \
    --run "sleep 8" --screenshot images/dashboard.png 1280x1500 --screenshot images/dashboard-phone.png 390x1700
wait "$demo"

# A terminal picture: the lines given on stdin, as a dark terminal would show them.
render() { # $1 name (its lines in $work/$1.lines), $2 title
    python3 - "$work/$1.html" "$2" "$work/$1.lines" <<'PY'
import html, sys
lines = open(sys.argv[3]).read().splitlines()
colours = {"[loadbalancer]": "#56b6c2", "[scheduler]": "#e5c07b", "[clientsim]": "#98c379", "[demo]": "#ffffff"}
out = []
for line in lines:
    tag = line.split(" ", 1)[0]
    rest = line[len(tag):]
    out.append(f'<span style="color:{colours.get(tag, "#abb2bf")}">{html.escape(tag)}</span>{html.escape(rest)}')
page = f"""<!doctype html><meta charset="utf-8"><body style="margin:0;background:#1e2127">
<div style="font:13px/1.45 'DejaVu Sans Mono',monospace;color:#abb2bf;padding:10px 14px;white-space:pre">
<div style="color:#5c6370;margin-bottom:6px">$ scripts/demo.sh   # {html.escape(sys.argv[2])}</div>{chr(10).join(out)}</div></body>"""
open(sys.argv[1], "w").write(page)
PY
    local height=$(( $(wc -l < "$work/$1.lines") * 19 + 60 ))
    "$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1500,$height \
        --screenshot="images/$1.png" "file://$work/$1.html" >/dev/null 2>&1
    echo "images/$1.png"
}
strip() { sed -E 's/^(\[[a-z]+\]) [0-9T:+-]+ (info|warning|error) [a-z.]+: /\1 /; s/ \[[A-Za-z]+\]//'; }
grep -E '^\[(loadbalancer|demo)\]' "$work/demo.log" | strip | head -14 > "$work/terminal-loadbalancer.lines"
render terminal-loadbalancer "the balancer running" 
grep -E '^\[(scheduler|loadbalancer)\]' "$work/demo.log" | strip | grep -A6 -m1 -E 'scale up: [0-9.]+ req' > "$work/terminal-scale-up.lines"
render terminal-scale-up "the scheduler scaling up under the spike" 
grep -E '^\[(scheduler|loadbalancer)\]' "$work/demo.log" | strip | grep -A6 -m1 -E 'scale down: ' > "$work/terminal-scale-down.lines"
render terminal-scale-down "the scheduler scaling down after it" 
grep -E '^\[clientsim\]' "$work/demo.log" | strip > "$work/terminal-clientsim.lines"
render terminal-clientsim "the client's requests and summary" 
