// test_data_mix.c — mixup / cutmix (data/mix.h): the plan's λ and box, the mixed pixels and soft
// targets, the loader's mixed batches for any worker count and unchanged with mixing off, the
// soft-target loss against a double computation; the repeated-augmentation sampler's counts and
// its rank split (data/dataset.h).
#include "test_data_util.h"  // first: it sets _GNU_SOURCE

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data/loader.h"
#include "data/mix.h"
#include "layers/softmax_xent.h"

static rn_data_opts mix_opts(double mixup, double cutmix) {
    rn_data_opts o = rn_data_opts_default();
    o.mixup_alpha = mixup, o.cutmix_alpha = cutmix;
    o.seed = 5;
    return o;
}

// λ equals the pasted area fraction exactly, the pixels are the partner's inside the box and the
// sample's own outside; targets sum to 1; the choice frequencies follow mix_prob / mix_switch_prob.
static void test_plan(void) {
    enum { H = 20, W = 28, N = 5 };
    rn_data_opts o = mix_opts(0.4, 1.0);
    o.mix_prob = 0.8, o.mix_switch_prob = 0.3;
    int count[3] = {0}, bad_box = 0, bad_px = 0, bad_lam = 0, bad_t = 0, bad_mixup = 0;
    static float x[N * 3 * H * W];
    float t[N * 4];
    int32_t y[N] = {0, 1, 2, 3, 1}, dom[N];
    const size_t per = 3 * H * W;
    const int trials = 4000;
    for (int b = 0; b < trials; b++) {
        rn_mix_plan p = rn_mix_draw(&o, 3, b, H, W);
        rn_mix_plan q = rn_mix_draw(&o, 3, b, H, W);
        bad_lam += memcmp(&p, &q, sizeof p) != 0;  // a function of its arguments
        count[p.mode]++;
        bad_lam += !(p.lam >= 0 && p.lam <= 1) || (p.mode == RN_MIX_NONE && p.lam != 1);
        for (int i = 0; i < N; i++)
            for (size_t k = 0; k < per; k++) x[i * per + k] = (float)(i * 1000 + (int)(k % 977));
        rn_mix_apply(&p, x, N, 1, H, W);
        if (p.mode == RN_MIX_CUTMIX) {
            bad_box += p.y0 < 0 || p.y1 > H || p.x0 < 0 || p.x1 > W || p.y0 > p.y1 || p.x0 > p.x1;
            long pasted = 0;
            for (int i = 0; i < N; i++)
                for (size_t k = 0; k < per; k++) {
                    int j = N - 1 - i, r = (int)(k % (H * W)) / W, c = (int)(k % W);
                    int in = r >= p.y0 && r < p.y1 && c >= p.x0 && c < p.x1;
                    float want = (float)((in ? j : i) * 1000 + (int)(k % 977));
                    bad_px += x[i * per + k] != want;
                    pasted += i == 0 && k < H * W && in;
                }
            bad_lam += fabs((1.0 - p.lam) - (double)pasted / (H * W)) > 1e-15;
        } else if (p.mode == RN_MIX_MIXUP) {
            for (int i = 0; i < N; i++)
                for (size_t k = 0; k < per; k += 37) {
                    double a = i * 1000 + (int)(k % 977), c = (N - 1 - i) * 1000 + (int)(k % 977);
                    bad_mixup += fabs(x[i * per + k] - (p.lam * a + (1 - p.lam) * c)) > 1e-3;
                }
        }
        rn_mix_targets(&p, y, N, 4, t, dom);
        for (int i = 0; i < N; i++) {
            double s = 0;
            for (int k = 0; k < 4; k++) s += t[i * 4 + k];
            bad_t += fabs(s - 1) > 1e-6 || dom[i] != (p.lam >= 0.5 ? y[i] : y[N - 1 - i]);
            if (y[i] != y[N - 1 - i]) bad_t += fabs(t[i * 4 + y[i]] - p.lam) > 1e-7;
        }
    }
    CHECK(!bad_lam && !bad_box && !bad_px, "cutmix: box in the image, λ = 1 − pasted area exactly (%d %d %d)", bad_lam,
          bad_box, bad_px);
    CHECK(!bad_mixup, "mixup: x = λ x + (1 − λ) x_reversed (%d)", bad_mixup);
    CHECK(!bad_t, "targets: rows sum to 1, weight λ on the own label, dominant label (%d)", bad_t);
    // mix_prob 0.8, then cutmix 0.3: none 0.2, mixup 0.56, cutmix 0.24 (binomial sd <= 0.008).
    CHECK(fabs(count[0] / (double)trials - 0.2) < 0.03 && fabs(count[1] / (double)trials - 0.56) < 0.04 &&
              fabs(count[2] / (double)trials - 0.24) < 0.03,
          "frequencies none/mixup/cutmix %d %d %d of %d", count[0], count[1], count[2], trials);
    o.cutmix_alpha = 0;  // mixup alone never cuts, and the reverse
    int other = 0;
    for (int b = 0; b < 200; b++) other += rn_mix_draw(&o, 0, b, H, W).mode == RN_MIX_CUTMIX;
    o.cutmix_alpha = 1, o.mixup_alpha = 0;
    for (int b = 0; b < 200; b++) other += rn_mix_draw(&o, 0, b, H, W).mode == RN_MIX_MIXUP;
    CHECK(other == 0, "one alpha set: only that mix (%d)", other);
    o.mix_prob = 0;
    CHECK(!rn_mix_enabled(&o) && !rn_mix_enabled(&(rn_data_opts){.mix_prob = 1}), "off with mix_prob 0 or both alphas 0");
}

// Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)).
static void test_beta(void) {
    const double as[3] = {0.2, 1.0, 3.0};
    for (int t = 0; t < 3; t++) {
        rn_rng r;
        rn_rng_seed(&r, 11 + t);
        double s = 0, s2 = 0;
        const int n = 40000;
        int out = 0;
        for (int i = 0; i < n; i++) {
            double b = rn_beta_sym(&r, as[t]);
            out += !(b >= 0 && b <= 1);
            s += b, s2 += b * b;
        }
        double m = s / n, v = s2 / n - m * m, want = 1 / (4 * (2 * as[t] + 1));
        if (t == 0) {  // the extremes stay in [0, 1]: a coin at tiny alphas, 1/2 at huge ones
            double lo = rn_beta_sym(&r, 1e-300), hi = rn_beta_sym(&r, 1e300);
            CHECK((lo == 0 || lo == 1) && hi == 0.5, "Beta(1e-300) %g, Beta(1e300) %g", lo, hi);
        }
        CHECK(!out && fabs(m - 0.5) < 0.01 && fabs(v - want) < 0.05 * want, "Beta(%g): mean %.4f var %.4f want %.4f",
              as[t], m, v, want);
    }
}

// The soft-target loss and gradient against the double twin; one-hot targets give exactly the hard loss.
static void test_soft_loss(void) {
    enum { N = 6, K = 7 };
    float x[N * K], t[N * K], dx[N * K], dh[N * K];
    double xd[N * K], td[N * K], dd[N * K];
    int32_t y[N];
    rn_rng r;
    rn_rng_seed(&r, 3);
    for (int n = 0; n < N; n++) {
        y[n] = (int32_t)rn_rng_below(&r, K);
        double s = 0;
        for (int k = 0; k < K; k++) {
            x[n * K + k] = (float)rn_rng_range(&r, -3, 3), xd[n * K + k] = x[n * K + k];
            t[n * K + k] = (float)rn_rng_uniform(&r), s += t[n * K + k];
        }
        for (int k = 0; k < K; k++) t[n * K + k] = (float)(t[n * K + k] / s), td[n * K + k] = t[n * K + k];
    }
    for (int si = 0; si < 2; si++) {
        double sm = si ? 0.1 : 0;
        double l = rn_softmax_xent_soft(x, t, N, K, sm, dx), lr = rn_softmax_xent_soft_ref(xd, td, N, K, sm, dd);
        CHECK_CLOSE(l, lr, 1e-12, "soft loss against double");
        CHECK(max_rel_diff_fd(dx, dd, N * K) < 1e-6, "soft gradient (softmax − q) / N against double: %g",
              max_rel_diff_fd(dx, dd, N * K));
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++) t[n * K + k] = k == y[n];
        l = rn_softmax_xent_soft(x, t, N, K, sm, dx);
        double h = rn_softmax_xent(x, y, N, K, sm, dh);
        CHECK(l == h && !memcmp(dx, dh, sizeof dx), "one-hot soft targets = hard loss bit for bit (s = %g)", sm);
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++) t[n * K + k] = (float)td[n * K + k];
    }
}

