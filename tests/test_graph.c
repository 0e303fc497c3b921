// test_graph — the op contract (layers/op_contract.c): every graph that breaks it is refused by
// rn_graph_finalize with a message naming the op, the input slot and the tensor, and no code reads
// a slot an op lacks. Graphs are built through the graph API, as the builder, the checkpoint reader
// and the ONNX importer build them; run under -DRN_SANITIZE=ON too.
#include "layers/graph.h"
#include "tests/check.h"

// A small network that uses every op type:
//   data 1x3x8x8 -> conv 3x3 (bias) -> bn -> relu -> pool 3x3/2 -> add(pool, pool) -> gap -> flatten -> fc
enum { OP_CONV, OP_BN, OP_RELU, OP_POOL, OP_ADD, OP_GAP, OP_FLAT, OP_FC, N_OPS };

static int tensor(rn_graph *g, const char *name, rn_role role, int ndim, int64_t d0, int64_t d1, int64_t d2,
                  int64_t d3) {
    int64_t d[4] = {d0, d1, d2, d3};
    return rn_graph_tensor(g, name, role, ndim, d);
}

static rn_graph *base(void) {
    rn_graph *g = rn_graph_create();
    int x = tensor(g, "data", RN_DATA, 4, 1, 3, 8, 8);
    int cin[3] = {x, tensor(g, "conv_w", RN_PARAM, 4, 4, 3, 3, 3), tensor(g, "conv_b", RN_PARAM, 1, 4, 0, 0, 0)};
    int k = rn_graph_op(g, RN_OP_CONV, "conv", cin, 3, "conv_out");
    g->ops[k].a.conv = (rn_conv_attr){3, 3, 1, 1, 1, 1, 1, 1, 1};
    int bin[5] = {g->ops[k].out, tensor(g, "bn_gamma", RN_PARAM, 1, 4, 0, 0, 0),
                  tensor(g, "bn_beta", RN_PARAM, 1, 4, 0, 0, 0), tensor(g, "bn_mean", RN_STATE, 1, 4, 0, 0, 0),
                  tensor(g, "bn_var", RN_STATE, 1, 4, 0, 0, 0)};
    k = rn_graph_op(g, RN_OP_BATCHNORM, "bn", bin, 5, "bn_out");
    g->ops[k].a.bn = (rn_bn_attr){1e-5f, 0.9f};
    k = rn_graph_op(g, RN_OP_RELU, "relu", &g->ops[k].out, 1, "relu_out");
    k = rn_graph_op(g, RN_OP_MAXPOOL, "pool", &g->ops[k].out, 1, "pool_out");
    g->ops[k].a.pool = (rn_pool_attr){3, 3, 2, 2, 1, 1, 1, 1};
    int ain[2] = {g->ops[k].out, g->ops[k].out};
    k = rn_graph_op(g, RN_OP_ADD, "add", ain, 2, "add_out");
    k = rn_graph_op(g, RN_OP_GLOBALAVGPOOL, "gap", &g->ops[k].out, 1, "gap_out");
    k = rn_graph_op(g, RN_OP_FLATTEN, "flatten", &g->ops[k].out, 1, "flatten_out");
    int fin[3] = {g->ops[k].out, tensor(g, "fc_w", RN_PARAM, 2, 5, 4, 0, 0), tensor(g, "fc_b", RN_PARAM, 1, 5, 0, 0, 0)};
    k = rn_graph_op(g, RN_OP_GEMM, "fc", fin, 3, "fc_out");
    g->ops[k].a.gemm = (rn_gemm_attr){1.0f, 1.0f, 0, 1};
    return g;
}

// Finalize must refuse the graph with a message holding each fragment given (NULL ends the list).
static void refused(rn_graph *g, const char *what, const char *f1, const char *f2, const char *f3) {
    rn_err err;
    err.msg[0] = 0;
    int rc = rn_graph_finalize(g, &err);
    CHECK(rc == -1, "%s: accepted", what);
    const char *f[3] = {f1, f2, f3};
    for (int i = 0; i < 3 && rc == -1; i++)
        if (f[i]) CHECK(strstr(err.msg, f[i]) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, f[i]);
    CHECK(rc != -1 || g->arena == NULL, "%s: arena allocated for a refused graph", what);
    rn_graph_destroy(g);
}

