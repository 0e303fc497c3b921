// resnet.c — builds ResNet v1/v2 op lists; see resnet.h.
//
// Topology, after the MXNet Gluon model zoo (the source of the ONNX zoo's resnet*-v1/v2 files):
//  v1: Conv 7x7/2 -> BN -> Relu -> MaxPool 3x3/2 pad 1 -> stages -> GlobalAveragePool -> Flatten -> Gemm.
//      basic:      3x3(stride) -> BN -> Relu -> 3x3 -> BN                      (+ shortcut) -> Relu
//      bottleneck: 1x1(stride, bias) -> BN -> Relu -> 3x3 -> BN -> Relu -> 1x1(bias) -> BN (+ shortcut) -> Relu
//      shortcut: identity, or 1x1(stride, no bias) -> BN where the channel count changes.
//  v2: BN(data, scale 1 and shift 0, frozen) -> Conv 7x7/2 -> BN -> Relu -> MaxPool -> stages -> BN -> Relu
//      -> GlobalAveragePool -> Flatten -> Gemm. Blocks are pre-activation: BN -> Relu -> (projection 1x1
//      from this activation) -> conv ...; bottleneck stride on the 3x3; no Relu after the Add.
// Names are stable and readable: stage{s}_block{b}_conv{i}_weight, ..._bn{i}_gamma, fc_weight, ...
#include "src/resnet.h"

#include <stdio.h>
#include <string.h>


rn_model_opts rn_model_opts_default(void) {
    rn_model_opts o;
    memset(&o, 0, sizeof o);
    o.depth = 50;
    o.version = 2;
    o.num_classes = 1000;
    o.width = 64;
    o.input_size = 224;
    return o;
}

static void blocks_clear_depth(void *o) { ((rn_model_opts *)o)->depth = 0; }

static const char *const depth_names[] = {"18", "34", "50", "101", "152", "0", NULL};
static const int depth_values[] = {18, 34, 50, 101, 152, 0};
static const char *const stem_names[] = {"imagenet", "small", NULL};

// blocks and bottleneck come before depth so that printed configs read back the same (blocks
// clears depth; depth, when set, overrides both).
static const rn_key model_keys[] = {
    {.name = "blocks", .type = RN_KEY_INT_LIST, .off = RN_FIELD(rn_model_opts, blocks, int *), .lo = 1, .hi = 1000,
     .n = (int)(sizeof(((rn_model_opts *)0)->blocks) / sizeof(int)), .count_off = RN_FIELD(rn_model_opts, n_stages, int),
     .after = blocks_clear_depth, .doc = "blocks per stage instead of `depth`, e.g. `3, 4, 6, 3`; setting it sets `depth = 0`"},
    RN_K_BOOL("bottleneck", rn_model_opts, bottleneck, "with `blocks`: bottleneck blocks (1×1, 3×3, 1×1) instead of basic ones (3×3, 3×3)"),
    {.name = "depth", .type = RN_KEY_CHOICE, .off = RN_FIELD(rn_model_opts, depth, int), .choices = depth_names,
     .values = depth_values, .doc = "18, 34 (basic blocks), 50, 101, 152 (bottleneck blocks); 0: `blocks` and `bottleneck` give the network"},
    RN_K_INT("version", rn_model_opts, version, 1, 2, "1: post-activation (ReLU after the Add); 2: pre-activation"),
    RN_K_INT("num_classes", rn_model_opts, num_classes, 1, 1000000, "classifier outputs (raw scores; softmax is post-processing)"),
    RN_K_INT("width", rn_model_opts, width, 1, 4096, "channels of the first stage (stages double it; bottleneck outputs ×4)"),
    RN_K_CHOICE("stem", rn_model_opts, stem_small, stem_names,
                "`imagenet`: 7×7/2 conv + 3×3/2 max-pool; `small`: 3×3/1 conv, no pool (32–64 px inputs)"),
    RN_K_INT("input_size", rn_model_opts, input_size, 8, 4096, "nominal H = W for shapes and FLOPs"),
    RN_K_BOOL("stride_in_3x3", rn_model_opts, stride_in_3x3,
              "v1 bottleneck with the stride on the 3×3 and bias-free 1×1 convs (\"v1.5\", torchvision)"),
    RN_K_BOOL("zero_init_residual", rn_model_opts, zero_init_residual,
              "v1: last BN γ of each block starts at 0; v2: last conv of each block starts at 0"),
};

const rn_section rn_model_section = RN_SECTION("model", model_keys, "The network: ResNet v1 or v2 after the MXNet Gluon model zoo (README).");

int rn_model_opts_set(void *opts, const char *key, const char *value, rn_err *err) {
    return rn_section_set(&rn_model_section, opts, key, value, err);
}

