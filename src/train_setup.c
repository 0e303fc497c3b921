// train_setup.c — everything a run needs before its first step: datasets, loaders, the network
// (fresh, fine-tuned from a file, or resumed from a checkpoint), executors and the optimiser.
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "optim/checkpoint.h"
#include "optim/finetune.h"
#include "data/mix.h"
#include "src/dist.h"
#include "layers/exec_mem.h"
#include "src/train_run.h"
#include "export/model_io.h"

static int mkdir_p(const char *path, rn_err *err) {
    char buf[RN_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != 0) continue;
        char c = *p;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return rn_fail(err, "%s: cannot create folder: %s", buf, strerror(errno));
        *p = c;
        if (!c) break;
    }
    return 0;
}

static int open_split(const rn_data_opts *o, int val, const rn_dataset *like, rn_dataset **out, rn_err *err) {
    const char *list = val ? o->val_list : o->train_list, *dir = val ? o->val_dir : o->train_dir;
    if (list[0]) return rn_dataset_open_list(out, list, dir[0] ? dir : NULL, like, err);
    if (dir[0]) return rn_dataset_open_folder(out, dir, like, err);
    return rn_fail(err, "[data] sets neither %s_dir nor %s_list", val ? "val" : "train", val ? "val" : "train");
}

// A model file for [train] init: our checkpoint, or an ONNX file when export/ is built in.
static int load_model_file(const char *path, rn_graph **out, rn_err *err) {
    return rn_model_load(path, out, err);
}

static int build_network(rn_run *r, const char *resume, rn_ckpt **ck, rn_err *err) {
    const rn_config *c = r->c;
    if (resume) {
        if (rn_ckpt_read(resume, ck, err) || rn_state_check_model(*ck, c, err) || rn_ckpt_build_graph(*ck, &r->g, err))
            return -1;
        rn_progress_note(&r->prog, "resume: %s", resume);
        return 0;
    }
    if (rn_resnet_build(&c->model, &r->g, err)) return -1;
    rn_graph_init_params(r->g, c->train.seed);
    if (!c->train.init[0]) return 0;
    rn_graph *src;
    if (load_model_file(c->train.init, &src, err)) return -1;
    int rc = rn_finetune_init(&r->g, src, c->train.init, c->model.num_classes, c->train.seed ^ 0xc1a55ULL, r->prog.f, err);
    rn_graph_destroy(src);
    return rc;
}

// The run's memory (src/mem.h) against what the process may use, before the loaders and executors
// allocate it; the evaluation follows [data] batch_size unless [train] eval_batch_size fixes it.
static int check_memory(rn_run *r, const rn_exec_opts *to, const rn_exec_opts *vo, rn_err *err) {
    const rn_config *c = r->c;
    rn_mem_plan p = {0};
    double arena = (double)r->g->arena_size * sizeof(float);
    int follows = c->train.eval_batch_size <= 0;
    rn_mem_add(&p, "parameters and gradients", 2 * arena, 0, RN_MEM_RESIDENT);
    rn_mem_add(&p, "momentum", arena + 64, 0, RN_MEM_NEW);
    if (c->optim.type == RN_OPT_ADAMW) rn_mem_add(&p, "AdamW second moment", arena + 64, 0, RN_MEM_NEW);
    if (c->train.ema_decay > 0) rn_mem_add(&p, "EMA of the weights", arena + 64, 0, RN_MEM_NEW);
    if (c->train.accum_steps > 1) rn_mem_add(&p, "gradient accumulation", arena + 64, 0, RN_MEM_NEW);
    rn_mem_add_threads(&p, "OpenMP threads", omp_get_max_threads() - 1);
    // Scores, their gradients and labels per batch; the padded last evaluation batch.
    double pad = 3.0 * r->VS * r->VS * sizeof(float);
    rn_mem_add(&p, "scores and padding", follows ? 0 : pad * r->EB, (2.0 * r->K + 1) * sizeof(float) + (follows ? pad : 0),
               RN_MEM_NEW);
    if (rn_mix_enabled(&c->data))  // the loader's slots and the trainer's copy
        rn_mem_add(&p, "soft targets (mixup / cutmix)", 0, (c->data.prefetch + 1.0) * (r->K + 1.0) * sizeof(float), RN_MEM_NEW);
    rn_data_opts vd = rn_data_val_opts(&c->data);
    vd.batch_size = r->EB;
    rn_loader_mem_plan(&c->data, r->train_v.per_rank, 1, "training loader", &p);
    rn_loader_mem_plan(&vd, r->val_v.per_rank, follows, "validation loader", &p);
    if (rn_exec_mem_plan(r->g, r->B, 1, r->S, r->S, to, &p, err) ||
        rn_exec_mem_plan(r->g, r->EB, follows, r->VS, r->VS, vo, &p, err))
        return -1;
    return rn_mem_check(&p, r->B, "[data] batch_size", err);
}

