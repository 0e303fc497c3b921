// onnx_ops.c — the ONNX reader's op mappers: each ONNX node becomes one op of the graph (or an
// alias, or a constant), in the forms the zoo's and PyTorch's exports use; see onnx_reader.h.
//   Conv, BatchNormalization, Relu, Add, MaxPool, GlobalAveragePool, Gemm -> the same op
//   Flatten(axis=1) and Reshape(shape [0,-1] etc.) after GlobalAveragePool -> Flatten
//   Identity -> an alias (of an activation, or a copy of a constant); Constant -> a constant
//   BatchNormalization's training outputs (mean, var, saved statistics) -> unusable values
// Initializers become PARAM tensors (Conv W/B, BN scale/B, Gemm B/C) or STATE tensors (BN mean/var);
// one used by several nodes is copied per use (weights are never tied).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/onnx_reader.h"

static int map_conv(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", NULL};
    int in[3], n = imp_n_inputs(nd), valid, found;
    if (imp_contract_inputs(im, nd, RN_OP_CONV, err) || imp_check_attr_names(im, nd, allowed, err) ||
        imp_define_outputs(im, nd, 1, err) || imp_attr_auto_pad(im, nd, &valid, err))
        return -1;
    int64_t group;
    if (imp_attr_int(im, nd, "group", 1, &group, err)) return -1;
    if (group < 1 || group > RN_MAX_SIDE)  // the graph's contract refuses any group but 1
        return rn_fail(err, "%s: %s: group=%lld is not supported", im->what, im->label, (long long)group);
    int dil[2] = {1, 1}, ks[2] = {0, 0}, st[2] = {1, 1}, pads[4] = {0, 0, 0, 0}, has_ks;
    if (imp_attr_ints(im, nd, "dilations", 2, 1, 1, dil, &found, err) ||
        imp_attr_ints(im, nd, "kernel_shape", 2, 1, RN_MAX_SIDE, ks, &has_ks, err) ||
        imp_attr_ints(im, nd, "strides", 2, 1, RN_MAX_SIDE, st, &found, err) ||
        imp_attr_ints(im, nd, "pads", 4, 0, RN_MAX_SIDE, pads, &found, err))
        return -1;
    if (valid && found && (pads[0] || pads[1] || pads[2] || pads[3]))
        return rn_fail(err, "%s: %s: auto_pad=VALID with non-zero pads", im->what, im->label);
    if (imp_act_input(im, nd, 0, &in[0], err) ||
        imp_param_input(im, nd, 1, RN_PARAM, RN_INIT_HE_NORMAL, 4, &in[1], err) ||
        (n == 3 && imp_param_input(im, nd, 2, RN_PARAM, RN_INIT_ZERO, 1, &in[2], err)))
        return -1;
    const rn_tensor *w = &im->g->tensors[in[1]];
    if (w->dims[2] > RN_MAX_SIDE || w->dims[3] > RN_MAX_SIDE)
        return rn_fail(err, "%s: %s: kernel %lldx%lld is too large", im->what, im->label, (long long)w->dims[2],
                       (long long)w->dims[3]);
    if (has_ks && (ks[0] != w->dims[2] || ks[1] != w->dims[3]))
        return rn_fail(err, "%s: %s: kernel_shape %dx%d differs from the weight's %lldx%lld", im->what, im->label,
                       ks[0], ks[1], (long long)w->dims[2], (long long)w->dims[3]);
    int o = imp_add_op(im, nd, RN_OP_CONV, in, n);
    im->g->ops[o].a.conv = (rn_conv_attr){(int)w->dims[2], (int)w->dims[3], st[0], st[1],
                                          pads[0], pads[1], pads[2], pads[3], (int)group};
    return 0;
}

