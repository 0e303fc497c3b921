// eval_report.h — resnet-eval --report DIR: what an evaluation's confusion counts say per class.
//
//   DIR/per_class.csv   class_index,class_name,images,correct,top1_pct (one row per true class;
//                       top1_pct empty for a class without images)
//   DIR/confusion.csv   a header row "true\predicted" + the predicted classes' names, then one row
//                       per true class: its name and its count in each predicted class
//   DIR/confusion.svg   the matrix as a picture: cells shaded by their share of the row (the true
//                       class's images), counts written in cells large enough, names on both axes
//
// The predicted classes (columns) are the true classes 0..rows-1 plus any higher class index that
// was predicted, up to the largest one (a 1000-class model evaluated on 10 folders gets the columns
// it used). Names: names[i] for i < n_names, else "class_i". DIR is created if missing.
#ifndef RN_EXPORT_EVAL_REPORT_H
#define RN_EXPORT_EVAL_REPORT_H

#include "layers/eval_counts.h"

// c must hold a confusion matrix; rows = the number of true classes (<= c->K).
int rn_eval_report_write(const char *dir, const rn_eval_counts *c, const char *const *names, int n_names, int rows,
                         rn_err *err);

#endif