// One line for the input recipe pieces that are on (FixRes, mixup / cutmix, RA), none when all are off.
static void note_input(rn_run *r) {
    const rn_data_opts *d = &r->c->data;
    char line[256] = "";
    size_t n = 0;
    rn_data_opts v = rn_data_val_opts(d);
    if (d->val_size) n += (size_t)snprintf(line + n, sizeof line - n, "; evaluation at %dpx (resize %d)", v.size, rn_data_resize(&v));
    if (rn_mix_enabled(d) && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, "; mixup alpha %g, cutmix alpha %g (mix_prob %g, switch %g)",
                              d->mixup_alpha, d->cutmix_alpha, d->mix_prob, d->mix_switch_prob);
    if (d->repeated_aug > 1 && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, "; repeated augmentation x%d", d->repeated_aug);
    if (n) rn_progress_note(&r->prog, "input: training at %dpx%s", r->S, line);
}

static int create_loaders(rn_run *r, rn_err *err) {
    const rn_config *c = r->c;
    rn_data_opts vo = rn_data_val_opts(&c->data);
    vo.batch_size = r->EB;
    if (rn_loader_create(&r->train_v, &c->data, 1, &r->train_l, err) || rn_loader_create(&r->val_v, &vo, 0, &r->val_l, err))
        return -1;
    r->nb = rn_loader_num_batches(r->train_l);
    r->spe = (r->nb + c->train.accum_steps - 1) / c->train.accum_steps;
    r->shape = (rn_run_shape){r->B, c->train.accum_steps, (int64_t)r->train_v.per_rank, r->nb, c->data.seed, r->world};
    return 0;
}

// [train] ema_decay: the average, its decay adjusted as torchvision's train.py for the global batch
// of an optimiser step (ranks x batch x accumulated batches), the update interval and the epochs.
// A resume continues the checkpoint's average (and its update count); a checkpoint without one
// starts it from the resumed weights.
static int setup_ema(rn_run *r, const rn_ckpt *ck, rn_err *err) {
    const rn_train_opts *t = &r->c->train;
    if (t->ema_decay <= 0) return 0;
    int64_t samples = (int64_t)r->B * t->accum_steps * r->world;
    double d = rn_ema_adjusted_decay(t->ema_decay, samples, t->ema_every_steps, t->epochs);
    r->ema = rn_ema_create(r->g, d);
    rn_progress_note(&r->prog, "EMA of the weights: decay %.8g per update every %d step(s) (%.8g adjusted for %lld "
                               "images per step and %d epochs)", d, t->ema_every_steps, t->ema_decay, (long long)samples,
                     t->epochs);
    if (!ck) return 0;
    const char *n = rn_ckpt_meta(ck, "ema.n_averaged");
    if (!n) {
        rn_progress_note(&r->prog, "resume: %s holds no EMA: it starts from the resumed weights", ck->path);
        return 0;
    }
    char *end;
    long long v = strtoll(n, &end, 10);
    if (!*n || *end || v < 0) return rn_fail(err, "%s: metadata 'ema.n_averaged' is not a count: '%s'", ck->path, n);
    r->ema->n_averaged = v;
    return rn_ckpt_load_kind(ck, r->g, RN_CKPT_EMA, r->ema->w, err);
}

