// test_resnet.c — whole blocks and whole tiny ResNets, oneDNN path vs reference path; the zoo's
// parameter count; no Conv or BatchNormalization of a ResNet step on a slow `ref:` kernel.
#include <stdio.h>

#include "layers/softmax_xent.h"
#include "src/resnet.h"
#include "tests/graphcheck.h"

static rn_model_opts tiny(int version, int bottleneck, int input) {
    rn_model_opts m = rn_model_opts_default();
    m.depth = 0;
    m.blocks[0] = m.blocks[1] = 1;
    m.n_stages = 2;
    m.bottleneck = bottleneck;
    m.version = version;
    m.width = 16;
    m.stem_small = 1;
    m.num_classes = 5;
    m.input_size = input;
    return m;
}

// Gives BN statistics and scales non-trivial values so a wrong formula cannot hide behind 1s and 0s.
static void perturb_bn(rn_graph *g, uint64_t seed) {
    rn_rng r;
    rn_rng_seed(&r, seed);
    for (int i = 0; i < g->n_tensors; i++) {
        rn_tensor *t = &g->tensors[i];
        if (!t->data || t->ndim != 1 || (t->role == RN_PARAM && !t->trainable)) continue;
        int var = strstr(t->name, "running_var") != NULL, gamma = strstr(t->name, "gamma") != NULL;
        for (size_t j = 0; j < rn_tensor_numel(t); j++)
            t->data[j] = (var || gamma) ? (float)rn_rng_range(&r, 0.5, 1.5) : (float)(0.2 * rn_rng_normal(&r));
    }
    g->version++;
}

// Blocks: basic and bottleneck, v1, v1.5 and v2, each with an identity and a projection shortcut.
static void test_blocks(void) {
    struct {
        int version, bottleneck, stride3;
        const char *name;
    } cases[] = {{1, 0, 0, "v1 basic"}, {1, 1, 0, "v1 bottleneck"}, {1, 1, 1, "v1.5 bottleneck"},
                 {2, 0, 0, "v2 basic"}, {2, 1, 0, "v2 bottleneck"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (int training = 0; training <= 1; training++) {
            rn_model_opts m = tiny(cases[i].version, cases[i].bottleneck, 8);
            m.stride_in_3x3 = cases[i].stride3;
            rn_graph *g;
            rn_err err;
            int rc = rn_resnet_build(&m, &g, &err);
            CHECK(rc == 0, "%s: build: %s", cases[i].name, err.msg);
            if (rc) continue;
            rn_graph_init_params(g, 7 + i);
            perturb_bn(g, 100 + i);
            gc_opts o = gc_default(2, 8, 8);
            o.training = training;
            o.fd_samples = 3;
            char name[128];
            snprintf(name, sizeof name, "%s blocks (%s)", cases[i].name, training ? "training" : "inference");
            graphcheck(g, &o, name);
            rn_graph_destroy(g);
        }
    }
}

// A whole tiny ResNet, 2 images of 32 px, through the loss: the loss and every parameter gradient.
static void test_tiny_resnet_loss(int version) {
    rn_model_opts m = tiny(version, 0, 32);
    rn_graph *g;
    rn_err err;
    int rc = rn_resnet_build(&m, &g, &err);
    CHECK(rc == 0, "build: %s", err.msg);
    if (rc) return;
    rn_graph_init_params(g, 11);
    perturb_bn(g, 12);
    rn_exec *ex;
    rn_ref *ref;
    rn_exec_opts eo = rn_exec_opts_default(1);
    CHECK(rn_exec_create(g, 2, 32, 32, &eo, &ex, &err) == 0, "exec: %s", err.msg);
    CHECK(rn_ref_create(g, 2, 32, 32, 1, &ref, &err) == 0, "ref: %s", err.msg);
    size_t n_in = 2 * 3 * 32 * 32, K = 5;
    float *x = rn_malloc(n_in * sizeof(float)), scores[10], dscores[10];
    double *xd = rn_malloc(n_in * sizeof(double)), dref[10];
    rn_rng r;
    rn_rng_seed(&r, 3);
    for (size_t i = 0; i < n_in; i++) xd[i] = x[i] = (float)rn_rng_normal(&r);
    int32_t labels[2] = {1, 4};
    CHECK(rn_exec_set_input(ex, x, &err) == 0, "rn_exec_set_input: %s", err.msg);
    CHECK(rn_exec_forward(ex, &err) == 0, "rn_exec_forward: %s", err.msg);
    CHECK(rn_exec_get_output(ex, scores, &err) == 0, "rn_exec_get_output: %s", err.msg);
    double loss = rn_softmax_xent(scores, labels, 2, (int64_t)K, 0.1, dscores);
    CHECK(rn_exec_backward(ex, dscores, &err) == 0, "rn_exec_backward: %s", err.msg);
    rn_ref_set_input(ref, xd);
    rn_ref_forward(ref);
    double loss_ref = rn_softmax_xent_ref(rn_ref_value(ref, g->output), labels, 2, (int64_t)K, 0.1, dref);
    rn_ref_backward(ref, dref);
    char what[128];
    snprintf(what, sizeof what, "tiny ResNet v%d loss", version);
    CHECK_CLOSE(loss, loss_ref, 1e-5, what);
    CHECK(loss > 0.5 && loss < 5, "tiny ResNet v%d: loss %g is not a plausible 5-class start", version, loss);
    int n_grads = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        const rn_tensor *tt = &g->tensors[t];
        if (tt->role != RN_PARAM || !tt->trainable) continue;
        double d = max_rel_diff_fd(tt->grad, rn_ref_grad(ref, t), rn_tensor_numel(tt));
        CHECK(d < 1e-4, "tiny ResNet v%d: d(%s): oneDNN vs reference rel diff %.3g", version, tt->name, d);
        n_grads++;
    }
    CHECK(n_grads > 15, "tiny ResNet v%d: only %d gradients compared", version, n_grads);
    free(x), free(xd);
    rn_exec_destroy(ex);
    rn_ref_destroy(ref);
    rn_graph_destroy(g);
}

