// dnn.c — oneDNN descriptor creation for both API generations; see dnn.h. Nothing else in resnet.c
// calls *_desc_init, *_primitive_desc_create or reads a memory descriptor's fields.
//
// 2.x (Debian 12, 2.6): an operation descriptor (*_desc_init) then dnnl_primitive_desc_create;
//   memory descriptors are plain structs.
// 3.x (Debian 13, 3.7): one *_primitive_desc_create per primitive kind taking the arguments
//   directly (and a dilation argument, 0 = none); memory descriptors are handles; a post-op
//   eltwise has no scale. The algorithms, flags and arguments passed are the same on both.
#include "layers/dnn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/mem.h"

#define RN_DNNL3 (DNNL_VERSION_MAJOR >= 3)

// A refused descriptor: out of memory is the machine's (NULL to the caller); any other status is a
// shape the validated graph should not have produced (an invariant: abort).
static rn_md md_fail(dnnl_status_t st, const char *what) {
    if (st == dnnl_out_of_memory) return NULL;
    fprintf(stderr, "internal error: oneDNN could not %s a memory descriptor (status %d)\n", what, (int)st);
    abort();
}

const char *rn_dnn_status_str(dnnl_status_t st) {
    switch (st) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented";
    default: return "failure";
    }
}

// ---- memory descriptors ----------------------------------------------------------------------

rn_md rn_md_create(int ndim, const int64_t *dims, dnnl_format_tag_t tag) {
    dnnl_dims_t d;
    for (int i = 0; i < ndim; i++) d[i] = dims[i];
    rn_md md = NULL;
    dnnl_status_t st;
    if (rn_fault_hit()) return NULL;
#if RN_DNNL3
    st = dnnl_memory_desc_create_with_tag(&md, ndim, d, dnnl_f32, tag);
#else
    md = malloc(sizeof *md);
    if (!md) return NULL;
    st = dnnl_memory_desc_init_by_tag(md, ndim, d, dnnl_f32, tag);
    if (st != dnnl_success) free(md);
#endif
    return st == dnnl_success ? md : md_fail(st, "create");
}

rn_md rn_md_plain(int ndim, const int64_t *dims) {
    static const dnnl_format_tag_t tags[5] = {dnnl_format_tag_undef, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd};
    if (ndim < 1 || ndim > 4) return md_fail(dnnl_invalid_arguments, "create a plain");
    return rn_md_create(ndim, dims, tags[ndim]);
}

rn_md rn_md_copy(rn_cmd md) {
    rn_md c = NULL;
    if (rn_fault_hit()) return NULL;
#if RN_DNNL3
    dnnl_status_t st = dnnl_memory_desc_clone(&c, md);
    if (st != dnnl_success) return md_fail(st, "copy");
#else
    c = malloc(sizeof *c);
    if (!c) return NULL;
    *c = *md;
#endif
    return c;
}

void rn_md_destroy(rn_md md) {
#if RN_DNNL3
    if (md) dnnl_memory_desc_destroy(md);
#else
    free(md);
#endif
}

int rn_md_ndims(rn_cmd md) {
    if (!md) return 0;
#if RN_DNNL3
    int n = 0;
    if (dnnl_memory_desc_query(md, dnnl_query_ndims_s32, &n) != dnnl_success) return 0;
    return n;
#else
    return md->ndims;
#endif
}

int rn_md_dims(rn_cmd md, int64_t *dims) {
    int n = rn_md_ndims(md);
#if RN_DNNL3
    const dnnl_dims_t *d = NULL;
    if (n > 0 && dnnl_memory_desc_query(md, dnnl_query_dims, &d) != dnnl_success) (void)md_fail(dnnl_runtime_error, "query");
    for (int i = 0; i < n; i++) dims[i] = (*d)[i];
#else
    for (int i = 0; i < n; i++) dims[i] = md->dims[i];
#endif
    return n;
}

size_t rn_md_bytes(rn_cmd md) { return dnnl_memory_desc_get_size(md); }

