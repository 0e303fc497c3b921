// dnn.h — every oneDNN descriptor-creation call of resnet.c, behind one small file.
//
// Each function builds an operation descriptor and its primitive descriptor in one step, the way
// the oneDNN 3.x API does natively, so a port to 3.x (Debian 13) rewrites only dnn.c.
// All return dnnl_success or the oneDNN status; the caller names the op in its error message.
// Ownership: the caller destroys every returned primitive descriptor (dnnl_primitive_desc_destroy).
#ifndef RN_DNN_H
#define RN_DNN_H

#include <oneapi/dnnl/dnnl.h>
#include <stdint.h>

typedef dnnl_primitive_desc_t rn_pd;

// Memory descriptor of shape dims (ndim <= 4) with a format tag (dnnl_format_tag_any allowed).
dnnl_status_t rn_dnn_md(dnnl_memory_desc_t *md, int ndim, const int64_t *dims, dnnl_format_tag_t tag);

// Convolution. strides/pads: {h, w}; pad_l = {top, left}, pad_r = {bottom, right}.
// bias may be NULL; `relu` adds a relu post-op. `hint` is the forward pd for the backward ones.
// `winograd`: Winograd F(4x4, 3x3) instead of direct (3x3 stride 1 only; oneDNN refuses other shapes
// and the caller then falls back to direct).
dnnl_status_t rn_dnn_conv_fwd(rn_pd *pd, dnnl_engine_t eng, int training, const dnnl_memory_desc_t *src,
                              const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *bias,
                              const dnnl_memory_desc_t *dst, const int64_t *strides, const int64_t *pad_l,
                              const int64_t *pad_r, int relu, int winograd);
dnnl_status_t rn_dnn_conv_bwd_data(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *diff_src,
                                   const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *diff_dst,
                                   const int64_t *strides, const int64_t *pad_l, const int64_t *pad_r,
                                   rn_pd hint, int winograd);
dnnl_status_t rn_dnn_conv_bwd_weights(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *src,
                                      const dnnl_memory_desc_t *diff_wei, const dnnl_memory_desc_t *diff_bias,
                                      const dnnl_memory_desc_t *diff_dst, const int64_t *strides,
                                      const int64_t *pad_l, const int64_t *pad_r, rn_pd hint, int winograd);

// Batch normalization with separate scale and shift (dnnl_use_scale | dnnl_use_shift) plus
// `extra_flags` (dnnl_use_global_stats, dnnl_fuse_norm_relu).
dnnl_status_t rn_dnn_bnorm_fwd(rn_pd *pd, dnnl_engine_t eng, int training, const dnnl_memory_desc_t *data,
                               float eps, unsigned flags);
dnnl_status_t rn_dnn_bnorm_bwd(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *diff_data,
                               const dnnl_memory_desc_t *data, float eps, unsigned flags, rn_pd hint);

// ReLU (alpha 0). The backward uses the forward's dst (dnnl_eltwise_relu_use_dst_for_bwd), so the
// input need not be kept.
dnnl_status_t rn_dnn_relu_fwd(rn_pd *pd, dnnl_engine_t eng, int training, const dnnl_memory_desc_t *data);
dnnl_status_t rn_dnn_relu_bwd(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *diff_data,
                              const dnnl_memory_desc_t *data, rn_pd hint);

// Elementwise dst = src0 + src1, or relu(src0 + src1) with a post-op when `relu` is set.
dnnl_status_t rn_dnn_add(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *src0,
                         const dnnl_memory_desc_t *src1, const dnnl_memory_desc_t *dst, int relu);

// Pooling: alg dnnl_pooling_max or dnnl_pooling_avg_exclude_padding; kernel/strides/pads {h, w}.
dnnl_status_t rn_dnn_pool_fwd(rn_pd *pd, dnnl_engine_t eng, int training, dnnl_alg_kind_t alg,
                              const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                              const int64_t *kernel, const int64_t *strides, const int64_t *pad_l,
                              const int64_t *pad_r);
dnnl_status_t rn_dnn_pool_bwd(rn_pd *pd, dnnl_engine_t eng, dnnl_alg_kind_t alg,
                              const dnnl_memory_desc_t *diff_src, const dnnl_memory_desc_t *diff_dst,
                              const int64_t *kernel, const int64_t *strides, const int64_t *pad_l,
                              const int64_t *pad_r, rn_pd hint);

// Inner product (Gemm with transB = 1): dst = src * wei^T + bias.
dnnl_status_t rn_dnn_ip_fwd(rn_pd *pd, dnnl_engine_t eng, int training, const dnnl_memory_desc_t *src,
                            const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *bias,
                            const dnnl_memory_desc_t *dst);
dnnl_status_t rn_dnn_ip_bwd_data(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *diff_src,
                                 const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *diff_dst, rn_pd hint);
dnnl_status_t rn_dnn_ip_bwd_weights(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *src,
                                    const dnnl_memory_desc_t *diff_wei, const dnnl_memory_desc_t *diff_bias,
                                    const dnnl_memory_desc_t *diff_dst, rn_pd hint);

// Layout change between two descriptors of the same shape.
dnnl_status_t rn_dnn_reorder(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *src,
                             const dnnl_memory_desc_t *dst);

// The implementation oneDNN picked, e.g. "jit:avx512_core" or "ref:any".
const char *rn_dnn_impl(rn_pd pd);
// A query on a primitive descriptor: dnnl_query_src_md, dnnl_query_weights_md, ...
const dnnl_memory_desc_t *rn_dnn_query(rn_pd pd, dnnl_query_t what, int index);

#endif