int rn_run_setup(rn_run *r, const rn_config *c, const char *resume, rn_err *err) {
    r->c = c;
    rn_state_init(&r->st);
    snprintf(r->saved_note, sizeof r->saved_note, "none saved by this run yet");
    char ckpt[RN_METRICS_PATH] = "";
    rn_run_paths(r, resume, ckpt, sizeof ckpt);
    if (resume) resume = ckpt;
    if (resume && strcmp(r->dir, c->train.run_dir) != 0)
        rn_progress_note(&r->prog, "resume: the run continues in %s, the checkpoint's folder ([train] run_dir %s is left alone)",
                         r->dir, c->train.run_dir);
    if (!resume && rn_run_check_fresh(r, err)) return -1;
    if (c->train.threads > 0) omp_set_num_threads(c->train.threads);
    const rn_data_opts *d = &c->data;
    if (open_split(d, 0, NULL, &r->train_ds, err)) return -1;
    if (d->class_names[0] && rn_dataset_load_class_names(r->train_ds, d->class_names, err)) return -1;
    if (open_split(d, 1, r->train_ds, &r->val_ds, err)) return -1;
    rn_dataset_describe(r->train_ds, "train", r->prog.f);
    rn_dataset_describe(r->val_ds, "val", r->prog.f);
    r->rank = rn_dist_rank(), r->world = rn_dist_size();
    if (r->world == 1 ? rn_view_init(&r->train_v, r->train_ds, 0, 1, err) || rn_view_init(&r->val_v, r->val_ds, 0, 1, err)
                      : rn_view_init_batches(&r->train_v, r->train_ds, r->rank, r->world, d->batch_size, err) ||
                            rn_view_init_shard(&r->val_v, r->val_ds, r->rank, r->world, err))
        return -1;
    r->train_v.repeats = d->repeated_aug;
    r->B = d->batch_size;
    r->EB = c->train.eval_batch_size > 0 ? c->train.eval_batch_size : d->batch_size;
    r->S = d->size;
    r->VS = rn_data_val_opts(d).size;

    rn_ckpt *ck = NULL;
    int rc = build_network(r, resume, &ck, err);
    if (!rc) {
        const rn_tensor *out = &r->g->tensors[r->g->output];
        r->K = out->ndim == 2 ? (int)out->dims[1] : -1;
        if (r->K != r->train_ds->n_classes)
            rc = rn_fail(err, "the network has %d outputs but the training set has %d classes: set [model] num_classes = %d",
                         r->K, r->train_ds->n_classes, r->train_ds->n_classes);
    }
    if (!rc && (c->train.freeze_stem || c->train.freeze_stages)) rc = rn_freeze(r->g, c->train.freeze_stem, c->train.freeze_stages, err);
    // Everything big comes after the network is known and the estimate says it fits.
    rn_exec_opts to = rn_exec_opts_default(1), vo = rn_exec_opts_default(0);
    to.bn_frozen = c->train.bn_frozen;
    if (c->train.sync_bn) to.bn_sync = rn_dist_sum;  // one process: the same path, summing over itself
    if (!rc) rc = check_memory(r, &to, &vo, err);
    if (!rc) rc = create_loaders(r, err);
    if (!rc && ck) rc = rn_state_from_ckpt(ck, &r->shape, &r->st, err);
    if (!rc) rc = rn_exec_create(r->g, r->B, r->S, r->S, &to, &r->tx, err);
    if (!rc) rc = rn_exec_create(r->g, r->EB, r->VS, r->VS, &vo, &r->vx, err);
    if (!rc) {
        r->sgd = rn_sgd_create(r->g, &c->optim);
        if (ck) rc = rn_ckpt_load_momentum(ck, r->g, r->sgd->momentum, err);
        // AdamW's bias correction counts the run's updates (optim/sgd.h).
        if (!rc && ck && r->sgd->moment2) rc = rn_ckpt_load_kind(ck, r->g, RN_CKPT_MOMENT2, r->sgd->moment2, err);
        r->sgd->t = r->st.step;
    }
    if (!rc) rc = setup_ema(r, ck, err);
    rn_ckpt_free(ck);
    if (rc) return -1;
    // Every rank starts from rank 0's weights, statistics and optimiser state (fresh, init = or resumed).
    rn_dist_bcast_arena(r->g);
    rn_dist_bcast_floats(r->sgd->momentum, r->g->arena_size);
    if (r->sgd->moment2) rn_dist_bcast_floats(r->sgd->moment2, r->g->arena_size);
    if (r->ema) rn_dist_bcast_floats(r->ema->w, r->g->arena_size);
    if (c->train.accum_steps > 1) r->acc = rn_malloc_aligned(r->g->arena_size * sizeof(float) + 64);
    // Sized by the batch: a failure is an error (the estimate should have caught it).
    size_t M = (size_t)(r->B > r->EB ? r->B : r->EB), pad = (size_t)r->EB * 3 * (size_t)r->VS * (size_t)r->VS * sizeof(float);
    r->scores = rn_try_malloc_aligned(M * (size_t)r->K * sizeof(float));
    r->dscores = rn_try_malloc_aligned(M * (size_t)r->K * sizeof(float));
    r->labels = rn_try_malloc_aligned(M * sizeof(int32_t));
    r->pad = rn_try_malloc_aligned(pad);
    if (!r->scores || !r->dscores || !r->labels) return rn_alloc_fail(err, "the scores of a batch", 2 * M * ((size_t)r->K + 1) * 4);
    if (!r->pad) return rn_alloc_fail(err, "the padded evaluation batch", pad);
    if (rn_mix_enabled(d) && !(r->targets = rn_try_malloc_aligned((size_t)r->B * (size_t)r->K * sizeof(float))))
        return rn_alloc_fail(err, "the soft targets of a batch", (size_t)r->B * (size_t)r->K * sizeof(float));
    r->step = (rn_step){.g = r->g, .ex = r->tx, .sgd = r->sgd, .B = r->B, .K = r->K, .accum = c->train.accum_steps,
                        .smoothing = c->train.label_smoothing, .acc = r->acc, .scores = r->scores, .dscores = r->dscores};
    if (r->world > 1) {
        r->reducer = rn_dist_reducer_create(r->g, c->train.bucket_mb, 1);
        r->step.reducer = rn_dist_reducer_hook(r->reducer);
    }
    // The global batch: every rank's micro-batches of a step.
    r->base_lr = rn_sgd_scaled_lr(&c->optim, (int64_t)r->B * c->train.accum_steps * r->world);
    note_input(r);
    if (r->rank != 0) return 0;  // the run folder is rank 0's
    if (mkdir_p(r->dir, err)) return -1;
    if (!resume && c->overwrite && rn_run_clear_previous(r, err)) return -1;
    if (rn_run_model_meta(r, err)) return -1;
    int removed;
    uint64_t bytes;
    if (rn_checkpoint_remove_stale(r->dir, &removed, &bytes, err)) return -1;
    if (removed)
        rn_progress_note(&r->prog, "removed %d temporary checkpoint file(s) that killed runs left in %s (%.1f MB)",
                         removed, r->dir, (double)bytes / 1e6);
    return rn_run_write_config(r, err);
}

