#!/usr/bin/env bash
# TLS termination side by side: the balancer and HAProxy on the same certificate (EC P-256,
# made here by openssl), one core each (CPU 0), in front of the same two nginx backends (CPU 1),
# driven by wrk -t1 (CPU 1) over https: keep-alive, and a new connection (full handshake) per
# request (`Connection: close`). Medians of the rounds; prints a table and the ratio line.
#
# usage: scripts/bench/tls-vs-haproxy.sh [--rounds R] [--seconds S] [--conns C]
#   LB_BIN  the balancer binary (default .build/release/loadbalancer; built if missing)
source "$(dirname "$0")/../lib.sh"
rounds=3 seconds=5 conns=64
while [ $# -gt 0 ]; do case $1 in
  --rounds) rounds=$2; shift 2;; --seconds) seconds=$2; shift 2;; --conns) conns=$2; shift 2;;
  *) echo "unknown flag $1" >&2; exit 64;; esac; done
ensure_packages wrk haproxy nginx-light openssl util-linux
balancer_binary
temp_dir work
base=$((21000 + RANDOM % 10000)); b1=$((base + 1)) b2=$((base + 2)) hap=$((base + 11)) lb=$((base + 12)) admin=$((base + 13))
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" > "$work/haproxy.pem"
NGINX_CPUS=1 nginx_backends "$work" $b1 $b2
{ echo "global"; echo "  nbthread 1"; echo "  maxconn 8192"
  echo "defaults"; echo "  mode http"; echo "  timeout connect 5s"; echo "  timeout client 30s"; echo "  timeout server 30s"; echo "  http-reuse always"
  echo "frontend fe"; echo "  bind 127.0.0.1:$hap ssl crt $work/haproxy.pem alpn http/1.1 ssl-min-ver TLSv1.2"; echo "  default_backend be"
  echo "backend be"; echo "  balance roundrobin"; echo "  server s1 127.0.0.1:$b1"; echo "  server s2 127.0.0.1:$b2"; } > "$work/haproxy.cfg"
background taskset -c 0 haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1
background taskset -c 0 "$LB_BIN" --port $lb --admin-port $admin --threads 1 --backend 127.0.0.1:$b1 --backend 127.0.0.1:$b2 \
    --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --log-level error >"$work/lb.log" 2>&1
for port in $hap $lb; do wait_for 20 "https on $port" curl -fsk -m 1 -o /dev/null "https://127.0.0.1:$port/"; done

# one wrk run: "rps p99_ms errors"
one() { local out; out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${seconds}s" --latency "$@" 2>&1)
  awk -v o="$out" 'BEGIN{ n=split(o, L, "\n"); rps=0; p99="nan"; err=0
    for(i=1;i<=n;i++){ split(L[i], f, " ");
      if (L[i] ~ /Requests\/sec/) rps=f[2];
      if (L[i] ~ /^ +99%/) { v=f[2]; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; p99=v }
      if (L[i] ~ /Non-2xx|Socket errors/) err=1 }
    printf "%s %s %s\n", rps, p99, err }'; }
med() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END{ if (NR==0) print "nan"; else print a[int((NR+1)/2)] }'; }
declare -A rps p99 errs
for mode in keepalive close; do
  for name in haproxy lb; do
    port=$([ $name = haproxy ] && echo $hap || echo $lb)
    args=("https://127.0.0.1:$port/"); [ $mode = close ] && args=(-H "Connection: close" "${args[@]}")
    one "${args[@]}" >/dev/null   # warm-up
    for _ in $(seq 1 "$rounds"); do read -r a b e < <(one "${args[@]}"); rps[$name-$mode]+="$a "; p99[$name-$mode]+="$b "; errs[$name-$mode]+="$e "; done
  done
done
printf "%-18s %12s %10s %s\n" "proxy/connections" "req/s(med)" "p99 ms" "rounds req/s"
for key in haproxy-keepalive lb-keepalive haproxy-close lb-close; do
  printf "%-18s %12s %10s %s%s\n" "$key" "$(echo ${rps[$key]} | med)" "$(echo ${p99[$key]} | med)" "${rps[$key]}" \
    "$(case "${errs[$key]}" in *1*) echo ' (errors seen)';; esac)"
done
awk -v a="$(echo ${rps[lb-keepalive]} | med)" -v b="$(echo ${rps[haproxy-keepalive]} | med)" \
    -v c="$(echo ${rps[lb-close]} | med)" -v d="$(echo ${rps[haproxy-close]} | med)" \
    'BEGIN{ printf "tls lb/haproxy: keep-alive=%.2f new-connection=%.2f\n", a/b, c/d }'
