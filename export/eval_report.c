// eval_report.c — per-class accuracy, the confusion matrix and its SVG; see eval_report.h.
// The picture follows the training plot's style (src/train_metrics.c): plain SVG, sans-serif,
// light background, no library.
#include "export/eval_report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export/textfmt.h"

typedef struct report {
    const rn_eval_counts *c;
    const char *const *names;
    int n_names, rows, cols;
    char buf[32];
} report;

static const char *name_of(report *r, int i) {
    if (i < r->n_names && r->names[i]) return r->names[i];
    snprintf(r->buf, sizeof r->buf, "class_%d", i);
    return r->buf;
}

static int64_t cell(const report *r, int t, int p) { return r->c->confusion[(size_t)t * r->c->K + (size_t)p]; }

static int64_t row_total(const report *r, int t) {
    int64_t s = 0;
    for (int p = 0; p < r->c->K; p++) s += cell(r, t, p);
    return s;
}

static FILE *open_in(const char *dir, const char *name, char *path, size_t cap, rn_err *err) {
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) rn_fail(err, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

static int close_checked(FILE *f, const char *path, rn_err *err) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return rn_fail(err, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
    return 0;
}

static int write_per_class(const char *dir, report *r, rn_err *err) {
    char path[4200];
    FILE *f = open_in(dir, "per_class.csv", path, sizeof path, err);
    if (!f) return -1;
    fprintf(f, "class_index,class_name,images,correct,top1_pct\n");
    for (int t = 0; t < r->rows; t++) {
        int64_t n = row_total(r, t), k = cell(r, t, t);
        fprintf(f, "%d,", t);
        rn_csv_field(f, name_of(r, t));
        fprintf(f, ",%lld,%lld,", (long long)n, (long long)k);
        if (n) fprintf(f, "%.4f", 100.0 * (double)k / (double)n);
        fputc('\n', f);
    }
    return close_checked(f, path, err);
}

static int write_confusion(const char *dir, report *r, rn_err *err) {
    char path[4200];
    FILE *f = open_in(dir, "confusion.csv", path, sizeof path, err);
    if (!f) return -1;
    fputs("true\\predicted", f);
    for (int p = 0; p < r->cols; p++) {
        fputc(',', f);
        rn_csv_field(f, name_of(r, p));
    }
    fputc('\n', f);
    for (int t = 0; t < r->rows; t++) {
        rn_csv_field(f, name_of(r, t));
        for (int p = 0; p < r->cols; p++) fprintf(f, ",%lld", (long long)cell(r, t, p));
        fputc('\n', f);
    }
    return close_checked(f, path, err);
}

// Names on the axes are cut to this many bytes (at a UTF-8 character boundary) to bound the margins.
#define NAME_MAX_SHOWN 24

static void label(FILE *f, report *r, int i) {
    char s[NAME_MAX_SHOWN + 4];
    const char *n = name_of(r, i);
    size_t len = strlen(n);
    if (len <= NAME_MAX_SHOWN) {
        rn_xml_text(f, n);
        return;
    }
    size_t cut = NAME_MAX_SHOWN;
    while (cut > 0 && ((unsigned char)n[cut] & 0xC0) == 0x80) cut--;
    memcpy(s, n, cut);
    memcpy(s + cut, "...", 4);
    rn_xml_text(f, s);
}

static int write_svg(const char *dir, report *r, rn_err *err) {
    char path[4200];
    FILE *f = open_in(dir, "confusion.svg", path, sizeof path, err);
    if (!f) return -1;
    int big = r->rows > r->cols ? r->rows : r->cols;
    double cs = 640.0 / big;  // cell side: the matrix is about 640 px wide, cells 2..32 px
    cs = cs > 32 ? 32 : cs < 2 ? 2 : cs;
    double font = cs * 0.75 > 12 ? 12 : cs * 0.75;
    int names = font >= 5;  // below that, names would be unreadable specks
    size_t longest = 0;
    for (int i = 0; i < big; i++) {
        size_t l = strlen(name_of(r, i));
        longest = l > longest ? l : longest;
    }
    if (longest > NAME_MAX_SHOWN + 3) longest = NAME_MAX_SHOWN + 3;
    double margin = names ? 30 + 0.62 * font * (double)longest : 30;
    double x0 = margin + 20, y0 = 60, w = cs * r->cols, h = cs * r->rows;
    double W = x0 + w + 30, H = y0 + h + margin + 30;
    if (W < 640) W = 640;  // room for the title
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif'>\n", W, H);
    fprintf(f, "<rect width='100%%' height='100%%' fill='#fafafa'/>\n");
    double top1 = r->c->n ? 100.0 * (double)r->c->top1 / (double)r->c->n : 0;
    fprintf(f, "<text x='%.1f' y='22' text-anchor='middle' font-size='16'>confusion matrix: %lld images, top-1 %.2f%%</text>\n",
            W / 2, (long long)r->c->n, top1);
    fprintf(f, "<text x='%.1f' y='42' text-anchor='middle' font-size='11'>shade: share of the true class's images; "
               "rows: true class, columns: predicted class</text>\n", W / 2);
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='white' stroke='#444'/>\n", x0, y0, w, h);
    for (int t = 0; t < r->rows; t++) {
        int64_t n = row_total(r, t);
        for (int p = 0; p < r->cols; p++) {
            int64_t k = cell(r, t, p);
            if (!k) continue;
            double s = (double)k / (double)n;  // n >= k > 0
            int R = (int)(255 - s * (255 - 31)), G = (int)(255 - s * (255 - 78)), B = (int)(255 - s * (255 - 153));
            double x = x0 + cs * p, y = y0 + cs * t;
            fprintf(f, "<rect x='%.2f' y='%.2f' width='%.2f' height='%.2f' fill='#%02x%02x%02x'%s/>\n", x, y, cs, cs, R, G,
                    B, p == t ? " stroke='#d62728'" : "");
            if (cs >= 20)
                fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='%.1f' fill='%s'>%lld</text>\n",
                        x + cs / 2, y + cs / 2 + font / 3, font * 0.85, s > 0.5 ? "white" : "#222", (long long)k);
        }
    }
    if (names) {
        for (int t = 0; t < r->rows; t++) {  // true classes down the left
            fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' font-size='%.1f'>", x0 - 4, y0 + cs * t + cs / 2 + font / 3,
                    font);
            label(f, r, t);
            fprintf(f, "</text>\n");
        }
        for (int p = 0; p < r->cols; p++) {  // predicted classes along the bottom, turned
            double x = x0 + cs * p + cs / 2 + font / 3, y = y0 + h + 6;
            fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' font-size='%.1f' transform='rotate(-90 %.1f %.1f)'>", x, y,
                    font, x, y);
            label(f, r, p);
            fprintf(f, "</text>\n");
        }
    }
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12' transform='rotate(-90 %.1f %.1f)'>true class</text>\n",
            14.0, y0 + h / 2, 14.0, y0 + h / 2);
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12'>predicted class</text>\n", x0 + w / 2, H - 10);
    fprintf(f, "</svg>\n");
    return close_checked(f, path, err);
}

int rn_eval_report_write(const char *dir, const rn_eval_counts *c, const char *const *names, int n_names, int rows,
                         rn_err *err) {
    RN_CHECK(c->confusion && rows >= 1 && rows <= c->K);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return rn_fail(err, "%s: cannot create folder: %s", dir, strerror(errno));
    report r = {c, names, n_names, rows, rows, {0}};
    for (int t = 0; t < rows; t++)  // columns: the true classes, and any higher class that was predicted
        for (int p = rows; p < c->K; p++)
            if (cell(&r, t, p) && p + 1 > r.cols) r.cols = p + 1;
    if (write_per_class(dir, &r, err) || write_confusion(dir, &r, err) || write_svg(dir, &r, err)) return -1;
    return 0;
}
