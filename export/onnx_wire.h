// onnx_wire.h — protobuf wire-format helpers shared by the ONNX writer and reader (internal to
// export/): a bounded pre-scan of untrusted bytes, and little-endian float conversion.
#ifndef RN_EXPORT_ONNX_WIRE_H
#define RN_EXPORT_ONNX_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "src/common.h"

// Deepest message nesting the reader accepts. A ResNet model nests 6 deep (Model > Graph > Node >
// Attribute > Tensor ...); protobuf-c's unpacker recurses once per level with no limit of its
// own, so crafted input could otherwise exhaust the stack.
#define RN_WIRE_MAX_DEPTH 32

// Walks buf as a serialised message of type d without allocating: every tag, varint and length
// must be well formed and inside the buffer, message-typed fields are descended into up to
// RN_WIRE_MAX_DEPTH levels, groups (wire types 3 and 4) are refused. -1 with a message
// naming the byte offset otherwise.
int rn_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len, rn_err *err);

// Reads the first tag: field number and wire type; -1 if there is no complete varint.
int rn_wire_first_tag(const uint8_t *buf, size_t len, uint32_t *field, int *wire_type);

// Host floats <-> little-endian IEEE-754 bytes (a plain copy on little-endian hosts).
void rn_le_store_f32(uint8_t *dst, const float *src, size_t n);
void rn_le_load_f32(float *dst, const uint8_t *src, size_t n);
void rn_le_load_i64(int64_t *dst, const uint8_t *src, size_t n);
int rn_host_is_le(void);

#endif
