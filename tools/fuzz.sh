#!/usr/bin/env bash
# CI fuzz step (docs/RELIABILITY.md): builds the libFuzzer harnesses of tests/fuzz with clang under
# ASan+UBSan, then runs each on its seed corpus and regression inputs for a bounded time with a fixed
# seed. Fails when any harness crashes, leaks, times out or runs out of memory, and prints the path of
# the input that did it.
#   bash tools/fuzz.sh [harness...]      (default: all; FUZZ_SECONDS=60 per harness, BUILD_DIR=./build-fuzz)
# Inputs found on the way land in $BUILD_DIR/fuzz-work/<harness>, emptied at each run so CI starts from
# the same corpus; FUZZ_WORK=DIR keeps them in DIR/<harness> across runs instead (long campaigns).
# Crash files go to $BUILD_DIR/fuzz-artifacts/<harness>/; keep each in tests/fuzz/regress/<harness>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(config onnx checkpoint jpeg png dataset)
# Largest input the fuzzer may build, per harness: a few times the largest seed.
declare -A max_len=([config]=4096 [onnx]=32768 [checkpoint]=32768 [jpeg]=16384 [png]=16384 [dataset]=2048)

t0=$(date +%s)
if ! echo '#include <omp.h>' | clang -fopenmp -x c -fsyntax-only - 2>/dev/null; then
  echo "fuzz: clang finds no OpenMP (omp.h): install libomp-dev" >&2
  exit 1
fi
# Coverage instrumentation (fuzzer-no-link) on every target, so libFuzzer sees the code under test.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DRN_SANITIZE=ON -DRN_FUZZ=ON -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link -g" >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_all
echo "fuzz: build took $(( $(date +%s) - t0 )) s"

# Same contract as the replay tests: inputs listed in regress/KNOWN are skipped.
known=$(grep -v '^\s*#' "$root/tests/fuzz/regress/KNOWN" 2>/dev/null | awk 'NF {print $1}' || true)
failed=()
for h in "${harnesses[@]}"; do
  work=${FUZZ_WORK:-$build/fuzz-work}/$h seeds=$build/fuzz-seeds/$h art=$build/fuzz-artifacts/$h
  [ -n "${FUZZ_WORK:-}" ] || rm -rf "$work"
  rm -rf "$seeds" "$art" && mkdir -p "$work" "$seeds" "$art"
  cp "$root/tests/fuzz/corpus/$h"/* "$seeds"/
  for f in "$root/tests/fuzz/regress/$h"/*; do
    [ -f "$f" ] || continue
    grep -qxF "$h/$(basename "$f")" <<<"$known" && { echo "fuzz: $h: skipping known $(basename "$f")"; continue; }
    cp "$f" "$seeds"/
  done
  t1=$(date +%s)
  # -timeout: one input taking 10 s is a hang (the slowest seed takes milliseconds);
  # -rss_limit_mb: also the malloc limit, so a single oversized allocation is a finding.
  if ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     "$build/tests/fuzz/fuzz_$h" -seed=1 -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
       -max_len="${max_len[$h]}" -print_final_stats=1 -artifact_prefix="$art/" "$work" "$seeds" \
       > "$build/fuzz-$h.log" 2>&1; then
    echo "fuzz: $h: ok, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz-$h.log" | awk '{print $2}') executions in $(( $(date +%s) - t1 )) s, $(grep -E '^#[0-9]+.*(DONE|pulse)' "$build/fuzz-$h.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')"
  else
    tail -60 "$build/fuzz-$h.log"
    for a in "$art"/*; do [ -f "$a" ] && echo "fuzz: $h: CRASH input kept at $a"; done
    failed+=("$h")
  fi
done
echo "fuzz: total $(( $(date +%s) - t0 )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (logs: $build/fuzz-<harness>.log)"
  exit 1
fi
