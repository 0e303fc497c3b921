// config_table.h — one table per config section: each key's name, type, bounds or choices and a
// one-line doc, bound by offset to the field it sets. From the table come the setter (parsing and
// validation through src/parse.h), the error messages (unknown key: the section's keys and the
// nearest one; bad value: what was expected), the printed effective config and the Markdown
// reference. Defaults stay in each struct's _default() function and are printed from it.
//
// Adding a key is one line in its section's table, e.g.
//     RN_K_INT("workers", rn_data_opts, workers, 0, 256, "decode threads; 0 decodes in the caller's thread"),
#ifndef RN_CONFIG_TABLE_H
#define RN_CONFIG_TABLE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "src/common.h"

typedef enum rn_key_type {
    RN_KEY_INT,       // int in [lo, hi]
    RN_KEY_U64,       // uint64_t, any non-negative integer
    RN_KEY_DOUBLE,    // double in [lo, hi]
    RN_KEY_DOUBLES,   // n consecutive double fields, "a, b", each in [lo, hi]
    RN_KEY_FLOATS,    // float[n], n comma-separated numbers, each in [lo, hi]
    RN_KEY_BOOL,      // int 0 or 1: yes/no, true/false, on/off, 1/0
    RN_KEY_CHOICE,    // int: the index of the name in choices, or values[index] when values is set
    RN_KEY_PATH,      // char[n]; "" = not set
    RN_KEY_INT_LIST,  // int[n] with its count in the int at count_off; 1..n integers in [lo, hi]
    RN_KEY_CUSTOM,    // set and print functions of its own
} rn_key_type;

enum {
    RN_KEY_ALIAS = 1,       // another name for part of a key: accepted, documented, not printed
    RN_KEY_LO_OPEN = 2,     // lo itself is excluded (> lo)
    RN_KEY_ORDERED = 4,     // DOUBLES / INT_LIST: non-decreasing
    RN_KEY_INCREASING = 8,  // INT_LIST: strictly increasing
    RN_KEY_OR_MINUS1 = 16,  // INT / DOUBLE: -1 is accepted too (a "same as another key" default)
};

typedef struct rn_key rn_key;
struct rn_key {
    const char *name;
    rn_key_type type;
    size_t off;         // offset of the field in the section's struct
    double lo, hi;      // bounds (numbers and list elements); +-INFINITY: none
    int n;              // DOUBLES / FLOATS: count; PATH: capacity; INT_LIST: capacity
    size_t count_off;   // INT_LIST: offset of its int count
    const char *const *choices;  // CHOICE: NULL-terminated names
    const int *values;           // CHOICE: stored value of each name (NULL: its index)
    unsigned flags;
    void (*after)(void *obj);    // called after a successful set (e.g. blocks clears depth)
    int (*set)(void *obj, const rn_key *k, const char *v, rn_err *err);  // CUSTOM
    void (*print)(const void *obj, const rn_key *k, FILE *f);          // CUSTOM
    const char *accepts;  // CUSTOM: what the value may be, for messages and the reference
    const char *doc;    // one line, Markdown
};

typedef struct rn_section {
    const char *name;
    const rn_key *keys;
    int n_keys;
    const char *doc;  // one line above the reference table, or NULL
} rn_section;

#define RN_SECTION(nm, keys, d) {nm, keys, (int)(sizeof keys / sizeof *keys), d}

// The field's offset, refusing at compile time a field whose type is not CT.
#define RN_FIELD(T, f, CT) (offsetof(T, f) + 0 * sizeof(_Generic(((T *)0)->f, CT: 1)))
#define RN_K_INT(K, T, f, L, H, D) {.name = K, .type = RN_KEY_INT, .off = RN_FIELD(T, f, int), .lo = L, .hi = H, .doc = D}
#define RN_K_U64(K, T, f, D) {.name = K, .type = RN_KEY_U64, .off = RN_FIELD(T, f, uint64_t), .doc = D}
#define RN_K_DOUBLE(K, T, f, L, H, D) \
    {.name = K, .type = RN_KEY_DOUBLE, .off = RN_FIELD(T, f, double), .lo = L, .hi = H, .doc = D}
#define RN_K_DOUBLES(K, T, f, N, L, H, FL, D) \
    {.name = K, .type = RN_KEY_DOUBLES, .off = RN_FIELD(T, f, double), .n = N, .lo = L, .hi = H, .flags = FL, .doc = D}
#define RN_K_BOOL(K, T, f, D) {.name = K, .type = RN_KEY_BOOL, .off = RN_FIELD(T, f, int), .doc = D}
#define RN_K_CHOICE(K, T, f, C, D) {.name = K, .type = RN_KEY_CHOICE, .off = RN_FIELD(T, f, int), .choices = C, .doc = D}
#define RN_K_PATH(K, T, f, D) \
    {.name = K, .type = RN_KEY_PATH, .off = RN_FIELD(T, f, char *), .n = (int)sizeof(((T *)0)->f), .doc = D}
#define RN_K_FLOATS(K, T, f, L, H, FL, D)                                                                     \
    {.name = K, .type = RN_KEY_FLOATS, .off = RN_FIELD(T, f, float *), .lo = L, .hi = H,                      \
     .n = (int)(sizeof(((T *)0)->f) / sizeof(float)), .flags = FL, .doc = D}
#define RN_K_INT_LIST(K, T, f, cnt, L, H, FL, D)                                                              \
    {.name = K, .type = RN_KEY_INT_LIST, .off = RN_FIELD(T, f, int *), .lo = L, .hi = H,                      \
     .n = (int)(sizeof(((T *)0)->f) / sizeof(int)), .count_off = RN_FIELD(T, cnt, int), .flags = FL, .doc = D}

// A section's struct, as the loader and printer see it.
typedef struct rn_conf_sec {
    const rn_section *sec;
    void *obj;
} rn_conf_sec;

// One key of one section; -1 with "[sec] key: ..." (unknown key: the known ones and the nearest).
int rn_section_set(const rn_section *s, void *obj, const char *key, const char *value, rn_err *err);
// A config file into the sections: unknown sections and keys, bad values, a key or a section given
// twice, no section at all: -1 with a message naming file:line (or the file).
int rn_conf_load(const char *path, const rn_conf_sec *secs, int n, rn_err *err);
// The line of `path` that sets [section] key (the last one), 0 when none does or the file cannot be
// read: for messages about checks between keys, which run after loading.
int rn_conf_key_line(const char *path, const char *section, const char *key);
// "section.key=value" (--set), of any length.
int rn_conf_override(const char *assignment, const rn_conf_sec *secs, int n, rn_err *err);
// Every section and key as INI text that rn_conf_load reads back to the same values.
void rn_conf_print(const rn_conf_sec *secs, int n, FILE *f);
// The Markdown reference: per section a table of key, default (from `defaults`), accepted values, doc.
void rn_conf_doc(const rn_conf_sec *defaults, int n, FILE *f);
// 1 when every key of the section has the same value in a and b.
int rn_section_equal(const rn_section *s, const void *a, const void *b);

#endif