static int map_batchnorm(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed7[] = {"epsilon", "momentum", "spatial", NULL};
    static const char *const allowed9[] = {"epsilon", "momentum", NULL};
    static const char *const allowed14[] = {"epsilon", "momentum", "training_mode", NULL};
    const char *const *allowed = im->opset < 9 ? allowed7 : im->opset < 14 ? allowed9 : allowed14;
    int in[5];
    // Outputs beyond Y are the training statistics (5 up to opset 13, 3 from 14): not computed.
    if (imp_contract_inputs(im, nd, RN_OP_BATCHNORM, err) || imp_check_attr_names(im, nd, allowed, err) ||
        imp_define_outputs(im, nd, 5, err))
        return -1;
    float eps, mom;
    int64_t spatial, training;
    if (imp_attr_float(im, nd, "epsilon", 1e-5f, &eps, err) || imp_attr_float(im, nd, "momentum", 0.9f, &mom, err) ||
        imp_attr_int(im, nd, "spatial", 1, &spatial, err) || imp_attr_int(im, nd, "training_mode", 0, &training, err))
        return -1;
    // spatial=0 with per-channel (1-D) parameters computes the same thing; the 1-D check below
    // refuses genuinely per-activation parameters.
    if (spatial != 0 && spatial != 1) return rn_fail(err, "%s: %s: spatial=%lld", im->what, im->label, (long long)spatial);
    if (imp_act_input(im, nd, 0, &in[0], err) ||
        imp_param_input(im, nd, 1, RN_PARAM, RN_INIT_ONE, 1, &in[1], err) ||
        imp_param_input(im, nd, 2, RN_PARAM, RN_INIT_ZERO, 1, &in[2], err) ||
        imp_param_input(im, nd, 3, RN_STATE, RN_INIT_ZERO, 1, &in[3], err) ||
        imp_param_input(im, nd, 4, RN_STATE, RN_INIT_ONE, 1, &in[4], err))
        return -1;
    // A BatchNormalization on the raw input (v2's data_bn) keeps scale 1 and shift 0, as the builder.
    if (in[0] == im->g->input) im->g->tensors[in[1]].trainable = im->g->tensors[in[2]].trainable = 0;
    int o = imp_add_op(im, nd, RN_OP_BATCHNORM, in, 5);
    im->g->ops[o].a.bn = (rn_bn_attr){eps, mom};
    return 0;
}

static int map_simple(imp *im, const Onnx__NodeProto *nd, rn_op_type type, rn_err *err) {
    static const char *const none[] = {NULL};
    int in[2], n_in = rn_op_contract_of((int)type)->max_in;
    if (imp_contract_inputs(im, nd, type, err) || imp_check_attr_names(im, nd, none, err) || imp_define_outputs(im, nd, 1, err))
        return -1;
    for (int i = 0; i < n_in; i++)
        if (imp_act_input(im, nd, i, &in[i], err)) return -1;
    imp_add_op(im, nd, type, in, n_in);
    return 0;
}

static int map_maxpool(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                                          "storage_order", "strides", NULL};
    int in, valid, found, has_ks;
    if (imp_contract_inputs(im, nd, RN_OP_MAXPOOL, err) || imp_check_attr_names(im, nd, allowed, err) ||
        imp_define_outputs(im, nd, 2, err) || imp_attr_auto_pad(im, nd, &valid, err))
        return -1;
    int64_t ceil_mode, storage;
    if (imp_attr_int(im, nd, "ceil_mode", 0, &ceil_mode, err) || imp_attr_int(im, nd, "storage_order", 0, &storage, err))
        return -1;
    if (ceil_mode != 0) return rn_fail(err, "%s: %s: ceil_mode=%lld is not supported", im->what, im->label, (long long)ceil_mode);
    int dil[2], ks[2], st[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    if (imp_attr_ints(im, nd, "dilations", 2, 1, 1, dil, &found, err) ||
        imp_attr_ints(im, nd, "kernel_shape", 2, 1, RN_MAX_SIDE, ks, &has_ks, err) ||
        imp_attr_ints(im, nd, "strides", 2, 1, RN_MAX_SIDE, st, &found, err) ||
        imp_attr_ints(im, nd, "pads", 4, 0, RN_MAX_SIDE, pads, &found, err))
        return -1;
    if (!has_ks) return rn_fail(err, "%s: %s: kernel_shape is required", im->what, im->label);
    if (valid && found && (pads[0] || pads[1] || pads[2] || pads[3]))
        return rn_fail(err, "%s: %s: auto_pad=VALID with non-zero pads", im->what, im->label);
    if (imp_act_input(im, nd, 0, &in, err)) return -1;
    int o = imp_add_op(im, nd, RN_OP_MAXPOOL, &in, 1);
    im->g->ops[o].a.pool = (rn_pool_attr){ks[0], ks[1], st[0], st[1], pads[0], pads[1], pads[2], pads[3]};
    return 0;
}

static int after_gap(imp *im, int in, rn_err *err) {
    int p = im->g->tensors[in].producer;
    if (p < 0 || im->g->ops[p].type != RN_OP_GLOBALAVGPOOL)
        return rn_fail(err, "%s: %s: supported only directly after GlobalAveragePool", im->what, im->label);
    return 0;
}

