// test_ema.c — the optimiser additions of issue 14 against hand computation, on a tiny ResNet's
// tensors: the EMA of the weights (torchvision's adjusted decay; the first update copies; PARAM and
// STATE averaged; the swap is exact), gradient clipping by the global L2 norm inside
// rn_step_update, and AdamW (decoupled weight decay, bias correction, BN exemption) against the
// formula in double; with the argument "torch", AdamW against torch.optim.AdamW itself (exit 77,
// skipped, when python3 has no torch).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "optim/ema.h"
#include "optim/step.h"
#include "src/resnet.h"
#include "tests/check.h"

static rn_graph *tiny(void) {
    rn_model_opts m = rn_model_opts_default();
    m.depth = 0, m.blocks[0] = m.blocks[1] = 1, m.n_stages = 2, m.bottleneck = 0, m.version = 2;
    m.width = 16, m.stem_small = 1, m.num_classes = 5, m.input_size = 16;
    rn_graph *g;
    rn_err e;
    CHECK(rn_resnet_build(&m, &g, &e) == 0, "build: %s", e.msg);
    rn_graph_init_params(g, 3);
    return g;
}

static rn_tensor *tensor(rn_graph *g, const char *name) {
    int i = rn_graph_find(g, name);
    CHECK(i >= 0, "tensor %s", name);
    return &g->tensors[i];
}

static rn_tensor *first_role(rn_graph *g, rn_role role) {
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].role == role) return &g->tensors[i];
    return NULL;
}

static void test_ema(void) {
    // torchvision's recipe: decay 0.99998 per 32 steps at 1024 images, 600 epochs:
    // alpha = 2e-5 * 1024 * 32 / 600 = 0.00109226666..., decay = 0.99890773333...
    double d = rn_ema_adjusted_decay(0.99998, 1024, 32, 600);
    CHECK(fabs(d - (1 - 2e-5 * 1024 * 32 / 600.0)) < 1e-12 && fabs(d - 0.9989077333333) < 1e-10, "adjusted decay %.12f", d);
    CHECK(rn_ema_adjusted_decay(0.9, 1000, 1, 1) == 0.0, "alpha clamps at 1: decay 0");
    rn_graph *g = tiny();
    rn_tensor *w = tensor(g, "fc_weight"), *st = first_role(g, RN_STATE);
    CHECK(st != NULL, "the net has BN statistics");
    const double decay = 0.75;
    rn_ema *e = rn_ema_create(g, decay);
    CHECK(e->w[w->offset] == w->data[0] && e->w[st->offset] == st->data[0], "created as a copy");
    // Weights follow a known sequence; the average by hand, in double.
    double ew = 0, es = 0;
    for (int k = 0; k < 5; k++) {
        float xw = 0.5f + (float)k, xs = -2.0f * (float)k + 0.25f;
        w->data[0] = xw, st->data[0] = xs;
        rn_ema_update(e, g);
        if (k == 0) ew = xw, es = xs;  // the first update copies (AveragedModel, n_averaged == 0)
        else ew = decay * ew + (1 - decay) * xw, es = decay * es + (1 - decay) * xs;
        CHECK(fabs(e->w[w->offset] - ew) < 1e-5 && fabs(e->w[st->offset] - es) < 1e-5, "step %d: %g vs %g, %g vs %g", k,
              e->w[w->offset], ew, e->w[st->offset], es);
    }
    // Hand values of the same sequence: 0.5, 0.75*0.5+0.25*1.5 = 0.75, 1.1875, 1.765625, 2.44921875.
    CHECK(fabs(e->w[w->offset] - 2.44921875) < 1e-6, "EMA of 0.5,1.5,..,4.5 at 0.75: %.8f", e->w[w->offset]);
    CHECK(e->n_averaged == 5, "count");
    // A reset (torchvision's warm-up) copies again.
    e->n_averaged = 0;
    w->data[0] = 9;
    rn_ema_update(e, g);
    CHECK(e->w[w->offset] == 9, "after a reset the next update copies");
    // The swap exchanges exactly and bumps the version.
    float keep_w = w->data[1], keep_e = e->w[w->offset + 1];
    uint64_t v = g->version;
    rn_ema_swap(e, g);
    CHECK(w->data[1] == keep_e && e->w[w->offset + 1] == keep_w && g->version == v + 1, "swap");
    rn_ema_swap(e, g);
    CHECK(w->data[1] == keep_w && e->w[w->offset + 1] == keep_e && g->version == v + 2, "swap back");
    rn_ema_destroy(e);
    rn_graph_destroy(g);
}