static void test_valid(void) {
    rn_graph *g = base();
    rn_err err;
    CHECK(rn_graph_finalize(g, &err) == 0, "the base graph: %s", err.msg);
    const rn_tensor *p = &g->tensors[g->ops[OP_POOL].out], *o = &g->tensors[g->output];
    CHECK(p->ndim == 4 && p->dims[1] == 4 && p->dims[2] == 4 && p->dims[3] == 4, "pool output 1x4x4x4");
    CHECK(o->ndim == 2 && o->dims[0] == 1 && o->dims[1] == 5, "fc output 1x5");
    rn_graph_destroy(g);
}

// Every slot of every op given a tensor of every role the contract does not allow there.
static void test_roles(void) {
    static const rn_role roles[4] = {RN_DATA, RN_ACT, RN_PARAM, RN_STATE};
    static const char *const is[4] = {"is the graph input", "is an activation", "is a parameter", "is state"};
    int cases = 0;
    for (int k = 0; k < N_OPS; k++) {
        rn_graph *probe = base();
        const rn_op_contract *c = rn_op_contract_of((int)probe->ops[k].type);
        int n_in = probe->ops[k].n_in;
        rn_graph_destroy(probe);
        for (int i = 0; i < n_in; i++)
            for (int r = 0; r < 4; r++) {
                int allowed = c->slot[i] == RN_SLOT_ACT ? roles[r] == RN_DATA || roles[r] == RN_ACT
                              : c->slot[i] == RN_SLOT_PARAM ? roles[r] == RN_PARAM : roles[r] == RN_STATE;
                if (allowed) continue;
                rn_graph *g = base();
                int t;
                if (roles[r] == RN_DATA) t = g->input;
                else if (roles[r] == RN_ACT) t = g->ops[k == 0 ? 1 : 0].out;
                else t = tensor(g, "spare", roles[r], 1, 4, 0, 0, 0);
                g->ops[k].in[i] = t;
                char what[128], op[128], slot[128], want[64];
                snprintf(what, sizeof what, "%s input %d as %s", c->name, i, is[r] + 3);
                snprintf(op, sizeof op, "op '%s' (%s)", g->ops[k].name, c->name);
                snprintf(slot, sizeof slot, "input %d (%s) '%s' must be", i, c->slot_name[i], g->tensors[t].name);
                snprintf(want, sizeof want, "%s", is[r]);
                refused(g, what, op, slot, want);
                cases++;
            }
    }
    // Conv 2+3+3, BN 2+4x3, four one-input ops 2 each, Add 2x2, Gemm 2+3+3.
    CHECK(cases == 42, "%d role cases, expected 42", cases);
}

// Too few and too many inputs for each op type: refused before any shape is read.
static void test_counts(void) {
    for (int k = 0; k < N_OPS; k++) {
        rn_graph *probe = base();
        const rn_op_contract *c = rn_op_contract_of((int)probe->ops[k].type);
        rn_graph_destroy(probe);
        for (int n = 1; n <= RN_MAX_IN; n++) {
            if (n >= c->min_in && n <= c->max_in) continue;
            rn_graph *g = base();
            rn_op *op = &g->ops[k];
            for (int i = op->n_in; i < n; i++) {
                char nm[32];
                snprintf(nm, sizeof nm, "extra%d", i);
                op->in[i] = tensor(g, nm, RN_PARAM, 1, 4, 0, 0, 0);
            }
            op->n_in = n;
            char what[96], frag[64];
            snprintf(what, sizeof what, "%s with %d inputs", c->name, n);
            snprintf(frag, sizeof frag, "has %d inputs, expected %d", n, c->min_in);
            refused(g, what, op->name, frag, NULL);
        }
    }
}