static int map_flatten(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"axis", NULL};
    int in;
    int64_t axis;
    if (imp_contract_inputs(im, nd, RN_OP_FLATTEN, err) || imp_check_attr_names(im, nd, allowed, err) ||
        imp_define_outputs(im, nd, 1, err) || imp_attr_int(im, nd, "axis", 1, &axis, err) || imp_act_input(im, nd, 0, &in, err) || after_gap(im, in, err))
        return -1;
    if (axis != 1 && axis != -3)  // -3 is axis 1 of GlobalAveragePool's 4-D output
        return rn_fail(err, "%s: %s: axis=%lld is not supported (only 1)", im->what, im->label, (long long)axis);
    imp_add_op(im, nd, RN_OP_FLATTEN, &in, 1);
    return 0;
}

// The zoo's v2 files flatten with Reshape(x, [0, -1]); any shape that means "(N, C)" after
// GlobalAveragePool becomes a Flatten.
static int map_reshape(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"allowzero", NULL};
    int in;
    int64_t allowzero;
    if (imp_want_inputs(im, nd, 2, 2, err) || imp_check_attr_names(im, nd, allowed, err) || imp_define_outputs(im, nd, 1, err) ||
        imp_attr_int(im, nd, "allowzero", 0, &allowzero, err) || imp_act_input(im, nd, 0, &in, err) || after_gap(im, in, err))
        return -1;
    value *v = NULL;
    size_t n;
    if (imp_lookup(im, nd, 1, &v, err)) return -1;
    if (v->kind != V_CONST)
        return rn_fail(err, "%s: %s: the shape '%s' must be a constant", im->what, im->label, v->name);
    if (imp_check_tensor(im, v->name, v->init, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, &n, err)) return -1;
    int64_t s[2];
    if (n != 2) return rn_fail(err, "%s: %s: the shape '%s' has %zu entries; only (N, C) is supported", im->what, im->label, v->name, n);
    imp_read_int64s(v->init, s, 2);
    int first_ok = s[0] == 0 ? !allowzero : (s[0] == 1 || (s[0] == -1 && s[1] > 0));
    int second_ok = s[1] == -1 ? s[0] != -1 : s[1] > 0;
    if (!first_ok || !second_ok)
        return rn_fail(err, "%s: %s: shape [%lld, %lld] is not a flatten to (N, C)", im->what, im->label,
                       (long long)s[0], (long long)s[1]);
    int o = imp_add_op(im, nd, RN_OP_FLATTEN, &in, 1);
    im->rs = rn_realloc(im->rs, (size_t)(im->n_rs + 1) * sizeof *im->rs);
    im->rs[im->n_rs++] = (reshape_check){o, s[1] > 0 ? s[1] : -1};
    return 0;
}

static int map_gemm(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"alpha", "beta", "transA", "transB", NULL};
    int in[3], n = imp_n_inputs(nd);  // ONNX's C is optional; the graph's is not (a zero bias is made below)
    float alpha, beta;
    int64_t ta, tb;
    if (imp_want_inputs(im, nd, 2, 3, err) || imp_check_attr_names(im, nd, allowed, err) || imp_define_outputs(im, nd, 1, err) ||
        imp_attr_float(im, nd, "alpha", 1.0f, &alpha, err) || imp_attr_float(im, nd, "beta", 1.0f, &beta, err) ||
        imp_attr_int(im, nd, "transA", 0, &ta, err) || imp_attr_int(im, nd, "transB", 0, &tb, err))
        return -1;
    if (alpha != 1.0f || (n == 3 && beta != 1.0f) || ta != 0 || (tb != 0 && tb != 1))
        return rn_fail(err, "%s: %s: only alpha=1, beta=1, transA=0 is supported (got alpha=%g beta=%g transA=%lld "
                            "transB=%lld)", im->what, im->label, (double)alpha, (double)beta, (long long)ta, (long long)tb);
    if (imp_act_input(im, nd, 0, &in[0], err) || imp_param_input(im, nd, 1, RN_PARAM, RN_INIT_UNIFORM_FAN, 2, &in[1], err))
        return -1;
    rn_tensor *w = &im->g->tensors[in[1]];
    if (!tb) {  // stored (I, O): the graph keeps (O, I), transposed when the data is copied
        int64_t t = w->dims[0];
        w->dims[0] = w->dims[1];
        w->dims[1] = t;
        im->pend[im->n_pend - 1].transpose = 1;
    }
    if (n == 3) {
        if (imp_param_input(im, nd, 2, RN_PARAM, RN_INIT_UNIFORM_FAN, -1, &in[2], err)) return -1;
    } else {  // no C: a zero bias, so the op has the form the executors run
        char name[512];
        snprintf(name, sizeof name, "%.480s_bias", nd->output[0]);
        for (int k = 1; imp_smap_get(&im->tnames, name) >= 0 || imp_smap_get(&im->names, name) >= 0; k++)
            snprintf(name, sizeof name, "%.470s_bias%d", nd->output[0], k);
        int64_t d = im->g->tensors[in[1]].dims[0];
        in[2] = imp_new_tensor(im, name, RN_PARAM, 1, &d);
        im->g->tensors[in[2]].init = RN_INIT_UNIFORM_FAN;
    }
    int o = imp_add_op(im, nd, RN_OP_GEMM, in, 3);
    im->g->ops[o].a.gemm = (rn_gemm_attr){1.0f, 1.0f, 0, 1};
    return 0;
}

