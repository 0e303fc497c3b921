#!/usr/bin/env bash
# Weak scaling on one machine (issue 11): per-rank throughput of 2 MPI ranks x 1 thread against
# 1 rank x 1 thread, same per-rank batch, alternating the two ROUNDS times so that drift in a shared
# machine's speed falls on both. A third column runs two *independent* 1-rank processes at once
# (no MPI, one core each): what sharing the machine costs by itself, so that what remains is the
# cost of synchronous training (all-reduce plus waiting for the slower rank).
#   bench/mpi_weak_scaling.sh [CONFIG] [BATCH] [ITERS] [ROUNDS]
#   (default: the demo network at its own batch_size, 128, 20 iterations, 3 rounds)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cfg=${1:-$root/configs/fashion-mnist-resnet18v2.ini} batch=${2:-128} iters=${3:-20} rounds=${4:-3}
bench=${BUILD_DIR:-$root/build}/bench/resnet-bench
M=(mpirun --allow-run-as-root --oversubscribe --bind-to core)
args=("$cfg" --batch "$batch" --iters "$iters" --threads 1)
ips() { grep -o 'img_per_s=[0-9.]*' | tail -1 | cut -d= -f2; }
printf '%-6s %12s %18s %14s %16s\n' round 1rank_img_s 2ranks_per_rank 2indep_each wait_ms_per_step
for r in $(seq "$rounds"); do
  one=$("${M[@]}" -np 1 "$bench" "${args[@]}" 2>&1 | ips)
  two=$("${M[@]}" -np 2 "$bench" "${args[@]}" 2>&1 | grep 'ranks=')
  per=$(grep -o 'per_rank_img_per_s=[0-9.]*' <<<"$two" | cut -d= -f2)
  wait=$(grep -o 'allreduce_wait_ms=[0-9.]*' <<<"$two" | cut -d= -f2)
  a=$(mktemp) b=$(mktemp)
  taskset -c 0 "$bench" "${args[@]}" >"$a" 2>&1 & taskset -c 1 "$bench" "${args[@]}" >"$b" 2>&1; wait
  indep=$(awk '{s+=$1} END {printf "%.1f", s/NR}' <(ips <"$a"; ips <"$b")); rm -f "$a" "$b"
  printf '%-6s %12s %18s %14s %16s\n' "$r" "$one" "$per" "$indep" "$wait"
done
