// dnn.c — oneDNN 2.6 descriptor creation; see dnn.h. Nothing else in resnet.c calls *_desc_init.
#include "src/dnn.h"

#include <string.h>

dnnl_status_t rn_dnn_md(dnnl_memory_desc_t *md, int ndim, const int64_t *dims, dnnl_format_tag_t tag) {
    dnnl_dims_t d;
    for (int i = 0; i < ndim; i++) d[i] = dims[i];
    return dnnl_memory_desc_init_by_tag(md, ndim, d, dnnl_f32, tag);
}

static dnnl_alg_kind_t conv_alg(int winograd) { return winograd ? dnnl_convolution_winograd : dnnl_convolution_direct; }

static void dims2(dnnl_dims_t d, const int64_t *v) {
    d[0] = v[0];
    d[1] = v[1];
}

static dnnl_status_t make_pd(rn_pd *pd, const void *desc, dnnl_engine_t eng, rn_pd hint) {
    *pd = NULL;
    return dnnl_primitive_desc_create(pd, desc, NULL, eng, hint);
}

// A forward pd with an optional relu post-op (dst = relu(op(...))).
static dnnl_status_t make_pd_relu(rn_pd *pd, const void *desc, dnnl_engine_t eng, int relu) {
    if (!relu) return make_pd(pd, desc, eng, NULL);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_status_t st;
    *pd = NULL;
    if ((st = dnnl_primitive_attr_create(&attr)) == dnnl_success && (st = dnnl_post_ops_create(&ops)) == dnnl_success &&
        (st = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.f, 0.f)) == dnnl_success &&
        (st = dnnl_primitive_attr_set_post_ops(attr, ops)) == dnnl_success)
        st = dnnl_primitive_desc_create(pd, desc, attr, eng, NULL);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return st;
}

dnnl_status_t rn_dnn_conv_fwd(rn_pd *pd, dnnl_engine_t eng, int training, const dnnl_memory_desc_t *src,
                              const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *bias,
                              const dnnl_memory_desc_t *dst, const int64_t *strides, const int64_t *pad_l,
                              const int64_t *pad_r, int relu, int winograd) {
    dnnl_convolution_desc_t d;
    dnnl_dims_t s, pl, pr;
    dims2(s, strides), dims2(pl, pad_l), dims2(pr, pad_r);
    dnnl_status_t st = dnnl_convolution_forward_desc_init(
        &d, training ? dnnl_forward_training : dnnl_forward_inference, conv_alg(winograd), src, wei,
        bias, dst, s, pl, pr);
    return st != dnnl_success ? st : make_pd_relu(pd, &d, eng, relu);
}

dnnl_status_t rn_dnn_conv_bwd_data(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *diff_src,
                                   const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *diff_dst,
                                   const int64_t *strides, const int64_t *pad_l, const int64_t *pad_r,
                                   rn_pd hint, int winograd) {
    dnnl_convolution_desc_t d;
    dnnl_dims_t s, pl, pr;
    dims2(s, strides), dims2(pl, pad_l), dims2(pr, pad_r);
    dnnl_status_t st = dnnl_convolution_backward_data_desc_init(&d, conv_alg(winograd), diff_src, wei,
                                                                diff_dst, s, pl, pr);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, hint);
}

dnnl_status_t rn_dnn_conv_bwd_weights(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *src,
                                      const dnnl_memory_desc_t *diff_wei, const dnnl_memory_desc_t *diff_bias,
                                      const dnnl_memory_desc_t *diff_dst, const int64_t *strides,
                                      const int64_t *pad_l, const int64_t *pad_r, rn_pd hint, int winograd) {
    dnnl_convolution_desc_t d;
    dnnl_dims_t s, pl, pr;
    dims2(s, strides), dims2(pl, pad_l), dims2(pr, pad_r);
    dnnl_status_t st = dnnl_convolution_backward_weights_desc_init(&d, conv_alg(winograd), src, diff_wei,
                                                                   diff_bias, diff_dst, s, pl, pr);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, hint);
}

dnnl_status_t rn_dnn_bnorm_fwd(rn_pd *pd, dnnl_engine_t eng, int training, const dnnl_memory_desc_t *data,
                               float eps, unsigned flags) {
    dnnl_batch_normalization_desc_t d;
    dnnl_status_t st = dnnl_batch_normalization_forward_desc_init(
        &d, training ? dnnl_forward_training : dnnl_forward_inference, data, eps,
        flags | dnnl_use_scale | dnnl_use_shift);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, NULL);
}

dnnl_status_t rn_dnn_bnorm_bwd(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *diff_data,
                               const dnnl_memory_desc_t *data, float eps, unsigned flags, rn_pd hint) {
    dnnl_batch_normalization_desc_t d;
    dnnl_status_t st = dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, diff_data, data, eps,
                                                                   flags | dnnl_use_scale | dnnl_use_shift);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, hint);
}

