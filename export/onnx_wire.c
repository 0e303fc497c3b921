// onnx_wire.c — bounded wire-format pre-scan and little-endian conversion; see onnx_wire.h.
#include "export/onnx_wire.h"

#include <string.h>

// One varint; advances *p. -1 when it runs past end or over 10 bytes.
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t x = 0;
    for (int s = 0; s < 70; s += 7) {
        if (*p >= end) return -1;
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static int scan(const ProtobufCMessageDescriptor *d, const uint8_t *base, const uint8_t *p, const uint8_t *end,
                int depth, rn_err *err) {
    if (depth > RN_WIRE_MAX_DEPTH)
        return rn_fail(err, "messages nested deeper than %d levels at byte %zu", RN_WIRE_MAX_DEPTH,
                       (size_t)(p - base));
    while (p < end) {
        const uint8_t *at = p;
        uint64_t tag, v;
        if (varint(&p, end, &tag)) return rn_fail(err, "bad field tag at byte %zu", (size_t)(at - base));
        uint64_t field = tag >> 3;
        int wt = (int)(tag & 7);
        if (field == 0 || field > 0x1fffffff)
            return rn_fail(err, "bad field number %llu at byte %zu", (unsigned long long)field, (size_t)(at - base));
        switch (wt) {
        case 0:
            if (varint(&p, end, &v)) return rn_fail(err, "truncated varint at byte %zu", (size_t)(at - base));
            break;
        case 1:
        case 5: {
            size_t n = wt == 1 ? 8 : 4;
            if ((size_t)(end - p) < n) return rn_fail(err, "truncated fixed field at byte %zu", (size_t)(at - base));
            p += n;
            break;
        }
        case 2: {
            if (varint(&p, end, &v) || v > (uint64_t)(end - p))
                return rn_fail(err, "length-delimited field runs past the end at byte %zu", (size_t)(at - base));
            const ProtobufCFieldDescriptor *f = d ? protobuf_c_message_descriptor_get_field(d, (unsigned)field) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                scan(f->descriptor, base, p, p + v, depth + 1, err))
                return -1;
            p += v;
            break;
        }
        default:
            return rn_fail(err, "unsupported wire type %d at byte %zu", wt, (size_t)(at - base));
        }
    }
    return 0;
}

int rn_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len, rn_err *err) {
    return scan(d, buf, buf, buf + len, 0, err);
}

int rn_wire_first_tag(const uint8_t *buf, size_t len, uint32_t *field, int *wire_type) {
    const uint8_t *p = buf;
    uint64_t tag;
    if (varint(&p, buf + len, &tag) || (tag >> 3) > 0x1fffffff) return -1;
    *field = (uint32_t)(tag >> 3);
    *wire_type = (int)(tag & 7);
    return 0;
}

int rn_host_is_le(void) {
    const uint32_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

void rn_le_store_f32(uint8_t *dst, const float *src, size_t n) {
    if (rn_host_is_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], 4);
        for (int k = 0; k < 4; k++) dst[4 * i + k] = (uint8_t)(u >> (8 * k));
    }
}

void rn_le_load_f32(float *dst, const uint8_t *src, size_t n) {
    if (rn_host_is_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = 0;
        for (int k = 0; k < 4; k++) u |= (uint32_t)src[4 * i + k] << (8 * k);
        memcpy(&dst[i], &u, 4);
    }
}

void rn_le_load_i64(int64_t *dst, const uint8_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++) u |= (uint64_t)src[8 * i + k] << (8 * k);
        memcpy(&dst[i], &u, 8);
    }
}
