// loader.c — threaded, deterministic batch loader; see loader.h.
//
// Work is handed out per sample, in epoch order, from a ring of `prefetch` batch slots: batch b
// lives in slot b % Q. A worker takes the next sample position p only when the slot of batch
// p / B has been assigned to that batch (i.e. its previous batch was released), so at most Q
// batches are in flight and the consumer always receives them in order.
#include "data/loader.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "data/mix.h"
#include "data/transform.h"
#include "src/mem.h"
#include "src/rng.h"

#define RN_REPORT_CORRUPT 10   // skipped files named on stderr; the rest are only counted
#define RN_MAX_ATTEMPTS 64     // replacement tries before a sample is declared impossible

enum { SLOT_IDLE, SLOT_FILLING, SLOT_READY, SLOT_HELD };

typedef struct slot {
    rn_batch b;   // buffers allocated at create, freed at destroy
    int state;
    int done;     // samples finished while FILLING
} slot;

typedef struct worker {  // per-thread decode state
    rn_loader *l;
    rn_decoder *dec;
    rn_xform_ws ws;
    uint8_t *file;
    size_t file_cap;
    char path[4096];
} worker;

struct rn_loader {
    rn_data_opts o;
    int train;
    const rn_dataset_view *v;
    size_t *order;        // (per_rank) dataset indices of this rank's epoch
    size_t sample_floats;  // views * 3 * size * size
    int B, Q;
    int mix;              // training batches are mixed (rn_mix_enabled)
    int K;                // classes: the width of the soft targets
    slot *slots;          // (Q)

    pthread_mutex_t mu;
    pthread_cond_t work_cv;   // workers: a sample became available, or stop
    pthread_cond_t ready_cv;  // consumer: a batch became ready, in-flight work drained, or fatal
    int64_t epoch;
    int64_t nb;           // batches this epoch
    size_t n_items;       // samples this epoch (nb * B with drop_last)
    size_t next_item;     // next sample position to hand out
    int inflight;
    int draining;         // rn_loader_start_epoch waits for inflight == 0
    int64_t consume;      // next batch number rn_loader_next returns
    int stop;
    int fatal;
    rn_err fatal_err;

    atomic_uchar *bad;    // (ds->n) 1 = known corrupt, never read again
    int64_t corrupt_files, replaced, samples;  // under mu
    int64_t epoch_replaced;  // under mu: `replaced` of this epoch alone (reset when one starts)
    double decode_seconds;

    int nw;
    pthread_t *threads;
    worker *workers;      // (max(nw, 1)); workers[0] decodes inline when nw == 0
};

static int64_t batch_count(const rn_loader *l, size_t *n_items) {
    size_t per = l->v->per_rank, B = (size_t)l->B;
    if (l->train && l->o.drop_last) {
        *n_items = per / B * B;
        return (int64_t)(per / B);
    }
    *n_items = per;
    return (int64_t)((per + B - 1) / B);
}

// Assigns batch number `b` to its slot (or leaves the slot idle past the epoch's end).
static void assign_slot(rn_loader *l, slot *s, int64_t b) {
    s->done = 0;
    if (b >= l->nb) {
        s->state = SLOT_IDLE;
        return;
    }
    s->state = SLOT_FILLING;
    s->b.number = b;
    s->b.epoch = l->epoch;
    size_t left = l->n_items - (size_t)b * (size_t)l->B;
    s->b.n = left < (size_t)l->B ? (int)left : l->B;
}

// Records a skipped file (corrupt, too large, or out of memory for it) once; names the first few.
static void note_corrupt(rn_loader *l, worker *w, size_t idx, const char *msg) {
    if (atomic_exchange(&l->bad[idx], 1)) return;
    pthread_mutex_lock(&l->mu);
    int64_t k = ++l->corrupt_files;
    pthread_mutex_unlock(&l->mu);
    if (k <= RN_REPORT_CORRUPT)
        fprintf(stderr, "data: skipping image %s: %s\n", w->path, msg);
    if (k == RN_REPORT_CORRUPT)
        fprintf(stderr, "data: further skipped images are counted, not named\n");
}

