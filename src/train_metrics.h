// train_metrics.h — a run's per-epoch record: metrics.csv (header rn_metrics_header, accuracies in
// percent) and an SVG plot of the loss and accuracy curves. Both are rewritten whole from the
// history after every epoch, through a temporary file and a rename.
#ifndef RN_TRAIN_METRICS_H
#define RN_TRAIN_METRICS_H

#include "src/train_state.h"

#define RN_METRICS_PATH 2048

extern const char *const rn_metrics_header;

int rn_metrics_write_csv(const char *path, const rn_epoch_row *rows, int n, rn_err *err);
// x axis: epochs 1..epochs (the planned run); title: e.g. the config name.
int rn_metrics_write_svg(const char *path, const char *title, const rn_epoch_row *rows, int n, int epochs,
                         rn_err *err);

#endif
