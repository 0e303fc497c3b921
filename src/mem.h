// mem.h — how much memory this process may still take, allocation that reports failure instead of
// aborting, and the check every program makes before its big allocations.
//
// A run's memory is affine in its batch size (buffers scale with N; parameters, weight copies and
// code do not), so a plan is a list of items, each `fixed + per_batch * batch` bytes. Checking a plan
// against the headroom then also gives the largest batch that fits, by solving for it.
#ifndef RN_MEM_H
#define RN_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "src/common.h"

// NULL on failure (never aborts): for buffers whose size comes from the user (batch, image size,
// prefetch). The caller turns NULL into an rn_err naming what it allocated (rn_alloc_fail).
void *rn_try_malloc_aligned(size_t n);  // 64-byte aligned, free with rn_free_aligned
void *rn_try_calloc_aligned(size_t n);  // the same, zeroed
void *rn_try_malloc(size_t n);          // free with free()
void *rn_try_calloc(size_t n, size_t size);  // NULL also when n * size overflows
void *rn_try_realloc(void *p, size_t n);     // NULL on failure, p left as it was
// Whether n more bytes of address space can be mapped now (under RLIMIT_AS: whether they fit).
int rn_mem_can_map(size_t n);
// "out of memory allocating <what> (<bytes> bytes = 1.25 GiB)"; bytes 0: a size that is not known.
int rn_alloc_fail(rn_err *e, const char *what, size_t bytes);

// Test hook, so that a test can walk every failure path (tests/test_alloc.c): after rn_fault_inject(n),
// the n-th call from then on to rn_fault_hit() reports 1, once; n <= 0 switches it off (the default).
// rn_fault_hit() is asked by every rn_try_* above and by the executor before each oneDNN creation and
// execution (layers/exec.c, layers/dnn.c), which then fail as if the memory had run out. rn_fault_armed():
// the countdown has not reached its call yet (what was run made fewer than n such calls).
void rn_fault_inject(long n);
int rn_fault_hit(void);
int rn_fault_armed(void);

// The smallest headroom among MemAvailable (/proc/meminfo), RLIMIT_AS minus the address space in use
// (VmSize), and the cgroup limit minus its usage (v2 memory.max, v1 memory.limit_in_bytes).
// Memory (MemAvailable, cgroup) and address space (RLIMIT_AS) are separate budgets: thread stacks
// and malloc's per-thread arenas reserve address space that is mostly never touched.
typedef struct rn_headroom {
    double bytes;        // memory that may still be allocated; +inf when nothing could be read
    const char *source;  // which limit that is: "MemAvailable" or "cgroup memory limit"
    double limit;        // that limit's total (MemAvailable: the same as bytes)
    double as_bytes;     // address space left under RLIMIT_AS (+inf without one)
    double as_limit;     // RLIMIT_AS
} rn_headroom;
void rn_mem_headroom(rn_headroom *h);

#define RN_MEM_ITEMS 24

enum {
    RN_MEM_NEW = 0,       // to be allocated
    RN_MEM_RESIDENT = 1,  // already allocated when the check runs: in the total, not against the headroom
    RN_MEM_ADDRESS = 2,   // address space only (reserved, not touched): against RLIMIT_AS only
};

typedef struct rn_mem_item {
    const char *what;  // "activations", "loader queue", ... (a literal)
    double fixed, per_batch;
    int kind;          // RN_MEM_*
} rn_mem_item;

typedef struct rn_mem_plan {
    rn_mem_item item[RN_MEM_ITEMS];
    int n;
} rn_mem_plan;

void rn_mem_add(rn_mem_plan *p, const char *what, double fixed, double per_batch, int kind);
// Address space of n more threads: an 8 MiB stack and a 64 MiB malloc arena each (glibc's reservation).
void rn_mem_add_threads(rn_mem_plan *p, const char *what, int n);
// The plan at `batch`: memory (kinds NEW, and RESIDENT when include_resident), or with address_space
// the address space still to be reserved (NEW and ADDRESS).
double rn_mem_total(const rn_mem_plan *p, int64_t batch, int include_resident);
double rn_mem_address_total(const rn_mem_plan *p, int64_t batch);
// The largest batch whose memory fits in `bytes` and whose address space fits in `as_bytes`
// (0 when not even one does).
int64_t rn_mem_largest_batch(const rn_mem_plan *p, double bytes, double as_bytes);

// The fraction of the headroom that the largest batch rn_mem_check offers leaves free.
#define RN_MEM_SPARE 0.10

// 0 when the plan at `batch` fits the headroom; otherwise -1 with a message giving the estimate (and
// its largest items), the limit and the largest batch that fits, naming `batch_name` (e.g. "[data]
// batch_size") as the knob. The environment variable RN_MEM_CHECK=off skips the check (and says so).
int rn_mem_check(const rn_mem_plan *p, int64_t batch, const char *batch_name, rn_err *err);

// "1.25 GiB", "340 MiB": sizes in messages.
void rn_mem_format(double bytes, char *buf, size_t cap);

#endif
