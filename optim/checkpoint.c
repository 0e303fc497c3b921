// checkpoint.c — checkpoint files: the atomic write, the container (header, sections in order,
// CRC), the META and TENS sections, loading into a graph, and removing stale temporaries. The
// byte layout is in docs/TRAINING.md; the GRPH section is optim/ckpt_graph.c.
#define _POSIX_C_SOURCE 200809L
#include "optim/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "optim/ckpt_bytes.h"
#include "optim/ckpt_graph.h"

static const unsigned char MAGIC[8] = {0x89, 'R', 'N', 'C', 'K', 'P', 'T', '\n'};
#define HEADER_BYTES 24
#define SECTION_BYTES 12
#define N_SECTIONS 3
// Every section exactly once, in this order. A tag this build does not know is refused, not
// skipped: a writer that adds a section bumps the format version, so an unknown tag means a
// damaged file (or a newer format, which the version check names first).
static const char SECTIONS[N_SECTIONS][5] = {"META", "GRPH", "TENS"};
#define TMP_SUFFIX ".tmp."  // rn_checkpoint_save writes PATH.tmp.PID, then renames it to PATH

static uLong crc_of(uLong crc, const unsigned char *p, size_t n) {
    for (size_t done = 0; done < n;) {  // zlib takes at most 4 GiB (uInt) per call
        size_t k = n - done < (1u << 30) ? n - done : (1u << 30);
        crc = crc32(crc, p + done, (uInt)k);
        done += k;
    }
    return crc;
}

// ---- saving -------------------------------------------------------------------------------------

typedef struct wfile {
    FILE *f;
    uLong crc;
    int fail;
} wfile;

static void w_put(wfile *w, const void *p, size_t n) {
    if (w->fail || n == 0) return;
    w->crc = crc_of(w->crc, p, n);
    if (fwrite(p, 1, n, w->f) != n) w->fail = 1;
}

static void w_uint(wfile *w, uint64_t v, int bytes) {
    unsigned char t[8];
    for (int i = 0; i < bytes; i++) t[i] = (unsigned char)(v >> (8 * i));
    w_put(w, t, (size_t)bytes);
}

static void w_floats(wfile *w, const float *x, size_t n) {
    if (rn_host_le()) {
        w_put(w, x, n * sizeof(float));
        return;
    }
    unsigned char tmp[4096];
    for (size_t i = 0; i < n; i += 1024) {
        size_t k = n - i < 1024 ? n - i : 1024;
        rn_le_f32_encode(tmp, x + i, k);
        w_put(w, tmp, 4 * k);
    }
}

static int saves_value(const rn_tensor *t) { return t->role == RN_PARAM || t->role == RN_STATE; }
static int saves_momentum(const rn_tensor *t) { return t->role == RN_PARAM && t->trainable; }
// Whether tensor t has an entry of `kind`: values and EMAs for PARAM and STATE, optimiser buffers
// for trainable parameters.
static int saves_kind(const rn_tensor *t, int kind) {
    return kind == RN_CKPT_VALUE || kind == RN_CKPT_EMA ? saves_value(t) : saves_momentum(t);
}

static size_t entry_bytes(const rn_tensor *t) {
    return 2 + strlen(t->name) + 2 + 8 * (size_t)t->ndim + 4 * rn_tensor_numel(t);
}

static void w_entry(wfile *w, const rn_tensor *t, int kind, const float *data) {
    size_t n = strlen(t->name);
    w_uint(w, n, 2);
    w_put(w, t->name, n);
    w_uint(w, (uint64_t)kind, 1);
    w_uint(w, (uint64_t)t->ndim, 1);
    for (int d = 0; d < t->ndim; d++) w_uint(w, (uint64_t)t->dims[d], 8);
    w_floats(w, data, rn_tensor_numel(t));
}