int rn_md_equal(rn_cmd a, rn_cmd b) { return dnnl_memory_desc_equal(a, b); }

int rn_md_is_blocked(rn_cmd md) {
#if RN_DNNL3
    dnnl_format_kind_t k = dnnl_format_kind_undef;
    return dnnl_memory_desc_query(md, dnnl_query_format_kind, &k) == dnnl_success && k == dnnl_blocked;
#else
    return md->format_kind == dnnl_blocked;
#endif
}

int rn_md_blocking(rn_cmd md, rn_blocking *b) {
    if (!rn_md_is_blocked(md)) return -1;
    memset(b, 0, sizeof *b);
    int n = rn_md_ndims(md);
#if RN_DNNL3
    const dnnl_dims_t *strides = NULL, *blks = NULL, *idxs = NULL;
    if (dnnl_memory_desc_query(md, dnnl_query_submemory_offset_s64, &b->offset0) != dnnl_success ||
        dnnl_memory_desc_query(md, dnnl_query_strides, &strides) != dnnl_success ||
        dnnl_memory_desc_query(md, dnnl_query_inner_nblks_s32, &b->nblks) != dnnl_success)
        return -1;
    if (b->nblks > 0 && (dnnl_memory_desc_query(md, dnnl_query_inner_blks, &blks) != dnnl_success ||
                         dnnl_memory_desc_query(md, dnnl_query_inner_idxs, &idxs) != dnnl_success))
        return -1;
    for (int d = 0; d < n; d++) b->strides[d] = (*strides)[d];
    for (int k = 0; k < b->nblks; k++) b->blks[k] = (*blks)[k], b->idxs[k] = (*idxs)[k];
#else
    const dnnl_blocking_desc_t *bd = &md->format_desc.blocking;
    b->offset0 = md->offset0;
    b->nblks = bd->inner_nblks;
    for (int d = 0; d < n; d++) b->strides[d] = bd->strides[d];
    for (int k = 0; k < b->nblks; k++) b->blks[k] = bd->inner_blks[k], b->idxs[k] = bd->inner_idxs[k];
#endif
    return 0;
}

// ---- primitive descriptors -----------------------------------------------------------------

static dnnl_prop_kind_t fwd_kind(int training) { return training ? dnnl_forward_training : dnnl_forward_inference; }

static dnnl_alg_kind_t conv_alg(int winograd) { return winograd ? dnnl_convolution_winograd : dnnl_convolution_direct; }

static void dims2(dnnl_dims_t d, const int64_t *v) {
    d[0] = v[0];
    d[1] = v[1];
}

// Attributes with a relu post-op (dst = relu(op(...))), or NULL (the defaults) when !relu.
static dnnl_status_t relu_attr(dnnl_primitive_attr_t *attr, int relu) {
    *attr = NULL;
    if (!relu) return dnnl_success;
    dnnl_post_ops_t ops = NULL;
    dnnl_status_t st;
    if ((st = dnnl_primitive_attr_create(attr)) == dnnl_success && (st = dnnl_post_ops_create(&ops)) == dnnl_success) {
#if RN_DNNL3
        st = dnnl_post_ops_append_eltwise(ops, dnnl_eltwise_relu, 0.f, 0.f);
#else
        st = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.f, 0.f);
#endif
        if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(*attr, ops);
    }
    if (ops) dnnl_post_ops_destroy(ops);
    if (st != dnnl_success && *attr) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
    }
    return st;
}

#if !RN_DNNL3
// 2.x: the primitive descriptor of an initialised operation descriptor (st: its init status).
static dnnl_status_t make_pd(rn_pd *pd, dnnl_status_t st, const void *desc, dnnl_primitive_attr_t attr,
                             dnnl_engine_t eng, rn_pd hint) {
    return st != dnnl_success ? st : dnnl_primitive_desc_create(pd, desc, attr, eng, hint);
}
#endif

