// train_metrics.c — metrics.csv and the SVG plot of a run, rewritten whole after every epoch.
#define _POSIX_C_SOURCE 200809L
#include "src/train_metrics.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const rn_metrics_header = "epoch,lr,train_loss,train_top1,val_loss,val_top1,val_top5,img_per_s,seconds,val_loss_ema,val_top1_ema,val_top5_ema";

// A number, or an empty field when there is none (the EMA's columns of a run without EMA).
static void put_opt(FILE *f, const char *fmt, double v) {
    fputc(',', f);
    if (isfinite(v)) fprintf(f, fmt, v);
}

// Opens PATH.tmp for writing; finish_atomic renames it over PATH.
static FILE *open_tmp(const char *path, char *tmp, size_t cap) {
    snprintf(tmp, cap, "%s.tmp.%ld", path, (long)getpid());
    return fopen(tmp, "w");
}

static int finish_atomic(FILE *f, const char *tmp, const char *path, rn_err *err) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return rn_fail(err, "%s: cannot write: %s", path, strerror(e ? e : EIO));
    }
    return 0;
}

int rn_metrics_write_csv(const char *path, const rn_epoch_row *rows, int n, rn_err *err) {
    char tmp[RN_METRICS_PATH + 32];
    FILE *f = open_tmp(path, tmp, sizeof tmp);
    if (!f) return rn_fail(err, "%s: cannot write: %s", path, strerror(errno));
    fprintf(f, "%s\n", rn_metrics_header);
    for (int i = 0; i < n; i++) {
        const rn_epoch_row *r = &rows[i];
        fprintf(f, "%d,%.6g,%.6f,%.4f,%.6f,%.4f,%.4f,%.1f,%.2f", r->epoch, r->lr, r->train_loss, r->train_top1,
                r->val_loss, r->val_top1, r->val_top5, r->img_per_s, r->seconds);
        put_opt(f, "%.6f", r->val_loss_ema);
        put_opt(f, "%.4f", r->val_top1_ema);
        put_opt(f, "%.4f", r->val_top5_ema);
        fputc('\n', f);
    }
    return finish_atomic(f, tmp, path, err);
}

// ---- the plot -----------------------------------------------------------------------------------

typedef struct panel {
    double x0, y0, w, h;        // plot area in SVG pixels
    double xmin, xmax, ymin, ymax;
} panel;

static double px(const panel *p, double x) { return p->x0 + (x - p->xmin) / (p->xmax - p->xmin) * p->w; }
static double py(const panel *p, double y) { return p->y0 + p->h - (y - p->ymin) / (p->ymax - p->ymin) * p->h; }

// A tick spacing of 1, 2 or 5 times a power of ten giving about `want` intervals.
static double nice_step(double span, int want) {
    double raw = span / want, mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void axes(FILE *f, const panel *p, const char *title, int xint) {
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='white' stroke='#444'/>\n", p->x0, p->y0, p->w,
            p->h);
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='14'>%s</text>\n", p->x0 + p->w / 2, p->y0 - 8,
            title);
    double ys = nice_step(p->ymax - p->ymin, 5);
    for (double y = ceil(p->ymin / ys) * ys; y <= p->ymax + 1e-9; y += ys) {
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n", p->x0, py(p, y), p->x0 + p->w,
                py(p, y));
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' font-size='11'>%g</text>\n", p->x0 - 4, py(p, y) + 4,
                fabs(y) < ys * 1e-6 ? 0.0 : y);
    }
    double xs = nice_step(p->xmax - p->xmin, 6);
    if (xint && xs < 1) xs = 1;
    for (double x = ceil(p->xmin / xs) * xs; x <= p->xmax + 1e-9; x += xs)
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='11'>%g</text>\n", px(p, x),
                p->y0 + p->h + 15, x);
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12'>epoch</text>\n", p->x0 + p->w / 2,
            p->y0 + p->h + 32);
}

