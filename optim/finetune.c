// finetune.c — initialisation from another network and freezing; see finetune.h.
#include "optim/finetune.h"

#include <stdlib.h>
#include <string.h>

int rn_classifier_op(const rn_graph *g) {
    if (g->output < 0) return -1;
    int p = g->tensors[g->output].producer;
    return p >= 0 && g->ops[p].type == RN_OP_GEMM && g->ops[p].n_in == 3 ? p : -1;
}

static int is_value(const rn_tensor *t) { return t->role == RN_PARAM || t->role == RN_STATE; }

static int same_shape(const rn_tensor *a, const rn_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

int rn_graph_with_classes(const rn_graph *g, int num_classes, uint64_t seed, rn_graph **out, rn_err *err) {
    *out = NULL;
    int fc = rn_classifier_op(g);
    if (fc < 0) return rn_fail(err, "the network's output is not produced by a Gemm classifier: cannot change its classes");
    int w = g->ops[fc].in[1], b = g->ops[fc].in[2];
    rn_graph *n = rn_graph_create();
    int *map = rn_malloc((size_t)g->n_tensors * sizeof(int));
    // Declared tensors first, then each op with its output, in the original order.
    for (int i = 0; i < g->n_tensors; i++) {
        const rn_tensor *t = &g->tensors[i];
        map[i] = -1;
        if (t->role == RN_ACT) continue;
        int64_t dims[RN_MAX_DIMS];
        memcpy(dims, t->dims, sizeof dims);
        if (i == w || i == b) dims[0] = num_classes;
        map[i] = rn_graph_tensor(n, t->name, t->role, t->ndim, dims);
        n->tensors[map[i]].trainable = t->trainable;
        n->tensors[map[i]].init = t->init;
    }
    for (int k = 0; k < g->n_ops; k++) {
        const rn_op *op = &g->ops[k];
        int in[RN_MAX_IN];
        for (int i = 0; i < op->n_in; i++) in[i] = map[op->in[i]];
        int o = rn_graph_op(n, op->type, op->name, in, op->n_in, g->tensors[op->out].name);
        n->ops[o].a = op->a;
        map[op->out] = n->ops[o].out;
    }
    n->output = map[g->output];
    if (rn_graph_finalize(n, err)) {
        free(map);
        rn_graph_destroy(n);
        return -1;
    }
    // A classifier without an init kind (imported) gets PyTorch's Linear default.
    if (n->tensors[map[w]].init == RN_INIT_NONE) n->tensors[map[w]].init = RN_INIT_UNIFORM_FAN;
    if (n->tensors[map[b]].init == RN_INIT_NONE) n->tensors[map[b]].init = RN_INIT_UNIFORM_FAN;
    rn_graph_init_params(n, seed);
    for (int i = 0; i < g->n_tensors; i++)
        if (is_value(&g->tensors[i]) && ((i != w && i != b) || g->tensors[w].dims[0] == num_classes))
            memcpy(n->tensors[map[i]].data, g->tensors[i].data, rn_tensor_numel(&g->tensors[i]) * sizeof(float));
    n->version++;
    free(map);
    *out = n;
    return 0;
}

int rn_finetune_init(rn_graph **gp, const rn_graph *src, const char *what, int num_classes, uint64_t seed,
                     FILE *log, rn_err *err) {
    rn_graph *g = *gp;
    int fc = rn_classifier_op(g);
    int cw = fc >= 0 ? g->ops[fc].in[1] : -1, cb = fc >= 0 ? g->ops[fc].in[2] : -1;
    int total = 0, found = 0, first_missing = -1;
    for (int i = 0; i < g->n_tensors; i++) {
        if (!is_value(&g->tensors[i])) continue;
        total++;
        if (rn_graph_find(src, g->tensors[i].name) >= 0) found++;
        else if (first_missing < 0) first_missing = i;
    }
    if (found == 0) {
        // Case 2: foreign names; the imported network is the model.
        int sfc = rn_classifier_op(src);
        if (sfc < 0) return rn_fail(err, "%s: no tensor name matches the network's, and its output is not a Gemm "
                                         "classifier that could be adapted", what);
        int64_t classes = src->tensors[src->ops[sfc].in[1]].dims[0];
        rn_graph *n;
        rn_err e;
        if (rn_graph_with_classes(src, num_classes, seed, &n, &e)) return rn_fail(err, "%s: %s", what, e.msg);
        if (log) {
            fprintf(log, "init: %s uses its own tensor names; training its network as imported ([model] keys other "
                         "than num_classes are ignored)\n", what);
            if (classes != num_classes)
                fprintf(log, "init: classifier re-initialised: %lld -> %d classes\n", (long long)classes, num_classes);
        }
        rn_graph_destroy(g);
        *gp = n;
        return 0;
    }
    if (found < total)
        return rn_fail(err, "%s: %d of the network's %d tensors are missing, first '%s': the config's [model] does not "
                            "describe this file's network", what, total - found, total, g->tensors[first_missing].name);
    int reinit = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        rn_tensor *t = &g->tensors[i];
        if (!is_value(t)) continue;
        const rn_tensor *s = &src->tensors[rn_graph_find(src, t->name)];
        if (!same_shape(t, s)) {
            if (i == cw || i == cb) {
                reinit = 1;
                continue;
            }
            return rn_fail(err, "%s: tensor '%s' has another shape than the config's network", what, t->name);
        }
        memcpy(t->data, s->data, rn_tensor_numel(t) * sizeof(float));
    }
    if (log) {
        fprintf(log, "init: %d tensors from %s\n", total - (reinit ? 2 : 0), what);
        if (reinit)
            fprintf(log, "init: classifier re-initialised: %lld -> %d classes\n",
                    (long long)src->tensors[rn_graph_find(src, g->tensors[cw].name)].dims[0], num_classes);
    }
    g->version++;
    return 0;
}

static int freeze_prefix(rn_graph *g, const char *prefix) {
    int n = 0;
    size_t l = strlen(prefix);
    for (int i = 0; i < g->n_tensors; i++) {
        rn_tensor *t = &g->tensors[i];
        if (t->role == RN_PARAM && strncmp(t->name, prefix, l) == 0) {
            t->trainable = 0;
            n++;
        }
    }
    return n;
}

int rn_freeze(rn_graph *g, int stem, int stages, rn_err *err) {
    if (stem && freeze_prefix(g, "stem_") == 0)
        return rn_fail(err, "freeze_stem: the network has no tensors named stem_* (imported with other names?)");
    for (int s = 1; s <= stages; s++) {
        char p[32];
        snprintf(p, sizeof p, "stage%d_", s);
        if (freeze_prefix(g, p) == 0)
            return rn_fail(err, "freeze_stages = %d: the network has no tensors named %s*", stages, p);
    }
    return 0;
}
