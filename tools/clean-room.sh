#!/usr/bin/env bash
# Runs the README's commands on a bare Debian, as a new user would: in a chroot made by
# `debootstrap --variant=minbase`, with nothing added by hand. A missing install step fails here.
#
#   bash tools/clean-room.sh                          # README's test command in bare Debian 12
#   bash tools/clean-room.sh --suite trixie           # ... in bare Debian 13
#   bash tools/clean-room.sh --demo --set train.epochs=1 ...   # the demo command, args passed on
#   bash tools/clean-room.sh --run 'CMD'              # any command in the copied tree (debugging)
#
# The bare root is built once per suite and cached in $RN_CLEAN_ROOM_CACHE (default
# /var/cache/resnet.c/); each run mounts a fresh overlayfs view over it (upper and work dirs are
# discarded after), so every run starts from the same pristine system. Downloaded .debs and apt's
# lists are kept in the cache too: they only save downloads, nothing is installed from them that
# apt would not install anyway. The working tree (tracked and untracked, not ignored, files) is
# copied to /root/resnet.c inside and the command runs there as root. Needs root, debootstrap and
# overlayfs; the mirror is the one this machine's apt uses.
set -euo pipefail
{ # The body is one block, read whole before it runs: editing this file during a run is harmless.

suite=bookworm
mode=test
run_cmd=
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) suite=${2:?--suite needs bookworm or trixie}; shift 2 ;;
    --demo) mode=demo; shift; args=("$@"); break ;;
    --run) mode=run; run_cmd=${2:?--run needs a command}; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "clean-room: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$suite" in
  bookworm|trixie) ;;
  *) echo "clean-room: unknown suite '$suite' (bookworm = Debian 12, trixie = Debian 13)" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "clean-room: must run as root (debootstrap, mount, chroot)" >&2; exit 2; }

tree=$(cd "$(dirname "$0")/.." && pwd)
cache=${RN_CLEAN_ROOM_CACHE:-/var/cache/resnet.c}
root=$cache/roots/$suite

