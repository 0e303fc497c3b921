// preproc.h — how resnet-predict and resnet-eval feed a model: the evaluation preprocessing the
// model file records (src/model_meta.h; docs/ONNX.md, "Model metadata"), overridden by the
// command line's --size, --resize or --crop-pct, --mean, --std; ImageNet's, with a one-line notice,
// for a file that records none (the ONNX zoo's, torchvision's exports). Class names likewise:
// --labels, else the file's, else ImageNet's list for a 1000-class model, else none. --ema loads a
// checkpoint's EMA of the weights instead of the weights (export/model_io.h).
//
// Ownership: rn_preproc_load hands out the graph (rn_graph_destroy) and the names (rn_labels_free).
#ifndef RN_EXPORT_PREPROC_H
#define RN_EXPORT_PREPROC_H

#include "data/opts.h"
#include "export/classes.h"
#include "src/cli.h"
#include "layers/graph.h"

// What the command line gave; 0 / NULL = not given.
typedef struct rn_preproc_flags {
    int ema;  // --ema: a checkpoint's EMA of the weights (export/model_io.h)
    int size, resize;
    double crop_pct;
    int has_mean, has_std;
    float mean[3], std[3];
    const char *labels;
} rn_preproc_flags;

#define RN_PREPROC_USAGE "[--ema] [--size S] [--resize R | --crop-pct F] [--mean M,M,M] [--std S,S,S] [--labels FILE]"
#define RN_PREPROC_HELP                                                                                        \
    "  --ema               a checkpoint's EMA of the weights ([train] ema_decay) instead of its weights\n"        \
    "  --size S            centre crop side (default: the model file's, else 224)\n"                            \
    "  --resize R          shorter side before the crop (>= S; default: the file's, else round(S / crop-pct))\n" \
    "  --crop-pct F        resize = round(S / F), 0 < F <= 1 (the file's, else 0.875: 224 of 256)\n"          \
    "  --mean M,M,M        RGB mean of pixels in [0, 1] (default: the file's, else ImageNet's)\n"               \
    "  --std S,S,S         RGB standard deviation (default: the file's, else ImageNet's)\n"                     \
    "  --labels FILE       class names, one per line (default: the file's, else ImageNet's for 1000 classes)\n"

// argv[*i] is one of the options above: 1 (taken, with its value if it has one: *i advanced); 0 when
// it is none of them; -1 after rn_cli_fail (the program exits 2).
int rn_preproc_option(const rn_cli *cli, int argc, char **argv, int *i, rn_preproc_flags *f);
// The options among themselves (--resize with --crop-pct, --resize < --size): 0, or 2 after rn_cli_fail.
int rn_preproc_flags_check(const rn_cli *cli, const rn_preproc_flags *f);

// Loads `model` (a checkpoint or an ONNX file, export/model_io.h) with its metadata, and sets o's
// size, resize, crop_pct, mean and std and the class names as described above. The notice goes to
// stderr as "PROG: ...". lab may be NULL (no names wanted). -1 with err on failure (nothing handed out).
int rn_preproc_load(const char *prog, const char *model, const rn_preproc_flags *f, rn_graph **g, rn_data_opts *o,
                    rn_labels *lab, rn_err *err);

#endif