// rn_op_infer on its own (as the executors call it) with exactly n_in input shapes allocated: under
// ASan a read of a slot the op lacks is a heap overflow, and without it the count check must refuse.
static void test_infer_bounds(void) {
    static const rn_op_type types[4] = {RN_OP_CONV, RN_OP_BATCHNORM, RN_OP_ADD, RN_OP_GEMM};
    for (int j = 0; j < 4; j++) {
        rn_op op = {.type = types[j], .name = "lonely", .n_in = 1};
        op.a.gemm = (rn_gemm_attr){1.0f, 1.0f, 0, 1};
        if (types[j] == RN_OP_CONV) op.a.conv = (rn_conv_attr){3, 3, 1, 1, 1, 1, 1, 1, 1};
        if (types[j] == RN_OP_BATCHNORM) op.a.bn = (rn_bn_attr){1e-5f, 0.9f};
        int64_t(*d)[RN_MAX_DIMS] = malloc(sizeof *d);
        int *nd = malloc(sizeof *nd);
        d[0][0] = 1, d[0][1] = 4, d[0][2] = 8, d[0][3] = 8;
        *nd = types[j] == RN_OP_GEMM ? 2 : 4;
        int64_t o[RN_MAX_DIMS];
        int ond = 0;
        rn_err err;
        int rc = rn_op_infer(NULL, &op, (const int64_t(*)[RN_MAX_DIMS])d, nd, o, &ond, &err);
        CHECK(rc == -1 && strstr(err.msg, "has 1 inputs") && strstr(err.msg, "lonely"), "%s with one input: %s",
              rn_op_type_name(types[j]), rc ? err.msg : "accepted");
        free(d);
        free(nd);
    }
    // A zero stride is refused, not divided by.
    rn_op op = {.type = RN_OP_MAXPOOL, .name = "p0", .n_in = 1, .a.pool = {3, 3, 0, 0, 1, 1, 1, 1}};
    int64_t d[1][RN_MAX_DIMS] = {{1, 4, 8, 8}};
    int nd = 4, ond;
    int64_t o[RN_MAX_DIMS];
    rn_err err;
    CHECK(rn_op_infer(NULL, &op, (const int64_t(*)[RN_MAX_DIMS])d, &nd, o, &ond, &err) == -1 && strstr(err.msg, "strides"),
          "zero stride: %s", err.msg);
}

typedef void (*edit_fn)(rn_graph *g);