int rn_model_opts_resolve(rn_model_opts *o, rn_err *err) {
    static const struct {
        int depth, bottleneck, blocks[4];
    } table[] = {{18, 0, {2, 2, 2, 2}},
                 {34, 0, {3, 4, 6, 3}},
                 {50, 1, {3, 4, 6, 3}},
                 {101, 1, {3, 4, 23, 3}},
                 {152, 1, {3, 8, 36, 3}}};
    if (o->stride_in_3x3 && o->version != 1) return rn_fail(err, "[model] stride_in_3x3 applies to version 1 only");
    if (o->depth) {
        for (size_t i = 0; i < sizeof table / sizeof *table; i++)
            if (table[i].depth == o->depth) {
                o->bottleneck = table[i].bottleneck;
                o->n_stages = 4;
                memcpy(o->blocks, table[i].blocks, sizeof table[i].blocks);
                return 0;
            }
        return rn_fail(err, "[model] depth %d is not one of 18, 34, 50, 101, 152", o->depth);
    }
    if (o->n_stages < 1) return rn_fail(err, "[model] needs depth or blocks");
    return 0;
}

// ---- the builder --------------------------------------------------------------------------------

typedef struct builder {
    rn_graph *g;
    char prefix[96];  // "stage2_block0_" or ""
} builder;

static int tensor(builder *b, const char *op, const char *suffix, rn_role role, int ndim, int64_t d0, int64_t d1,
                  int64_t d2, int64_t d3, rn_init init) {
    char name[192];
    snprintf(name, sizeof name, "%s%s_%s", b->prefix, op, suffix);
    int64_t d[4] = {d0, d1, d2, d3};
    int t = rn_graph_tensor(b->g, name, role, ndim, d);
    b->g->tensors[t].init = init;
    return t;
}

static int op(builder *b, rn_op_type type, const char *name, const int *in, int n_in) {
    char full[192];
    snprintf(full, sizeof full, "%s%s", b->prefix, name);
    return rn_graph_op(b->g, type, full, in, n_in, full);
}

static int64_t channels(builder *b, int x) { return b->g->tensors[x].dims[1]; }

static int conv(builder *b, int x, const char *name, int64_t cout, int k, int stride, int bias) {
    // Shapes are not inferred until finalize, so the input channel count is tracked by the caller
    // through the tensor's dims, set here as each op is added.
    int64_t cin = channels(b, x);
    int in[3] = {x, tensor(b, name, "weight", RN_PARAM, 4, cout, cin, k, k, RN_INIT_HE_NORMAL), 0};
    if (bias) in[2] = tensor(b, name, "bias", RN_PARAM, 1, cout, 0, 0, 0, RN_INIT_ZERO);
    int o = op(b, RN_OP_CONV, name, in, bias ? 3 : 2);
    int p = k / 2;
    b->g->ops[o].a.conv = (rn_conv_attr){k, k, stride, stride, p, p, p, p, 1};
    int y = b->g->ops[o].out;
    rn_tensor *t = &b->g->tensors[y];
    t->ndim = 4;
    t->dims[1] = cout;
    return y;
}

static int bn(builder *b, int x, const char *name) {
    int64_t c = channels(b, x);
    int in[5] = {x, tensor(b, name, "gamma", RN_PARAM, 1, c, 0, 0, 0, RN_INIT_ONE),
                 tensor(b, name, "beta", RN_PARAM, 1, c, 0, 0, 0, RN_INIT_ZERO),
                 tensor(b, name, "running_mean", RN_STATE, 1, c, 0, 0, 0, RN_INIT_ZERO),
                 tensor(b, name, "running_var", RN_STATE, 1, c, 0, 0, 0, RN_INIT_ONE)};
    int o = op(b, RN_OP_BATCHNORM, name, in, 5);
    b->g->ops[o].a.bn = (rn_bn_attr){1e-5f, 0.9f};
    int y = b->g->ops[o].out;
    b->g->tensors[y].ndim = 4;
    b->g->tensors[y].dims[1] = c;
    return y;
}

static int unary(builder *b, rn_op_type type, int x, const char *name) {
    int o = op(b, type, name, &x, 1);
    int y = b->g->ops[o].out;
    b->g->tensors[y].ndim = 4;
    b->g->tensors[y].dims[1] = channels(b, x);
    return y;
}

static int add(builder *b, int x, int y) {
    int in[2] = {x, y};
    int o = op(b, RN_OP_ADD, "add", in, 2);
    int z = b->g->ops[o].out;
    b->g->tensors[z].ndim = 4;
    b->g->tensors[z].dims[1] = channels(b, x);
    return z;
}

static int maxpool(builder *b, int x) {
    int o = op(b, RN_OP_MAXPOOL, "stem_pool", &x, 1);
    b->g->ops[o].a.pool = (rn_pool_attr){3, 3, 2, 2, 1, 1, 1, 1};
    int y = b->g->ops[o].out;
    b->g->tensors[y].ndim = 4;
    b->g->tensors[y].dims[1] = channels(b, x);
    return y;
}

// Marks the tensor of the last op's gamma (v1) or weight (v2) for zero init.
static void zero_init(builder *b, int y) {
    const rn_op *o = &b->g->ops[b->g->tensors[y].producer];
    b->g->tensors[o->in[1]].init = RN_INIT_ZERO;
}