// fsync of the folder holding `path`, so the rename itself is durable.
static void sync_dir(const char *path) {
    char *copy = rn_strdup(path);
    int fd = open(dirname(copy), O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

int rn_checkpoint_save(const char *path, const rn_graph *g, const float *momentum, const char *meta,
                       rn_err *err) {
    rn_ckpt_bufs b = {.momentum = momentum};
    return rn_checkpoint_save_bufs(path, g, &b, meta, err);
}

int rn_checkpoint_save_bufs(const char *path, const rn_graph *g, const rn_ckpt_bufs *bufs, const char *meta,
                            rn_err *err) {
    if (!meta) meta = "";
    // Entry kinds after the value, in the order written (the reader sorts them anyway).
    const float *extra[3] = {bufs->momentum, bufs->moment2, bufs->ema};
    const int kinds[3] = {RN_CKPT_MOMENTUM, RN_CKPT_MOMENT2, RN_CKPT_EMA};
    uint32_t version = bufs->moment2 || bufs->ema ? 3 : 2;
    const char *why = rn_ckpt_graph_unwritable(g);
    // What the reader would refuse is not written: each metadata line must be key=value.
    for (const char *l = meta; !why && *l;) {
        size_t n = strcspn(l, "\n");
        const char *eq = memchr(l, '=', n);
        if (n > 0 && (!eq || eq == l)) why = "a metadata line is not key=value";
        l += n + (l[n] == '\n');
    }
    if (why) return rn_fail(err, "%s: cannot write the checkpoint: %s", path, why);
    rn_bw gb = {0};
    rn_ckpt_graph_encode(&gb, g);
    uint32_t count = 0;
    uint64_t tens = 4;
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (!saves_value(t)) continue;
        count++, tens += entry_bytes(t);
        for (int k = 0; k < 3; k++)
            if (extra[k] && saves_kind(t, kinds[k])) count++, tens += entry_bytes(t);
    }
    size_t ml = strlen(meta);
    uint64_t total = HEADER_BYTES + N_SECTIONS * SECTION_BYTES + ml + gb.n + tens + 4;

    size_t pl = strlen(path) + 32;
    char *tmp = rn_malloc(pl);
    snprintf(tmp, pl, "%s" TMP_SUFFIX "%ld", path, (long)getpid());
    wfile w = {fopen(tmp, "wb"), crc32(0L, Z_NULL, 0), 0};
    if (!w.f) {
        int e = errno;
        free(tmp);
        rn_bw_free(&gb);
        return rn_fail(err, "%s: cannot write checkpoint: %s", path, strerror(e));
    }
    w_put(&w, MAGIC, 8);
    w_uint(&w, version, 4);
    w_uint(&w, 0, 4);
    w_uint(&w, total, 8);
    w_put(&w, SECTIONS[0], 4);
    w_uint(&w, ml, 8);
    w_put(&w, meta, ml);
    w_put(&w, SECTIONS[1], 4);
    w_uint(&w, gb.n, 8);
    w_put(&w, gb.p, gb.n);
    w_put(&w, SECTIONS[2], 4);
    w_uint(&w, tens, 8);
    w_uint(&w, count, 4);
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (!saves_value(t)) continue;
        w_entry(&w, t, RN_CKPT_VALUE, t->data);
        for (int k = 0; k < 3; k++)
            if (extra[k] && saves_kind(t, kinds[k])) w_entry(&w, t, kinds[k], extra[k] + t->offset);
    }
    uint32_t crc = (uint32_t)w.crc;
    w_uint(&w, crc, 4);
    rn_bw_free(&gb);
    int e = 0;
    if (w.fail || fflush(w.f) != 0 || fsync(fileno(w.f)) != 0) e = errno ? errno : EIO;
    if (fclose(w.f) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) {
        unlink(tmp);
        free(tmp);
        return rn_fail(err, "%s: writing the checkpoint failed: %s (the previous file, if any, is intact)",
                       path, strerror(e));
    }
    free(tmp);
    sync_dir(path);
    return 0;
}

