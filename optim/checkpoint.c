// checkpoint.c — writing and reading checkpoints; see checkpoint.h for the format.
#define _POSIX_C_SOURCE 200809L
#include "optim/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const unsigned char MAGIC[8] = {0x89, 'R', 'N', 'C', 'K', 'P', 'T', '\n'};
#define HEADER_BYTES 24
#define SECTION_BYTES 12
#define MAX_NAME 65535

static int host_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

// ---- a growable little-endian byte buffer (the small sections) ---------------------------------

typedef struct bbuf {
    unsigned char *p;
    size_t n, cap;
} bbuf;

static void b_put(bbuf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p = rn_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void b_uint(bbuf *b, uint64_t v, int bytes) {
    unsigned char t[8];
    for (int i = 0; i < bytes; i++) t[i] = (unsigned char)(v >> (8 * i));
    b_put(b, t, (size_t)bytes);
}
static void b_f32(bbuf *b, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    b_uint(b, u, 4);
}
static void b_str(bbuf *b, const char *s) {
    size_t n = strlen(s);
    b_uint(b, n, 2);
    b_put(b, s, n);
}

// ---- a bounds-checked reader --------------------------------------------------------------------

typedef struct cursor {
    const unsigned char *p;
    size_t n, pos;
    int bad;  // set by the first read past the end; every later read returns zeros
} cursor;

static const unsigned char *c_take(cursor *c, size_t n) {
    if (c->bad || n > c->n - c->pos) {
        c->bad = 1;
        return NULL;
    }
    const unsigned char *r = c->p + c->pos;
    c->pos += n;
    return r;
}
static uint64_t c_uint(cursor *c, int bytes) {
    const unsigned char *t = c_take(c, (size_t)bytes);
    uint64_t v = 0;
    for (int i = 0; t && i < bytes; i++) v |= (uint64_t)t[i] << (8 * i);
    return v;
}
static float c_f32(cursor *c) {
    uint32_t u = (uint32_t)c_uint(c, 4);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
// A copied, NUL-terminated string (NULL when truncated or holding a NUL byte).
static char *c_str(cursor *c) {
    size_t n = (size_t)c_uint(c, 2);
    const unsigned char *s = c_take(c, n);
    if (!s || memchr(s, 0, n)) {
        c->bad = 1;
        return NULL;
    }
    char *r = rn_malloc(n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

// ---- the GRPH section ---------------------------------------------------------------------------

static int is_declared(const rn_tensor *t) { return t->role != RN_ACT; }

static void put_attrs(bbuf *b, const rn_op *op) {
    switch (op->type) {
    case RN_OP_CONV: {
        const rn_conv_attr *a = &op->a.conv;
        int v[9] = {a->kh, a->kw, a->sh, a->sw, a->pt, a->pl, a->pb, a->pr, a->group};
        for (int i = 0; i < 9; i++) b_uint(b, (uint32_t)v[i], 4);
        break;
    }
    case RN_OP_BATCHNORM:
        b_f32(b, op->a.bn.epsilon);
        b_f32(b, op->a.bn.momentum);
        break;
    case RN_OP_MAXPOOL: {
        const rn_pool_attr *a = &op->a.pool;
        int v[8] = {a->kh, a->kw, a->sh, a->sw, a->pt, a->pl, a->pb, a->pr};
        for (int i = 0; i < 8; i++) b_uint(b, (uint32_t)v[i], 4);
        break;
    }
    case RN_OP_GEMM:
        b_f32(b, op->a.gemm.alpha);
        b_f32(b, op->a.gemm.beta);
        b_uint(b, (uint32_t)op->a.gemm.trans_a, 4);
        b_uint(b, (uint32_t)op->a.gemm.trans_b, 4);
        break;
    default: break;
    }
}

static void put_graph(bbuf *b, const rn_graph *g) {
    uint32_t nd = 0;
    for (int i = 0; i < g->n_tensors; i++) nd += is_declared(&g->tensors[i]);
    b_uint(b, nd, 4);
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (!is_declared(t)) continue;
        b_str(b, t->name);
        b_uint(b, (uint64_t)t->role, 1);
        b_uint(b, (uint64_t)t->trainable, 1);
        b_uint(b, (uint64_t)t->init, 1);
        b_uint(b, (uint64_t)t->ndim, 1);
        for (int d = 0; d < t->ndim; d++) b_uint(b, (uint64_t)t->dims[d], 8);
    }
    b_uint(b, (uint64_t)g->n_ops, 4);
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        b_uint(b, (uint64_t)op->type, 1);
        b_str(b, op->name);
        b_uint(b, (uint64_t)op->n_in, 1);
        for (int i = 0; i < op->n_in; i++) b_str(b, g->tensors[op->in[i]].name);
        b_str(b, g->tensors[op->out].name);
        put_attrs(b, op);
    }
    b_str(b, g->tensors[g->output].name);
}

static int get_attrs(cursor *c, rn_op *op, rn_err *err) {
    int v[9] = {0};
    switch (op->type) {
    case RN_OP_CONV:
        for (int i = 0; i < 9; i++) v[i] = (int32_t)c_uint(c, 4);
        op->a.conv = (rn_conv_attr){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
        break;
    case RN_OP_BATCHNORM:
        op->a.bn.epsilon = c_f32(c);
        op->a.bn.momentum = c_f32(c);
        if (!(op->a.bn.epsilon > 0) || !(op->a.bn.momentum >= 0 && op->a.bn.momentum <= 1)) v[0] = -1;
        break;
    case RN_OP_MAXPOOL:
        for (int i = 0; i < 8; i++) v[i] = (int32_t)c_uint(c, 4);
        op->a.pool = (rn_pool_attr){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
        break;
    case RN_OP_GEMM:
        op->a.gemm.alpha = c_f32(c);
        op->a.gemm.beta = c_f32(c);
        op->a.gemm.trans_a = (int32_t)c_uint(c, 4);
        op->a.gemm.trans_b = (int32_t)c_uint(c, 4);
        break;
    default: return 0;
    }
    // Kernels and strides of at least 1, pads in [0, kernel): shape inference divides by strides.
    if (op->type == RN_OP_CONV || op->type == RN_OP_MAXPOOL)
        for (int i = 0; i < 8; i++)
            if ((i < 4 && (v[i] < 1 || v[i] > 4096)) || (i >= 4 && (v[i] < 0 || v[i] >= v[i < 6 ? i - 4 : i - 6])))
                v[0] = -1;
    if (v[0] < 0 && !c->bad) return rn_fail(err, "node '%s': implausible attributes", op->name);
    return 0;
}

static int64_t c_dims(cursor *c, int ndim, int64_t *dims) {
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        uint64_t v = c_uint(c, 8);
        if (v > (1u << 30)) {
            c->bad = 1;
            return -1;
        }
        dims[d] = (int64_t)v;
        numel *= (int64_t)v;
        if (numel > ((int64_t)1 << 40)) {
            c->bad = 1;
            return -1;
        }
    }
    return numel;
}

// Rebuilds the op list (parameters are left for the caller to fill).
static int get_graph(cursor *c, rn_graph **out, rn_err *err) {
    rn_graph *g = rn_graph_create();
    char *name = NULL, *nm2 = NULL;
    int rc = -1;
    uint32_t nd = (uint32_t)c_uint(c, 4);
    for (uint32_t i = 0; i < nd && !c->bad; i++) {
        name = c_str(c);
        int role = (int)c_uint(c, 1), trainable = (int)c_uint(c, 1), init = (int)c_uint(c, 1), ndim = (int)c_uint(c, 1);
        int64_t dims[RN_MAX_DIMS] = {0};
        if (c->bad) break;
        if (role == RN_ACT || role > RN_STATE || init > RN_INIT_UNIFORM_FAN || ndim > RN_MAX_DIMS) {
            rn_fail(err, "tensor '%s': invalid role, init or rank", name);
            goto done;
        }
        c_dims(c, ndim, dims);
        if (c->bad) break;
        if (rn_graph_find(g, name) >= 0 || (role == RN_DATA && g->input >= 0)) {
            rn_fail(err, "tensor '%s' is declared twice", name);
            goto done;
        }
        int t = rn_graph_tensor(g, name, (rn_role)role, ndim, dims);
        g->tensors[t].trainable = role == RN_PARAM && trainable;
        g->tensors[t].init = (rn_init)init;
        free(name);
        name = NULL;
    }
    uint32_t nops = c->bad ? 0 : (uint32_t)c_uint(c, 4);
    if (nops > (1u << 20)) c->bad = 1;
    for (uint32_t k = 0; k < nops && !c->bad; k++) {
        int type = (int)c_uint(c, 1);
        name = c_str(c);
        int n_in = (int)c_uint(c, 1);
        if (c->bad) break;
        if (type >= RN_OP_COUNT || n_in < 1 || n_in > RN_MAX_IN) {
            rn_fail(err, "node '%s': invalid op type or input count", name);
            goto done;
        }
        int in[RN_MAX_IN];
        for (int i = 0; i < n_in && !c->bad; i++) {
            nm2 = c_str(c);
            if (!nm2) break;
            in[i] = rn_graph_find(g, nm2);
            if (in[i] < 0) {
                rn_fail(err, "node '%s': input '%s' is neither declared nor produced earlier", name, nm2);
                goto done;
            }
            free(nm2);
            nm2 = NULL;
        }
        nm2 = c_str(c);
        if (c->bad) break;
        if (rn_graph_find(g, nm2) >= 0) {
            rn_fail(err, "node '%s': output '%s' is produced twice", name, nm2);
            goto done;
        }
        int o = rn_graph_op(g, (rn_op_type)type, name, in, n_in, nm2);
        if (get_attrs(c, &g->ops[o], err)) goto done;
        free(name);
        free(nm2);
        name = nm2 = NULL;
    }
    free(name);
    free(nm2);
    nm2 = NULL;
    name = c->bad ? NULL : c_str(c);
    if (c->bad) {
        rn_fail(err, "graph section is truncated");
        goto done;
    }
    g->output = rn_graph_find(g, name);
    if (g->output < 0 || g->tensors[g->output].role != RN_ACT) {
        rn_fail(err, "graph output '%s' is not produced by any node", name);
        goto done;
    }
    if (rn_graph_finalize(g, err)) goto done;
    *out = g;
    g = NULL;
    rc = 0;
done:
    free(name);
    free(nm2);
    rn_graph_destroy(g);
    return rc;
}

// ---- saving -------------------------------------------------------------------------------------

typedef struct wfile {
    FILE *f;
    uLong crc;
    int fail;
} wfile;

static void w_put(wfile *w, const void *p, size_t n) {
    if (w->fail || n == 0) return;
    const unsigned char *s = p;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < (1u << 30) ? n - done : (1u << 30);
        w->crc = crc32(w->crc, s + done, (uInt)k);
        done += k;
    }
    if (fwrite(p, 1, n, w->f) != n) w->fail = 1;
}

static void w_floats(wfile *w, const float *x, size_t n) {
    if (host_le()) {
        w_put(w, x, n * sizeof(float));
        return;
    }
    unsigned char tmp[4096];
    for (size_t i = 0; i < n; i += 1024) {
        size_t k = n - i < 1024 ? n - i : 1024;
        for (size_t j = 0; j < k; j++) {
            uint32_t u;
            memcpy(&u, &x[i + j], 4);
            for (int b = 0; b < 4; b++) tmp[4 * j + (size_t)b] = (unsigned char)(u >> (8 * b));
        }
        w_put(w, tmp, 4 * k);
    }
}

static void w_uint(wfile *w, uint64_t v, int bytes) {
    unsigned char t[8];
    for (int i = 0; i < bytes; i++) t[i] = (unsigned char)(v >> (8 * i));
    w_put(w, t, (size_t)bytes);
}

static int saves_momentum(const rn_tensor *t) { return t->role == RN_PARAM && t->trainable; }

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
    if (!meta) meta = "";
    for (int i = 0; i < g->n_tensors; i++)
        if (strlen(g->tensors[i].name) > MAX_NAME)
            return rn_fail(err, "%s: tensor name longer than %d bytes", path, MAX_NAME);
    bbuf gb = {0};
    put_graph(&gb, g);
    uint32_t count = 0;
    uint64_t tens = 4;
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (t->role != RN_PARAM && t->role != RN_STATE) continue;
        count++, tens += entry_bytes(t);
        if (momentum && saves_momentum(t)) count++, tens += entry_bytes(t);
    }
    size_t ml = strlen(meta);
    uint64_t total = HEADER_BYTES + 3 * SECTION_BYTES + ml + gb.n + tens + 4;

    size_t pl = strlen(path) + 32;
    char *tmp = rn_malloc(pl);
    snprintf(tmp, pl, "%s.tmp.%ld", path, (long)getpid());
    wfile w = {fopen(tmp, "wb"), crc32(0L, Z_NULL, 0), 0};
    if (!w.f) {
        int e = errno;
        free(tmp);
        free(gb.p);
        return rn_fail(err, "%s: cannot write checkpoint: %s", path, strerror(e));
    }
    w_put(&w, MAGIC, 8);
    w_uint(&w, RN_CKPT_VERSION, 4);
    w_uint(&w, 0, 4);
    w_uint(&w, total, 8);
    w_put(&w, "META", 4);
    w_uint(&w, ml, 8);
    w_put(&w, meta, ml);
    w_put(&w, "GRPH", 4);
    w_uint(&w, gb.n, 8);
    w_put(&w, gb.p, gb.n);
    w_put(&w, "TENS", 4);
    w_uint(&w, tens, 8);
    w_uint(&w, count, 4);
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        if (t->role != RN_PARAM && t->role != RN_STATE) continue;
        w_entry(&w, t, RN_CKPT_VALUE, t->data);
        if (momentum && saves_momentum(t)) w_entry(&w, t, RN_CKPT_MOMENTUM, momentum + t->offset);
    }
    uint32_t crc = (uint32_t)w.crc;
    w_uint(&w, crc, 4);
    free(gb.p);
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
    if (memchr(p, 0, n)) return rn_fail(err, "%s: metadata holds a NUL byte", c->path);
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) lines += p[i] == '\n';
    c->meta_key = rn_calloc(lines + 1, sizeof(char *));
    c->meta_val = rn_calloc(lines + 1, sizeof(char *));
    for (size_t i = 0; i < n;) {
        const unsigned char *nl = memchr(p + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - p) : n;
        const unsigned char *eq = memchr(p + i, '=', e - i);
        if (e > i && eq) {
            size_t kl = (size_t)(eq - (p + i)), vl = e - i - kl - 1;
            char *k = rn_malloc(kl + 1), *v = rn_malloc(vl + 1);
            memcpy(k, p + i, kl), k[kl] = 0;
            memcpy(v, eq + 1, vl), v[vl] = 0;
            c->meta_key[c->n_meta] = k;
            c->meta_val[c->n_meta++] = v;
        } else if (e > i) {
            return rn_fail(err, "%s: metadata line without '='", c->path);
        }
        i = e + 1;
    }
    return 0;
}

