// train_loop.c — epochs of training steps, evaluation, checkpoints and the final export.
//
// A training step is optim/step.h's (forward, loss, backward, accumulation, SGD at the scheduled
// lr). Checkpoints are taken only between optimiser steps, so a resumed run has no partial
// accumulation to restore.
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/evaluate.h"
#include "layers/softmax_xent.h"
#include "optim/checkpoint.h"
#include "src/dist.h"
#include "src/train.h"
#include "src/train_run.h"
#include "export/onnx.h"

static volatile sig_atomic_t stop_flag;

void rn_train_request_stop(void) { stop_flag = 1; }
int rn_train_stop_requested(void) { return stop_flag != 0; }

// Mean loss, top-1 and top-5 (percent) over the whole validation split, by the evaluation that
// resnet-eval runs too (data/evaluate.h: the short last batch padded, only real rows counted). A stop
// request is seen between batches: RN_TRAIN_STOPPED, nothing recorded.
static int evaluate(rn_run *r, double *loss, double *top1, double *top5, rn_err *err) {
    rn_eval_counts c;
    if (rn_eval_counts_init(&c, r->K, 0, err)) return -1;
    rn_dist_bcast_state(r->g);  // every shard evaluates rank 0's model, the one saved
    rn_eval_io io = {.ex = r->vx, .batch = r->EB, .pad = r->pad, .scores = r->scores, .labels = r->labels,
                     .smoothing = r->c->train.label_smoothing, .stop = rn_train_stop_requested};
    int rc = rn_evaluate(r->val_l, &io, &c, err);
    if (rc < 0) return -1;
    // The shards' counts add up to a one-process evaluation; a stop anywhere stops every rank here.
    double sums[5] = {c.loss_sum, (double)c.top1, (double)c.top5, (double)c.n, rc == RN_EVAL_STOPPED};
    rn_dist_sum(sums, 5);
    c.loss_sum = sums[0], c.top1 = (int64_t)sums[1], c.top5 = (int64_t)sums[2], c.n = (int64_t)sums[3];
    if (sums[4] > 0) return RN_TRAIN_STOPPED;
    rn_eval_rates(&c, loss, top1, top5);
    return 0;
}

// The displayed loss: an exponential mean, bias-corrected as fastai's SmoothenValue.
#define SMOOTH 0.98

// One optimiser step's worth of progress display.
static void show(rn_run *r, double sec_per_batch) {
    const rn_train_state *s = &r->st;
    int E = r->c->train.epochs;
    double left = (double)(r->nb - s->batch) + (double)(E - s->epoch - 1) * (double)r->nb;
    rn_progress_info i = {s->epoch + 1, E, (s->batch + r->c->train.accum_steps - 1) / r->c->train.accum_steps, r->spe,
                          s->smooth_loss / (1 - pow(SMOOTH, (double)s->smooth_n)), s->lr,
                          sec_per_batch > 0 ? (double)r->B * r->world / sec_per_batch : 0,
                          left * sec_per_batch + (double)(E - s->epoch) * r->eval_seconds};
    rn_progress_step(&r->prog, &i);
}

// After the epoch's optimiser steps 0, every, 2 every, ... (torchvision's train.py: `i %
// model_ema_steps == 0` with i the batch of the epoch). During the lr warm-up epochs the average is
// reset after each update, so it follows the weights (torchvision's n_averaged.fill_(0)).
static void update_ema(rn_run *r) {
    const rn_train_state *s = &r->st;
    if ((s->step - s->epoch * r->spe) % r->c->train.ema_every_steps != 0) return;
    rn_ema_update(r->ema, r->g);
    if ((double)s->epoch < r->c->schedule.warmup_epochs) r->ema->n_averaged = 0;
}