// The PID in a file name "NAME.ckpt.tmp.PID" (decimal, no sign or leading zero), else -1.
static long tmp_pid(const char *name) {
    static const char tail[] = ".ckpt" TMP_SUFFIX;
    const size_t tl = sizeof tail - 1;
    const char *dot = strrchr(name, '.');
    if (!dot || (size_t)(dot + 1 - name) <= tl || memcmp(dot + 1 - tl, tail, tl) != 0) return -1;
    const char *d = dot + 1;
    size_t nd = strspn(d, "0123456789");
    if (nd == 0 || nd > 9 || d[nd] != 0 || d[0] == '0') return -1;
    return strtol(d, NULL, 10);
}

int rn_checkpoint_remove_stale(const char *dir, int *removed, uint64_t *bytes, rn_err *err) {
    *removed = 0;
    *bytes = 0;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : rn_fail(err, "%s: cannot list the folder: %s", dir, strerror(errno));
    int rc = 0;
    for (struct dirent *de; !rc && (de = readdir(d));) {
        long pid = tmp_pid(de->d_name);
        // Alive, or someone else's (EPERM): kept. Only a process that no longer exists is stale.
        if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        size_t n = strlen(dir) + strlen(de->d_name) + 2;
        char *p = rn_malloc(n);
        snprintf(p, n, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            if (unlink(p) != 0)
                rc = rn_fail(err, "%s: cannot remove this stale temporary checkpoint: %s", p, strerror(errno));
            else
                (*removed)++, *bytes += (uint64_t)st.st_size;
        }
        free(p);
    }
    closedir(d);
    return rc;
}

// ---- reading ------------------------------------------------------------------------------------

void rn_ckpt_free(rn_ckpt *c) {
    if (!c) return;
    for (int i = 0; i < c->n_meta; i++) free(c->meta_key[i]), free(c->meta_val[i]);
    for (int i = 0; i < c->n_entries; i++) free(c->entries[i].name);
    free(c->meta_key);
    free(c->meta_val);
    free(c->entries);
    free(c->buf);
    free(c->path);
    free(c);
}

static int parse_meta(rn_ckpt *c, const unsigned char *p, size_t n, rn_err *err) {
    RN_CHECK(!c->meta_key);  // one META section per file (parse_sections)
    if (memchr(p, 0, n)) return rn_fail(err, "%s: META: the metadata holds a NUL byte", c->path);
    size_t lines = 1;
    for (size_t i = 0; i < n; i++) lines += p[i] == '\n';
    c->meta_key = rn_calloc(lines, sizeof(char *));
    c->meta_val = rn_calloc(lines, sizeof(char *));
    size_t line = 1;
    for (size_t i = 0; i < n; line++) {
        const unsigned char *nl = memchr(p + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - p) : n;
        const unsigned char *eq = memchr(p + i, '=', e - i);
        if (e > i && (!eq || eq == p + i))
            return rn_fail(err, "%s: META: line %zu is not key=value", c->path, line);
        if (e > i) {
            size_t kl = (size_t)(eq - (p + i)), vl = e - i - kl - 1;
            char *k = rn_malloc(kl + 1), *v = rn_malloc(vl + 1);
            memcpy(k, p + i, kl), k[kl] = 0;
            memcpy(v, eq + 1, vl), v[vl] = 0;
            c->meta_key[c->n_meta] = k;
            c->meta_val[c->n_meta++] = v;
        }
        i = e + 1;
    }
    return 0;
}

static int entry_cmp(const void *a, const void *b) {
    const rn_ckpt_entry *x = a, *y = b;
    int s = strcmp(x->name, y->name);
    return s ? s : x->kind - y->kind;
}

static const char *kind_name(int kind) {
    static const char *const names[] = {"tensor", "momentum buffer of", "second-moment buffer of", "EMA of"};
    return names[kind];
}