// Produces the sample at dataset index idx of epoch `epoch` into out; returns -1 only when
// RN_MAX_ATTEMPTS files in a row were corrupt. A file that fails because memory ran short (its
// decode or resampling buffers) is skipped like a corrupt one: that loses one file, not the run,
// but which file meets the shortage depends on timing, so only then is the epoch not
// reproducible bit for bit.
static int make_sample(rn_loader *l, worker *w, int64_t epoch, size_t pos, size_t idx, float *out,
                       int32_t *label, size_t *used, rn_err *err) {
    const rn_dataset *ds = l->v->ds;
    rn_rng pick;  // replacement choices depend on (seed, epoch, index) only
    rn_rng_seed3(&pick, l->o.seed ^ 0x7265706c61636521ULL, (uint64_t)epoch, idx);
    size_t cur = idx;
    for (int attempt = 0; attempt < RN_MAX_ATTEMPTS; attempt++) {
        if (attempt > 0) cur = rn_rng_below(&pick, (uint32_t)ds->n);
        if (atomic_load(&l->bad[cur])) continue;
        rn_err e;
        size_t len = 0;
        int ok = rn_dataset_path(ds, cur, w->path, sizeof w->path) == 0;
        if (!ok) snprintf(e.msg, sizeof e.msg, "path too long");
        ok = ok && rn_read_file_max(w->path, (size_t)l->o.max_file_mb << 20, &w->file, &w->file_cap,
                                    &len, &e) == 0;
        if (ok) {
            rn_rng r;
            // Repeated augmentation: the copies of an image in an epoch differ by their position
            // (global over the ranks), so each gets its own draws; else (seed, epoch, index) as ever.
            if (l->v->repeats > 1)
                rn_rng_seed3(&r, l->o.seed ^ 0x7265706561746564ULL, (uint64_t)epoch,
                             (uint64_t)pos * (uint64_t)l->v->world + (uint64_t)l->v->rank);
            else
                rn_rng_seed3(&r, l->o.seed, (uint64_t)epoch, cur);
            ok = rn_preprocess_image(w->dec, &w->ws, w->file, len, &l->o, l->train ? &r : NULL, out,
                                    &e) == 0;
        }
        if (ok) {
            *label = ds->labels[cur];
            *used = cur;
            if (attempt > 0) {
                pthread_mutex_lock(&l->mu);
                l->replaced++;
                l->epoch_replaced++;
                pthread_mutex_unlock(&l->mu);
            }
            return 0;
        }
        if (rn_dataset_path(ds, cur, w->path, sizeof w->path) != 0)
            snprintf(w->path, sizeof w->path, "%s/...", ds->root);
        note_corrupt(l, w, cur, e.msg);
    }
    return rn_fail(err, "%s: no decodable image found after %d attempts (sample %zu, last file %s)",
                   ds->root, RN_MAX_ATTEMPTS, idx, w->path);
}

// With mu held: can a worker take the next sample?
static int work_available(const rn_loader *l) {
    if (l->next_item >= l->n_items || l->fatal) return 0;
    int64_t b = (int64_t)(l->next_item / (size_t)l->B);
    const slot *s = &l->slots[b % l->Q];
    return s->state == SLOT_FILLING && s->b.number == b;
}

// Mixup / cutmix of a whole batch, and its soft targets.
static void mix_batch(const rn_loader *l, rn_batch *b) {
    int64_t global = b->number * l->v->world + l->v->rank;  // distinct per rank, as the batches are
    rn_mix_plan p = rn_mix_draw(&l->o, b->epoch, global, b->h, b->w);
    rn_mix_apply(&p, b->data, b->n, b->views, b->h, b->w);
    rn_mix_targets(&p, b->labels, b->n, l->K, b->targets, b->dominant);
    b->lam = p.lam;
}

// With mu held and work available: does one sample, returns with mu held again.
static void do_one(rn_loader *l, worker *w) {
    size_t p = l->next_item++;
    int64_t b = (int64_t)(p / (size_t)l->B), epoch = l->epoch;
    int i = (int)(p % (size_t)l->B);
    slot *s = &l->slots[b % l->Q];
    size_t idx = l->order[p];
    l->inflight++;
    pthread_mutex_unlock(&l->mu);

    double t0 = rn_now();
    rn_err e;
    int32_t label = 0;
    size_t used = idx;
    int rc = make_sample(l, w, epoch, p, idx, s->b.data + (size_t)i * l->sample_floats, &label, &used,
                         &e);
    s->b.labels[i] = label;
    s->b.index[i] = used;
    double dt = rn_now() - t0;

    pthread_mutex_lock(&l->mu);
    l->decode_seconds += dt;
    l->samples++;
    if (rc != 0 && !l->fatal) {
        l->fatal = 1;
        l->fatal_err = e;
    }
    if (++s->done == s->b.n) {
        // The batch is whole: this worker mixes it. It stays in flight meanwhile, so that
        // rn_loader_start_epoch waits before reassigning the slot.
        if (l->mix && !l->fatal) {
            pthread_mutex_unlock(&l->mu);
            mix_batch(l, &s->b);
            pthread_mutex_lock(&l->mu);
        }
        s->state = SLOT_READY;
    }
    l->inflight--;
    if (s->state == SLOT_READY || (l->draining && l->inflight == 0) || l->fatal)
        pthread_cond_broadcast(&l->ready_cv);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    rn_loader *l = w->l;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && !work_available(l)) pthread_cond_wait(&l->work_cv, &l->mu);
        if (l->stop) break;
        do_one(l, w);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

