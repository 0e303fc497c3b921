// fuzz.h — what every harness of tests/fuzz shares: the libFuzzer entry point's prototype, the
// contract check on a reader's result, and an in-memory file for readers that only take a path.
//
// A harness is one LLVMFuzzerTestOneInput. It is linked either with libFuzzer (clang,
// -fsanitize=fuzzer; tools/fuzz.sh) or with replay_main.c (any compiler; ctest replays the seed
// corpus and the regression inputs). A broken contract — a reader that fails without a message, a
// round trip that changes the graph — is an abort(), which both drivers report as a crash.
#ifndef RN_FUZZ_H
#define RN_FUZZ_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before any include: fuzz_memfile needs memfd_create"
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "src/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Aborts with a message: how a harness reports a broken contract.
#define FUZZ_ASSERT(cond, ...)                                                   \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "fuzz contract broken at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
            abort();                                                             \
        }                                                                        \
    } while (0)

// Every reader returns 0, or -1 with a non-empty message; nothing else.
static inline void fuzz_check_rc(int rc, const rn_err *err, const char *what) {
    FUZZ_ASSERT(rc == 0 || rc == -1, "%s returned %d", what, rc);
    FUZZ_ASSERT(rc == 0 || err->msg[0] != 0, "%s failed without a message", what);
}

// One anonymous in-memory file per process (memfd), rewritten with each input and read back by
// path through /proc/self/fd: no disk traffic, nothing to clean up, and the reader under test
// opens, stats and reads it like any other regular file.
static inline const char *fuzz_memfile(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("rn-fuzz-input", 0);
        FUZZ_ASSERT(fd >= 0, "memfd_create failed");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_ASSERT(ftruncate(fd, 0) == 0, "ftruncate failed");
    for (size_t done = 0; done < size;) {
        ssize_t k = pwrite(fd, data + done, size - done, (off_t)done);
        FUZZ_ASSERT(k > 0, "pwrite failed");
        done += (size_t)k;
    }
    return path;
}

#endif