dnnl_status_t rn_dnn_conv_fwd(rn_pd *pd, dnnl_engine_t eng, int training, rn_cmd src, rn_cmd wei, rn_cmd bias,
                              rn_cmd dst, const int64_t *strides, const int64_t *pad_l, const int64_t *pad_r, int relu,
                              int winograd) {
    *pd = NULL;
    dnnl_dims_t s, pl, pr;
    dims2(s, strides), dims2(pl, pad_l), dims2(pr, pad_r);
    dnnl_primitive_attr_t attr;
    dnnl_status_t st = relu_attr(&attr, relu);
    if (st != dnnl_success) return st;
#if RN_DNNL3
    const dnnl_dims_t dil = {0, 0};
    st = dnnl_convolution_forward_primitive_desc_create(pd, eng, fwd_kind(training), conv_alg(winograd), src, wei, bias,
                                                        dst, s, dil, pl, pr, attr);
#else
    dnnl_convolution_desc_t d;
    st = dnnl_convolution_forward_desc_init(&d, fwd_kind(training), conv_alg(winograd), src, wei, bias, dst, s, pl, pr);
    st = make_pd(pd, st, &d, attr, eng, NULL);
#endif
    if (attr) dnnl_primitive_attr_destroy(attr);
    return st;
}

dnnl_status_t rn_dnn_conv_bwd_data(rn_pd *pd, dnnl_engine_t eng, rn_cmd diff_src, rn_cmd wei, rn_cmd diff_dst,
                                   const int64_t *strides, const int64_t *pad_l, const int64_t *pad_r, rn_pd hint,
                                   int winograd) {
    *pd = NULL;
    dnnl_dims_t s, pl, pr;
    dims2(s, strides), dims2(pl, pad_l), dims2(pr, pad_r);
#if RN_DNNL3
    const dnnl_dims_t dil = {0, 0};
    return dnnl_convolution_backward_data_primitive_desc_create(pd, eng, conv_alg(winograd), diff_src, wei, diff_dst, s,
                                                                dil, pl, pr, hint, NULL);
#else
    dnnl_convolution_desc_t d;
    dnnl_status_t st =
        dnnl_convolution_backward_data_desc_init(&d, conv_alg(winograd), diff_src, wei, diff_dst, s, pl, pr);
    return make_pd(pd, st, &d, NULL, eng, hint);
#endif
}

dnnl_status_t rn_dnn_conv_bwd_weights(rn_pd *pd, dnnl_engine_t eng, rn_cmd src, rn_cmd diff_wei, rn_cmd diff_bias,
                                      rn_cmd diff_dst, const int64_t *strides, const int64_t *pad_l,
                                      const int64_t *pad_r, rn_pd hint, int winograd) {
    *pd = NULL;
    dnnl_dims_t s, pl, pr;
    dims2(s, strides), dims2(pl, pad_l), dims2(pr, pad_r);
#if RN_DNNL3
    const dnnl_dims_t dil = {0, 0};
    return dnnl_convolution_backward_weights_primitive_desc_create(pd, eng, conv_alg(winograd), src, diff_wei,
                                                                   diff_bias, diff_dst, s, dil, pl, pr, hint, NULL);
#else
    dnnl_convolution_desc_t d;
    dnnl_status_t st = dnnl_convolution_backward_weights_desc_init(&d, conv_alg(winograd), src, diff_wei, diff_bias,
                                                                   diff_dst, s, pl, pr);
    return make_pd(pd, st, &d, NULL, eng, hint);
#endif
}

// Scale and shift travel as two separate C-sized arrays (DNNL_ARG_SCALE, DNNL_ARG_SHIFT) in both
// versions: 2.6 already has dnnl_use_scale / dnnl_use_shift, so the two paths compute the same thing.
dnnl_status_t rn_dnn_bnorm_fwd(rn_pd *pd, dnnl_engine_t eng, int training, rn_cmd data, float eps, unsigned flags) {
    *pd = NULL;
    flags |= dnnl_use_scale | dnnl_use_shift;
#if RN_DNNL3
    return dnnl_batch_normalization_forward_primitive_desc_create(pd, eng, fwd_kind(training), data, data, eps, flags,
                                                                  NULL);
#else
    dnnl_batch_normalization_desc_t d;
    dnnl_status_t st = dnnl_batch_normalization_forward_desc_init(&d, fwd_kind(training), data, eps, flags);
    return make_pd(pd, st, &d, NULL, eng, NULL);
#endif
}