static int parse_tensors(rn_ckpt *c, cursor *cur, rn_err *err) {
    uint32_t n = (uint32_t)c_uint(cur, 4);
    // Each entry takes at least 4 bytes, which bounds the allocation by the file size.
    if (cur->bad || (size_t)n > (cur->n - cur->pos) / 4) return rn_fail(err, "%s: tensor section is truncated", c->path);
    c->entries = rn_calloc((size_t)n + 1, sizeof *c->entries);
    for (uint32_t i = 0; i < n; i++) {
        rn_ckpt_entry *e = &c->entries[c->n_entries];
        e->name = c_str(cur);
        e->kind = (int)c_uint(cur, 1);
        e->ndim = (int)c_uint(cur, 1);
        if (cur->bad) {
            free(e->name);
            break;
        }
        c->n_entries++;
        if (e->ndim > RN_MAX_DIMS || e->kind > RN_CKPT_MOMENTUM)
            return rn_fail(err, "%s: tensor '%s': invalid rank or kind", c->path, e->name);
        int64_t numel = c_dims(cur, e->ndim, e->dims);
        if (cur->bad || (uint64_t)numel > (cur->n - cur->pos) / 4) {
            cur->bad = 1;
            break;
        }
        e->numel = (size_t)numel;
        e->data = c_take(cur, e->numel * 4);
    }
    if (cur->bad) return rn_fail(err, "%s: tensor section is truncated", c->path);
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
    rn_ckpt *c = rn_calloc(1, sizeof *c);
    c->path = rn_strdup(path);
    c->buf = rn_malloc(size + 1);
    c->size = size;
    size_t got = fread(c->buf, 1, size, f);
    fclose(f);
    int rc = -1;
    cursor cur = {c->buf, size, 0, 0};
    if (got != size) {
        rn_fail(err, "%s: read error", path);
        goto done;
    }
    if (size < 8 || memcmp(c->buf, MAGIC, 8) != 0) {
        rn_fail(err, "%s: not a resnet.c checkpoint (bad magic number)", path);
        goto done;
    }
    if (size < HEADER_BYTES + 4) {
        rn_fail(err, "%s: truncated checkpoint (%zu bytes)", path, size);
        goto done;
    }
    c_take(&cur, 8);
    c->version = (uint32_t)c_uint(&cur, 4);
    c_uint(&cur, 4);  // flags: none defined in version 1
    uint64_t total = c_uint(&cur, 8);
    if (c->version != RN_CKPT_VERSION) {
        rn_fail(err, "%s: checkpoint format version %u is not supported (this build reads version %d)", path,
                c->version, RN_CKPT_VERSION);
        goto done;
    }
    if (total != size) {
        rn_fail(err, "%s: truncated or damaged checkpoint: %zu bytes, the header says %llu", path, size,
                (unsigned long long)total);
        goto done;
    }
    uint32_t want = 0;
    for (int i = 0; i < 4; i++) want |= (uint32_t)c->buf[size - 4 + (size_t)i] << (8 * i);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t done = 0; done < size - 4;) {
        size_t k = size - 4 - done < (1u << 30) ? size - 4 - done : (1u << 30);
        crc = crc32(crc, c->buf + done, (uInt)k);
        done += k;
    }
    if ((uint32_t)crc != want) {
        rn_fail(err, "%s: corrupt checkpoint (CRC mismatch)", path);
        goto done;
    }
    cur.n = size - 4;
    int seen = 0;
    while (cur.pos < cur.n) {
        const unsigned char *tag = c_take(&cur, 4);
        uint64_t len = c_uint(&cur, 8);
        if (cur.bad || len > cur.n - cur.pos) {
            rn_fail(err, "%s: section is truncated", path);
            goto done;
        }
        cursor sec = {cur.p + cur.pos, (size_t)len, 0, 0};
        cur.pos += (size_t)len;
        if (memcmp(tag, "META", 4) == 0) {
            if (parse_meta(c, sec.p, sec.n, err)) goto done;
            seen |= 1;
        } else if (memcmp(tag, "GRPH", 4) == 0) {
            c->graph = sec.p;
            c->graph_len = sec.n;
            seen |= 2;
        } else if (memcmp(tag, "TENS", 4) == 0) {
            if (parse_tensors(c, &sec, err)) goto done;
            seen |= 4;
        }  // unknown sections are skipped: later writers may add some
    }
    if (seen != 7) {
        rn_fail(err, "%s: checkpoint lacks its %s section", path, !(seen & 1) ? "META" : !(seen & 2) ? "GRPH" : "TENS");
        goto done;
    }
    rc = 0;
