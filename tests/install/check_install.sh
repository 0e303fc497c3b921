#!/bin/bash
# check_install.sh — what a user of `cmake --install build --prefix P` relies on, checked on a fresh
# prefix: the layout (programs, data, libresnet with its SONAME, headers, resnet.pc, the CMake
# package); every installed header compiling on its own with only the .pc's flags; the examples
# built against P through pkg-config and through find_package(resnet), run, and agreeing with the
# installed resnet-predict to the printed digit; and the programs finding P/share/resnet.c after P
# is moved, through $RESNET_DATA_DIR, and from the build tree. Any difference fails (exit 1).
set -euo pipefail

while [ $# -gt 0 ]; do
    case "$1" in
        --cmake) CMAKE=$2 ;; --build) BUILD=$2 ;; --src) SRC=$2 ;; --work) WORK=$2 ;;
        --jpeg) MAKE_JPEG=$2 ;; --version) VERSION=$2 ;; --cc) CC=$2 ;; --cflags) EXTRA_CFLAGS=$2 ;;
        *) echo "check_install.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done
: "${CMAKE:?}" "${BUILD:?}" "${SRC:?}" "${WORK:?}" "${MAKE_JPEG:?}" "${VERSION:?}" "${CC:?}"
EXTRA_CFLAGS=${EXTRA_CFLAGS:-}

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "-- $*"; }
same() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }

rm -rf "$WORK"
mkdir -p "$WORK/elsewhere"
P=$WORK/prefix
unset RESNET_DATA_DIR

step "cmake --install into $P"
"$CMAKE" --install "$BUILD" --prefix "$P" > "$WORK/install.log" || fail "cmake --install (see $WORK/install.log)"

step "layout"
for prog in resnet-info resnet-train resnet-export resnet-predict resnet-eval resnet-bench fashion-mnist-to-folder; do
    [ -x "$P/bin/$prog" ] || fail "$P/bin/$prog missing"
done
DATA=$P/share/resnet.c
cmp -s "$SRC/export/imagenet_classes.txt" "$DATA/imagenet_classes.txt" || fail "$DATA/imagenet_classes.txt"
for ini in "$SRC"/configs/*.ini; do
    cmp -s "$ini" "$DATA/$(basename "$ini")" || fail "$DATA/$(basename "$ini") missing or different"
done
PC=$(find "$P" -name resnet.pc -path '*/pkgconfig/*')
[ -n "$PC" ] || fail "no resnet.pc under $P"
export PKG_CONFIG_PATH=$(dirname "$PC")
same "$(pkg-config --modversion resnet)" "$VERSION" "pkg-config --modversion resnet"
LIBDIR=$(realpath "$(pkg-config --variable=libdir resnet)")
INCDIR=$(realpath "$(pkg-config --variable=includedir resnet)")
same "$LIBDIR" "$(realpath "$(dirname "$PC")/..")" "resnet.pc libdir"
MAJOR=${VERSION%%.*}
same "$(readlink "$LIBDIR/libresnet.so")" "libresnet.so.$MAJOR" "libresnet.so link"
same "$(readlink "$LIBDIR/libresnet.so.$MAJOR")" "libresnet.so.$VERSION" "libresnet.so.$MAJOR link"
dyn=$(readelf -d "$LIBDIR/libresnet.so.$VERSION")
grep -q "SONAME.*\[libresnet.so.$MAJOR\]" <<< "$dyn" || fail "SONAME is not libresnet.so.$MAJOR"
undef=$(nm -D --undefined-only "$LIBDIR/libresnet.so.$VERSION")
! grep -w 'rn_[a-z0-9_]*' <<< "$undef" || fail "libresnet leaves rn_ symbols undefined"
for f in resnetConfig.cmake resnetConfigVersion.cmake resnetTargets.cmake; do
    [ -f "$LIBDIR/cmake/resnet/$f" ] || fail "$LIBDIR/cmake/resnet/$f missing"
done

CFLAGS="-std=c11 -Wall -Wextra -Werror $EXTRA_CFLAGS"
step "every public header compiles on its own with \$(pkg-config --cflags resnet)"
n_headers=0
while read -r h; do
    echo "#include \"$h\"" | "$CC" $CFLAGS $(pkg-config --cflags resnet) -fsyntax-only -x c - ||
        fail "include/resnet/$h does not compile on its own"
    n_headers=$((n_headers + 1))
done < <(cd "$INCDIR/resnet" && find . -name '*.h' | sed 's|^\./||' | sort)
[ "$n_headers" -ge 20 ] || fail "only $n_headers headers under $INCDIR/resnet"

step "examples through pkg-config"
mkdir -p "$WORK/pc"
for ex in predict train_step; do
    "$CC" $CFLAGS "$SRC/examples/$ex.c" -o "$WORK/pc/$ex" $(pkg-config --cflags --libs resnet) \
        -Wl,-rpath,"$LIBDIR" || fail "examples/$ex.c does not build against $P"
    grep -q "libresnet.so.$MAJOR => $LIBDIR/" <<< "$(ldd "$WORK/pc/$ex")" || fail "$ex does not load $LIBDIR/libresnet.so.$MAJOR"
done

# A ResNet-18 of width 8 on 32 px with 1000 classes: small enough for a second, big enough that
# the class names come into play.
CFG=$WORK/tiny.ini
cat > "$CFG" <<'EOF'
[model]
depth = 18
width = 8
num_classes = 1000
stem = small
input_size = 32
[data]
size = 32
resize = 36
[optim]
lr = 0.05
weight_decay = 0
EOF
"$MAKE_JPEG" "$WORK/cat.jpg" 48 40 3

cd "$WORK/elsewhere"  # from here on nothing is found through the working directory
step "train_step: one SGD step lowers the loss on its batch"
out=$("$WORK/pc/train_step" "$CFG" "$WORK/step.onnx")
echo "$out"
read -r before after < <(echo "$out" | sed -n 's/^loss before \([0-9.]*\) after \([0-9.]*\) .*/\1 \2/p')
[ -n "$before" ] || fail "train_step printed no losses"
# Fresh weights give scores near 0: the loss is near ln(1000) = 6.908.
awk -v b="$before" -v a="$after" 'BEGIN { exit !(b > 6.4 && b < 7.4 && a < b - 1e-3) }' ||
    fail "losses before $before after $after: expected about ln(1000), then lower"