// 2.x has one diff descriptor for diff_src and diff_dst; 3.x takes both: the same one twice.
dnnl_status_t rn_dnn_bnorm_bwd(rn_pd *pd, dnnl_engine_t eng, rn_cmd diff_data, rn_cmd data, float eps, unsigned flags,
                               rn_pd hint) {
    *pd = NULL;
    flags |= dnnl_use_scale | dnnl_use_shift;
#if RN_DNNL3
    return dnnl_batch_normalization_backward_primitive_desc_create(pd, eng, dnnl_backward, diff_data, diff_data, data,
                                                                   eps, flags, hint, NULL);
#else
    dnnl_batch_normalization_desc_t d;
    dnnl_status_t st = dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, diff_data, data, eps, flags);
    return make_pd(pd, st, &d, NULL, eng, hint);
#endif
}

int rn_dnn_bnorm_bwd_takes_shift(void) { return !RN_DNNL3; }

dnnl_status_t rn_dnn_relu_fwd(rn_pd *pd, dnnl_engine_t eng, int training, rn_cmd data) {
    *pd = NULL;
#if RN_DNNL3
    return dnnl_eltwise_forward_primitive_desc_create(pd, eng, fwd_kind(training), dnnl_eltwise_relu_use_dst_for_bwd,
                                                      data, data, 0.f, 0.f, NULL);
#else
    dnnl_eltwise_desc_t d;
    dnnl_status_t st =
        dnnl_eltwise_forward_desc_init(&d, fwd_kind(training), dnnl_eltwise_relu_use_dst_for_bwd, data, 0.f, 0.f);
    return make_pd(pd, st, &d, NULL, eng, NULL);
#endif
}

dnnl_status_t rn_dnn_relu_bwd(rn_pd *pd, dnnl_engine_t eng, rn_cmd diff_data, rn_cmd data, rn_pd hint) {
    *pd = NULL;
#if RN_DNNL3
    return dnnl_eltwise_backward_primitive_desc_create(pd, eng, dnnl_eltwise_relu_use_dst_for_bwd, diff_data, diff_data,
                                                       data, 0.f, 0.f, hint, NULL);
#else
    dnnl_eltwise_desc_t d;
    dnnl_status_t st =
        dnnl_eltwise_backward_desc_init(&d, dnnl_eltwise_relu_use_dst_for_bwd, diff_data, data, 0.f, 0.f);
    return make_pd(pd, st, &d, NULL, eng, hint);
#endif
}

dnnl_status_t rn_dnn_add(rn_pd *pd, dnnl_engine_t eng, rn_cmd src0, rn_cmd src1, rn_cmd dst, int relu) {
    *pd = NULL;
    dnnl_primitive_attr_t attr;
    dnnl_status_t st = relu_attr(&attr, relu);
    if (st != dnnl_success) return st;
#if RN_DNNL3
    st = dnnl_binary_primitive_desc_create(pd, eng, dnnl_binary_add, src0, src1, dst, attr);
#else
    dnnl_binary_desc_t d;
    st = dnnl_binary_desc_init(&d, dnnl_binary_add, src0, src1, dst);
    st = make_pd(pd, st, &d, attr, eng, NULL);
#endif
    if (attr) dnnl_primitive_attr_destroy(attr);
    return st;
}

