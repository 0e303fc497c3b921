#!/usr/bin/env bash
# Regenerates the seed corpora of tests/fuzz/corpus/ (docs/RELIABILITY.md): tiny models from our own
# exporter and checkpoint writer, libjpeg-turbo JPEGs, PNGs (tests/png_write.h) and dataset scripts (tests/fuzz/make_corpus.c),
# and config seeds copied from configs/ plus a few written here; and the crafted regression inputs
# of tests/fuzz/regress/ (tests/fuzz/make_regress.c; the crash-* files the fuzzer found stay as they are).
#   bash tools/fuzz-corpus.sh        (BUILD_DIR overrides ./build; builds fuzz_make_corpus there)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
corpus=$root/tests/fuzz/corpus
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)" --target fuzz_make_corpus
for h in onnx checkpoint jpeg png dataset config; do rm -rf "${corpus:?}/$h"; done
mkdir -p "$corpus/config"
"$build/tests/fuzz/fuzz_make_corpus" "$corpus"
"$build/tests/fuzz/fuzz_make_corpus" --regress "$root/tests/fuzz/regress"

c=$corpus/config
cp "$root/configs/fashion-mnist-resnet18v2.ini" "$c/fashion-mnist-resnet18v2.ini"
cp "$root/configs/resnet50v1.ini" "$c/resnet50v1.ini"
cp "$root/configs/resnet18v2.ini" "$c/resnet18v2.ini"
# A small network the harness also builds, every section, and overrides after the 0x01 byte.
cat > "$c/tiny-all-sections.ini" <<'INI'
[model]
blocks = 1, 1
bottleneck = no
version = 1
num_classes = 4
width = 8
stem = small
input_size = 16
stride_in_3x3 = yes
zero_init_residual = on

[data]
train_dir = data/train  # trailing comment
size = 16
resize = 18
batch_size = 8
mean = 0.5, 0.5, 0.5

[augment]
flip = no
scale_min = 0.25
pad_crop = 2
brightness = 0.4

[train]
epochs = 3
label_smoothing = 0.1

[optim]
; a comment
lr = 0.05

[schedule]

[checkpoint]
every_steps = 5

[export]
onnx = no
INI
printf '[model]\ndepth = 0\nblocks = 2\nbottleneck = yes\nwidth = 4\ninput_size = 32\n\x01model.version=1\nmodel.num_classes=7\ndata.size=8\n' \
  > "$c/overrides.ini"
du -sh "$corpus"; find "$corpus" -type f | wc -l