# The mirrors this machine's apt uses (deb822 sources or a one-line sources.list).
apt_uri() {  # $1: path suffix to match, e.g. /debian or /debian-security
  grep -hoE '(URIs:|^deb) *(\[[^]]*\] *)?https?://[^ ]*' /etc/apt/sources.list.d/*.sources \
      /etc/apt/sources.list 2>/dev/null | grep -oE 'https?://[^ ]*' | sed 's:/*$::' |
    grep -E "$1\$" | head -1 || true
}
mirror=$(apt_uri /debian); mirror=${mirror:-http://deb.debian.org/debian}
security=$(apt_uri /debian-security); security=${security:-http://deb.debian.org/debian-security}

command -v debootstrap >/dev/null || {
  echo "clean-room: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
}

mkdir -p "$cache/roots" "$cache/apt/$suite/archives/partial" "$cache/apt/$suite/lists/partial"
# One builder per suite at a time; a half-built root is never left where a run would use it.
exec 9>"$cache/roots/$suite.lock"
flock 9
if [ ! -f "$root/.complete" ]; then
  echo "clean-room: building a bare Debian $suite root in $root (debootstrap --variant=minbase, $mirror)"
  t0=$(date +%s)
  rm -rf "$root.new" "$root"
  debootstrap --variant=minbase "$suite" "$root.new" "$mirror" > "$cache/roots/$suite.log" 2>&1 ||
    { echo "clean-room: debootstrap failed, see $cache/roots/$suite.log" >&2; tail -5 "$cache/roots/$suite.log" >&2; exit 1; }
  # What a stock installation lists: the release, its updates and its security archive.
  cat > "$root.new/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
  rm -f "$root.new/var/cache/apt/archives/"*.deb
  # dpkg without its fsync per file, as Debian's container images do: a throw-away view needs no
  # durability. It changes nothing that gets installed.
  echo force-unsafe-io > "$root.new/etc/dpkg/dpkg.cfg.d/clean-room-unsafe-io"
  touch "$root.new/.complete"
  mv "$root.new" "$root"
  echo "clean-room: root ready in $(( $(date +%s) - t0 )) s"
fi
flock -u 9

# Runs of one suite share its .deb cache, which apt locks: they take turns.
exec 8>"$cache/apt/$suite.lock"
flock 8

run=$(mktemp -d "$cache/run.XXXXXX")
mnt=$run/mnt
mounted=()
child=
cleanup() {
  local rc=$?
  set +e
  # Nothing may outlive the run inside the view: the command's session first, then any process
  # whose root is the view (a daemon that left the session).
  [ -n "$child" ] && kill -TERM -- "-$child" 2>/dev/null && sleep 1 && kill -KILL -- "-$child" 2>/dev/null
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$mnt" ] && kill -KILL "${p#/proc/}" 2>/dev/null
  done
  # Reverse order: the binds inside the overlay first, then the overlay itself.
  for (( i=${#mounted[@]}-1; i>=0; i-- )); do
    umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" 2>/dev/null || true
  done
  # Never delete through a mount that is still there: /dev and the apt cache are binds of the host's.
  if grep -q " $run/" /proc/self/mounts; then
    echo "clean-room: still mounted under $run, left in place:" >&2; grep " $run/" /proc/self/mounts >&2
  else
    rm -rf "$run"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mount_to() {  # mount_to TARGET mount-arguments...; remembers TARGET for cleanup
  local target=$1; shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounted+=("$target")
}

mkdir -p "$run/upper" "$run/work" "$mnt"
mount_to "$mnt" -t overlay overlay -o "lowerdir=$root,upperdir=$run/upper,workdir=$run/work"
mount_to "$mnt/proc" -t proc proc
mount_to "$mnt/sys" --bind /sys
mount_to "$mnt/dev" --bind /dev
mount_to "$mnt/dev/pts" --bind /dev/pts
mount_to "$mnt/var/cache/apt/archives" --bind "$cache/apt/$suite/archives"
mount_to "$mnt/var/lib/apt/lists" --bind "$cache/apt/$suite/lists"
cp -L /etc/resolv.conf "$mnt/etc/resolv.conf"
# This site's network trust, not the project's: where the host reaches the registries through an
# intercepting proxy, its extra CA certificates go in (ca-certificates' postinst merges them into
# the bundle when the README's command installs it) and the variables that point tools at the bundle
# or the proxy are passed on. A plain machine has none of these and loses nothing.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  mkdir -p "$mnt/usr/local/share/ca-certificates"
  cp -L /usr/local/share/ca-certificates/*.crt "$mnt/usr/local/share/ca-certificates/"
fi
site_env=()
for v in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE CURL_CA_BUNDLE \
         http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -n "${!v:-}" ] && site_env+=("$v=${!v}")
done

# The working tree as `git status` sees it (tracked and untracked, not ignored), or all of it.
dest=$mnt/root/resnet.c
mkdir -p "$dest"
if git -C "$tree" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$tree" && git ls-files -z --cached --others --exclude-standard |
     tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$dest"
else
  (cd "$tree" && tar --exclude=./build --exclude=./runs --exclude=./datasets -cf - .) | tar -xf - -C "$dest"
fi

case "$mode" in
  test) cmd='bash tools/test.sh' ;;
  demo) cmd='bash tools/demo.sh "$@"' ;;
  run)  cmd=$run_cmd ;;
esac
echo "clean-room: Debian $suite (bare), as root in /root/resnet.c: $cmd ${args[*]:-}"
t0=$(date +%s)
# In a session of its own, in the background, so that a signal to this script runs the cleanup at
# once (bash defers traps while a foreground child runs) and the cleanup can end the whole session.
setsid chroot "$mnt" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 ${CI:+CI=$CI} "${site_env[@]}" \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  bash -c "cd /root/resnet.c && $cmd" clean-room "${args[@]}" </dev/null &
child=$!
rc=0
wait "$child" || rc=$?
child=
echo "clean-room: Debian $suite: exit $rc after $(( $(date +%s) - t0 )) s"
exit $rc
}
