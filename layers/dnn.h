// dnn.h — every oneDNN descriptor-creation call of resnet.c, behind one small file.
//
// Each function builds a primitive descriptor in one step, the way the oneDNN 3.x API does
// natively; dnn.c holds both the 2.x (operation descriptor + primitive descriptor) and the 3.x
// spelling, chosen by DNNL_VERSION_MAJOR, so nothing else in resnet.c depends on the version.
// All return dnnl_success or the oneDNN status; the caller names the op in its error message.
// Ownership: the caller destroys every returned primitive descriptor (dnnl_primitive_desc_destroy).
#ifndef RN_DNN_H
#define RN_DNN_H

#include <oneapi/dnnl/dnnl.h>
#include <stddef.h>
#include <stdint.h>

// ---- memory descriptors ----------------------------------------------------------------------
// oneDNN 2.x passes memory descriptors as structs by pointer; 3.x as opaque handles that must be
// destroyed. rn_md is a pointer in both, so a `const rn_md_t *` goes straight to either API:
//   rn_md   owned: from rn_md_create / rn_md_copy, freed with rn_md_destroy
//   rn_cmd  borrowed: from a primitive descriptor or memory query, or an rn_md someone else owns;
//           valid while its owner lives
#if DNNL_VERSION_MAJOR >= 3
typedef struct dnnl_memory_desc rn_md_t;
#else
typedef dnnl_memory_desc_t rn_md_t;
#endif
typedef rn_md_t *rn_md;
typedef const rn_md_t *rn_cmd;

// f32 descriptor of shape dims (ndim <= 4) with a format tag (dnnl_format_tag_any allowed).
// NULL when out of memory (the caller names what it was making); aborts when oneDNN refuses for any
// other reason (shapes come from a validated graph: a broken invariant).
rn_md rn_md_create(int ndim, const int64_t *dims, dnnl_format_tag_t tag);
// The plain row-major descriptor of ndim (1..4) dims: dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd (NULL: as above).
rn_md rn_md_plain(int ndim, const int64_t *dims);
rn_md rn_md_copy(rn_cmd md);  // NULL when out of memory
// "out of memory", "unimplemented", ...: a oneDNN status in words, for messages.
const char *rn_dnn_status_str(dnnl_status_t st);
void rn_md_destroy(rn_md md);              // NULL is fine
int rn_md_ndims(rn_cmd md);                // 0 for NULL or a zero descriptor (a workspace that is not needed)
int rn_md_dims(rn_cmd md, int64_t *dims);  // writes ndims values, returns ndims
size_t rn_md_bytes(rn_cmd md);
int rn_md_equal(rn_cmd a, rn_cmd b);
int rn_md_is_blocked(rn_cmd md);  // a strided/blocked layout (not an opaque one such as Winograd's)

// A blocked layout: offset(i) = offset0 + sum_d (i_d / blk_d) * strides[d] + (position in the inner
// blocks, which nest in the order listed, the last innermost).
typedef struct rn_blocking {
    int64_t offset0;
    int64_t strides[DNNL_MAX_NDIMS];
    int nblks;
    int64_t blks[DNNL_MAX_NDIMS];
    int64_t idxs[DNNL_MAX_NDIMS];
} rn_blocking;
// 0 and *b filled when md is blocked, else -1.
int rn_md_blocking(rn_cmd md, rn_blocking *b);

// ---- primitive descriptors -----------------------------------------------------------------

typedef dnnl_primitive_desc_t rn_pd;

// Convolution. strides/pads: {h, w}; pad_l = {top, left}, pad_r = {bottom, right}.
// bias may be NULL; `relu` adds a relu post-op. `hint` is the forward pd for the backward ones.
// `winograd`: Winograd F(4x4, 3x3) instead of direct (3x3 stride 1 only; oneDNN refuses other shapes
// and the caller then falls back to direct).
dnnl_status_t rn_dnn_conv_fwd(rn_pd *pd, dnnl_engine_t eng, int training, rn_cmd src, rn_cmd wei, rn_cmd bias,
                              rn_cmd dst, const int64_t *strides, const int64_t *pad_l, const int64_t *pad_r, int relu,
                              int winograd);