// rn_step_update on a summed gradient of 2 micro-batches that is zero but for two elements (6, 8):
// the mean gradient is (3, 4), norm 5. SGD with lr 1, no momentum or decay: w -= coef * g.
static void clip_case(double clip, double want_coef) {
    rn_graph *g = tiny();
    rn_sgd_opts o = rn_sgd_opts_default();
    o.momentum = 0, o.weight_decay = 0, o.clip_grad_norm = clip;
    rn_sgd *sgd = rn_sgd_create(g, &o);
    float *sum = rn_calloc(g->arena_size, sizeof(float));
    rn_tensor *w = tensor(g, "fc_weight"), *b = tensor(g, "fc_bias");
    sum[w->offset + 2] = 6, sum[b->offset] = 8;
    float w2 = w->data[2], b0 = b->data[0], w3 = w->data[3];
    rn_step s = {.g = g, .sgd = sgd, .micro = 2, .last_sum = sum};
    rn_step_update(&s, 1.0);
    if (clip > 0) CHECK(fabs(s.grad_norm - 5) < 1e-9, "global norm %g, want 5", s.grad_norm);
    CHECK(fabs((w2 - w->data[2]) - 3 * want_coef) < 1e-5 && fabs((b0 - b->data[0]) - 4 * want_coef) < 1e-5,
          "clip %g: steps %g %g, want %g %g", clip, w2 - w->data[2], b0 - b->data[0], 3 * want_coef, 4 * want_coef);
    CHECK(w->data[3] == w3, "a zero gradient leaves the weight alone");
    free(sum);
    rn_sgd_destroy(sgd);
    rn_graph_destroy(g);
}

static void test_clip(void) {
    clip_case(0, 1);                   // off
    clip_case(10, 1);                  // below the threshold: unchanged
    clip_case(1, 1 / (5 + 1e-6));      // torch: coef = max_norm / (norm + 1e-6)
    clip_case(2.5, 2.5 / (5 + 1e-6));
}

enum { STEPS = 3 };
static const float W0[2] = {0.5f, -1.25f}, G[STEPS][2] = {{0.1f, -0.3f}, {-0.2f, 0.05f}, {0.4f, 0.4f}};
static const double LR = 0.01, WD = 0.1, B1 = 0.9, B2 = 0.999, EPS = 1e-8;

// AdamW on fc_weight[0..1] (decayed) and a BN scale (exempt: norm_weight_decay = 0) for STEPS steps;
// out[t][0..1] fc, out[t][2..3] BN.
static void run_adamw(float out[STEPS][4]) {
    rn_graph *g = tiny();
    rn_sgd_opts o = rn_sgd_opts_default();
    o.type = RN_OPT_ADAMW, o.weight_decay = WD, o.norm_weight_decay = 0, o.beta1 = B1, o.beta2 = B2, o.eps = EPS;
    rn_sgd *sgd = rn_sgd_create(g, &o);
    rn_tensor *w = tensor(g, "fc_weight"), *bn = NULL;
    for (int k = 0; k < g->n_ops && !bn; k++)  // the first trainable one (v2's data_bn has a fixed scale)
        if (g->ops[k].type == RN_OP_BATCHNORM && g->tensors[g->ops[k].in[1]].trainable) bn = &g->tensors[g->ops[k].in[1]];
    CHECK(bn && sgd->moment2, "a BN scale and the second moment");
    float *grad = rn_calloc(g->arena_size, sizeof(float));
    for (int i = 0; i < 2; i++) w->data[i] = bn->data[i] = W0[i];
    for (int t = 0; t < STEPS; t++) {
        for (int i = 0; i < 2; i++) grad[w->offset + i] = grad[bn->offset + i] = G[t][i];
        rn_sgd_step(sgd, g, grad, 1.0f, LR);
        for (int i = 0; i < 2; i++) out[t][i] = w->data[i], out[t][2 + i] = bn->data[i];
    }
    CHECK(sgd->t == STEPS, "step count");
    free(grad);
    rn_sgd_destroy(sgd);
    rn_graph_destroy(g);
}