[ -s "$WORK/step.onnx" ] || fail "train_step wrote no ONNX file"

step "predict (pkg-config build) against the installed resnet-predict"
want=$("$P/bin/resnet-predict" "$WORK/step.onnx" "$WORK/cat.jpg" --top 1 --size 32 --resize 36 | sed -n 2p)
got=$("$WORK/pc/predict" "$CFG" "$WORK/cat.jpg" "$WORK/step.onnx")
echo "resnet-predict: $want"
same "$got" "$want" "examples/predict on step.onnx"
# The class name comes from P/share/resnet.c: the line of the index in the shipped list.
idx=$(echo "$want" | cut -d' ' -f3)
same "$(echo "$want" | cut -d' ' -f4-)" "$(sed -n "$((idx + 1))p" "$DATA/imagenet_classes.txt")" "class name of $idx"
"$WORK/pc/predict" "$CFG" "$WORK/cat.jpg" | grep -Eq '^1 [01]\.[0-9]{6} [0-9]+ .+$' || fail "predict with fresh weights"
! "$WORK/pc/predict" "$CFG" "$WORK/missing.jpg" 2> "$WORK/err.txt" || fail "predict on a missing image succeeded"
grep -q "missing.jpg" "$WORK/err.txt" || fail "predict's error does not name the image: $(cat "$WORK/err.txt")"

step "examples through find_package(resnet)"
"$CMAKE" -S "$SRC/examples" -B "$WORK/cm" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_FLAGS="$CFLAGS" \
    > "$WORK/cm.log" 2>&1 || fail "find_package(resnet) project does not configure (see $WORK/cm.log)"
