#!/usr/bin/env bash
# The Fashion-MNIST demo side by side: resnet-train and its PyTorch twin (bench/fashion_mnist_torch.py)
# on the same config, the same JPEG folders and the same threads, one after the other; prints each
# side's epochs and wall time. docs/PERFORMANCE.md ("Fashion-MNIST demo") records the results.
#
#   bench/fashion_mnist_compare.sh [CONFIG] [--torch-epochs N] [--skip-ours] [--skip-torch]
#
# The machine is shared and noisy: compare numbers from one invocation.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build}
config=$root/configs/fashion-mnist-resnet18v2.ini
torch_epochs=0 ours=1 theirs=1
while [ $# -gt 0 ]; do
  case $1 in
    --torch-epochs) torch_epochs=$2; shift 2;;
    --skip-ours) ours=0; shift;;
    --skip-torch) theirs=0; shift;;
    -*) echo "unknown option $1" >&2; exit 2;;
    *) config=$1; shift;;
  esac
done
cd "$root"
"$build/tools/fashion-mnist-to-folder" datasets/fashion-mnist
threads=${OMP_NUM_THREADS:-$(nproc)}
export OMP_NUM_THREADS=$threads
if [ $ours = 1 ]; then
  t0=$(date +%s)
  "$build/src/resnet-train" "$config" --set train.progress=plain --set train.log_every=1000000 \
    --set train.run_dir=runs/compare-resnet.c --set export.onnx=no
  echo "resnet.c: wall $(( $(date +%s) - t0 )) s"
fi
if [ $theirs = 1 ]; then
  t0=$(date +%s)
  /usr/bin/python3 "$here/fashion_mnist_torch.py" "$config" --threads "$threads" --epochs "$torch_epochs"
  echo "pytorch: wall $(( $(date +%s) - t0 )) s"
fi