// Trains the rest of the current epoch. 0: epoch done; RN_TRAIN_STOPPED: saved and stopped; -1: error.
static int train_epoch(rn_run *r, rn_err *err) {
    const rn_config *c = r->c;
    rn_train_state *s = &r->st;
    if (s->batch >= r->nb) return 0;
    // Resuming mid-epoch starts the loader at the first batch not yet trained.
    rn_loader_start_epoch_at(r->train_l, s->epoch, s->batch);
    rn_batch *b;
    const int A = c->train.accum_steps;
    const double t_start = rn_now() - s->seconds;
    double t_prev = rn_now(), sec_per_batch = 0;
    int micro = 0;
    for (int64_t k = s->batch; k < r->nb; k++) {
        int rc = rn_loader_next(r->train_l, &b, err);
        if (rc != 1) return rc < 0 ? -1 : rn_fail(err, "data loader ended the epoch early");
        // The batch goes back to the loader before the compute, so it can refill the slot meanwhile.
        rc = rn_step_input(&r->step, b->data, err);
        // A mixed batch's top-1 counts its dominant labels; its loss, its soft targets.
        memcpy(r->labels, b->dominant, (size_t)r->B * sizeof(int32_t));
        const float *targets = b->targets ? r->targets : NULL;
        if (targets) memcpy(r->targets, b->targets, (size_t)r->B * (size_t)r->K * sizeof(float));
        rn_loader_release(r->train_l, b);
        int last = micro + 1 == A || k + 1 == r->nb;
        int64_t hits = 0;
        double loss = 0;
        if (rc || rn_step_batch_soft(&r->step, r->labels, targets, last, &loss, &hits, err)) return -1;
        if (!isfinite(loss))
            return rn_fail(err, "the training loss is %s at epoch %lld, batch %lld/%lld (lr %.4g): stopping. Last good "
                                "checkpoint: %s. Try a lower [optim] lr or a longer [schedule] warmup_epochs.",
                           isnan(loss) ? "NaN" : "infinite", (long long)s->epoch + 1, (long long)k + 1, (long long)r->nb,
                           s->lr, r->saved_note);
        s->loss_sum += loss * r->B;
        s->correct += hits;
        s->seen += r->B;
        s->smooth_loss = SMOOTH * s->smooth_loss + (1 - SMOOTH) * loss;
        s->smooth_n++;
        micro++;
        if (!last) continue;

        s->lr = rn_sched_lr(&c->schedule, r->base_lr, s->step, r->spe, c->train.epochs);
        rn_step_update(&r->step, s->lr);
        if (r->ema) update_ema(r);
        s->step++;
        s->batch = k + 1;
        double now = rn_now(), dt = (now - t_prev) / micro;
        sec_per_batch = sec_per_batch > 0 ? 0.9 * sec_per_batch + 0.1 * dt : dt;
        t_prev = now;
        micro = 0;
        s->seconds = now - t_start;
        show(r, sec_per_batch);
        int limit = c->train.stop_after_steps > 0 && s->step >= c->train.stop_after_steps;
        // Ranks see a signal at different steps: they stop together, at the first step any saw it.
        int stop = r->world > 1 ? rn_dist_any(rn_train_stop_requested()) : rn_train_stop_requested();
        if (stop || limit) {
            if (rn_run_save(r, r->last, 1, err)) return -1;
            rn_progress_note(&r->prog, "stopped after step %lld (%s): saved %s; continue with --resume %s",
                             (long long)s->step, limit ? "stop_after_steps" : "signal", r->last, r->last);
            return RN_TRAIN_STOPPED;
        }
        if (c->checkpoint.every_steps > 0 && s->step % c->checkpoint.every_steps == 0 && s->batch < r->nb &&
            rn_run_save(r, r->last, 1, err))
            return -1;
    }
    return 0;
}

