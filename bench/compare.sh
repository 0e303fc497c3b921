#!/usr/bin/env bash
# Runs resnet-bench and PyTorch's torchvision equivalent back to back, same batch, same threads,
# and prints the ratio. This machine is shared and noisy: compare ratios from one run, not seconds.
#
#   bench/compare.sh [--mode train|infer] [--batch N] [--iters K] [--arch resnet50] [--config FILE]
#                    [--peer torch1.13|torch2.6] [--autocast none|bf16] [--ours debian12|debian13]
#
# Default pairing: torchvision resnet50 (v1.5: stride on the 3x3, no biases) against our
# resnet50v1 config with stride_in_3x3=yes — the same network, op for op.
# --peer torch1.13 (default) is this Debian 12's python3-torch; torch2.6 runs the same script in a
# Debian 13 root (bench/in-root.sh: $RN_ROOT, default /var/cache/resnet.c/trixie-peer; make it with
# `bench/in-root.sh --make`). --ours debian13 runs our build made in that root ($BUILD_DIR_13,
# default build-trixie, relative to the tree) against oneDNN 3.7 instead of build/ on oneDNN 2.6.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build}
mode=train batch=32 iters=3 arch=resnet50 config=$root/configs/resnet50v1.ini
peer=torch1.13 autocast=none ours_os=debian12
sets=(--set model.stride_in_3x3=yes)
while [ $# -gt 0 ]; do
  case $1 in
    --mode) mode=$2; shift 2;;
    --batch) batch=$2; shift 2;;
    --iters) iters=$2; shift 2;;
    --arch) arch=$2; shift 2;;
    --config) config=$2; sets=(); shift 2;;
    --peer) peer=$2; shift 2;;
    --autocast) autocast=$2; shift 2;;
    --ours) ours_os=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
threads=${OMP_NUM_THREADS:-$(nproc)}
export OMP_NUM_THREADS=$threads
# Both sides run from the tree's root so that relative paths mean the same inside a Debian 13 root
# (the environment, OMP_NUM_THREADS included, goes in with the command).
config=$(realpath --relative-to="$root" "$config")
cd "$root"
case $ours_os in
  debian12) ours_cmd=("$build/bench/resnet-bench");;
  debian13) ours_cmd=("$here/in-root.sh" "${BUILD_DIR_13:-build-trixie}/bench/resnet-bench");;
  *) echo "--ours: debian12 or debian13" >&2; exit 2;;
esac
case $peer in
  torch1.13) peer_cmd=(/usr/bin/python3);;
  torch2.6) peer_cmd=("$here/in-root.sh" /usr/bin/python3);;
  *) echo "--peer: torch1.13 or torch2.6" >&2; exit 2;;
esac
ours=$("${ours_cmd[@]}" "$config" "${sets[@]}" --mode "$mode" --batch "$batch" --iters "$iters")
theirs=$("${peer_cmd[@]}" bench/torch_resnet.py --arch "$arch" --mode "$mode" --batch "$batch" --iters "$iters" \
  --threads "$threads" --autocast "$autocast")
echo "resnet.c ($ours_os): $ours"
echo "pytorch ($peer):  $theirs"
a=$(sed -n 's/.*img_per_s=\([0-9.]*\).*/\1/p' <<<"$ours")
b=$(sed -n 's/.*img_per_s=\([0-9.]*\).*/\1/p' <<<"$theirs")
awk -v a="$a" -v b="$b" -v m="$mode" -v t="$threads" 'BEGIN { printf "ratio (%s, %d threads): resnet.c / pytorch = %.2fx\n", m, t, a / b }'