// The zoo's resnet50-v1 holds 25,629,032 floats of initializers, running statistics included.
static void test_zoo_counts(void) {
    rn_model_opts m = rn_model_opts_default();
    m.depth = 50;
    m.version = 1;
    rn_graph *g;
    rn_err err;
    CHECK(rn_resnet_build(&m, &g, &err) == 0, "build: %s", err.msg);
    size_t trainable, total;
    int tensors;
    double flops;
    rn_graph_stats(g, &trainable, &total, &tensors, &flops);
    CHECK(total == 25629032, "resnet50 v1 total floats %zu, zoo has 25629032", total);
    CHECK(trainable == 25575912, "resnet50 v1 trainable %zu", trainable);
    rn_graph_destroy(g);
    // torchvision's resnet18 has 11,689,512 trainable parameters; our v1 basic layout is the same.
    m.depth = 18;
    CHECK(rn_resnet_build(&m, &g, &err) == 0, "build: %s", err.msg);
    rn_graph_stats(g, &trainable, &total, &tensors, &flops);
    CHECK(trainable == 11689512, "resnet18 v1 trainable %zu, torchvision has 11689512", trainable);
    CHECK(fabs(flops - 3.628e9) < 0.01e9, "resnet18 flops %.4g (2 x 1.814 GMAC)", flops);
    rn_graph_destroy(g);
}

// Every Conv and BatchNormalization primitive of a ResNet training step must be a real kernel:
// a `ref:` implementation is about 100x slower and appears silently when a layout is forced.
static void test_no_ref_kernels(const char *label, int depth, int version, int stem_small, int input, int batch) {
    rn_model_opts m = rn_model_opts_default();
    m.depth = depth;
    m.version = version;
    m.stem_small = stem_small;
    m.input_size = input;
    if (stem_small) m.num_classes = 10;
    rn_graph *g;
    rn_err err;
    CHECK(rn_resnet_build(&m, &g, &err) == 0, "build: %s", err.msg);
    for (int training = 0; training <= 1; training++) {
        rn_exec *ex;
        rn_exec_opts eo = rn_exec_opts_default(training);
        int rc = rn_exec_create(g, batch, input, input, &eo, &ex, &err);
        CHECK(rc == 0, "%s exec: %s", label, err.msg);
        if (rc) continue;
        int checked = 0, bad = 0;
        for (int k = 0; k < g->n_ops; k++) {
            rn_op_type t = g->ops[k].type;
            if (t != RN_OP_CONV && t != RN_OP_BATCHNORM) continue;
            const char *names[4];
            int n = rn_exec_impls(ex, k, names, 4);
            for (int i = 0; i < n; i++, checked++)
                if (strncmp(names[i], "ref", 3) == 0) {
                    bad++;
                    fprintf(stderr, "%s: %s (%s) runs on %s\n", label, g->ops[k].name, rn_op_type_name(t), names[i]);
                }
        }
        CHECK(bad == 0, "%s (%s): %d of %d Conv/BN primitives on ref: kernels", label,
              training ? "training" : "inference", bad, checked);
        CHECK(checked > 20, "%s: only %d primitives inspected", label, checked);
        rn_exec_destroy(ex);
    }
    rn_graph_destroy(g);
}

int main(void) {
    test_blocks();
    test_tiny_resnet_loss(1);
    test_tiny_resnet_loss(2);
    test_zoo_counts();
    test_no_ref_kernels("resnet50 v1", 50, 1, 0, 224, 2);
    test_no_ref_kernels("resnet50 v2", 50, 2, 0, 224, 2);
    test_no_ref_kernels("resnet18 v2 small stem", 18, 2, 1, 32, 8);
    return check_summary();
}
