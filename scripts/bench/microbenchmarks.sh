#!/usr/bin/env bash
# Microbenchmarks of the load balancer's per-request hot path (ordo-one/benchmark), in release mode.
# Built in .build-bench with AUTOSCALER_BENCHMARKS set, so the everyday build never compiles the
# benchmark package. Extra arguments go to `swift package benchmark` (e.g. --filter 'pick.*').
set -euo pipefail
cd "$(dirname "$0")/../.."
export AUTOSCALER_BENCHMARKS=1
exec swift package --scratch-path .build-bench --disable-sandbox benchmark "$@"