typedef struct got {
    float *data, *targets;
    int32_t *labels, *dom;
    size_t index[128];
    double lam[16];
    int batches;
} got;

static void collect(const rn_dataset_view *v, const rn_data_opts *o, int64_t epoch, got *g) {
    rn_err err;
    rn_loader *l = NULL;
    memset(g, 0, sizeof *g);
    CHECK(rn_loader_create(v, o, 1, &l, &err) == 0, "loader: %s", err.msg);
    if (!l) return;
    size_t sf = 3 * (size_t)o->size * o->size, B = (size_t)o->batch_size, K = (size_t)v->ds->n_classes;
    int64_t nb = rn_loader_num_batches(l);
    g->data = calloc(nb * B * sf, sizeof(float));
    g->targets = calloc(nb * B * K, sizeof(float));
    g->labels = calloc(nb * B, sizeof(int32_t));
    g->dom = calloc(nb * B, sizeof(int32_t));
    rn_loader_start_epoch(l, epoch);
    rn_batch *b;
    while (rn_loader_next(l, &b, &err) == 1) {
        size_t at = (size_t)g->batches;
        memcpy(g->data + at * B * sf, b->data, B * sf * sizeof(float));
        if (b->targets) memcpy(g->targets + at * B * K, b->targets, B * K * sizeof(float));
        memcpy(g->labels + at * B, b->labels, B * sizeof(int32_t));
        memcpy(g->dom + at * B, b->dominant, B * sizeof(int32_t));
        memcpy(g->index + at * B, b->index, B * sizeof(size_t));
        g->lam[at] = b->lam;
        g->batches++;
        rn_loader_release(l, b);
    }
    rn_loader_destroy(l);
}

static void got_free(got *g) { free(g->data), free(g->targets), free(g->labels), free(g->dom); }

