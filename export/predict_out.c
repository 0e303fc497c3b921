// predict_out.c — resnet-predict's text, CSV and JSON records; see predict_out.h.
#include "export/predict_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export/textfmt.h"

int rn_out_format_parse(const char *s, rn_out_format *f) {
    if (!strcmp(s, "text")) *f = RN_OUT_TEXT;
    else if (!strcmp(s, "csv")) *f = RN_OUT_CSV;
    else if (!strcmp(s, "json")) *f = RN_OUT_JSON;
    else return -1;
    return 0;
}

void rn_predict_out_begin(rn_predict_out *o) {
    o->records = 0;
    if (o->format == RN_OUT_CSV) fputs("path,rank,probability,class_index,class_name,error\n", o->f);
    if (o->format == RN_OUT_JSON) fputs("[", o->f);
}

static void json_next(rn_predict_out *o) { fputs(o->records++ ? ",\n" : "\n", o->f); }

void rn_predict_out_result(rn_predict_out *o, const char *name, const float *scores, size_t classes, size_t k) {
    double *p = rn_malloc(classes * sizeof *p);
    size_t *idx = rn_malloc(classes * sizeof *idx);
    rn_softmax(scores, classes, p);
    if (k > classes) k = classes;
    rn_topk(p, classes, k, idx);
    const rn_labels *lab = o->labels;
    if (o->format == RN_OUT_TEXT) {
        fprintf(o->f, "%s: %s\n", o->header, name);
        for (size_t r = 0; r < k; r++)
            fprintf(o->f, "%zu %.6f %zu %s\n", r + 1, p[idx[r]], idx[r], lab->n ? lab->names[idx[r]] : "-");
    } else if (o->format == RN_OUT_CSV) {
        for (size_t r = 0; r < k; r++) {
            rn_csv_field(o->f, name);
            fprintf(o->f, ",%zu,%.6f,%zu,", r + 1, p[idx[r]], idx[r]);
            rn_csv_field(o->f, lab->n ? lab->names[idx[r]] : "-");
            fputs(",\n", o->f);
        }
        if (k == 0) {
            rn_csv_field(o->f, name);
            fputs(",,,,,\n", o->f);
        }
    } else {
        json_next(o);
        fputs("{\"path\": ", o->f);
        rn_json_string(o->f, name);
        fputs(", \"top\": [", o->f);
        for (size_t r = 0; r < k; r++) {
            fprintf(o->f, "%s{\"rank\": %zu, \"probability\": ", r ? ", " : "", r + 1);
            if (isfinite(p[idx[r]])) fprintf(o->f, "%.6f", p[idx[r]]);
            else fputs("null", o->f);
            fprintf(o->f, ", \"class_index\": %zu, \"class_name\": ", idx[r]);
            if (lab->n) rn_json_string(o->f, lab->names[idx[r]]);
            else fputs("null", o->f);
            fputs("}", o->f);
        }
        fputs("]}", o->f);
    }
    free(p);
    free(idx);
}

void rn_predict_out_error(rn_predict_out *o, const char *name, const char *why) {
    if (o->format == RN_OUT_TEXT) {
        fprintf(o->errf, "resnet-predict: %s: %s\n", name, why);
    } else if (o->format == RN_OUT_CSV) {
        rn_csv_field(o->f, name);
        fputs(",,,,,", o->f);
        rn_csv_field(o->f, why);
        fputc('\n', o->f);
    } else {
        json_next(o);
        fputs("{\"path\": ", o->f);
        rn_json_string(o->f, name);
        fputs(", \"error\": ", o->f);
        rn_json_string(o->f, why);
        fputs("}", o->f);
    }
    fflush(o->f);
}

void rn_predict_out_end(rn_predict_out *o) {
    if (o->format == RN_OUT_JSON) fputs(o->records ? "\n]\n" : "]\n", o->f);
    fflush(o->f);
}