dnnl_status_t rn_dnn_conv_bwd_data(rn_pd *pd, dnnl_engine_t eng, rn_cmd diff_src, rn_cmd wei, rn_cmd diff_dst,
                                   const int64_t *strides, const int64_t *pad_l, const int64_t *pad_r, rn_pd hint,
                                   int winograd);
dnnl_status_t rn_dnn_conv_bwd_weights(rn_pd *pd, dnnl_engine_t eng, rn_cmd src, rn_cmd diff_wei, rn_cmd diff_bias,
                                      rn_cmd diff_dst, const int64_t *strides, const int64_t *pad_l,
                                      const int64_t *pad_r, rn_pd hint, int winograd);

// Batch normalization with separate scale and shift (dnnl_use_scale | dnnl_use_shift) plus
// `extra_flags` (dnnl_use_global_stats, dnnl_fuse_norm_relu).
dnnl_status_t rn_dnn_bnorm_fwd(rn_pd *pd, dnnl_engine_t eng, int training, rn_cmd data, float eps, unsigned flags);
dnnl_status_t rn_dnn_bnorm_bwd(rn_pd *pd, dnnl_engine_t eng, rn_cmd diff_data, rn_cmd data, float eps, unsigned flags,
                               rn_pd hint);
// Whether the backward takes DNNL_ARG_SHIFT: 2.x requires it (unread), 3.x refuses it (3.x checks
// that a primitive gets exactly the arguments it uses).
int rn_dnn_bnorm_bwd_takes_shift(void);

// ReLU (alpha 0). The backward uses the forward's dst (dnnl_eltwise_relu_use_dst_for_bwd), so the
// input need not be kept.
dnnl_status_t rn_dnn_relu_fwd(rn_pd *pd, dnnl_engine_t eng, int training, rn_cmd data);
dnnl_status_t rn_dnn_relu_bwd(rn_pd *pd, dnnl_engine_t eng, rn_cmd diff_data, rn_cmd data, rn_pd hint);

// Elementwise dst = src0 + src1, or relu(src0 + src1) with a post-op when `relu` is set.
dnnl_status_t rn_dnn_add(rn_pd *pd, dnnl_engine_t eng, rn_cmd src0, rn_cmd src1, rn_cmd dst, int relu);

// Pooling: alg dnnl_pooling_max or dnnl_pooling_avg_exclude_padding; kernel/strides/pads {h, w}.
dnnl_status_t rn_dnn_pool_fwd(rn_pd *pd, dnnl_engine_t eng, int training, dnnl_alg_kind_t alg, rn_cmd src, rn_cmd dst,
                              const int64_t *kernel, const int64_t *strides, const int64_t *pad_l,
                              const int64_t *pad_r);
dnnl_status_t rn_dnn_pool_bwd(rn_pd *pd, dnnl_engine_t eng, dnnl_alg_kind_t alg, rn_cmd diff_src, rn_cmd diff_dst,
                              const int64_t *kernel, const int64_t *strides, const int64_t *pad_l, const int64_t *pad_r,
                              rn_pd hint);

// Inner product (Gemm with transB = 1): dst = src * wei^T + bias.
dnnl_status_t rn_dnn_ip_fwd(rn_pd *pd, dnnl_engine_t eng, int training, rn_cmd src, rn_cmd wei, rn_cmd bias,
                            rn_cmd dst);
dnnl_status_t rn_dnn_ip_bwd_data(rn_pd *pd, dnnl_engine_t eng, rn_cmd diff_src, rn_cmd wei, rn_cmd diff_dst,
                                 rn_pd hint);
dnnl_status_t rn_dnn_ip_bwd_weights(rn_pd *pd, dnnl_engine_t eng, rn_cmd src, rn_cmd diff_wei, rn_cmd diff_bias,
                                    rn_cmd diff_dst, rn_pd hint);

// Layout change between two descriptors of the same shape.
dnnl_status_t rn_dnn_reorder(rn_pd *pd, dnnl_engine_t eng, rn_cmd src, rn_cmd dst);

// The implementation oneDNN picked, e.g. "jit:avx512_core" or "ref:any".
const char *rn_dnn_impl(rn_pd pd);
// A query on a primitive descriptor: dnnl_query_src_md, dnnl_query_weights_md, ... Borrowed: valid
// while pd lives; a zero descriptor (rn_md_ndims 0) when the primitive has no such memory.
rn_cmd rn_dnn_query(rn_pd pd, dnnl_query_t what, int index);

#endif