static int map_identity(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const none[] = {NULL};
    value *src;
    if (imp_want_inputs(im, nd, 1, 1, err) || imp_check_attr_names(im, nd, none, err) || imp_define_outputs(im, nd, 1, err) ||
        imp_lookup(im, nd, 0, &src, err))
        return -1;
    value s = *src;  // add_value may move the table
    int v = imp_add_value(im, nd->output[0], s.kind);
    im->vals[v].tensor = s.tensor;
    im->vals[v].init = s.init;
    im->vals[v].node = s.node;
    return 0;
}

static int map_constant(imp *im, const Onnx__NodeProto *nd, rn_err *err) {
    static const char *const allowed[] = {"value", NULL};
    if (imp_want_inputs(im, nd, 0, 0, err) || imp_check_attr_names(im, nd, allowed, err) || imp_define_outputs(im, nd, 1, err))
        return -1;
    const Onnx__AttributeProto *a = imp_find_attr(nd, "value");
    if (!a || !a->t || !imp_attr_type_ok(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR, 1))
        return rn_fail(err, "%s: %s: only a tensor 'value' is supported", im->what, im->label);
    int v = imp_add_value(im, nd->output[0], V_CONST);
    im->vals[v].init = a->t;
    return 0;
}

int imp_map_node(imp *im, const Onnx__NodeProto *nd, int k, rn_err *err) {
    const char *type = imp_nz(nd->op_type);
    snprintf(im->opname, sizeof im->opname, "%.40s_%d", type, k);
    if (nd->name && nd->name[0]) snprintf(im->label, sizeof im->label, "node '%.200s' (%.40s)", nd->name, type);
    else snprintf(im->label, sizeof im->label, "node %d (%.40s)", k, type);
    const char *dom = imp_nz(nd->domain);
    if (dom[0] && strcmp(dom, "ai.onnx") != 0)
        return rn_fail(err, "%s: %s: domain '%.100s' is not supported", im->what, im->label, dom);
    if (strcmp(type, "Conv") == 0) return map_conv(im, nd, err);
    if (strcmp(type, "BatchNormalization") == 0) return map_batchnorm(im, nd, err);
    if (strcmp(type, "Relu") == 0) return map_simple(im, nd, RN_OP_RELU, err);
    if (strcmp(type, "Add") == 0) return map_simple(im, nd, RN_OP_ADD, err);
    if (strcmp(type, "MaxPool") == 0) return map_maxpool(im, nd, err);
    if (strcmp(type, "GlobalAveragePool") == 0) return map_simple(im, nd, RN_OP_GLOBALAVGPOOL, err);
    if (strcmp(type, "Flatten") == 0) return map_flatten(im, nd, err);
    if (strcmp(type, "Reshape") == 0) return map_reshape(im, nd, err);
    if (strcmp(type, "Gemm") == 0) return map_gemm(im, nd, err);
    if (strcmp(type, "Identity") == 0) return map_identity(im, nd, err);
    if (strcmp(type, "Constant") == 0) return map_constant(im, nd, err);
    return rn_fail(err, "%s: %s: op type '%.40s' is not supported (a ResNet uses Conv, BatchNormalization, Relu, Add, "
                        "MaxPool, GlobalAveragePool, Flatten/Reshape, Gemm, Identity, Constant)", im->what, im->label, type);
}