static int parse_tensors(rn_ckpt *c, rn_br *cur, rn_err *err) {
    RN_CHECK(!c->entries);  // one TENS section per file (parse_sections)
    uint32_t n = (uint32_t)rn_br_uint(cur, 4);
    // An entry takes at least 8 bytes (empty name, kind, rank 0, one float), which bounds the
    // array by the section's size before it is allocated.
    if (cur->bad) return rn_fail(err, "%s: TENS: truncated before the count", c->path);
    if (n > 4 * RN_CKPT_MAX_TENSORS || n > rn_br_left(cur) / 8)
        return rn_fail(err, "%s: TENS: %u entries do not fit in its %zu bytes (or exceed %d)", c->path, n,
                       rn_br_left(cur), 4 * RN_CKPT_MAX_TENSORS);
    c->entries = rn_calloc((size_t)n + 1, sizeof *c->entries);
    for (uint32_t i = 0; i < n; i++) {
        rn_ckpt_entry *e = &c->entries[c->n_entries];
        const char *why = rn_br_str(cur, RN_CKPT_MAX_STR, &e->name);
        if (why) return rn_fail(err, "%s: TENS: the name of entry #%u %s", c->path, i, why);
        c->n_entries++;
        e->kind = (int)rn_br_uint(cur, 1);
        e->ndim = (int)rn_br_uint(cur, 1);
        uint64_t numel = 0;
        if (cur->bad) return rn_fail(err, "%s: TENS: tensor '%s' is truncated", c->path, e->name);
        int last_kind = c->version >= 3 ? RN_CKPT_EMA : RN_CKPT_MOMENTUM;
        if (e->kind > last_kind)
            return rn_fail(err, "%s: TENS: tensor '%s': kind %d is unknown to format version %u (0 value, 1 momentum%s)",
                           c->path, e->name, e->kind, c->version, c->version >= 3 ? ", 2 second moment, 3 EMA" : "");
        if (e->ndim > RN_MAX_DIMS)
            return rn_fail(err, "%s: TENS: tensor '%s': rank %d exceeds %d", c->path, e->name, e->ndim, RN_MAX_DIMS);
        if ((why = rn_br_dims(cur, e->ndim, e->dims, &numel)))
            return rn_fail(err, "%s: TENS: tensor '%s': its dimensions %s", c->path, e->name, why);
        if (numel > rn_br_left(cur) / 4)
            return rn_fail(err, "%s: TENS: tensor '%s' declares %llu bytes of data, the section holds %zu more",
                           c->path, e->name, (unsigned long long)numel * 4, rn_br_left(cur));
        e->numel = (size_t)numel;
        e->data = rn_br_take(cur, e->numel * 4);
    }
    if (rn_br_left(cur)) return rn_fail(err, "%s: TENS: %zu bytes after the last entry", c->path, rn_br_left(cur));
    qsort(c->entries, (size_t)c->n_entries, sizeof *c->entries, entry_cmp);
    for (int i = 1; i < c->n_entries; i++)
        if (!entry_cmp(&c->entries[i - 1], &c->entries[i]))
            return rn_fail(err, "%s: TENS: %s '%s' is stored twice", c->path, kind_name(c->entries[i].kind),
                           c->entries[i].name);
    return 0;
}

static void show_tag(const unsigned char *t, char out[17]) {
    int printable = 1;
    for (int i = 0; i < 4; i++) printable &= t[i] >= 0x20 && t[i] < 0x7f;
    if (printable) snprintf(out, 17, "%c%c%c%c", t[0], t[1], t[2], t[3]);
    else snprintf(out, 17, "\\x%02x\\x%02x\\x%02x\\x%02x", t[0], t[1], t[2], t[3]);
}