dnnl_status_t rn_dnn_relu_fwd(rn_pd *pd, dnnl_engine_t eng, int training, const dnnl_memory_desc_t *data) {
    dnnl_eltwise_desc_t d;
    dnnl_status_t st = dnnl_eltwise_forward_desc_init(
        &d, training ? dnnl_forward_training : dnnl_forward_inference, dnnl_eltwise_relu_use_dst_for_bwd, data,
        0.f, 0.f);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, NULL);
}

dnnl_status_t rn_dnn_relu_bwd(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *diff_data,
                              const dnnl_memory_desc_t *data, rn_pd hint) {
    dnnl_eltwise_desc_t d;
    dnnl_status_t st =
        dnnl_eltwise_backward_desc_init(&d, dnnl_eltwise_relu_use_dst_for_bwd, diff_data, data, 0.f, 0.f);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, hint);
}

dnnl_status_t rn_dnn_add(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *src0,
                         const dnnl_memory_desc_t *src1, const dnnl_memory_desc_t *dst, int relu) {
    dnnl_binary_desc_t d;
    dnnl_status_t st = dnnl_binary_desc_init(&d, dnnl_binary_add, src0, src1, dst);
    return st != dnnl_success ? st : make_pd_relu(pd, &d, eng, relu);
}

dnnl_status_t rn_dnn_pool_fwd(rn_pd *pd, dnnl_engine_t eng, int training, dnnl_alg_kind_t alg,
                              const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                              const int64_t *kernel, const int64_t *strides, const int64_t *pad_l,
                              const int64_t *pad_r) {
    dnnl_pooling_desc_t d;
    dnnl_dims_t k, s, pl, pr;
    dims2(k, kernel), dims2(s, strides), dims2(pl, pad_l), dims2(pr, pad_r);
    dnnl_status_t st = dnnl_pooling_forward_desc_init(
        &d, training ? dnnl_forward_training : dnnl_forward_inference, alg, src, dst, s, k, pl, pr);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, NULL);
}

dnnl_status_t rn_dnn_pool_bwd(rn_pd *pd, dnnl_engine_t eng, dnnl_alg_kind_t alg,
                              const dnnl_memory_desc_t *diff_src, const dnnl_memory_desc_t *diff_dst,
                              const int64_t *kernel, const int64_t *strides, const int64_t *pad_l,
                              const int64_t *pad_r, rn_pd hint) {
    dnnl_pooling_desc_t d;
    dnnl_dims_t k, s, pl, pr;
    dims2(k, kernel), dims2(s, strides), dims2(pl, pad_l), dims2(pr, pad_r);
    dnnl_status_t st = dnnl_pooling_backward_desc_init(&d, alg, diff_src, diff_dst, s, k, pl, pr);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, hint);
}

dnnl_status_t rn_dnn_ip_fwd(rn_pd *pd, dnnl_engine_t eng, int training, const dnnl_memory_desc_t *src,
                            const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *bias,
                            const dnnl_memory_desc_t *dst) {
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_forward_desc_init(
        &d, training ? dnnl_forward_training : dnnl_forward_inference, src, wei, bias, dst);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, NULL);
}

dnnl_status_t rn_dnn_ip_bwd_data(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *diff_src,
                                 const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *diff_dst, rn_pd hint) {
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_backward_data_desc_init(&d, diff_src, wei, diff_dst);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, hint);
}

dnnl_status_t rn_dnn_ip_bwd_weights(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *src,
                                    const dnnl_memory_desc_t *diff_wei, const dnnl_memory_desc_t *diff_bias,
                                    const dnnl_memory_desc_t *diff_dst, rn_pd hint) {
    dnnl_inner_product_desc_t d;
    dnnl_status_t st = dnnl_inner_product_backward_weights_desc_init(&d, src, diff_wei, diff_bias, diff_dst);
    return st != dnnl_success ? st : make_pd(pd, &d, eng, hint);
}

dnnl_status_t rn_dnn_reorder(rn_pd *pd, dnnl_engine_t eng, const dnnl_memory_desc_t *src,
                             const dnnl_memory_desc_t *dst) {
    *pd = NULL;
    return dnnl_reorder_primitive_desc_create(pd, src, eng, dst, eng, NULL);
}

const char *rn_dnn_impl(rn_pd pd) {
    const char *s = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) != dnnl_success || !s) return "?";
    return s;
}

const dnnl_memory_desc_t *rn_dnn_query(rn_pd pd, dnnl_query_t what, int index) {
    return dnnl_primitive_desc_query_md(pd, what, index);
}
