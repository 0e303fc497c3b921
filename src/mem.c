// mem.c — headroom, non-aborting allocation and the pre-allocation check; see mem.h.
#define _DEFAULT_SOURCE  // MAP_ANONYMOUS
#define _POSIX_C_SOURCE 200809L
#include "src/mem.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

// The fault countdown: 0 off, else the number of rn_fault_hit calls left until the one that fails.
// Atomic: loader threads allocate with rn_try_* too.
static long fault_left;

void rn_fault_inject(long n) { __atomic_store_n(&fault_left, n > 0 ? n : 0, __ATOMIC_SEQ_CST); }

int rn_fault_hit(void) {
    if (__atomic_load_n(&fault_left, __ATOMIC_RELAXED) <= 0) return 0;
    return __atomic_sub_fetch(&fault_left, 1, __ATOMIC_SEQ_CST) == 0;
}

int rn_fault_armed(void) { return __atomic_load_n(&fault_left, __ATOMIC_SEQ_CST) > 0; }

void *rn_try_malloc_aligned(size_t n) {
    void *p = NULL;
    if (rn_fault_hit()) return NULL;
    return posix_memalign(&p, 64, n ? n : 64) == 0 ? p : NULL;
}

int rn_mem_can_map(size_t n) {
    // PROT_NONE and never touched: it counts against RLIMIT_AS like any mapping, and costs no memory.
    void *p = mmap(NULL, n ? n : 1, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return 0;
    munmap(p, n ? n : 1);
    return 1;
}

void *rn_try_malloc(size_t n) { return rn_fault_hit() ? NULL : malloc(n ? n : 1); }

void *rn_try_calloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    return rn_fault_hit() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *rn_try_realloc(void *p, size_t n) { return rn_fault_hit() ? NULL : realloc(p, n ? n : 1); }

void *rn_try_calloc_aligned(size_t n) {
    void *p = rn_try_malloc_aligned(n);
    if (p) memset(p, 0, n);
    return p;
}

int rn_alloc_fail(rn_err *e, const char *what, size_t bytes) {
    char s[32];
    rn_mem_format((double)bytes, s, sizeof s);
    if (!bytes) return rn_fail(e, "out of memory allocating %s", what);  // a size oneDNN does not tell
    if (bytes < 0x1p20) return rn_fail(e, "out of memory allocating %s (%zu bytes)", what, bytes);
    return rn_fail(e, "out of memory allocating %s (%zu bytes = %s)", what, bytes, s);
}

// The value (in bytes) of a "Key:   123 kB" line of a /proc file, or -1.
static double proc_kb(const char *path, const char *key) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    size_t k = strlen(key);
    double v = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, k) && line[k] == ':') {
            v = strtod(line + k + 1, NULL) * 1024.0;
            break;
        }
    fclose(f);
    return v;
}

// A file holding one number ("max" and unreadable: -1).
static double file_number(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char buf[64] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *end;
    double v = strtod(buf, &end);
    return end == buf ? -1 : v;
}

static void consider(rn_headroom *h, double room, double limit, const char *source) {
    if (room < 0) room = 0;
    if (room < h->bytes) {
        h->bytes = room;
        h->limit = limit;
        h->source = source;
    }
}

void rn_mem_headroom(rn_headroom *h) {
    h->bytes = h->limit = h->as_bytes = h->as_limit = INFINITY;
    h->source = "no limit found";
    double avail = proc_kb("/proc/meminfo", "MemAvailable");
    if (avail >= 0) consider(h, avail, avail, "MemAvailable");
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        double used = proc_kb("/proc/self/status", "VmSize");
        h->as_limit = (double)rl.rlim_cur;
        h->as_bytes = h->as_limit - (used > 0 ? used : 0);
        if (h->as_bytes < 0) h->as_bytes = 0;
    }
    // cgroup v2, then v1; v1 reports "no limit" as a number near 2^63.
    double max = file_number("/sys/fs/cgroup/memory.max"), cur = file_number("/sys/fs/cgroup/memory.current");
    if (max < 0) {
        max = file_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
        cur = file_number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
    }
    if (max > 0 && max < 0x1p60) consider(h, max - (cur > 0 ? cur : 0), max, "cgroup memory limit");
}

void rn_mem_add(rn_mem_plan *p, const char *what, double fixed, double per_batch, int kind) {
    RN_CHECK(p->n < RN_MEM_ITEMS);
    p->item[p->n++] = (rn_mem_item){what, fixed, per_batch, kind};
}

void rn_mem_add_threads(rn_mem_plan *p, const char *what, int n) {
    if (n > 0) rn_mem_add(p, what, n * (8.0 + 64.0) * 1048576.0, 0, RN_MEM_ADDRESS);
}

