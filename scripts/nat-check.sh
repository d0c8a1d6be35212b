#!/usr/bin/env bash
# The real-VM check on a libvirt NAT network; run inside scripts/nat-sandbox.sh (test.sh does):
#
#   scripts/nat-sandbox.sh scripts/nat-check.sh BIN
#
# BIN holds the built executables. A balancer on loopback; scale-up clones two VMs, which get
# their addresses from the network's DHCP server and are registered at LEASE:80; clients go
# through the balancer while scale-down drains and deletes one (no failed request); a deleted
# VM's lease is released and its domain and disk are gone. Prints the lease waits.
source "$(dirname "$0")/lib.sh"

BIN=${1:?usage: $0 BIN}
NET=autoscaler
[ -n "$(ip netns identify)" ] || fail "not in a network namespace: run it through scripts/nat-sandbox.sh"
temp_dir work
images=${AUTOSCALER_IMAGE_DIR:-/var/lib/autoscaler/images}
leases() { virsh -q net-dhcp-leases "$NET" 2>/dev/null | awk 'NF { sub("/.*", "", $5); print $5, $6 }'; }
domains() { virsh -q list --all --name | sed '/^$/d' | sort; }
before_domains=$(domains)
before_files=$(ls "$images" | sort)

"$BIN/loadbalancer" --log-level warning >"$work/lb.log" 2>&1 &
lb=$!
at_exit "kill $lb 2>/dev/null; wait $lb 2>/dev/null"
lb_up() { curl -fsS -m 1 -o /dev/null http://127.0.0.1:8081/api/v1/backends 2>/dev/null; }
wait_for 20 "the balancer" lb_up

names=()
for i in 1 2; do
    t0=$(date +%s.%N)
    out=$("$BIN/scale-up" --provider libvirt --register http://127.0.0.1:8081 --timeout 120 2>"$work/up$i.log") ||
        { cat "$work/up$i.log" >&2; fail "scale-up on the NAT network failed"; }
    t1=$(date +%s.%N)
    read -r name endpoint <<<"$out"
    names+=("$name")
    at_exit "'$BIN/scale-down' --provider libvirt '$name' >/dev/null 2>&1"
    [[ "$endpoint" == 192.168.150.*:80 ]] || fail "$name's endpoint is '$endpoint', not its lease on the NAT network at port 80"
    leases | grep -qx "${endpoint%:80} $name" || fail "no lease for $name at ${endpoint%:80}: $(leases)"
    lease_ms=$(sed -n 's/.*lease_ms=\([0-9]*\).*address from the network.*/\1/p' "$work/up$i.log")
    [ -n "$lease_ms" ] || fail "scale-up logged no lease wait"
    echo "$name leased ${endpoint%:80}: lease wait $lease_ms ms after start, scale-up to serving $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s"
done

# Both serve through the balancer.
declare -A seen=()
for _ in $(seq 1 20); do
    seen[$(curl -fsS -m 5 http://127.0.0.1:8080/)]=1
done
[ "${#seen[@]}" = 2 ] || fail "the balancer reached ${!seen[*]}, not both VMs"

"$BIN/clientsim" constant --rate 20 --duration 300 --url http://127.0.0.1:8080/ --json "$work/client.json" --log-level error >/dev/null 2>&1 &
client=$!
at_exit "kill $client 2>/dev/null"
sleep 2
gone=${names[1]}
address=$(leases | awk -v n="$gone" '$2 == n { print $1 }')
[ -n "$address" ] || fail "no lease listed for $gone: $(leases)"
t0=$(date +%s.%N)
"$BIN/scale-down" --provider libvirt --drain http://127.0.0.1:8081 "$gone" 2>"$work/down.log" ||
    { cat "$work/down.log" >&2; fail "scale-down on the NAT network failed"; }
t1=$(date +%s.%N)
sleep 2
kill -TERM "$client"
wait "$client" || true
python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); e=sum(r["errors"].values()); l=r["latencyMilliseconds"]
print("clients through the balancer: %d sent, %d ok, %d errors; p50 %.1f ms, p99 %.1f ms" % (r["sent"], r["ok"], e, l["p50"], l["p99"]))
sys.exit(1 if e or r["ok"] == 0 else 0)' "$work/client.json" || fail "clients saw errors while $gone was removed"
echo "scale-down $gone (drain, clean shutdown, delete): $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s"
grep -q "guest did not shut down in time" "$work/down.log" && fail "$gone did not shut down on the power button"
released() { ! leases | grep -q "^$address "; }
wait_for 10 "the lease of $gone ($address) to be released" released
echo "$gone's lease $address released"

"$BIN/scale-down" --provider libvirt "${names[0]}" >/dev/null 2>&1 || fail "scale-down ${names[0]} failed"
no_leases() { [ -z "$(leases)" ]; }
wait_for 10 "every lease released" no_leases
[ "$(domains)" = "$before_domains" ] || fail "domains left: $(domains)"
[ "$(ls "$images" | sort)" = "$before_files" ] || fail "files left in $images: $(ls "$images")"
echo "nothing left: no lease, domain or disk"
