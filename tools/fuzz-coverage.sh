#!/usr/bin/env bash
# Line coverage of the code each fuzz harness targets, from a corpus (docs/RELIABILITY.md): builds the
# replay programs with clang's source-based coverage, replays the corpus, and prints llvm-cov's report
# for the harness's target files.
#   bash tools/fuzz-coverage.sh HARNESS [CORPUS_DIR...]   (default: the seed corpus; BUILD_DIR=./build-cov)
# Needs clang and llvm (llvm-profdata, llvm-cov).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-cov}
h=$1
shift
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=("$root/tests/fuzz/corpus/$h")
declare -A targets=(
  [config]="src/ini.c src/config.c src/config_train.c data/opts.c src/resnet.c"
  [onnx]="export/onnx_import.c export/onnx_export.c export/onnx_wire.c layers/graph.c"
  [checkpoint]="optim/checkpoint.c layers/graph.c layers/ref.c"
  [jpeg]="data/image.c data/jpeg.c data/transform.c data/resample.c"
  [png]="data/image.c data/png.c data/transform.c data/resample.c"
  [dataset]="data/dataset.c")
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" >/dev/null
cmake --build "$build" -j"$(nproc)" --target "fuzz_${h}_replay" >/dev/null
prof=$build/fuzz-cov-$h
rm -rf "$prof" && mkdir -p "$prof"
LLVM_PROFILE_FILE="$prof/%p.profraw" "$build/tests/fuzz/fuzz_${h}_replay" --known "$root/tests/fuzz/regress/KNOWN" \
  "${dirs[@]}" "$root/tests/fuzz/regress/$h"
llvm-profdata merge -sparse "$prof"/*.profraw -o "$prof/merged.profdata"
files=()
for f in ${targets[$h]}; do [ -f "$root/$f" ] && files+=("$root/$f"); done
llvm-cov report "$build/tests/fuzz/fuzz_${h}_replay" -instr-profile="$prof/merged.profdata" "${files[@]}"
