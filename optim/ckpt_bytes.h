// ckpt_bytes.h — the checkpoint's byte codec: a growable little-endian writer and a reader that
// never reads past the end of its buffer. Internal to optim/ (the graph codec and the file I/O).
//
// Ownership: an rn_bw owns its bytes (rn_bw_free); an rn_br only points into a buffer it does
// not own.
#ifndef RN_OPTIM_CKPT_BYTES_H
#define RN_OPTIM_CKPT_BYTES_H

#include <stddef.h>
#include <stdint.h>

#define RN_CKPT_MAX_STR 65535  // a str is a u16 length + bytes

typedef struct rn_bw {
    unsigned char *p;
    size_t n, cap;
} rn_bw;

void rn_bw_put(rn_bw *b, const void *src, size_t n);
void rn_bw_uint(rn_bw *b, uint64_t v, int bytes);  // the low `bytes` bytes of v, little-endian
void rn_bw_f32(rn_bw *b, float f);
void rn_bw_str(rn_bw *b, const char *s);  // the caller has checked strlen(s) <= RN_CKPT_MAX_STR
void rn_bw_free(rn_bw *b);

// A bounded reader: the first read past the end sets `bad`, and every read after it returns
// zeros / NULL, so a parser may read a whole record and check `bad` once.
typedef struct rn_br {
    const unsigned char *p;
    size_t n, pos;
    int bad;
} rn_br;

static inline rn_br rn_br_make(const void *p, size_t n) { return (rn_br){p, n, 0, 0}; }
static inline size_t rn_br_left(const rn_br *c) { return c->bad ? 0 : c->n - c->pos; }
const unsigned char *rn_br_take(rn_br *c, size_t n);  // NULL (and bad) when fewer than n bytes remain
uint64_t rn_br_uint(rn_br *c, int bytes);
float rn_br_f32(rn_br *c);
// A str copied into a new NUL-terminated string (*out, freed by the caller; NULL on failure).
// Returns NULL on success, else why it was refused ("is truncated", "holds a NUL byte", "is too
// long": more than `max` bytes).
const char *rn_br_str(rn_br *c, size_t max, char **out);
// ndim u64 dimensions, each in [1, 2^30], their product (overflow-checked) at most 2^40.
// Returns NULL with *numel set, else why they were refused.
const char *rn_br_dims(rn_br *c, int ndim, int64_t *dims, uint64_t *numel);

// n floats between host order and little-endian bytes (unaligned on either side).
void rn_le_f32_decode(float *dst, const unsigned char *src, size_t n);
void rn_le_f32_encode(unsigned char *dst, const float *src, size_t n);
int rn_host_le(void);

#endif