// The loader mixes each training batch per its plan: the same bits for 0 and 3 workers, and the
// unmixed batch (mixing off: what the loader gave before mixup existed) plus the plan is the mixed one.
static void test_loader(const char *dir) {
    rn_err err;
    rn_dataset *ds = NULL;
    char train[600];
    snprintf(train, sizeof train, "%s/train", dir);
    CHECK(rn_dataset_open_folder(&ds, train, NULL, &err) == 0, "open: %s", err.msg);
    if (!ds) return;
    rn_dataset_view v;
    rn_view_init(&v, ds, 0, 1, &err);
    rn_data_opts o = mix_opts(0.5, 1.0);
    o.size = 12, o.batch_size = 5, o.prefetch = 2, o.workers = 0;
    rn_data_opts off = o;
    off.mixup_alpha = off.cutmix_alpha = 0;
    got a, b, plain;
    collect(&v, &o, 2, &a);
    o.workers = 3;
    collect(&v, &o, 2, &b);
    collect(&v, &off, 2, &plain);
    const size_t sf = 3 * 12 * 12, B = 5, K = 4, nb = (size_t)a.batches;
    CHECK(nb == 6 && b.batches == 6 && plain.batches == 6, "32 / 5: 6 batches (%zu)", nb);
    CHECK(!memcmp(a.data, b.data, nb * B * sf * 4) && !memcmp(a.targets, b.targets, nb * B * K * 4) &&
              !memcmp(a.dom, b.dom, nb * B * 4),
          "mixed batches and targets bit-identical for 0 and 3 workers");
    int modes[3] = {0}, bad = 0, same_labels = !memcmp(a.labels, plain.labels, nb * B * 4);
    float *x = malloc(B * sf * sizeof(float));
    float t[5 * 4];
    int32_t d[5];
    for (size_t k = 0; k < nb; k++) {
        rn_mix_plan p = rn_mix_draw(&o, 2, (int64_t)k, 12, 12);
        modes[p.mode]++;
        memcpy(x, plain.data + k * B * sf, B * sf * sizeof(float));
        rn_mix_apply(&p, x, (int)B, 1, 12, 12);
        rn_mix_targets(&p, plain.labels + k * B, (int)B, (int)K, t, d);
        bad += memcmp(x, a.data + k * B * sf, B * sf * 4) != 0 || memcmp(t, a.targets + k * B * K, sizeof t) != 0 ||
               memcmp(d, a.dom + k * B, sizeof d) != 0 || a.lam[k] != p.lam;
        bad += memcmp(plain.dom + k * B, plain.labels + k * B, B * 4) != 0 || plain.lam[k] != 1;
    }
    CHECK(same_labels && !bad, "mixed batch = unmixed batch mixed per its plan; off: dominant = labels (%d)", bad);
    CHECK(modes[1] + modes[2] >= 3, "most batches mixed (%d mixup, %d cutmix)", modes[1], modes[2]);
    // An epoch restarted while workers mix (the slots drained first), and one resumed at batch 3,
    // deliver the same mixed batches.
    rn_loader *l = NULL;
    CHECK(rn_loader_create(&v, &o, 1, &l, &err) == 0, "loader: %s", err.msg);
    if (l) {
        rn_batch *e;
        int same = 1;
        for (int t = 0; t < 3; t++) {
            rn_loader_start_epoch(l, 2);
            CHECK(rn_loader_next(l, &e, &err) == 1, "first batch");
            same &= !memcmp(e->data, a.data, B * sf * 4);
            rn_loader_release(l, e);
        }
        rn_loader_start_epoch_at(l, 2, 3);
        for (size_t k = 3; rn_loader_next(l, &e, &err) == 1; k++) {
            same &= e->number == (int64_t)k && !memcmp(e->data, a.data + k * B * sf, B * sf * 4) &&
                    !memcmp(e->targets, a.targets + k * B * K, B * K * 4);
            rn_loader_release(l, e);
        }
        CHECK(same, "restarted and resumed epochs: the same mixed batches");
        rn_loader_destroy(l);
    }
    // Evaluation is never mixed.
    l = NULL;
    CHECK(rn_loader_create(&v, &o, 0, &l, &err) == 0, "eval loader: %s", err.msg);
    if (l) {
        rn_batch *e;
        rn_loader_start_epoch(l, 0);
        CHECK(rn_loader_next(l, &e, &err) == 1 && !e->targets && e->lam == 1 && e->dominant == e->labels,
              "evaluation batches carry hard labels only");
        rn_loader_release(l, e);
        rn_loader_destroy(l);
    }
    free(x);
    got_free(&a), got_free(&b), got_free(&plain);

    // Repeated augmentation in the loader: the 3 copies of an image in a row, each augmented
    // differently (RandomResizedCrop, flip), the same bits for 0 and 3 workers.
    v.repeats = 3;
    off.workers = 0;
    collect(&v, &off, 1, &a);
    off.workers = 3;
    collect(&v, &off, 1, &b);
    int copies = 0, differ = 0;
    for (size_t k = 0; k + 2 < (size_t)a.batches * B; k += 3) {
        copies += a.index[k] == a.index[k + 1] && a.index[k] == a.index[k + 2];
        differ += memcmp(a.data + k * sf, a.data + (k + 1) * sf, sf * 4) && memcmp(a.data + (k + 1) * sf, a.data + (k + 2) * sf, sf * 4);
    }
    CHECK(copies == 10 && differ == 10, "RA: 10 images 3 times in a row (%d), each copy augmented apart (%d)", copies, differ);
    CHECK(a.batches == 6 && !memcmp(a.data, b.data, 6 * B * sf * 4), "RA batches identical for 0 and 3 workers");
    got_free(&a), got_free(&b);
    rn_dataset_destroy(ds);
}