void rn_run_teardown(rn_run *r) {
    rn_loader_destroy(r->train_l);
    rn_loader_destroy(r->val_l);
    rn_exec_destroy(r->tx);
    rn_exec_destroy(r->vx);
    rn_sgd_destroy(r->sgd);
    rn_ema_destroy(r->ema);
    rn_dist_reducer_destroy(r->reducer);
    rn_graph_destroy(r->g);
    rn_dataset_destroy(r->train_ds);
    rn_dataset_destroy(r->val_ds);
    rn_free_aligned(r->acc);
    rn_free_aligned(r->pad);
    rn_free_aligned(r->scores);
    rn_free_aligned(r->dscores);
    rn_free_aligned(r->labels);
    rn_free_aligned(r->targets);
    rn_state_free(&r->st);
    rn_model_meta_free(&r->mm);
    memset(r, 0, sizeof *r);
}

int rn_run_save(rn_run *r, const char *path, int resumable, rn_err *err) {
    if (r->rank != 0) return 0;  // rank 0 holds the saved model (its BN statistics: docs/TRAINING.md)
    char *meta = rn_state_meta(r->c, &r->shape, &r->st, resumable, &r->mm);
    rn_ckpt_bufs b = {0};
    if (resumable) {
        b = (rn_ckpt_bufs){.momentum = r->sgd->momentum, .moment2 = r->sgd->moment2, .ema = r->ema ? r->ema->w : NULL};
        if (r->ema) {
            size_t n = strlen(meta);
            meta = rn_realloc(meta, n + 48);
            snprintf(meta + n, 48, "ema.n_averaged=%lld\n", (long long)r->ema->n_averaged);
        }
    }
    int rc = rn_checkpoint_save_bufs(path, r->g, &b, meta, err);
    free(meta);
    if (!rc && resumable)
        snprintf(r->saved_note, sizeof r->saved_note, "%s (epoch %lld, step %lld)", path, (long long)r->st.epoch + 1,
                 (long long)r->st.batch);
    return rc;
}