static int parse_sections(rn_ckpt *c, rn_err *err) {
    rn_br cur = rn_br_make(c->buf, c->size - 4);
    rn_br_take(&cur, HEADER_BYTES);
    int next = 0;
    while (rn_br_left(&cur) > 0) {
        size_t at = cur.pos;
        const unsigned char *tag = rn_br_take(&cur, 4);
        uint64_t len = rn_br_uint(&cur, 8);
        if (cur.bad) return rn_fail(err, "%s: truncated section header at byte %zu", c->path, at);
        int k = 0;
        while (k < N_SECTIONS && memcmp(tag, SECTIONS[k], 4) != 0) k++;
        char shown[17];
        show_tag(tag, shown);
        if (k == N_SECTIONS)
            return rn_fail(err, "%s: unknown section '%s' at byte %zu (version %u has META, GRPH and TENS only)",
                           c->path, shown, at, c->version);
        if (k < next) return rn_fail(err, "%s: a second %s section at byte %zu", c->path, shown, at);
        if (k > next)
            return rn_fail(err, "%s: checkpoint lacks its %s section (%s comes first, at byte %zu)", c->path,
                           SECTIONS[next], shown, at);
        if (len > rn_br_left(&cur))
            return rn_fail(err, "%s: section %s at byte %zu is truncated: it declares %llu bytes, %zu remain",
                           c->path, shown, at, (unsigned long long)len, rn_br_left(&cur));
        rn_br sec = rn_br_make(cur.p + cur.pos, (size_t)len);
        cur.pos += (size_t)len;
        if (k == 0 && parse_meta(c, sec.p, sec.n, err)) return -1;
        if (k == 1) c->graph = sec.p, c->graph_len = sec.n;
        if (k == 2 && parse_tensors(c, &sec, err)) return -1;
        next = k + 1;
    }
    if (next < N_SECTIONS) return rn_fail(err, "%s: checkpoint lacks its %s section", c->path, SECTIONS[next]);
    return 0;
}

// The header, read before the file is: nothing of the file's size is allocated for a file that
// is no checkpoint of a version this build reads, or whose size disagrees with its header.
static int check_header(const char *path, const unsigned char *h, size_t got, size_t size, uint32_t *version,
                        rn_err *err) {
    if (got < 8 || memcmp(h, MAGIC, 8) != 0) return rn_fail(err, "%s: not a resnet.c checkpoint (bad magic number)", path);
    if (got < HEADER_BYTES || size < HEADER_BYTES + 4) return rn_fail(err, "%s: truncated checkpoint (%zu bytes)", path, size);
    rn_br c = rn_br_make(h + 8, HEADER_BYTES - 8);
    *version = (uint32_t)rn_br_uint(&c, 4);
    uint32_t flags = (uint32_t)rn_br_uint(&c, 4);
    uint64_t total = rn_br_uint(&c, 8);
    if (*version < 1 || *version > RN_CKPT_VERSION)
        return rn_fail(err, "%s: checkpoint format version %u is not supported (this build reads versions 1 to %d)",
                       path, *version, RN_CKPT_VERSION);
    if (flags != 0) return rn_fail(err, "%s: header flags 0x%x are unknown to format version %u", path, flags, *version);
    if (total != size)
        return rn_fail(err, "%s: truncated or damaged checkpoint: %zu bytes, the header says %llu", path, size,
                       (unsigned long long)total);
    return 0;
}

