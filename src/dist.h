// dist.h — data-parallel training across processes on MPI (Open MPI): rank and size, broadcasts of
// the model from rank 0, small reductions of counts, and the bucketed gradient all-reduce behind
// optim/step.h's reducer hook. docs/TRAINING.md, "Several processes (MPI)".
//
// MPI is started only when the process was launched by mpirun (OMPI_COMM_WORLD_SIZE, or PMIx's
// PMIX_RANK, in the environment); otherwise, or in a build without MPI, this is one process of
// rank 0 and every call below is a no-op, so a plain `resnet-train CFG` is what it always was.
//
// Progress: Open MPI moves a non-blocking collective forward only inside MPI calls (no progress
// thread), so the reducer calls MPI_Testall on the buckets in flight after every op's backward
// (the executor's grad hook) — the transfers advance between ops while the next op computes;
// rn_dist_reducer's finish() then waits for the rest (MPI_Waitall) before the update.
//
// Ownership: rn_dist_reducer_create allocates a reducer; rn_dist_reducer_destroy frees it.
#ifndef RN_DIST_H
#define RN_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "optim/step.h"
#include "layers/graph.h"

// Starts MPI when launched by mpirun. Returns 0, or -1 with a message when MPI fails to start.
int rn_dist_init(int *argc, char ***argv, rn_err *err);
void rn_dist_finalize(void);
int rn_dist_rank(void);
int rn_dist_size(void);
// Prints "PROG: rank R of N: MSG" to stderr and ends the whole job (MPI_Abort with status 1).
// Without MPI it only returns; the caller exits.
void rn_dist_abort(const char *prog, const char *msg);

// From rank 0 to every rank: the whole parameter arena (weights and BN running statistics; bumps
// g->version), only the BN running statistics, or n floats of a buffer (momentum).
void rn_dist_bcast_arena(rn_graph *g);
void rn_dist_bcast_state(rn_graph *g);
void rn_dist_bcast_floats(float *x, size_t n);
// In place over every rank: sums of n doubles; the largest of an int (1 if any rank says 1).
void rn_dist_sum(double *x, int n);
int rn_dist_any(int flag);

typedef struct rn_dist_reducer rn_dist_reducer;

// Gradient buckets of about bucket_mb MB over g's trainable parameters, in reverse arena order
// (the order backward finishes them). overlap = 0 starts every bucket only after backward (to
// measure what overlapping hides).
rn_dist_reducer *rn_dist_reducer_create(const rn_graph *g, double bucket_mb, int overlap);
void rn_dist_reducer_destroy(rn_dist_reducer *d);
// The hook for rn_step (reducer->world = ranks).
const rn_step_reducer *rn_dist_reducer_hook(rn_dist_reducer *d);
// Buckets, and the seconds spent waiting in finish() (the communication overlap did not hide),
// summed since creation.
int rn_dist_reducer_buckets(const rn_dist_reducer *d);
double rn_dist_reducer_wait_seconds(const rn_dist_reducer *d);

#endif