// RA sampler: each image of the epoch K times (the first n of the K-fold order), length n; over
// many epochs every image about once per epoch; with several ranks the K copies on K ranks.
static void test_repeated(void) {
    enum { N = 600, K = 3, E = 300 };
    rn_dataset ds = {.root = "ra", .n = N, .n_classes = 1};
    rn_err err;
    rn_dataset_view v;
    CHECK(rn_view_init(&v, &ds, 0, 1, &err) == 0, "view");
    v.repeats = K;
    size_t *idx = malloc(N * sizeof(size_t));
    int *cnt = calloc(N, sizeof(int)), *total = calloc(N, sizeof(int));
    int bad = 0;
    for (int e = 0; e < E; e++) {
        memset(cnt, 0, N * sizeof(int));
        rn_view_epoch(&v, 17, e, 1, idx);
        for (size_t k = 0; k < N; k++) cnt[idx[k]]++, total[idx[k]]++;
        int distinct = 0;
        for (int i = 0; i < N; i++) {
            distinct += cnt[i] > 0;
            bad += cnt[i] != 0 && cnt[i] != K;
        }
        bad += distinct != N / K;
        for (size_t k = 0; k + 1 < N; k += K) bad += idx[k] != idx[k + 1] || idx[k] != idx[k + 2];
    }
    int lo = E, hi = 0;
    for (int i = 0; i < N; i++) lo = total[i] < lo ? total[i] : lo, hi = total[i] > hi ? total[i] : hi;
    CHECK(!bad, "one rank: n samples, n / K images K times each, in a row (%d)", bad);
    // Each image is drawn with probability 1/K per epoch: about E (K copies × E / K), sd ≈ sqrt(2 E).
    CHECK(lo > E - 6 * 25 && hi < E + 6 * 25, "over %d epochs every image about %d times (%d..%d)", E, E, lo, hi);
    rn_view_epoch(&v, 17, 0, 1, idx);
    size_t *again = malloc(N * sizeof(size_t));
    rn_view_epoch(&v, 17, 0, 1, again);
    CHECK(!memcmp(idx, again, N * sizeof(size_t)), "deterministic from (seed, epoch)");

    // 4 ranks in batches of 10: rank r holds entries r, r + 4, ... of the K-fold order.
    const int W = 4, B = 10;
    int *where = calloc(N * W, sizeof(int));
    memset(cnt, 0, N * sizeof(int));
    size_t per = 0;
    for (int r = 0; r < W; r++) {
        CHECK(rn_view_init_batches(&v, &ds, r, W, B, &err) == 0, "batch view");
        v.repeats = K;
        per = v.per_rank;
        rn_view_epoch(&v, 17, 4, 1, idx);
        for (size_t k = 0; k < per; k++) cnt[idx[k]]++, where[idx[k] * W + r]++;
    }
    int spread = 0, total_n = 0;
    for (int i = 0; i < N; i++) {
        int ranks = 0;
        for (int r = 0; r < W; r++) ranks += where[i * W + r] > 0;
        spread += cnt[i] > 0 && ranks != cnt[i];
        total_n += cnt[i];
    }
    CHECK(per == N / (W * B) * B && total_n == (int)(per * W), "ranks: %zu each", per);
    CHECK(!spread, "the copies of an image are on different ranks (%d images not)", spread);
    free(where), free(again), free(idx), free(cnt), free(total);
}

int main(void) {
    test_plan();
    test_beta();
    test_soft_loss();
    char dir[256];
    tmp_dir(dir, sizeof dir, "mix");
    make_band_dataset(dir, 8, 1, 7, 90, 3);
    test_loader(dir);
    rm_rf(dir);
    test_repeated();
    return check_summary();
}