done:
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
    for (int i = 0; i < c->n_entries; i++)
        if (c->entries[i].kind == kind && strcmp(c->entries[i].name, name) == 0) return &c->entries[i];
    return NULL;
}

void rn_ckpt_entry_read(const rn_ckpt_entry *e, float *dst) {
    if (host_le()) {
        memcpy(dst, e->data, e->numel * 4);
        return;
    }
    for (size_t i = 0; i < e->numel; i++) {
        uint32_t u = 0;
        for (int b = 0; b < 4; b++) u |= (uint32_t)e->data[4 * i + (size_t)b] << (8 * b);
        memcpy(&dst[i], &u, 4);
    }
}

static int same_shape(const rn_ckpt_entry *e, const rn_tensor *t) {
    if (e->ndim != t->ndim) return 0;
    for (int d = 0; d < t->ndim; d++)
        if (e->dims[d] != t->dims[d]) return 0;
    return 1;
}

static int load_kind(const rn_ckpt *c, const rn_graph *g, int kind, float *base, rn_err *err) {
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        int want = kind == RN_CKPT_VALUE ? (t->role == RN_PARAM || t->role == RN_STATE) : saves_momentum(t);
        if (!want) continue;
        const rn_ckpt_entry *e = rn_ckpt_find(c, t->name, kind);
        const char *what = kind == RN_CKPT_VALUE ? "tensor" : "momentum buffer of";
        if (!e) return rn_fail(err, "%s: %s '%s' is missing", c->path, what, t->name);
        if (!same_shape(e, t)) return rn_fail(err, "%s: %s '%s' has another shape than the network's", c->path, what, t->name);
        rn_ckpt_entry_read(e, base + t->offset);
    }
    return 0;
}

int rn_ckpt_build_graph(const rn_ckpt *c, rn_graph **out, rn_err *err) {
    *out = NULL;
    cursor cur = {c->graph, c->graph_len, 0, 0};
    rn_graph *g = NULL;
    rn_err e;
    if (get_graph(&cur, &g, &e)) return rn_fail(err, "%s: %s", c->path, e.msg);
    if (load_kind(c, g, RN_CKPT_VALUE, g->arena, err)) {
        rn_graph_destroy(g);
        return -1;
    }
    g->version++;
    *out = g;
    return 0;
}

int rn_ckpt_load_momentum(const rn_ckpt *c, const rn_graph *g, float *momentum, rn_err *err) {
    return load_kind(c, g, RN_CKPT_MOMENTUM, momentum, err);
}

int rn_checkpoint_load_model(const char *path, rn_graph **out, rn_err *err) {
    *out = NULL;
    rn_ckpt *c;
    if (rn_ckpt_read(path, &c, err)) return -1;
    int rc = rn_ckpt_build_graph(c, out, err);
    rn_ckpt_free(c);
    return rc;
}
