#!/usr/bin/env bash
# CI sanitizer step (docs/RELIABILITY.md): the whole ctest suite once more, every target compiled
# with AddressSanitizer + UndefinedBehaviorSanitizer (-DRN_SANITIZE=ON, gcc), in its own build folder.
# Any ASan/UBSan/LeakSanitizer report fails the test that triggered it (-fno-sanitize-recover=all).
#   bash tools/test-sanitize.sh        (after tools/install-deps.sh; BUILD_DIR overrides ./build-asan)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-asan}
t0=$(date +%s)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRN_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
t1=$(date +%s)
echo "test-sanitize: build took $((t1 - t0)) s"
ctest --test-dir "$build" --output-on-failure --timeout 900
echo "test-sanitize: ctest took $(( $(date +%s) - t1 )) s"
