// datadir.h — where the programs and the library find the files they ship (the ImageNet class
// names, the configs): <prefix>/share/resnet.c once installed, never the source tree.
//
// The folder is the first of:
//   1. $RESNET_DATA_DIR, when set (then only there: a wrong override is an error, not a fallback);
//   2. <folder of the running executable>/../share/resnet.c: installed programs, and programs run
//      from the build tree, which keeps a copy of the shipped files in <build>/share/resnet.c;
//   3. <folder of libresnet.so>/../share/resnet.c (../../ for a multiarch libdir): programs linked
//      against the installed library, wherever the prefix was moved;
//   4. the install folder configured at build time (CMAKE_INSTALL_FULL_DATADIR/resnet.c).
#ifndef RN_DATADIR_H
#define RN_DATADIR_H

#include <stddef.h>

#include "src/common.h"

#define RN_DATADIR_ENV "RESNET_DATA_DIR"

// Writes the path of the shipped file `name` (e.g. "imagenet_classes.txt") into out (n bytes).
// -1 when no candidate folder holds it (or its path does not fit in n), with a message listing
// every place tried; out is then left as it was.
int rn_datadir_find(const char *name, char *out, size_t n, rn_err *err);

#endif