dnnl_status_t rn_dnn_pool_fwd(rn_pd *pd, dnnl_engine_t eng, int training, dnnl_alg_kind_t alg, rn_cmd src, rn_cmd dst,
                              const int64_t *kernel, const int64_t *strides, const int64_t *pad_l,
                              const int64_t *pad_r) {
    *pd = NULL;
    dnnl_dims_t k, s, pl, pr;
    dims2(k, kernel), dims2(s, strides), dims2(pl, pad_l), dims2(pr, pad_r);
#if RN_DNNL3
    const dnnl_dims_t dil = {0, 0};
    return dnnl_pooling_forward_primitive_desc_create(pd, eng, fwd_kind(training), alg, src, dst, s, k, dil, pl, pr,
                                                      NULL);
#else
    dnnl_pooling_desc_t d;
    dnnl_status_t st = dnnl_pooling_forward_desc_init(&d, fwd_kind(training), alg, src, dst, s, k, pl, pr);
    return make_pd(pd, st, &d, NULL, eng, NULL);
#endif
}

dnnl_status_t rn_dnn_pool_bwd(rn_pd *pd, dnnl_engine_t eng, dnnl_alg_kind_t alg, rn_cmd diff_src, rn_cmd diff_dst,
                              const int64_t *kernel, const int64_t *strides, const int64_t *pad_l, const int64_t *pad_r,
                              rn_pd hint) {
    *pd = NULL;
    dnnl_dims_t k, s, pl, pr;
    dims2(k, kernel), dims2(s, strides), dims2(pl, pad_l), dims2(pr, pad_r);
#if RN_DNNL3
    const dnnl_dims_t dil = {0, 0};
    return dnnl_pooling_backward_primitive_desc_create(pd, eng, alg, diff_src, diff_dst, s, k, dil, pl, pr, hint, NULL);
#else
    dnnl_pooling_desc_t d;
    dnnl_status_t st = dnnl_pooling_backward_desc_init(&d, alg, diff_src, diff_dst, s, k, pl, pr);
    return make_pd(pd, st, &d, NULL, eng, hint);
#endif
}

dnnl_status_t rn_dnn_ip_fwd(rn_pd *pd, dnnl_engine_t eng, int training, rn_cmd src, rn_cmd wei, rn_cmd bias,
                            rn_cmd dst) {
    *pd = NULL;
#if RN_DNNL3
    return dnnl_inner_product_forward_primitive_desc_create(pd, eng, fwd_kind(training), src, wei, bias, dst, NULL);
#else
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_forward_desc_init(&d, fwd_kind(training), src, wei, bias, dst);
    return make_pd(pd, st, &d, NULL, eng, NULL);
#endif
}

dnnl_status_t rn_dnn_ip_bwd_data(rn_pd *pd, dnnl_engine_t eng, rn_cmd diff_src, rn_cmd wei, rn_cmd diff_dst,
                                 rn_pd hint) {
    *pd = NULL;
#if RN_DNNL3
    return dnnl_inner_product_backward_data_primitive_desc_create(pd, eng, diff_src, wei, diff_dst, hint, NULL);
#else
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_backward_data_desc_init(&d, diff_src, wei, diff_dst);
    return make_pd(pd, st, &d, NULL, eng, hint);
#endif
}

dnnl_status_t rn_dnn_ip_bwd_weights(rn_pd *pd, dnnl_engine_t eng, rn_cmd src, rn_cmd diff_wei, rn_cmd diff_bias,
                                    rn_cmd diff_dst, rn_pd hint) {
    *pd = NULL;
#if RN_DNNL3
    return dnnl_inner_product_backward_weights_primitive_desc_create(pd, eng, src, diff_wei, diff_bias, diff_dst, hint,
                                                                     NULL);
#else
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_backward_weights_desc_init(&d, src, diff_wei, diff_bias, diff_dst);
    return make_pd(pd, st, &d, NULL, eng, hint);
#endif
}

dnnl_status_t rn_dnn_reorder(rn_pd *pd, dnnl_engine_t eng, rn_cmd src, rn_cmd dst) {
    *pd = NULL;
    return dnnl_reorder_primitive_desc_create(pd, src, eng, dst, eng, NULL);
}

const char *rn_dnn_impl(rn_pd pd) {
    const char *s = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) != dnnl_success || !s) return "?";
    return s;
}

rn_cmd rn_dnn_query(rn_pd pd, dnnl_query_t what, int index) { return dnnl_primitive_desc_query_md(pd, what, index); }