// Evaluates, records the epoch, saves best and last, rewrites metrics.csv and the plot.
static int finish_epoch(rn_run *r, rn_err *err) {
    rn_train_state *s = &r->st;
    double t0 = rn_now();
    rn_epoch_row row = {(int)s->epoch + 1, s->lr, s->seen ? s->loss_sum / (double)s->seen : NAN,
                        s->seen ? 100.0 * (double)s->correct / (double)s->seen : NAN, 0, 0, 0,
                        s->seconds > 0 ? (double)s->seen * r->world / s->seconds : 0, 0, NAN, NAN, NAN};
    int rc = evaluate(r, &row.val_loss, &row.val_top1, &row.val_top5, err);
    if (rc == 0 && r->ema) {
        // The average evaluated on the same executor: swapped in, and back before anything else.
        rn_ema_swap(r->ema, r->g);
        rc = evaluate(r, &row.val_loss_ema, &row.val_top1_ema, &row.val_top5_ema, err);
        rn_ema_swap(r->ema, r->g);
    }
    if (rc == RN_TRAIN_STOPPED) {
        // The epoch's training is complete (batch == batches per epoch): a resume evaluates it again.
        if (rn_run_save(r, r->last, 1, err)) return -1;
        rn_progress_note(&r->prog, "stopped during the evaluation after step %lld (signal): saved %s; continue with --resume %s",
                         (long long)s->step, r->last, r->last);
        return RN_TRAIN_STOPPED;
    }
    if (rc) return -1;
    r->eval_seconds = rn_now() - t0;
    row.seconds = s->seconds + r->eval_seconds;
    rn_state_add_row(s, &row);
    s->epoch++;
    s->batch = 0;
    s->loss_sum = 0, s->correct = 0, s->seen = 0, s->seconds = 0;
    // With an EMA, best.ckpt holds whichever of the two models evaluated best so far.
    int ema_better = r->ema && row.val_top1_ema > row.val_top1;
    double top1 = ema_better ? row.val_top1_ema : row.val_top1;
    int best = top1 > s->best_top1;
    if (best) {
        s->best_top1 = top1;
        s->best_epoch = row.epoch;
        if (ema_better) rn_ema_swap(r->ema, r->g);
        rc = r->c->checkpoint.keep_best ? rn_run_save(r, r->best, 0, err) : 0;
        if (ema_better) rn_ema_swap(r->ema, r->g);
        if (rc) return -1;
    }
    if (rn_run_save(r, r->last, 1, err)) return -1;
    rn_err e2;
    if (r->rank == 0 && (rn_metrics_write_csv(r->csv, s->rows, s->n_rows, &e2) ||
         rn_metrics_write_svg(r->svg, r->c->name, s->rows, s->n_rows, r->c->train.epochs, &e2)))
        rn_progress_note(&r->prog, "warning: %s", e2.msg);
    rn_progress_note(&r->prog,
                     "epoch %d/%d  train loss %.4f top-1 %.2f%%  val loss %.4f top-1 %.2f%% top-5 %.2f%%  %.0f img/s  %.1f s%s",
                     row.epoch, r->c->train.epochs, row.train_loss, row.train_top1, row.val_loss, row.val_top1,
                     row.val_top5, row.img_per_s, row.seconds, best ? (ema_better ? "  (best: EMA)" : "  (best)") : "");
    if (r->ema)
        rn_progress_note(&r->prog, "epoch %d/%d  EMA: val loss %.4f top-1 %.2f%% top-5 %.2f%%", row.epoch,
                         r->c->train.epochs, row.val_loss_ema, row.val_top1_ema, row.val_top5_ema);
    // Only the first few skipped files are named (by the loader); their count is said every epoch.
    rn_loader_stats ts, vs;
    rn_loader_stats_get(r->train_l, &ts);
    rn_loader_stats_get(r->val_l, &vs);
    // Under mpirun: every rank's counts, summed (a file bad on two ranks' shards counts twice).
    double bad[4] = {(double)ts.epoch_replaced, (double)vs.epoch_replaced, (double)ts.corrupt_files, (double)vs.corrupt_files};
    rn_dist_sum(bad, 4);
    if (bad[0] > 0 || bad[1] > 0)
        rn_progress_note(&r->prog, "epoch %d/%d  skipped images: train %.0f, val %.0f (%.0f and %.0f files known bad)%s",
                         row.epoch, r->c->train.epochs, bad[0], bad[1], bad[2], bad[3], r->world > 1 ? ", all ranks" : "");
    return 0;
}