// Frees the first n queue slots and what rn_loader_create allocated before them.
static void free_queue(rn_loader *l, int n) {
    for (int q = 0; q < n; q++) {
        rn_free_aligned(l->slots[q].b.data);
        free(l->slots[q].b.labels);
        free(l->slots[q].b.index);
        free(l->slots[q].b.targets);
        if (l->slots[q].b.dominant != l->slots[q].b.labels) free(l->slots[q].b.dominant);
    }
    free(l->slots);
    free(l->bad);
    free(l->order);
    free(l);
}

int rn_loader_create(const rn_dataset_view *v, const rn_data_opts *o, int train, rn_loader **out,
                     rn_err *err) {
    *out = NULL;
    if (rn_data_opts_check(o, err) != 0) return -1;
    if (train && o->drop_last && v->per_rank < (size_t)o->batch_size)
        return rn_fail(err, "%s: %zu samples per rank is less than one batch of %d (drop_last)",
                       v->ds->root, v->per_rank, o->batch_size);
    rn_loader *l = rn_calloc(1, sizeof *l);
    l->o = *o;
    l->train = train;
    l->v = v;
    l->B = o->batch_size;
    l->Q = o->prefetch;
    l->mix = train && rn_mix_enabled(o);
    l->K = v->ds->n_classes;
    const int views = train ? 1 : rn_data_views(o);  // test-time augmentation: crops per sample
    l->sample_floats = 3 * (size_t)o->size * (size_t)o->size * (size_t)views;
    l->order = rn_malloc(v->per_rank * sizeof(size_t));
    l->bad = rn_calloc(v->ds->n, sizeof(atomic_uchar));
    for (size_t i = 0; i < v->ds->n; i++) atomic_init(&l->bad[i], 0);
    l->slots = rn_calloc((size_t)l->Q, sizeof(slot));
    for (int q = 0; q < l->Q; q++) {
        rn_batch *b = &l->slots[q].b;
        size_t bytes = (size_t)l->B * l->sample_floats * sizeof(float);
        b->data = rn_try_malloc_aligned(bytes);  // batch x 3 x size^2 floats: sized by the user
        if (!b->data) {
            char what[96];
            snprintf(what, sizeof what, "the data loader's batch queue (slot %d of %d)", q + 1, l->Q);
            rn_alloc_fail(err, what, bytes);
            free_queue(l, q);
            return -1;
        }
        b->labels = rn_malloc((size_t)l->B * sizeof(int32_t));
        b->index = rn_malloc((size_t)l->B * sizeof(size_t));
        b->dominant = b->labels;
        b->lam = 1.0;
        if (l->mix) {  // batch x classes floats: sized by the user too
            size_t tb = (size_t)l->B * (size_t)l->K * sizeof(float);
            b->targets = rn_try_malloc(tb);
            b->dominant = rn_malloc((size_t)l->B * sizeof(int32_t));
            if (!b->targets) {
                rn_alloc_fail(err, "the data loader's soft targets (mixup / cutmix)", tb);
                free_queue(l, q + 1);
                return -1;
            }
        }
        b->c = 3, b->h = o->size, b->w = o->size, b->views = views;
        l->slots[q].state = SLOT_IDLE;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work_cv, NULL);
    pthread_cond_init(&l->ready_cv, NULL);
    l->nw = o->workers;
    int nctx = l->nw > 0 ? l->nw : 1;
    l->workers = rn_calloc((size_t)nctx, sizeof(worker));
    for (int t = 0; t < nctx; t++) {
        l->workers[t].l = l;
        l->workers[t].dec = rn_decoder_create();
    }
    l->nb = 0;  // no epoch until rn_loader_start_epoch
    l->threads = rn_calloc((size_t)nctx, sizeof(pthread_t));
    for (int t = 0; t < l->nw; t++) {
        if (pthread_create(&l->threads[t], NULL, worker_main, &l->workers[t]) != 0) {
            l->nw = t;  // join the ones that started
            rn_loader_destroy(l);
            return rn_fail(err, "data loader: cannot start worker thread %d", t);
        }
    }
    *out = l;
    return 0;
}

