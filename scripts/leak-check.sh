#!/usr/bin/env bash
# Runs the libvirt wrapper's tests (and the libvirt provider's) under AddressSanitizer with
# LeakSanitizer, in a separate build folder (.build-asan: the first build takes a few minutes).
# Exits non-zero when any leak or memory error is found.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-build-deps.sh
swift build --build-tests --sanitize=address --scratch-path .build-asan
ASAN_OPTIONS=detect_leaks=1 swift test --sanitize=address --scratch-path .build-asan --skip-build --disable-xctest \
    --filter "LibvirtTests|LibvirtProviderTests|InstanceMetadataTests"
echo "leak-check: no leaks, no memory errors"
