// train_progress.c — the progress line; see train_progress.h.
#include "src/train_progress.h"

#include <math.h>
#include <stdarg.h>
#include <unistd.h>

#include "src/common.h"

void rn_progress_init(rn_progress *p, FILE *f, int cfg_mode, int log_every) {
    p->f = f;
    p->mode = cfg_mode == 0 ? (isatty(fileno(f)) ? 0 : 1) : cfg_mode;
    p->log_every = log_every > 0 ? log_every : 100;
    p->last_draw = 0;
    p->drawn = 0;
}

void rn_format_duration(double s, char *buf, size_t cap) {
    if (!isfinite(s) || s < 0) {
        snprintf(buf, cap, "?");
        return;
    }
    long t = lround(s);
    if (t >= 3600) snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

void rn_progress_step(rn_progress *p, const rn_progress_info *i) {
    if (p->mode == 2) return;
    double now = rn_now();
    int last = i->step == i->steps;
    if (p->mode == 0 && now - p->last_draw < 0.1 && !last) return;
    if (p->mode == 1 && i->step % p->log_every != 0 && !last) return;
    p->last_draw = now;
    char eta[32];
    rn_format_duration(i->eta_seconds, eta, sizeof eta);
    fprintf(p->f, "%sepoch %lld/%lld  step %lld/%lld  loss %.4f  lr %.4g  %.0f img/s  ETA %s%s",
            p->mode == 0 ? "\r" : "", (long long)i->epoch, (long long)i->epochs, (long long)i->step,
            (long long)i->steps, i->loss, i->lr, i->img_per_s, eta, p->mode == 0 ? "\033[K" : "\n");
    fflush(p->f);
    p->drawn = p->mode == 0;
}

void rn_progress_note(rn_progress *p, const char *fmt, ...) {
    if (p->drawn) fputs("\r\033[K", p->f);
    p->drawn = 0;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->f, fmt, ap);
    va_end(ap);
    fputc('\n', p->f);
    fflush(p->f);
}