static double sum(const rn_mem_plan *p, int64_t batch, int new_, int resident, int address) {
    double t = 0;
    for (int i = 0; i < p->n; i++) {
        int k = p->item[i].kind;
        if ((k == RN_MEM_NEW && new_) || (k == RN_MEM_RESIDENT && resident) || (k == RN_MEM_ADDRESS && address))
            t += p->item[i].fixed + p->item[i].per_batch * (double)batch;
    }
    return t;
}

double rn_mem_total(const rn_mem_plan *p, int64_t batch, int include_resident) { return sum(p, batch, 1, include_resident, 0); }
double rn_mem_address_total(const rn_mem_plan *p, int64_t batch) { return sum(p, batch, 1, 0, 1); }

// Largest b with fixed + per * b <= room (the plan is affine in the batch).
static int64_t solve(double fixed, double per, double room) {
    if (per <= 0) return fixed <= room ? INT64_MAX : 0;
    double b = floor((room - fixed) / per);
    return b < 0 ? 0 : b > 1e15 ? (int64_t)1e15 : (int64_t)b;
}

int64_t rn_mem_largest_batch(const rn_mem_plan *p, double bytes, double as_bytes) {
    double m0 = rn_mem_total(p, 0, 0), a0 = rn_mem_address_total(p, 0);
    int64_t m = solve(m0, rn_mem_total(p, 1, 0) - m0, bytes), a = solve(a0, rn_mem_address_total(p, 1) - a0, as_bytes);
    return m < a ? m : a;
}

void rn_mem_format(double bytes, char *buf, size_t cap) {
    if (bytes >= 0x1p30) snprintf(buf, cap, "%.2f GiB", bytes / 0x1p30);
    else snprintf(buf, cap, "%.0f MiB", ceil(bytes / 0x1p20));
}

int rn_mem_check(const rn_mem_plan *p, int64_t batch, const char *batch_name, rn_err *err) {
    const char *env = getenv("RN_MEM_CHECK");
    if (env && !strcmp(env, "off")) {
        fprintf(stderr, "memory check skipped (RN_MEM_CHECK=off)\n");
        return 0;
    }
    rn_headroom h;
    rn_mem_headroom(&h);
    double need = rn_mem_total(p, batch, 0), need_as = rn_mem_address_total(p, batch);
    if (need <= h.bytes && need_as <= h.as_bytes) return 0;
    // Name the budget that is short: memory, or address space under RLIMIT_AS.
    int as = need > h.bytes ? 0 : 1;
    // The three largest items say where the memory goes.
    char parts[512] = "", s[32];
    int used[RN_MEM_ITEMS] = {0};
    for (int k = 0; k < 3; k++) {
        int best = -1;
        double bv = 0;
        for (int i = 0; i < p->n; i++) {
            double v = p->item[i].fixed + p->item[i].per_batch * (double)batch;
            if (!used[i] && v > bv) best = i, bv = v;
        }
        if (best < 0) break;
        used[best] = 1;
        rn_mem_format(bv, s, sizeof s);
        size_t l = strlen(parts);
        snprintf(parts + l, sizeof parts - l, "%s%s %s", k ? ", " : "", p->item[best].what, s);
    }
    char need_s[32], room_s[32], lim_s[32], fit[160];
    rn_mem_format(as ? need_as : need, need_s, sizeof need_s);
    rn_mem_format(as ? h.as_bytes : h.bytes, room_s, sizeof room_s);
    rn_mem_format(as ? h.as_limit : h.limit, lim_s, sizeof lim_s);
    // The offer keeps RN_MEM_SPARE of the headroom free: what is already mapped differs from run to run
    // (malloc's per-thread arenas appear as threads first allocate), and an offered batch that then
    // fails the same check by a few MiB would be a broken promise.
    int64_t fits = rn_mem_largest_batch(p, h.bytes * (1 - RN_MEM_SPARE), h.as_bytes * (1 - RN_MEM_SPARE));
    if (fits >= 1)
        snprintf(fit, sizeof fit, "the largest %s that fits with %.0f%% to spare is %lld", batch_name,
                 100 * RN_MEM_SPARE, (long long)fits);
    else snprintf(fit, sizeof fit, "not even %s = 1 fits: lower the image size, prefetch or workers", batch_name);
    return rn_fail(err,
                   "not enough memory for %s = %lld: estimated %s%s (%s) but only %s may be allocated (%s %s); %s "
                   "(RN_MEM_CHECK=off skips this check)",
                   batch_name, (long long)batch, need_s, as ? " of address space" : "", parts, room_s,
                   as ? "RLIMIT_AS" : h.source, lim_s, fit);
}
