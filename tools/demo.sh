#!/usr/bin/env bash
# The README's demo command: installs what is missing, builds, turns Fashion-MNIST (Debian's
# dataset-fashion-mnist) into class folders of JPEGs, trains ResNet-18 v2 on them and exports the
# best weights to ONNX.  Run as root on Debian 12 or 13 from anywhere:  bash tools/demo.sh
# Results: runs/fashion-mnist-resnet18v2/{metrics.csv,metrics.svg,best.ckpt,last.ckpt,model.onnx,classes.txt}
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/tools/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j"$(nproc)"
cd "$root"
"$build/tools/fashion-mnist-to-folder" datasets/fashion-mnist
# A rerun of the demo replaces its previous run (resnet-train refuses a used run_dir without
# --overwrite), unless it is asked to continue it with --resume.
over=--overwrite
for a in "$@"; do if [ "$a" = --resume ]; then over=; fi; done
"$build/src/resnet-train" configs/fashion-mnist-resnet18v2.ini $over "$@"