void rn_loader_start_epoch_at(rn_loader *l, int64_t epoch, int64_t first) {
    pthread_mutex_lock(&l->mu);
    for (int q = 0; q < l->Q; q++) RN_CHECK(l->slots[q].state != SLOT_HELD);
    l->n_items = 0;  // hand out nothing more; let in-flight samples finish
    l->draining = 1;
    while (l->inflight > 0) pthread_cond_wait(&l->ready_cv, &l->mu);
    l->draining = 0;
    l->epoch = epoch;
    l->epoch_replaced = 0;
    rn_view_epoch(l->v, l->o.seed, epoch, l->train && l->o.shuffle, l->order);
    l->nb = batch_count(l, &l->n_items);
    if (first < 0) first = 0;
    if (first > l->nb) first = l->nb;
    // Batch b always lives in slot b % Q; samples keep their (seed, epoch, index) streams, so
    // batch `first` onwards are the same as when the epoch is read from its start.
    l->next_item = (size_t)first * (size_t)l->B;
    l->consume = first;
    for (int q = 0; q < l->Q; q++) assign_slot(l, &l->slots[(first + q) % l->Q], first + q);
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
}

void rn_loader_start_epoch(rn_loader *l, int64_t epoch) { rn_loader_start_epoch_at(l, epoch, 0); }

int64_t rn_loader_num_batches(const rn_loader *l) {
    size_t n;
    return batch_count(l, &n);
}

int rn_loader_next(rn_loader *l, rn_batch **b, rn_err *err) {
    *b = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->consume >= l->nb) {  // the counts of skipped files are the caller's to print (stats)
        pthread_mutex_unlock(&l->mu);
        return 0;
    }
    slot *s = &l->slots[l->consume % l->Q];
    // Holding prefetch batches at once would wait forever: a usage error.
    RN_CHECK(s->state != SLOT_HELD && s->b.number == l->consume);
    while (s->state != SLOT_READY && !l->fatal) {
        if (l->nw == 0 && work_available(l)) do_one(l, &l->workers[0]);
        else pthread_cond_wait(&l->ready_cv, &l->mu);
    }
    if (l->fatal) {
        if (err) *err = l->fatal_err;
        pthread_mutex_unlock(&l->mu);
        return -1;
    }
    s->state = SLOT_HELD;
    l->consume++;
    *b = &s->b;
    pthread_mutex_unlock(&l->mu);
    return 1;
}

void rn_loader_release(rn_loader *l, rn_batch *b) {
    pthread_mutex_lock(&l->mu);
    slot *s = &l->slots[b->number % l->Q];
    RN_CHECK(&s->b == b && s->state == SLOT_HELD);
    assign_slot(l, s, b->number + l->Q);
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
}

void rn_loader_stats_get(rn_loader *l, rn_loader_stats *st) {
    pthread_mutex_lock(&l->mu);
    st->samples = l->samples;
    st->replaced = l->replaced;
    st->epoch_replaced = l->epoch_replaced;
    st->corrupt_files = l->corrupt_files;
    st->decode_seconds = l->decode_seconds;
    pthread_mutex_unlock(&l->mu);
}

void rn_loader_destroy(rn_loader *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
    for (int t = 0; t < l->nw; t++) pthread_join(l->threads[t], NULL);
    int nctx = l->o.workers > 0 ? l->o.workers : 1;
    for (int t = 0; t < nctx; t++) {
        rn_decoder_destroy(l->workers[t].dec);
        rn_xform_ws_free(&l->workers[t].ws);
        free(l->workers[t].file);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->work_cv);
    pthread_cond_destroy(&l->ready_cv);
    free(l->workers);
    free(l->threads);
    free_queue(l, l->Q);
}

void rn_loader_mem_plan(const rn_data_opts *o, size_t n_samples, int follows, const char *what, rn_mem_plan *p) {
    // The queue as rn_loader_create allocates it; per worker an RGB decode of an image about twice the
    // resize on each side (photos are decoded whole), a file buffer and the auto-augment buffers;
    // the workers' threads.
    double per = (double)o->prefetch * (3.0 * o->size * o->size * rn_data_views(o) * sizeof(float) + sizeof(int32_t) +
                                        sizeof(size_t));
    double side = 2.0 * rn_data_resize(o), nctx = o->workers > 0 ? o->workers : 1;
    double aug = o->auto_aug != RN_AUTO_NONE ? 6.0 * o->size * o->size : 0;  // the 8-bit stage's buffers
    double fixed = nctx * (side * side * 3 + 1048576.0 + aug) + (double)n_samples * (sizeof(size_t) + 1);
    rn_mem_add(p, what, fixed + (follows ? 0 : per * o->batch_size), follows ? per : 0, RN_MEM_NEW);
    rn_mem_add_threads(p, "loader threads", o->workers);
}
