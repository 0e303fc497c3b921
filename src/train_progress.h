// train_progress.h — training progress for people: on a terminal one self-updating line
//     epoch 3/10  step 120/468  loss 0.4321  lr 0.0812  1234 img/s  ETA 4:32
// redrawn at most ten times a second; otherwise (a log file, a pipe) the same text as plain lines
// every log_every steps. Epoch summaries and notes are permanent lines either way.
#ifndef RN_TRAIN_PROGRESS_H
#define RN_TRAIN_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct rn_progress {
    FILE *f;
    int mode;         // 0 self-updating line, 1 plain lines, 2 off
    int log_every;    // plain mode: steps between lines
    double last_draw; // seconds (rn_now) of the last redraw
    int drawn;        // a self-updating line is on screen and must be cleared before a permanent one
} rn_progress;

// cfg_mode: [train] progress (0 auto, 1 plain, 2 off); auto picks the line only when f is a terminal.
void rn_progress_init(rn_progress *p, FILE *f, int cfg_mode, int log_every);

typedef struct rn_progress_info {
    int64_t epoch, epochs;  // 1-based epoch
    int64_t step, steps;    // 1-based optimiser step within the epoch, and steps per epoch
    double loss, lr, img_per_s, eta_seconds;
} rn_progress_info;

void rn_progress_step(rn_progress *p, const rn_progress_info *i);
// A permanent line (printf format, no trailing newline needed).
void rn_progress_note(rn_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// "1:02:03" or "4:05".
void rn_format_duration(double seconds, char *buf, size_t cap);

#endif