static int block_v1(builder *b, const rn_model_opts *m, int x, int64_t cout, int stride) {
    int64_t cin = channels(b, x);
    int r;
    if (!m->bottleneck) {
        r = unary(b, RN_OP_RELU, bn(b, conv(b, x, "conv1", cout, 3, stride, 0), "bn1"), "relu1");
        r = bn(b, conv(b, r, "conv2", cout, 3, 1, 0), "bn2");
    } else {
        int64_t mid = cout / 4;
        int s1 = m->stride_in_3x3 ? 1 : stride, s3 = m->stride_in_3x3 ? stride : 1, bias = !m->stride_in_3x3;
        r = unary(b, RN_OP_RELU, bn(b, conv(b, x, "conv1", mid, 1, s1, bias), "bn1"), "relu1");
        r = unary(b, RN_OP_RELU, bn(b, conv(b, r, "conv2", mid, 3, s3, 0), "bn2"), "relu2");
        r = bn(b, conv(b, r, "conv3", cout, 1, 1, bias), "bn3");
    }
    if (m->zero_init_residual) zero_init(b, r);
    int sc = x;
    if (cout != cin || stride != 1) sc = bn(b, conv(b, x, "downsample_conv", cout, 1, stride, 0), "downsample_bn");
    return unary(b, RN_OP_RELU, add(b, r, sc), "relu");
}

static int block_v2(builder *b, const rn_model_opts *m, int x, int64_t cout, int stride) {
    int64_t cin = channels(b, x);
    int a = unary(b, RN_OP_RELU, bn(b, x, "bn1"), "relu1");
    int sc = x;
    if (cout != cin || stride != 1) sc = conv(b, a, "downsample_conv", cout, 1, stride, 0);
    int r;
    if (!m->bottleneck) {
        r = conv(b, a, "conv1", cout, 3, stride, 0);
        r = conv(b, unary(b, RN_OP_RELU, bn(b, r, "bn2"), "relu2"), "conv2", cout, 3, 1, 0);
    } else {
        int64_t mid = cout / 4;
        r = conv(b, a, "conv1", mid, 1, 1, 0);
        r = conv(b, unary(b, RN_OP_RELU, bn(b, r, "bn2"), "relu2"), "conv2", mid, 3, stride, 0);
        r = conv(b, unary(b, RN_OP_RELU, bn(b, r, "bn3"), "relu3"), "conv3", cout, 1, 1, 0);
    }
    if (m->zero_init_residual) zero_init(b, r);
    return add(b, r, sc);
}

int rn_resnet_build(const rn_model_opts *mo, rn_graph **out, rn_err *err) {
    *out = NULL;
    rn_model_opts m = *mo;
    if (rn_model_opts_resolve(&m, err)) return -1;
    builder b = {rn_graph_create(), ""};
    int64_t d[4] = {1, 3, m.input_size, m.input_size};
    int x = rn_graph_tensor(b.g, "data", RN_DATA, 4, d);
    if (m.version == 2) {
        // Normalises the raw input with batch statistics; scale and shift stay 1 and 0.
        x = bn(&b, x, "data_bn");
        const rn_op *o = &b.g->ops[b.g->n_ops - 1];
        b.g->tensors[o->in[1]].trainable = b.g->tensors[o->in[2]].trainable = 0;
    }
    if (m.stem_small) {
        x = conv(&b, x, "stem_conv", m.width, 3, 1, 0);
        if (m.version == 1) x = unary(&b, RN_OP_RELU, bn(&b, x, "stem_bn"), "stem_relu");
    } else {
        x = conv(&b, x, "stem_conv", m.width, 7, 2, 0);
        x = unary(&b, RN_OP_RELU, bn(&b, x, "stem_bn"), "stem_relu");
        x = maxpool(&b, x);
    }
    for (int s = 0; s < m.n_stages; s++) {
        int64_t cout = (int64_t)m.width << s;
        if (m.bottleneck) cout *= 4;
        for (int k = 0; k < m.blocks[s]; k++) {
            snprintf(b.prefix, sizeof b.prefix, "stage%d_block%d_", s + 1, k);
            int stride = (k == 0 && s > 0) ? 2 : 1;
            x = m.version == 1 ? block_v1(&b, &m, x, cout, stride) : block_v2(&b, &m, x, cout, stride);
        }
    }
    b.prefix[0] = 0;
    if (m.version == 2) x = unary(&b, RN_OP_RELU, bn(&b, x, "final_bn"), "final_relu");
    x = unary(&b, RN_OP_GLOBALAVGPOOL, x, "pool");
    int64_t c = channels(&b, x);
    x = unary(&b, RN_OP_FLATTEN, x, "flatten");
    int in[3] = {x, tensor(&b, "fc", "weight", RN_PARAM, 2, m.num_classes, c, 0, 0, RN_INIT_UNIFORM_FAN),
                 tensor(&b, "fc", "bias", RN_PARAM, 1, m.num_classes, 0, 0, 0, RN_INIT_UNIFORM_FAN)};
    int o = op(&b, RN_OP_GEMM, "fc", in, 3);
    b.g->ops[o].a.gemm = (rn_gemm_attr){1.0f, 1.0f, 0, 1};
    if (rn_graph_finalize(b.g, err)) {
        rn_graph_destroy(b.g);
        return -1;
    }
    *out = b.g;
    return 0;
}