static void series(FILE *f, const panel *p, const rn_epoch_row *rows, int n, size_t off, const char *color,
                   const char *label, int k, int bottom) {
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='", color);
    for (int i = 0; i < n; i++) {
        double v = *(const double *)((const char *)&rows[i] + off);
        if (isfinite(v)) fprintf(f, "%.1f,%.1f ", px(p, rows[i].epoch), py(p, v));
    }
    fprintf(f, "'/>\n");
    for (int i = 0; i < n; i++) {
        double v = *(const double *)((const char *)&rows[i] + off);
        if (isfinite(v)) fprintf(f, "<circle cx='%.1f' cy='%.1f' r='2.5' fill='%s'/>\n", px(p, rows[i].epoch), py(p, v), color);
    }
    // Legends go where the curves rarely are: top right for losses, bottom right for accuracies.
    double lx = p->x0 + p->w - 110, ly = bottom ? p->y0 + p->h - 8 - 16 * (2 - k) : p->y0 + 16 + 16 * k;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'/>", lx, ly - 4, lx + 18, ly - 4,
            color);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='11'>%s</text>\n", lx + 22, ly, label);
}

static void range(const rn_epoch_row *rows, int n, const size_t *offs, int k, double *lo, double *hi) {
    *lo = INFINITY, *hi = -INFINITY;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) {
            double v = *(const double *)((const char *)&rows[i] + offs[j]);
            if (!isfinite(v)) continue;
            *lo = v < *lo ? v : *lo;
            *hi = v > *hi ? v : *hi;
        }
    if (!isfinite(*lo)) *lo = 0, *hi = 1;
    if (*hi - *lo < 1e-9) *hi = *lo + 1;
}

int rn_metrics_write_svg(const char *path, const char *title, const rn_epoch_row *rows, int n, int epochs,
                         rn_err *err) {
    char tmp[RN_METRICS_PATH + 32];
    FILE *f = open_tmp(path, tmp, sizeof tmp);
    if (!f) return rn_fail(err, "%s: cannot write: %s", path, strerror(errno));
    const double W = 960, H = 400;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif'>\n", W, H);
    fprintf(f, "<rect width='100%%' height='100%%' fill='#fafafa'/>\n");
    char t[256];
    snprintf(t, sizeof t, "%s", title);
    for (char *c = t; *c; c++)
        if (*c == '<' || *c == '>' || *c == '&' || *c == '\'') *c = '_';
    fprintf(f, "<text x='%.0f' y='22' text-anchor='middle' font-size='16'>%s</text>\n", W / 2, t);
    double xmax = epochs > 1 ? epochs : 2;
    size_t loss[3] = {offsetof(rn_epoch_row, train_loss), offsetof(rn_epoch_row, val_loss),
                      offsetof(rn_epoch_row, val_loss_ema)};
    size_t acc[4] = {offsetof(rn_epoch_row, train_top1), offsetof(rn_epoch_row, val_top1),
                     offsetof(rn_epoch_row, val_top5), offsetof(rn_epoch_row, val_top1_ema)};
    int ema = 0;  // the EMA's curves only when the run has them
    for (int i = 0; i < n; i++) ema |= isfinite(rows[i].val_top1_ema);
    panel a = {60, 60, 380, 280, 1, xmax, 0, 1}, b = {540, 60, 380, 280, 1, xmax, 0, 100};
    double lo, hi;
    range(rows, n, loss, 2 + ema, &lo, &hi);
    a.ymin = 0, a.ymax = hi * 1.05;
    range(rows, n, acc, 3 + ema, &lo, &hi);
    b.ymin = floor(lo / 10) * 10, b.ymax = 100;
    axes(f, &a, "loss", 1);
    axes(f, &b, "accuracy (%)", 1);
    series(f, &a, rows, n, loss[0], "#1f77b4", "train", 0, 0);
    series(f, &a, rows, n, loss[1], "#d62728", "val", 1, 0);
    series(f, &b, rows, n, acc[0], "#1f77b4", "train top-1", 0, 1);
    series(f, &b, rows, n, acc[1], "#d62728", "val top-1", 1, 1);
    series(f, &b, rows, n, acc[2], "#2ca02c", "val top-5", 2, 1);
    if (ema) {
        series(f, &a, rows, n, loss[2], "#9467bd", "val (EMA)", 2, 0);
        series(f, &b, rows, n, acc[3], "#9467bd", "val top-1 (EMA)", -1, 1);  // legend above the other three
    }
    fprintf(f, "</svg>\n");
    return finish_atomic(f, tmp, path, err);
}