static void e_conv_w_rank3(rn_graph *g) { g->tensors[g->ops[OP_CONV].in[1]].ndim = 3; }
static void e_conv_channels(rn_graph *g) { g->tensors[g->ops[OP_CONV].in[1]].dims[1] = 2; }
static void e_conv_kernel(rn_graph *g) { g->tensors[g->ops[OP_CONV].in[1]].dims[3] = 1; }
static void e_conv_bias(rn_graph *g) { g->tensors[g->ops[OP_CONV].in[2]].dims[0] = 3; }
static void e_conv_bias_2d(rn_graph *g) {
    rn_tensor *t = &g->tensors[g->ops[OP_CONV].in[2]];
    t->ndim = 2, t->dims[1] = 1;
}
static void e_bn_scale(rn_graph *g) { g->tensors[g->ops[OP_BN].in[1]].dims[0] = 5; }
static void e_bn_var(rn_graph *g) { g->tensors[g->ops[OP_BN].in[4]].dims[0] = 8; }
static void e_bn_mean_2d(rn_graph *g) {
    rn_tensor *t = &g->tensors[g->ops[OP_BN].in[3]];
    t->ndim = 2, t->dims[1] = 1;
}
// Appends op `type` named `name` reading the Flatten's 2-D output (then restores the graph output).
static void append_on_flatten(rn_graph *g, rn_op_type type, const char *name) {
    int in[5] = {g->ops[OP_FLAT].out};
    for (int i = 1; i < 5; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "%s_in%d", name, i);
        in[i] = tensor(g, nm, i < 3 ? RN_PARAM : RN_STATE, 1, 4, 0, 0, 0);
    }
    int k = rn_graph_op(g, type, name, in, type == RN_OP_BATCHNORM ? 5 : 1, "appended_out");
    g->ops[k].a.bn = (rn_bn_attr){1e-5f, 0.9f};
    if (type == RN_OP_MAXPOOL) g->ops[k].a.pool = (rn_pool_attr){1, 1, 1, 1, 0, 0, 0, 0};
    g->output = g->ops[OP_FC].out;
}
static void e_bn_on_2d(rn_graph *g) { append_on_flatten(g, RN_OP_BATCHNORM, "bn2"); }
static void e_add_shapes(rn_graph *g) { g->ops[OP_ADD].in[1] = g->ops[OP_RELU].out; }
static void e_gemm_cols(rn_graph *g) { g->tensors[g->ops[OP_FC].in[1]].dims[1] = 3; }
static void e_gemm_bias(rn_graph *g) { g->tensors[g->ops[OP_FC].in[2]].dims[0] = 4; }
static void e_gemm_on_4d(rn_graph *g) { g->ops[OP_FC].in[0] = g->ops[OP_GAP].out; }
static void e_pool_on_2d(rn_graph *g) { append_on_flatten(g, RN_OP_MAXPOOL, "pool2"); }
static void e_group2(rn_graph *g) { g->ops[OP_CONV].a.conv.group = 2; }
static void e_conv_stride0(rn_graph *g) { g->ops[OP_CONV].a.conv.sh = 0; }
static void e_conv_kernel0(rn_graph *g) { g->ops[OP_CONV].a.conv.kw = 0; }
static void e_conv_pad_kernel(rn_graph *g) { g->ops[OP_CONV].a.conv.pl = 3; }
static void e_conv_pad_negative(rn_graph *g) { g->ops[OP_CONV].a.conv.pb = -1; }
static void e_pool_stride_huge(rn_graph *g) { g->ops[OP_POOL].a.pool.sw = RN_MAX_SIDE + 1; }
static void e_pool_pad(rn_graph *g) { g->ops[OP_POOL].a.pool.pt = 3; }
static void e_pool_window(rn_graph *g) {  // 5x5/2 without padding over the conv's 4x4 output: no window fits
    g->ops[OP_POOL].a.pool = (rn_pool_attr){5, 5, 2, 2, 0, 0, 0, 0};
    g->tensors[g->input].dims[2] = g->tensors[g->input].dims[3] = 4;
}
static void e_bn_eps0(rn_graph *g) { g->ops[OP_BN].a.bn.epsilon = 0; }
static void e_bn_eps_nan(rn_graph *g) { g->ops[OP_BN].a.bn.epsilon = NAN; }
static void e_bn_eps_inf(rn_graph *g) { g->ops[OP_BN].a.bn.epsilon = INFINITY; }
static void e_bn_momentum(rn_graph *g) { g->ops[OP_BN].a.bn.momentum = 1.5f; }
static void e_bn_momentum_nan(rn_graph *g) { g->ops[OP_BN].a.bn.momentum = NAN; }
static void e_gemm_alpha(rn_graph *g) { g->ops[OP_FC].a.gemm.alpha = 2; }
static void e_gemm_beta(rn_graph *g) { g->ops[OP_FC].a.gemm.beta = 0; }
static void e_gemm_trans_a(rn_graph *g) { g->ops[OP_FC].a.gemm.trans_a = 1; }
static void e_gemm_trans_b(rn_graph *g) { g->ops[OP_FC].a.gemm.trans_b = 0; }
static void e_out_of_order(rn_graph *g) { g->ops[OP_RELU].in[0] = g->ops[OP_POOL].out; }
static void e_self_cycle(rn_graph *g) { g->ops[OP_RELU].in[0] = g->ops[OP_RELU].out; }
static void e_no_data(rn_graph *g) { g->tensors[g->input].role = RN_PARAM; }
static void e_two_data(rn_graph *g) { tensor(g, "data2", RN_DATA, 4, 1, 3, 8, 8); }
static void e_data_3d(rn_graph *g) { g->tensors[g->input].ndim = 3; }
static void e_data_huge(rn_graph *g) { g->tensors[g->input].dims[3] = RN_MAX_SIDE + 1; }
static void e_dup_name(rn_graph *g) { tensor(g, "bn_gamma", RN_PARAM, 1, 4, 0, 0, 0); }
static void e_no_output(rn_graph *g) { g->output = -1; }
static void e_output_param(rn_graph *g) { g->output = g->ops[OP_FC].in[1]; }
static void e_tied_conv_w(rn_graph *g) {  // a second conv (appended) reuses conv_w
    int in[2] = {g->ops[OP_CONV].out, g->ops[OP_CONV].in[1]};
    rn_graph_op(g, RN_OP_CONV, "conv2", in, 2, "conv2_out");
    g->output = g->ops[OP_FC].out;
}
static void e_scale_is_fc_bias(rn_graph *g) {  // one parameter in two roles (BN scale and Gemm C)
    g->tensors[g->ops[OP_FC].in[2]].dims[0] = 4;
    g->ops[OP_BN].in[1] = g->ops[OP_FC].in[2];
}
static void e_same_param_twice(rn_graph *g) { g->ops[OP_CONV].in[2] = g->ops[OP_CONV].in[1]; }
static void e_orphan_act(rn_graph *g) { tensor(g, "orphan", RN_ACT, 0, 0, 0, 0, 0); }
static void e_param_empty(rn_graph *g) { tensor(g, "empty", RN_PARAM, 2, 4, 0, 0, 0); }
static void e_param_huge(rn_graph *g) { tensor(g, "huge", RN_PARAM, 3, 1 << 20, 1 << 20, 4, 0); }
static void e_trainable_state(rn_graph *g) { g->tensors[g->ops[OP_BN].in[3]].trainable = 1; }
static void e_bad_role(rn_graph *g) { g->tensors[g->ops[OP_BN].in[3]].role = (rn_role)7; }
static void e_unknown_type(rn_graph *g) { g->ops[OP_RELU].type = RN_OP_COUNT; }
static void e_input_index(rn_graph *g) { g->ops[OP_ADD].in[1] = g->n_tensors + 3; }
static void e_no_ops(rn_graph *g) {
    for (int k = 0; k < g->n_ops; k++) free(g->ops[k].name);
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].role == RN_ACT) g->tensors[i].role = RN_STATE, g->tensors[i].producer = -1;
    g->n_ops = 0;
}

