// test_eval_counts.c — the evaluation's counts (layers/eval_counts.h) on hand-made scores: top-1 /
// top-5 with ties, the loss against rn_softmax_xent, the confusion matrix (its diagonal is top-1),
// the mean of softmax over views against a direct computation, summing counts, bad labels.
#include "layers/eval_counts.h"
#include "layers/softmax_xent.h"
#include "tests/check.h"

static void test_one_view(void) {
    // 3 images, K = 6 classes.
    const float s[3 * 6] = {
        5, 1, 0, 0, 0, 0,   // label 0: best
        1, 3, 3, 0, 0, 0,   // label 2: tied for best with class 1 -> counts as top-1 (predicted = 2)
        6, 5, 4, 3, 2, 1,   // label 5: last -> not top-5 (5 classes above), predicted 0
    };
    const int32_t y[3] = {0, 2, 5};
    rn_eval_counts c;
    rn_err err;
    double work[12];
    CHECK(rn_eval_counts_init(&c, 6, 1, &err) == 0, "init");
    CHECK(rn_eval_add(&c, s, y, 3, 1, 0.1, work, &err) == 0, "add");
    CHECK(c.n == 3 && c.top1 == 2 && c.top5 == 2, "n %lld top1 %lld top5 %lld", (long long)c.n, (long long)c.top1,
          (long long)c.top5);
    CHECK(c.loss_sum == rn_softmax_xent(s, y, 3, 6, 0.1, NULL) * 3, "loss as the trainer sums it");
    CHECK(c.confusion[0 * 6 + 0] == 1 && c.confusion[2 * 6 + 2] == 1 && c.confusion[5 * 6 + 0] == 1, "confusion cells");
    int64_t total = 0, diag = 0;
    for (int i = 0; i < 36; i++) total += c.confusion[i];
    for (int i = 0; i < 6; i++) diag += c.confusion[i * 6 + i];
    CHECK(total == 3 && diag == c.top1, "confusion total %lld diagonal %lld", (long long)total, (long long)diag);
    CHECK(rn_topk_correct(s, y, 3, 6, 1) == c.top1 && rn_topk_correct(s, y, 3, 6, 5) == c.top5,
          "the same rule as rn_topk_correct");
    double loss, t1, t5;
    rn_eval_rates(&c, &loss, &t1, &t5);
    CHECK_CLOSE(t1, 200.0 / 3, 1e-12, "top-1 percent");
    CHECK_CLOSE(loss, c.loss_sum / 3, 1e-15, "mean loss");

    // Summing two halves equals scoring the whole.
    rn_eval_counts a, b;
    CHECK(rn_eval_counts_init(&a, 6, 1, &err) == 0 && rn_eval_counts_init(&b, 6, 1, &err) == 0, "init halves");
    rn_eval_add(&a, s, y, 1, 1, 0.1, work, &err);
    rn_eval_add(&b, s + 6, y + 1, 2, 1, 0.1, work, &err);
    rn_eval_counts_add(&a, &b);
    CHECK(a.n == c.n && a.top1 == c.top1 && a.top5 == c.top5, "summed counts");
    CHECK_CLOSE(a.loss_sum, c.loss_sum, 1e-12, "summed loss");
    CHECK(memcmp(a.confusion, c.confusion, 36 * sizeof(int64_t)) == 0, "summed confusion");

    // A label outside the classes is an error and counts nothing.
    const int32_t bad[1] = {6};
    CHECK(rn_eval_add(&a, s, bad, 1, 1, 0, work, &err) == -1 && strstr(err.msg, "label 6"), "bad label: %s", err.msg);
    CHECK(a.n == 3, "nothing counted after a bad label");
    rn_eval_counts_free(&a);
    rn_eval_counts_free(&b);
    rn_eval_counts_free(&c);
    // Fewer than 5 classes: top-5 is top-K, always a hit.
    rn_eval_counts d;
    rn_eval_counts_init(&d, 2, 0, &err);
    const float s2[2] = {0, 1};
    const int32_t y2[1] = {0};
    rn_eval_add(&d, s2, y2, 1, 1, 0, work, &err);
    CHECK(d.top1 == 0 && d.top5 == 1 && d.confusion == NULL, "K = 2: top1 %lld top5 %lld", (long long)d.top1,
          (long long)d.top5);
}

// Mean of softmax over V views, computed directly, against the log-sum-exp path.
static void test_views(void) {
    enum { V = 3, K = 4, N = 2 };
    const float s[N * V * K] = {
        // image 0, label 1: view 0 is sure of class 0, views 1 and 2 mildly favour class 1 -> 0 wins
        20, 0, 0, 0,   0, 1, 0, 0,   0, 1, 0, 0,
        // image 1, label 3: mean logits pick class 2 (10 vs 4/3), mean probabilities class 3
        0, 0, 30, 0,   0, 0, 0, 2,   0, 0, 0, 2,
    };
    const int32_t y[N] = {1, 3};
    double pbar[N][K] = {{0}};
    for (int i = 0; i < N; i++)
        for (int v = 0; v < V; v++) {
            const float *r = s + (i * V + v) * K;
            double z = 0;
            for (int k = 0; k < K; k++) z += exp(r[k]);
            for (int k = 0; k < K; k++) pbar[i][k] += exp(r[k]) / z / V;
        }
    // Expected by hand from pbar: image 0's best class.
    int best0 = 0;
    for (int k = 1; k < K; k++) best0 = pbar[0][k] > pbar[0][best0] ? k : best0;
    int best1 = 0;
    for (int k = 1; k < K; k++) best1 = pbar[1][k] > pbar[1][best1] ? k : best1;
    CHECK(best0 == 0 && best1 == 3, "the example's premise: best classes %d, %d", best0, best1);
    rn_eval_counts c;
    rn_err err;
    double work[K + V];
    rn_eval_counts_init(&c, K, 1, &err);
    CHECK(rn_eval_add(&c, s, y, N, V, 0, work, &err) == 0, "add views");
    CHECK(c.n == N && c.top1 == 1, "n %lld top1 %lld (image 1 only)", (long long)c.n, (long long)c.top1);
    CHECK(c.confusion[1 * K + 0] == 1 && c.confusion[3 * K + 3] == 1, "confusion of averaged probabilities");
    CHECK_CLOSE(c.loss_sum, -log(pbar[0][1]) - log(pbar[1][3]), 1e-12, "loss = -log mean p[label]");
    // With smoothing s: -sum_k q_k log pbar_k.
    rn_eval_counts d;
    rn_eval_counts_init(&d, K, 0, &err);
    rn_eval_add(&d, s, y, N, V, 0.2, work, &err);
    double want = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) want -= ((k == y[i] ? 0.8 : 0.0) + 0.2 / K) * log(pbar[i][k]);
    CHECK_CLOSE(d.loss_sum, want, 1e-12, "smoothed loss over views");
    rn_eval_counts_free(&c);
    rn_eval_counts_free(&d);
}

int main(void) {
    test_one_view();
    test_views();
    return check_summary();
}
