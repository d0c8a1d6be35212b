# Shared by the project's scripts. Source it first thing:
#     source "$(dirname "$0")/lib.sh"        (scripts/bench: "$(dirname "$0")/../lib.sh")
# It sets strict mode, changes to the repository root, and gives:
#   log MSG...              a line on stderr, tagged with the script's name
#   fail MSG...             a FAILED line on stderr, exit 1
#   wait_for SECS WHAT CMD...   runs CMD every 0.3 s until it succeeds; fails after SECS
#   at_exit CMD             runs CMD (a string) when the script exits, last registered first;
#                           $EXIT_STATUS holds the script's exit status then
#   temp_dir VAR            a new temporary directory in VAR, removed at exit
#   json EXPR               reads JSON on stdin, prints the Python expression EXPR of it (as d)
#   status_field PORT FIELD the scheduler API's /api/v1/status FIELD on 127.0.0.1:PORT ("" if down)
#   state_dir               where the autoscaler keeps state and its API tokens (as the commands
#                           compute it: $AUTOSCALER_STATE_DIR, $XDG_STATE_HOME/autoscaler, ~/.local/state/autoscaler)
#   scale_to PORT N         POST /api/v1/scale {"desired": N} to the scheduler on 127.0.0.1:PORT,
#                           with the token it keeps in the state directory
#   admin_call METHOD PORT PATH   a mutating call to the balancer's admin API on 127.0.0.1:PORT, with its token
#   haproxy_config SOCKET PORT   the minimal haproxy.cfg the scheduler needs (README, "HAProxy as
#                           the data plane") on stdout: Runtime API at SOCKET (level admin), clients
#                           on 127.0.0.1:PORT, backend web (roundrobin, /healthz checks); append
#                           lines to add to it (a `server` line goes in backend web if it comes first)
#   ensure_packages PKG...  installs the Debian packages not installed yet (as root; otherwise
#                           fails with the apt-get command to run)
#   balancer_binary         sets LB_BIN (default .build/release/loadbalancer), building it when missing
#   background CMD...       runs CMD in the background, stopped (and waited for) when the script exits
#   nginx_backends DIR PORT...  one nginx worker (in the background, on CPUs $NGINX_CPUS when set)
#                           answering "hello from PORT" on each port and "ok" on /healthz; its files in DIR
# Every wait has a timeout; nothing here waits forever.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCRIPT_NAME=${SCRIPT_NAME:-$(basename "$0" .sh)}

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
fail() { printf '%s: FAILED: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }

wait_for() {
    local seconds=$1 what=$2; shift 2
    local until=$((SECONDS + ${seconds%.*}))
    until "$@"; do
        [ "$SECONDS" -lt "$until" ] || fail "timed out after $seconds s waiting for $what"
        sleep 0.3
    done
}

_at_exit=()
at_exit() { _at_exit+=("$1"); }
_run_at_exit() {
    EXIT_STATUS=$?
    local i
    for ((i = ${#_at_exit[@]} - 1; i >= 0; i--)); do eval "${_at_exit[i]}" || true; done
    return "$EXIT_STATUS"
}
trap _run_at_exit EXIT

temp_dir() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/autoscaler-$SCRIPT_NAME.XXXXXX")
    at_exit "rm -rf '$dir'"
    printf -v "$1" '%s' "$dir"
}

json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

status_field() {
    curl -fsS -m 2 "http://127.0.0.1:$1/api/v1/status" 2>/dev/null | json "d[\"$2\"]" 2>/dev/null || true
}

state_dir() {
    if [ -n "${AUTOSCALER_STATE_DIR:-}" ]; then echo "$AUTOSCALER_STATE_DIR"
    elif [ -n "${XDG_STATE_HOME:-}" ]; then echo "$XDG_STATE_HOME/autoscaler"
    else echo "$HOME/.local/state/autoscaler"; fi
}

scale_to() {
    curl -fsS -m 5 -X POST -H "Content-Type: application/json" -H "Authorization: Bearer $(cat "$(state_dir)/scheduler-$1.token")" \
        -d "{\"desired\": $2}" "http://127.0.0.1:$1/api/v1/scale"
}

admin_call() {
    curl -fsS -m 5 -X "$1" -H "Authorization: Bearer $(cat "$(state_dir)/loadbalancer-$2.token")" "http://127.0.0.1:$2$3"
}

haproxy_config() {
    cat <<CFG
global
    master-worker
    stats socket $1 mode 600 level admin expose-fd listeners
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend web
    bind 127.0.0.1:$2
    default_backend web
backend web
    balance roundrobin
    option httpchk GET /healthz
CFG
}

ensure_packages() {
    local p missing=()
    for p in "$@"; do
        [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    if [ "$(id -u)" -ne 0 ]; then
        fail "missing packages; run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    fi
    log "installing ${missing[*]}"
    (
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    )
}

# remove_created BIN PROVIDER STATE_DIR: deletes every instance the benchmarks' schedulers made,
# warm-pool members too (scale-down without a name skips them): libvirt web_vm3 and up, or every
# process instance recorded in STATE_DIR.
remove_created() {
    local bin=$1 provider=$2 state=$3 vm f
    if [ "$provider" = libvirt ]; then
        for vm in $(virsh -q list --all --name | grep -E '^web_vm([3-9]|[1-9][0-9])$' || true); do
            "$bin/scale-down" --provider libvirt "$vm" >/dev/null 2>&1 || true
        done
    else
        for f in "$state"/instances/*.json; do
            [ -e "$f" ] || continue
            "$bin/scale-down" --provider process --state-dir "$state" "$(basename "$f" .json)" --log-level error >/dev/null 2>&1 || true
        done
    fi
}

balancer_binary() {
    LB_BIN=${LB_BIN:-.build/release/loadbalancer}
    [ -x "$LB_BIN" ] || swift build -c release --product loadbalancer >&2
}

_background=()
background() {
    "$@" &
    _background+=($!)
    [ ${#_background[@]} -gt 1 ] || at_exit 'for p in "${_background[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true'
}

nginx_backends() {
    local dir=$1 port; shift
    { echo "worker_processes 1; daemon off; pid $dir/nginx.pid; error_log $dir/nginx.err; events { worker_connections 8192; }"
      echo "http { access_log off; keepalive_requests 1000000;"
      for port in "$@"; do echo "server { listen 127.0.0.1:$port; location / { return 200 'hello from $port\n'; } location /healthz { return 200 'ok'; } }"; done
      echo "}"; } > "$dir/nginx.conf"
    background ${NGINX_CPUS:+taskset -c "$NGINX_CPUS"} nginx -c "$dir/nginx.conf" -p "$dir"
}