static void test_adamw(void) {
    float got[STEPS][4];
    run_adamw(got);
    for (int decayed = 0; decayed < 2; decayed++)
        for (int i = 0; i < 2; i++) {
            double w = W0[i], m = 0, v = 0, wd = decayed ? WD : 0;
            for (int t = 1; t <= STEPS; t++) {
                double gr = G[t - 1][i];
                w *= 1 - LR * wd;
                m = B1 * m + (1 - B1) * gr;
                v = B2 * v + (1 - B2) * gr * gr;
                w -= LR / (1 - pow(B1, t)) * m / (sqrt(v) / sqrt(1 - pow(B2, t)) + EPS);
                float x = got[t - 1][decayed ? i : 2 + i];
                CHECK(fabs(x - w) < 2e-6, "AdamW %s [%d] step %d: %.9f, formula %.9f", decayed ? "fc" : "BN (no decay)", i,
                      t, x, w);
            }
        }
    // The first step moves each weight by about lr (m/sqrt(v) = sign(g) after bias correction).
    CHECK(fabs((W0[0] * (1 - LR * WD) - got[0][0]) - LR) < 1e-6, "first step size lr");
}

// torch.optim.AdamW on the same numbers; 77 when there is no torch.
static int test_torch(void) {
    FILE *p = popen("/usr/bin/python3 -c '\n"
                    "import sys\n"
                    "try:\n import torch\n"
                    "except Exception:\n print(\"notorch\"); sys.exit(0)\n"
                    "w = torch.tensor([0.5, -1.25], dtype=torch.float32, requires_grad=True)\n"
                    "b = torch.tensor([0.5, -1.25], dtype=torch.float32, requires_grad=True)\n"
                    "o = torch.optim.AdamW([{\"params\": [w]}, {\"params\": [b], \"weight_decay\": 0.0}], lr=0.01, "
                    "betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, foreach=False)\n"
                    "for g in [[0.1, -0.3], [-0.2, 0.05], [0.4, 0.4]]:\n"
                    " w.grad = torch.tensor(g); b.grad = torch.tensor(g); o.step()\n"
                    " print(\"%.9g %.9g %.9g %.9g\" % (w[0].item(), w[1].item(), b[0].item(), b[1].item()))\n"
                    "' 2>/dev/null",
                    "r");
    if (!p) return 77;
    char line[256];
    float got[STEPS][4];
    run_adamw(got);
    int t = 0;
    while (fgets(line, sizeof line, p)) {
        if (!strncmp(line, "notorch", 7)) {
            pclose(p);
            fprintf(stderr, "python3 has no torch: skipped\n");
            return 77;
        }
        double x[4];
        if (t < STEPS && sscanf(line, "%lf %lf %lf %lf", &x[0], &x[1], &x[2], &x[3]) == 4) {
            for (int i = 0; i < 4; i++)
                CHECK(fabs(got[t][i] - x[i]) < 1e-6, "step %d [%d]: ours %.9g, torch %.9g", t + 1, i, got[t][i], x[i]);
            t++;
        }
    }
    int rc = pclose(p);
    if (t == 0 && rc != 0) return 77;  // no python3
    CHECK(t == STEPS, "torch printed %d steps", t);
    return check_summary();
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "torch")) return test_torch();
    test_ema();
    test_clip();
    test_adamw();
    return check_summary();
}
