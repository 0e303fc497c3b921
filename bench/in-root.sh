#!/usr/bin/env bash
# Runs a command inside another Debian's root directory (a debootstrap tree) with this source tree
# at /src/resnet.c, so one machine can time both Debian releases in one run: the Debian 13 peer
# (python3-torch 2.6, oneDNN 3.7) and our Debian 13 build, next to the host's Debian 12.
#
#   bench/in-root.sh [--root DIR] COMMAND [ARG ...]   run COMMAND in DIR, from /src/resnet.c (as root)
#   bench/in-root.sh [--root DIR] --make [SUITE]      create DIR (SUITE: default trixie) and run
#                                                     tools/install-deps.sh in it
#
# DIR defaults to $RN_ROOT, else /var/cache/resnet.c/trixie-peer. --make copies tools/clean-room.sh's
# cached bare root of SUITE ($RN_CLEAN_ROOM_CACHE/roots/SUITE) when there is one, else runs
# debootstrap; the bare root itself stays untouched. Any Debian 13 root with python3-torch works.
# /proc, /sys, /dev and the tree are bind-mounted in a private mount namespace (unshare -m): the
# mounts exist only for the command and vanish with it, even when it is killed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tree=$(dirname "$here")
root=${RN_ROOT:-/var/cache/resnet.c/trixie-peer}
if [ "${1:-}" = --root ]; then
  root=$2
  shift 2
fi
[ $# -gt 0 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "in-root.sh: needs root (chroot, mounts)" >&2; exit 2; }

# The same Debian mirror the host uses, so a root builds wherever the host's apt works.
mirror() {
  local m
  m=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  echo "${m:-http://deb.debian.org/debian}"
}

run_in() {  # run_in COMMAND...: inside $root, tree at /src/resnet.c, cwd there
  mkdir -p "$root/src/resnet.c"
  unshare --mount --propagation private /bin/sh -c '
    r=$1 t=$2; shift 2
    for d in proc sys dev; do mount --bind "/$d" "$r/$d"; done
    mount --bind "$t" "$r/src/resnet.c"
    exec chroot "$r" /usr/bin/env -C /src/resnet.c "$@"' sh "$root" "$tree" "$@"
}

if [ "$1" = --make ]; then
  suite=${2:-trixie}
  bare=${RN_CLEAN_ROOM_CACHE:-/var/cache/resnet.c}/roots/$suite
  if [ ! -e "$root/usr/bin/apt-get" ]; then
    if [ -e "$bare/usr/bin/apt-get" ]; then
      mkdir -p "$root" && cp -a "$bare/." "$root/"
    else
      debootstrap --variant=minbase "$suite" "$root" "$(mirror)"
    fi
  fi
  run_in bash tools/install-deps.sh
  exit 0
fi
[ -x "$root/usr/bin/env" ] || { echo "in-root.sh: no Debian root at $root (make one with --make)" >&2; exit 2; }
run_in "$@"
