#!/usr/bin/env bash
# Fuzzes the parsers and edits that take outside input, with libFuzzer (swiftc
# -sanitize=fuzzer,address on our modules):
#   proxy-request      a client's bytes through the balancer's real handlers (in-memory channels)
#   backend-response   a backend's answer through the same handlers
#   http1-wire         the balancer's HTTP/1.1 decoder against NIOHTTP1's on the same bytes
#   api-bodies         the APIs' request policy, backend registrations, scale requests, stats JSON
#   csv                request-rate traces (and their simulation), HAProxy's `show stat`
#   config-file        the scheduler's --config JSON through its merge and checks
#   domain-xml         a template's domain XML through a clone's edits; our metadata element
#
# Usage: scripts/fuzz.sh [TARGET...] [--seconds N] [--scratch-path DIR] [--seed N]
#   TARGET          one or more of the above (default: all)
#   --seconds N     how long each runs (default 60; CI runs 30 from scripts/test.sh)
#   --scratch-path  where to build (default .build-fuzz: the everyday .build keeps its flags)
#   --seed N        libFuzzer's random seed (default: a new one each run); CI fixes it, so that
#                   a red run is one anybody can repeat
#
# Seeds are in Tests/FuzzCorpus/TARGET/ (and TARGET.dict, a libFuzzer dictionary); what a run
# finds new goes to a temporary corpus, so the repository is never written. A crash, a sanitizer
# report, a broken invariant or a hang (10 s per input) fails the script and leaves the input in
# SCRATCH/findings/; rerun it with `SCRATCH/debug/fuzz-TARGET SCRATCH/findings/FILE`.
source "$(dirname "$0")/lib.sh"

all_targets=(proxy-request backend-response http1-wire api-bodies csv config-file domain-xml)
targets=()
seconds=60
scratch=.build-fuzz
seed=()
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
        --scratch-path) scratch=${2:?--scratch-path needs a directory}; shift 2 ;;
        --seed) [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "fuzz: --seed needs a number" >&2; exit 64; }; seed=(-seed="$2"); shift 2 ;;
        -h|--help) sed -n '2,/^source/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz: unknown option $1 (see --help)" >&2; exit 64 ;;
        *)
            [[ " ${all_targets[*]} " == *" $1 "* ]] || { echo "fuzz: no target '$1'; targets: ${all_targets[*]}" >&2; exit 64; }
            targets+=("$1"); shift ;;
    esac
done
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] || { echo "fuzz: --seconds must be a whole number ≥ 1" >&2; exit 64; }
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

resource_dir=$(dirname "$(swiftc -print-target-info | json 'd["paths"]["runtimeResourcePath"]')")
archive=$(find "$resource_dir/clang" -name 'libclang_rt.fuzzer_no_main-x86_64.a' 2>/dev/null | head -1 || true)
[ -n "$archive" ] || archive=$(find "$(dirname "$(command -v swiftc)")/../lib" -name 'libclang_rt.fuzzer_no_main-*.a' 2>/dev/null | head -1 || true)
[ -n "$archive" ] || fail "this toolchain has no libclang_rt.fuzzer_no_main (libFuzzer): cannot fuzz"
export AUTOSCALER_FUZZ=$archive

log "building ${targets[*]} in $scratch (our modules instrumented: coverage + AddressSanitizer)"
mkdir -p "$scratch"
for target in "${targets[@]}"; do
    swift build --scratch-path "$scratch" --product "fuzz-$target" >"$scratch/fuzz-build.log" 2>&1 ||
        { grep -E "error:" "$scratch/fuzz-build.log" | head -20 >&2; fail "cannot build fuzz-$target (log: $scratch/fuzz-build.log)"; }
done

findings=$scratch/findings
mkdir -p "$findings"
temp_dir work
export SWIFT_BACKTRACE=enable=no                  # the runtime's backtracer would hold a crash for seconds
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1  # the Swift runtime's caches are not leaks
failed=()
for target in "${targets[@]}"; do
    corpus=$work/$target
    mkdir -p "$corpus"
    seeds=Tests/FuzzCorpus/$target
    dict=()
    [ -f "Tests/FuzzCorpus/$target.dict" ] && dict=(-dict="Tests/FuzzCorpus/$target.dict")
    output=$work/$target.log
    status=0
    timeout $((seconds + 120)) "$scratch/debug/fuzz-$target" "$corpus" "$seeds" "${dict[@]}" "${seed[@]}" \
        -max_total_time="$seconds" -timeout=10 -max_len=4096 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$findings/$target-" > "$output" 2>&1 || status=$?
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$output" | grep -o '[0-9]*$' || echo 0)
    coverage=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$output" | tail -1 || true)
    found=$(grep -Eo "Test unit written to [^ ]*" "$output" | sed 's/Test unit written to //' | tail -1 || true)
    printf '%-18s %9s runs in %s s (%s/s), %s, corpus %s\n' "$target" "$runs" "$seconds" "$((runs / seconds))" \
        "${coverage:-cov: ?}" "$(ls "$corpus" | wc -l)"
    if [ "$status" -ne 0 ]; then
        grep -E "invariant broken|Fatal error|ERROR: AddressSanitizer|ERROR: libFuzzer|SUMMARY" "$output" | head -5 >&2 || true
        tail -40 "$output" > "$findings/$target.log"
        log "$target: FOUND a failing input: ${found:-none written (exit $status)}; log: $findings/$target.log"
        failed+=("$target")
    fi
done
[ ${#failed[@]} -eq 0 ] || fail "${failed[*]}"
log "no crash in ${targets[*]} (${seconds} s each)"