int rn_ckpt_read(const char *path, rn_ckpt **out, rn_err *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return rn_fail(err, "%s: cannot open checkpoint: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return rn_fail(err, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    unsigned char head[HEADER_BYTES];
    uint32_t version = 0;
    size_t got = fread(head, 1, HEADER_BYTES, f);
    if (check_header(path, head, got, size, &version, err)) {
        fclose(f);
        return -1;
    }
    unsigned char *buf = malloc(size);  // not rn_malloc: a file too large for memory is an error, not an abort
    if (!buf) {
        fclose(f);
        return rn_fail(err, "%s: cannot allocate %zu bytes to read the checkpoint", path, size);
    }
    memcpy(buf, head, HEADER_BYTES);
    got = HEADER_BYTES + fread(buf + HEADER_BYTES, 1, size - HEADER_BYTES, f);
    fclose(f);
    rn_ckpt *c = rn_calloc(1, sizeof *c);
    c->path = rn_strdup(path);
    c->buf = buf;
    c->size = size;
    c->version = version;
    int rc = -1;
    uint32_t want = 0;
    for (int i = 0; i < 4; i++) want |= (uint32_t)buf[size - 4 + (size_t)i] << (8 * i);
    if (got != size) rn_fail(err, "%s: read error", path);
    else if ((uint32_t)crc_of(crc32(0L, Z_NULL, 0), buf, size - 4) != want) rn_fail(err, "%s: corrupt checkpoint (CRC mismatch)", path);
    else rc = parse_sections(c, err);
    if (rc) {
        rn_ckpt_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

const char *rn_ckpt_meta(const rn_ckpt *c, const char *key) {
    for (int i = c->n_meta - 1; i >= 0; i--)
        if (strcmp(c->meta_key[i], key) == 0) return c->meta_val[i];
    return NULL;
}

const rn_ckpt_entry *rn_ckpt_find(const rn_ckpt *c, const char *name, int kind) {
    rn_ckpt_entry key = {.name = (char *)name, .kind = kind};
    return c->n_entries ? bsearch(&key, c->entries, (size_t)c->n_entries, sizeof key, entry_cmp) : NULL;
}

void rn_ckpt_entry_read(const rn_ckpt_entry *e, float *dst) { rn_le_f32_decode(dst, e->data, e->numel); }

static int same_shape(const rn_ckpt_entry *e, const rn_tensor *t) {
    if (e->ndim != t->ndim) return 0;
    for (int d = 0; d < t->ndim; d++)
        if (e->dims[d] != t->dims[d]) return 0;
    return 1;
}

// Every tensor of g that a `kind` entry must exist for has one of the same shape. Run before the
// arena exists, this bounds it by the file: the op list alone cannot make the reader allocate.
static int check_kind(const rn_ckpt *c, const rn_graph *g, int kind, rn_err *err) {
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (!saves_kind(t, kind)) continue;
        const rn_ckpt_entry *e = rn_ckpt_find(c, t->name, kind);
        if (!e) return rn_fail(err, "%s: TENS: %s '%s' is missing", c->path, kind_name(kind), t->name);
        if (!same_shape(e, t))
            return rn_fail(err, "%s: TENS: %s '%s' has another shape than the network's", c->path, kind_name(kind),
                           t->name);
    }
    return 0;
}

static void load_kind(const rn_ckpt *c, const rn_graph *g, int kind, float *base) {
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (saves_kind(t, kind))
            rn_ckpt_entry_read(rn_ckpt_find(c, t->name, kind), base + t->offset);
    }
}

int rn_ckpt_build_graph(const rn_ckpt *c, rn_graph **out, rn_err *err) {
    *out = NULL;
    rn_graph *g = NULL;
    rn_err e;
    if (rn_ckpt_graph_decode(c->graph, c->graph_len, c->version, &g, &e)) return rn_fail(err, "%s: %s", c->path, e.msg);
    // The op contract (input counts and roles, shapes) is rn_graph_finalize's, as for every source.
    int rc = check_kind(c, g, RN_CKPT_VALUE, err);
    if (!rc && rn_graph_finalize(g, &e)) rc = rn_fail(err, "%s: %s", c->path, e.msg);
    if (rc) {
        rn_graph_destroy(g);
        return -1;
    }
    load_kind(c, g, RN_CKPT_VALUE, g->arena);
    g->version++;
    *out = g;
    return 0;
}

int rn_ckpt_load_momentum(const rn_ckpt *c, const rn_graph *g, float *momentum, rn_err *err) {
    return rn_ckpt_load_kind(c, g, RN_CKPT_MOMENTUM, momentum, err);
}

int rn_ckpt_load_kind(const rn_ckpt *c, const rn_graph *g, int kind, float *base, rn_err *err) {
    if (check_kind(c, g, kind, err)) return -1;
    load_kind(c, g, kind, base);
    return 0;
}

int rn_checkpoint_load_model(const char *path, rn_graph **out, rn_err *err) {
    *out = NULL;
    rn_ckpt *c;
    if (rn_ckpt_read(path, &c, err)) return -1;
    int rc = rn_ckpt_build_graph(c, out, err);
    rn_ckpt_free(c);
    return rc;
}
