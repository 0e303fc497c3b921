#!/bin/sh
# The layering (docs/DESIGN.md, "The library and what is installed"): the core, layers/, includes
# only itself and the base (src/common.h, src/mem.h, src/rng.h); the libraries below the
# application (data/, optim/, export/) never include the trainer's headers (src/train*.h).
cd "${1:?source dir}" || exit 2
core=$(grep -HnE '#include "[a-z]+/' layers/*.c layers/*.h | grep -vE '#include "(layers/|src/(common|mem|rng)\.h)')
libs=$(grep -HnE '#include "src/train' data/*.[ch] optim/*.[ch] export/*.[ch])
[ -z "$core" ] || { echo "layers/ includes beyond itself and the base:"; echo "$core"; }
[ -z "$libs" ] || { echo "a library includes the trainer:"; echo "$libs"; }
[ -z "$core$libs" ] && echo "layering: layers/ includes only layers/ and the base; no library includes the trainer"