static void test_rules(void) {
    static const struct {
        const char *what;
        edit_fn f;
        const char *f1, *f2, *f3;
    } cases[] = {
        {"Conv W 3-D", e_conv_w_rank3, "op 'conv' (Conv)", "input 1 (W) 'conv_w' has 3 dimensions, expected 4", NULL},
        {"Conv W channels", e_conv_channels, "op 'conv' (Conv)", "'conv_w' has 2 input channels", "'data' has 3"},
        {"Conv W kernel", e_conv_kernel, "op 'conv'", "kernel 3x1 differs from kernel_shape 3x3", NULL},
        {"Conv B size", e_conv_bias, "op 'conv'", "input 2 (B) 'conv_b' must be a vector of 4 entries", NULL},
        {"Conv B 2-D", e_conv_bias_2d, "op 'conv'", "'conv_b' must be a vector of 4", NULL},
        {"BN scale size", e_bn_scale, "op 'bn' (BatchNormalization)", "input 1 (scale) 'bn_gamma' must be a vector of 4", NULL},
        {"BN var size", e_bn_var, "op 'bn'", "input 4 (var) 'bn_var'", "vector of 4"},
        {"BN mean 2-D", e_bn_mean_2d, "op 'bn'", "input 3 (mean) 'bn_mean'", NULL},
        {"BN on a 2-D input", e_bn_on_2d, "op 'bn2' (BatchNormalization)", "input 0 (X) 'flatten_out' has 2 dimensions, expected 4", NULL},
        {"Add shapes", e_add_shapes, "op 'add' (Add)", "no broadcasting", "'relu_out'"},
        {"Gemm B columns", e_gemm_cols, "op 'fc' (Gemm)", "'fc_w' has 3 columns", "has 4 features"},
        {"Gemm C size", e_gemm_bias, "op 'fc'", "input 2 (C) 'fc_b' must be a vector of 5", NULL},
        {"Gemm on 4-D", e_gemm_on_4d, "op 'fc'", "input 0 (A) 'gap_out' has 4 dimensions, expected 2", NULL},
        {"MaxPool on 2-D", e_pool_on_2d, "op 'pool2' (MaxPool)", "'flatten_out' has 2 dimensions, expected 4", NULL},
        {"Conv group 2", e_group2, "op 'conv'", "group=2 is not supported", NULL},
        {"Conv stride 0", e_conv_stride0, "op 'conv'", "strides 0x1", NULL},
        {"Conv kernel 0", e_conv_kernel0, "op 'conv'", "kernel 3x0", NULL},
        {"Conv pad = kernel", e_conv_pad_kernel, "op 'conv'", "pads must be smaller than the kernel", NULL},
        {"Conv pad negative", e_conv_pad_negative, "op 'conv'", "not negative", NULL},
        {"MaxPool stride huge", e_pool_stride_huge, "op 'pool'", "strides 2x16385", NULL},
        {"MaxPool pad", e_pool_pad, "op 'pool'", "pads must be smaller", NULL},
        {"MaxPool window over the input", e_pool_window, "op 'pool'", "empty output 1x4x0x0", NULL},
        {"BN epsilon 0", e_bn_eps0, "op 'bn'", "epsilon 0 must be positive", NULL},
        {"BN epsilon NaN", e_bn_eps_nan, "op 'bn'", "epsilon", "must be positive and finite"},
        {"BN epsilon inf", e_bn_eps_inf, "op 'bn'", "epsilon inf", NULL},
        {"BN momentum 1.5", e_bn_momentum, "op 'bn'", "momentum 1.5 is outside [0, 1]", NULL},
        {"BN momentum NaN", e_bn_momentum_nan, "op 'bn'", "momentum", "outside"},
        {"Gemm alpha", e_gemm_alpha, "op 'fc'", "alpha=2", NULL},
        {"Gemm beta", e_gemm_beta, "op 'fc'", "beta=0", NULL},
        {"Gemm transA", e_gemm_trans_a, "op 'fc'", "transA=1", NULL},
        {"Gemm transB", e_gemm_trans_b, "op 'fc'", "transB=0", NULL},
        {"out of order", e_out_of_order, "op 'relu' (Relu)", "'pool_out' is produced later, by op 'pool'", "ops out of order"},
        {"self cycle", e_self_cycle, "op 'relu'", "'relu_out' is produced later", NULL},
        {"no graph input", e_no_data, "0 input tensors", NULL, NULL},
        {"two graph inputs", e_two_data, "2 input tensors", NULL, NULL},
        {"3-D graph input", e_data_3d, "'data' must be 4-D", NULL, NULL},
        {"graph input too wide", e_data_huge, "'data' is 8x16385", NULL, NULL},
        {"duplicate name", e_dup_name, "'bn_gamma' is used twice", NULL, NULL},
        {"no output", e_no_output, "graph output", NULL, NULL},
        {"output is a parameter", e_output_param, "graph output", NULL, NULL},
        {"tied Conv weight", e_tied_conv_w, "op 'conv2' (Conv)", "'conv_w' is already input 1 of op 'conv'", NULL},
        {"BN scale is the Gemm bias", e_scale_is_fc_bias, "'fc_b'", "already input 1 of op 'bn'", NULL},
        {"Conv W and B one tensor", e_same_param_twice, "input 2 (B) 'conv_w'", "already input 1 of op 'conv'", NULL},
        {"activation without producer", e_orphan_act, "activation 'orphan' is not the output of any op", NULL, NULL},
        {"parameter with an empty dimension", e_param_empty, "tensor 'empty': shape 4x0", NULL, NULL},
        {"parameter too large", e_param_huge, "tensor 'huge'", "more than 2147483648 elements", NULL},
        {"trainable state", e_trainable_state, "'bn_mean': only a parameter can be trainable", NULL, NULL},
        {"unknown role", e_bad_role, "'bn_mean': unknown role 7", NULL, NULL},
        {"unknown op type", e_unknown_type, "op 'relu': unknown op type 8", NULL, NULL},
        {"input index out of range", e_input_index, "op 'add' (Add)", "input 1 (B) is tensor", "does not exist"},
        {"no ops", e_no_ops, "no ops", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rn_graph *g = base();
        cases[i].f(g);
        refused(g, cases[i].what, cases[i].f1, cases[i].f2, cases[i].f3);
    }
}

int main(void) {
    test_valid();
    test_roles();
    test_counts();
    test_infer_bounds();
    test_rules();
    return check_summary();
}
