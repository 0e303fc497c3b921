// datadir.c — the shipped-data lookup; see datadir.h for the order of the candidates.
#define _GNU_SOURCE  // dladdr
#include "src/datadir.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Relative paths from the install bindir and libdir to <datadir>/resnet.c and the configured
// absolute datadir, from GNUInstallDirs (cmake/install.cmake). The defaults are the common layout.
#ifndef RN_BIN_TO_DATA
#define RN_BIN_TO_DATA "../share/resnet.c"
#endif
#ifndef RN_LIB_TO_DATA
#define RN_LIB_TO_DATA "../share/resnet.c"
#endif
#ifndef RN_INSTALL_DATADIR
#define RN_INSTALL_DATADIR "/usr/local/share/resnet.c"
#endif

enum { CAND_MAX = 4, PATH_CAP = 4096 };

// "<folder of file>/<rel>" into out; 0 when file has no folder part (not an absolute path).
static int beside(const char *file, const char *rel, char *out, size_t n) {
    const char *slash = strrchr(file, '/');
    if (file[0] != '/' || !slash) return 0;
    int len = snprintf(out, n, "%.*s/%s", (int)(slash - file), file, rel);
    return len > 0 && (size_t)len < n;
}

// Fills dirs[] with the candidate folders in order and returns their count.
static int candidates(char dirs[CAND_MAX][PATH_CAP]) {
    int k = 0;
    const char *env = getenv(RN_DATADIR_ENV);
    if (env && *env) {
        snprintf(dirs[k++], PATH_CAP, "%s", env);
        return k;
    }
    char exe[PATH_CAP];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        k += beside(exe, RN_BIN_TO_DATA, dirs[k], PATH_CAP);
    }
    // The object that holds this function: libresnet.so when linked against it, else the program.
    // (A relative name, from a relative LD_LIBRARY_PATH, is relative to the working directory.)
    Dl_info info;
    char lib[PATH_MAX];
    if (dladdr((void *)rn_datadir_find, &info) && info.dli_fname && strchr(info.dli_fname, '/') &&
        realpath(info.dli_fname, lib))
        k += beside(lib, RN_LIB_TO_DATA, dirs[k], PATH_CAP);
    snprintf(dirs[k++], PATH_CAP, "%s", RN_INSTALL_DATADIR);
    return k;
}

int rn_datadir_find(const char *name, char *out, size_t n, rn_err *err) {
    char dirs[CAND_MAX][PATH_CAP], path[2 * PATH_CAP];
    int k = candidates(dirs);
    char tried[sizeof((rn_err *)0)->msg] = "";
    size_t used = 0;
    for (int i = 0; i < k; i++) {
        int len = snprintf(path, sizeof path, "%s/%s", dirs[i], name);
        if (len > 0 && (size_t)len < n && access(path, R_OK) == 0) {
            memcpy(out, path, (size_t)len + 1);
            return 0;
        }
        len = snprintf(tried + used, sizeof tried - used, "%s%s", i ? ", " : "", dirs[i]);
        if (len > 0) used += (size_t)len < sizeof tried - used ? (size_t)len : sizeof tried - used - 1;
    }
    return rn_fail(err, "%s: not found in %s (set %s to the folder that holds it)", name, tried,
                   RN_DATADIR_ENV);
}
