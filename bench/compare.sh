#!/usr/bin/env bash
# Runs resnet-bench and PyTorch's torchvision equivalent back to back, same batch, same threads,
# and prints the ratio. This machine is shared and noisy: compare ratios from one run, not seconds.
#
#   bench/compare.sh [--mode train|infer] [--batch N] [--iters K] [--arch resnet50] [--config FILE]
#
# Default pairing: torchvision resnet50 (v1.5: stride on the 3x3, no biases) against our
# resnet50v1 config with stride_in_3x3=yes — the same network, op for op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build}
mode=train batch=32 iters=3 arch=resnet50 config=$root/configs/resnet50v1.ini
sets=(--set model.stride_in_3x3=yes)
while [ $# -gt 0 ]; do
  case $1 in
    --mode) mode=$2; shift 2;;
    --batch) batch=$2; shift 2;;
    --iters) iters=$2; shift 2;;
    --arch) arch=$2; shift 2;;
    --config) config=$2; sets=(); shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
threads=${OMP_NUM_THREADS:-$(nproc)}
export OMP_NUM_THREADS=$threads
ours=$("$build/bench/resnet-bench" "$config" "${sets[@]}" --mode "$mode" --batch "$batch" --iters "$iters")
theirs=$(/usr/bin/python3 "$here/torch_resnet.py" --arch "$arch" --mode "$mode" --batch "$batch" --iters "$iters" --threads "$threads")
echo "resnet.c: $ours"
echo "pytorch:  $theirs"
a=$(sed -n 's/.*img_per_s=\([0-9.]*\).*/\1/p' <<<"$ours")
b=$(sed -n 's/.*img_per_s=\([0-9.]*\).*/\1/p' <<<"$theirs")
awk -v a="$a" -v b="$b" -v m="$mode" -v t="$threads" 'BEGIN { printf "ratio (%s, %d threads): resnet.c / pytorch = %.2fx\n", m, t, a / b }'