"$CMAKE" --build "$WORK/cm" >> "$WORK/cm.log" 2>&1 || fail "find_package(resnet) project does not build (see $WORK/cm.log)"
same "$("$WORK/cm/predict" "$CFG" "$WORK/cat.jpg" "$WORK/step.onnx")" "$want" "CMake-built predict"
"$WORK/cm/train_step" "$CFG" > /dev/null || fail "CMake-built train_step"
# The version file: 0.x releases are compatible only within their minor version.
MINOR=$(echo "$VERSION" | cut -d. -f2)
checks="$MAJOR.$MINOR:1 9.0:0"
[ "$MINOR" -gt 0 ] && checks="$checks $MAJOR.$((MINOR - 1)):0"
mkdir -p "$WORK/cmv"
for c in $checks; do
    req=${c%:*}
    printf 'cmake_minimum_required(VERSION 3.18)\nproject(v C)\nfind_package(resnet %s REQUIRED)\n' "$req" \
        > "$WORK/cmv/CMakeLists.txt"
    rm -rf "$WORK/cmv/b"
    if "$CMAKE" -S "$WORK/cmv" -B "$WORK/cmv/b" -DCMAKE_PREFIX_PATH="$P" > "$WORK/cmv.log" 2>&1; then ok=1; else ok=0; fi
    same "$ok" "${c#*:}" "find_package(resnet $req) succeeded (1) or failed (0)"
done

step "a moved prefix still finds its data, libraries and .pc paths"
M=$WORK/moved
mv "$P" "$M"
sed 's/^/moved:/' "$SRC/export/imagenet_classes.txt" > "$M/share/resnet.c/imagenet_classes.txt"
# Through PATH, as users run it: argv[0] is then a bare name, and only the executable's own path
# (/proc/self/exe) leads to the data.
line=$(PATH="$M/bin:$PATH" resnet-predict "$WORK/step.onnx" "$WORK/cat.jpg" --top 1 --size 32 --resize 36 | sed -n 2p)
case "$line" in "1 "*" moved:"*) ;; *) fail "moved resnet-predict did not read $M/share/resnet.c: '$line'" ;; esac
line=$(LD_LIBRARY_PATH="$M/${LIBDIR#"$P"/}" "$WORK/pc/predict" "$CFG" "$WORK/cat.jpg" "$WORK/step.onnx")
case "$line" in "1 "*" moved:"*) ;; *) fail "predict on the moved libresnet did not read $M/share/resnet.c: '$line'" ;; esac
line=$(cd "$WORK" && LD_LIBRARY_PATH="moved/${LIBDIR#"$P"/}" pc/predict "$CFG" cat.jpg step.onnx)
case "$line" in "1 "*" moved:"*) ;; *) fail "predict on a relative LD_LIBRARY_PATH did not read $M/share/resnet.c: '$line'" ;; esac
same "$(PKG_CONFIG_PATH="$M/${PKG_CONFIG_PATH#"$P"/}" pkg-config --variable=libdir resnet | xargs realpath)" \
    "$M/${LIBDIR#"$P"/}" "libdir of the moved resnet.pc"

step "RESNET_DATA_DIR overrides, and a wrong one is an error naming it"
mkdir -p "$WORK/envdata"
sed 's/^/env:/' "$SRC/export/imagenet_classes.txt" > "$WORK/envdata/imagenet_classes.txt"
line=$(RESNET_DATA_DIR="$WORK/envdata" "$M/bin/resnet-predict" "$WORK/step.onnx" "$WORK/cat.jpg" --top 1 --size 32 --resize 36 | sed -n 2p)
case "$line" in "1 "*" env:"*) ;; *) fail "RESNET_DATA_DIR was not used: '$line'" ;; esac
if RESNET_DATA_DIR="$WORK/nowhere" "$M/bin/resnet-predict" "$WORK/step.onnx" "$WORK/cat.jpg" --size 32 --resize 36 \
    > /dev/null 2> "$WORK/err.txt"; then
    fail "resnet-predict succeeded without class names"
fi
grep -q "imagenet_classes.txt: not found in $WORK/nowhere (set RESNET_DATA_DIR" "$WORK/err.txt" ||
    fail "unexpected message: $(cat "$WORK/err.txt")"

step "the build tree's programs find <build>/share/resnet.c"
line=$("$BUILD/export/resnet-predict" "$WORK/step.onnx" "$WORK/cat.jpg" --top 1 --size 32 --resize 36 | sed -n 2p)
same "$line" "$want" "build-tree resnet-predict"

echo "install: all checks passed ($n_headers headers)"
