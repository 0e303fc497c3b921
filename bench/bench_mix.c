// bench_mix.c — the cost of mixup / cutmix on a batch (docs/PERFORMANCE.md, "Data loader"):
//
//     bench-mix [BATCH (default 256)] [SIZE (default 224)] [CLASSES (default 1000)]
//
// Times rn_mix_apply + rn_mix_targets (what the loader's worker that completes a batch adds) on one
// thread, best of 5, for mixup and for a cutmix box of the mean area (λ = 1/2).
#include <stdio.h>
#include <stdlib.h>

#include "data/mix.h"
#include "src/common.h"

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 256, S = argc > 2 ? atoi(argv[2]) : 224, K = argc > 3 ? atoi(argv[3]) : 1000;
    if (n < 1 || n > 4096 || S < 2 || S > 1024 || K < 1 || K > 100000) {
        fprintf(stderr, "usage: bench-mix [BATCH 1..4096] [SIZE 2..1024] [CLASSES 1..100000]\n");
        return 2;
    }
    size_t fl = (size_t)n * 3 * (size_t)S * (size_t)S;
    float *x = rn_malloc(fl * sizeof(float)), *t = rn_malloc((size_t)n * (size_t)K * sizeof(float));
    int32_t *y = rn_malloc((size_t)n * sizeof(int32_t)), *d = rn_malloc((size_t)n * sizeof(int32_t));
    for (size_t i = 0; i < fl; i++) x[i] = (float)(i % 251);
    for (int i = 0; i < n; i++) y[i] = (int32_t)((i * 7) % K);
    int side = (int)(S * 0.7071);  // sqrt(1/2): the box of λ = 1/2
    rn_mix_plan plans[2] = {{.mode = RN_MIX_MIXUP, .lam = 0.7},
                            {.mode = RN_MIX_CUTMIX, .y0 = 0, .y1 = side, .x0 = 0, .x1 = side,
                             .lam = 1 - (double)side * side / ((double)S * S)}};
    for (int m = 0; m < 2; m++) {
        double best = 1e30;
        for (int r = 0; r < 5; r++) {
            double t0 = rn_now();
            rn_mix_apply(&plans[m], x, n, 1, S, S);
            rn_mix_targets(&plans[m], y, n, K, t, d);
            double dt = rn_now() - t0;
            best = dt < best ? dt : best;
        }
        printf("%-7s batch %d x 3 x %d^2, %d classes: %.1f ms (%.0f img/s on one thread)\n", m ? "cutmix" : "mixup", n, S,
               K, best * 1e3, n / best);
    }
    free(x), free(t), free(y), free(d);
    return 0;
}
