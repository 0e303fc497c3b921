#!/usr/bin/env bash
# Installs every Debian package resnet.c needs to build, test and run its demo.
# Idempotent: packages already present are skipped quickly. Run as root on Debian 12 or 13
# (every name is the same on both; tools/clean-room.sh proves it on bare systems).
set -euo pipefail
pkgs=(build-essential cmake pkg-config
      # Debian's oneDNN is built with its OpenCL runtime: its CMake config requires OpenCL's headers
      # and library, which libdnnl-dev only recommends.
      libdnnl-dev ocl-icd-opencl-dev libturbojpeg0-dev libjpeg62-turbo-dev libspng-dev
      libprotobuf-c-dev protobuf-c-compiler
      libopenmpi-dev openmpi-bin zlib1g-dev
      clang libclang-rt-dev libomp-dev
      dataset-fashion-mnist
      python3 python3-numpy python3-torch python3-torchvision python3-onnx python3-opencv)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from another packaging (nodesource bundles npm): ask for the commands.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # apt's progress (thousands of lines on a bare system) goes to a log shown only on failure.
  log=$(mktemp)
  if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "install-deps: apt-get failed (output above)" >&2; exit 1
  fi
  rm -f "$log"
  echo "install-deps: done"
fi