static int export_model(rn_run *r, rn_err *err) {
    const rn_export_opts *x = &r->c->export_opts;
    if (!x->onnx || r->rank != 0) return 0;
    char path[RN_METRICS_PATH];
    if (x->path[0]) snprintf(path, sizeof path, "%s", x->path);
    else snprintf(path, sizeof path, "%s/model.onnx", r->dir);
    struct stat sb;
    rn_graph *g = r->g, *best = NULL;
    if (x->use_best == RN_EXPORT_BEST && stat(r->best, &sb) == 0) {
        if (rn_checkpoint_load_model(r->best, &best, err)) return -1;
        g = best;
    }
    int ema = x->use_best == RN_EXPORT_EMA && r->ema;  // the config check makes sure there is one
    if (ema) rn_ema_swap(r->ema, r->g);
    rn_kv kv = {0};
    rn_model_meta_encode(&r->mm, &kv);  // how to feed it: docs/ONNX.md, "Model metadata"
    int rc = rn_onnx_export_kv(g, &kv, path, err);
    rn_kv_free(&kv);
    rn_graph_destroy(best);
    if (ema) rn_ema_swap(r->ema, r->g);
    if (!rc) rn_progress_note(&r->prog, "export: %s (%s weights)", path, best ? "best" : ema ? "EMA" : "last");
    return rc;
}

int rn_train_run(const rn_config *c, const char *resume, rn_err *err) {
    rn_run r;
    memset(&r, 0, sizeof r);
    // Only rank 0 speaks; the others' notes and progress go nowhere.
    FILE *quiet = rn_dist_rank() != 0 ? fopen("/dev/null", "w") : NULL;
    rn_progress_init(&r.prog, quiet ? quiet : stderr, quiet ? 2 : c->train.progress, c->train.log_every);
    double t0 = rn_now();
    if (rn_run_setup(&r, c, resume, err)) {
        rn_run_teardown(&r);
        return RN_TRAIN_FAILED;
    }
    size_t trainable, total;
    int tensors;
    double flops;
    rn_graph_stats(r.g, &trainable, &total, &tensors, &flops);
    int64_t nominal = r.g->tensors[r.g->input].dims[2];  // FLOPs are counted at the graph's nominal size
    char ranks[48] = "";
    if (r.world > 1) snprintf(ranks, sizeof ranks, "%d ranks x ", r.world);
    rn_progress_note(&r.prog, "%s: %.2fM trainable parameters, %.3f GFLOP/image at %dpx; batch %s%d x %d, %lld steps/epoch, "
                              "lr %.4g, %d epochs -> %s",
                     c->name, trainable / 1e6, flops / 1e9 * ((double)r.S * r.S) / (double)(nominal * nominal),
                     r.S, ranks, r.B, c->train.accum_steps, (long long)r.spe, r.base_lr, c->train.epochs, r.dir);
    int rc = 0;
    while (r.st.epoch < c->train.epochs && rc == 0) {
        rc = train_epoch(&r, err);
        if (rc == 0) rc = finish_epoch(&r, err);
    }
    if (rc == 0) {
        char t[32];
        rn_format_duration(rn_now() - t0, t, sizeof t);
        if (r.st.best_epoch > 0)
            rn_progress_note(&r.prog, "done in %s: best val top-1 %.2f%% at epoch %d; %s", t, r.st.best_top1,
                             r.st.best_epoch, r.dir);
        rc = export_model(&r, err);
    }
    rn_run_teardown(&r);
    if (quiet) fclose(quiet);
    return rc < 0 ? RN_TRAIN_FAILED : rc;
}
