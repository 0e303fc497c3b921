// predict_out.h — resnet-predict's output, one record per input: the top classes of a good image,
// or the reason a bad one failed.
//
//   text  per image "image: PATH" then K lines "rank probability class_index class_name" (stdout);
//         a failure is "resnet-predict: PATH: reason" on stderr
//   csv   header path,rank,probability,class_index,class_name,error; K rows per image (one with
//         empty rank..class_name when K = 0), one row with only path and error per failure (RFC 4180)
//   json  one array, one object per input and line: {"path": P, "top": [{"rank": 1,
//         "probability": p, "class_index": i, "class_name": s or null}, ...]} or {"path": P,
//         "error": s}; strings escaped per RFC 8259 (bytes that are not UTF-8 become U+FFFD)
// Probabilities are printed with 6 decimals; a non-finite one is null in JSON.
#ifndef RN_EXPORT_PREDICT_OUT_H
#define RN_EXPORT_PREDICT_OUT_H

#include <stddef.h>
#include <stdio.h>

#include "export/classes.h"

typedef enum { RN_OUT_TEXT, RN_OUT_CSV, RN_OUT_JSON } rn_out_format;

typedef struct rn_predict_out {
    FILE *f, *errf;        // results (stdout) and text-format failures (stderr)
    rn_out_format format;
    const rn_labels *labels;  // names; n = 0 prints "-" (text, csv) or null (json)
    const char *header;    // text: "image" or "input"
    size_t records;        // records written so far (json commas)
} rn_predict_out;

// "text", "csv" or "json"; -1 for anything else.
int rn_out_format_parse(const char *s, rn_out_format *f);

void rn_predict_out_begin(rn_predict_out *o);
// The k best classes of one input's scores (softmax, ties by lower index).
void rn_predict_out_result(rn_predict_out *o, const char *name, const float *scores, size_t classes, size_t k);
void rn_predict_out_error(rn_predict_out *o, const char *name, const char *why);
void rn_predict_out_end(rn_predict_out *o);

#endif
