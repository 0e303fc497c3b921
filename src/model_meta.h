// model_meta.h — what a model file says about how to feed it: the evaluation preprocessing it was
// trained with and its class names, as string key/value pairs. The one encoder and decoder for both
// carriers: a checkpoint's META lines (optim/checkpoint.h) and an ONNX file's metadata_props
// (export/onnx.h). The keys are documented in docs/ONNX.md ("Model metadata").
//
// Every value is one line of printable text (class names are percent-escaped), so the pairs fit a
// checkpoint's "key=value\n" lines as they are. Decoding trusts nothing: a malformed value is an
// error naming the file and the key; keys it does not know are ignored (a checkpoint holds many).
//
// Ownership: rn_kv_add copies its strings; rn_kv_free frees them. rn_model_meta_decode allocates the
// class names; rn_model_meta_free frees them.
#ifndef RN_MODEL_META_H
#define RN_MODEL_META_H

#include "src/common.h"

#define RN_META_SIZE "preprocess.size"
#define RN_META_RESIZE "preprocess.resize"
#define RN_META_CROP_PCT "preprocess.crop_pct"
#define RN_META_INTERP "preprocess.interpolation"
#define RN_META_MEAN "preprocess.mean"
#define RN_META_STD "preprocess.std"
#define RN_META_CHANNELS "preprocess.channel_order"
#define RN_META_RANGE "preprocess.pixel_range"
#define RN_META_CLASSES "classes"
#define RN_META_MAX_CLASSES 1000000

// A list of string pairs in insertion order.
typedef struct rn_kv {
    int n, cap;
    char **key, **val;
} rn_kv;

void rn_kv_add(rn_kv *kv, const char *key, const char *val);
void rn_kv_free(rn_kv *kv);

// The evaluation protocol: the shorter side resized to `resize` (bilinear, antialiased), a centre
// crop of size x size, RGB scaled to [0, 1], then (x - mean) / std per channel.
typedef struct rn_preproc {
    int size, resize;
    double crop_pct;  // size / resize as configured ([data] crop_pct); used when only the size is overridden
    float mean[3], std[3];
} rn_preproc;

typedef struct rn_model_meta {
    int has_preproc;  // 0: the file says nothing about its preprocessing (the zoo's, torchvision's)
    rn_preproc pre;
    int n_classes;    // 0: no class names
    char **classes;   // (n_classes)
} rn_model_meta;

// Appends m's pairs to kv (nothing for the parts m lacks).
void rn_model_meta_encode(const rn_model_meta *m, rn_kv *kv);
// Reads the pairs of file `what` into *m (zeroed first). A preprocess.* key given twice, a missing
// one among those present (size, resize, mean, std are needed once any preprocess.* key is there),
// a value that does not parse or is out of range, an unsupported interpolation, channel order or
// pixel range, a bad escape or an empty class name: -1 with "WHAT: metadata 'KEY': ...".
int rn_model_meta_decode(const char *what, int n, const char *const *keys, const char *const *vals,
                         rn_model_meta *m, rn_err *err);
// The class names as copies (n names) into m, replacing any.
void rn_model_meta_set_classes(rn_model_meta *m, const char *const *names, int n);
void rn_model_meta_free(rn_model_meta *m);

// ImageNet's: 224 crop of 256, mean 0.485,0.456,0.406, std 0.229,0.224,0.225 (torchvision's cards).
rn_preproc rn_preproc_imagenet(void);

#endif
