// make_jpeg.c — writes a smooth W x H RGB test picture as a JPEG, for the install test.
//   test_install_jpeg OUT.jpg W H SEED
#include "tests/test_data_util.h"  // first: it sets _GNU_SOURCE

#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: test_install_jpeg OUT.jpg W H SEED\n");
        return 2;
    }
    int w = atoi(argv[2]), h = atoi(argv[3]);
    if (w < 1 || h < 1 || w > 4096 || h > 4096) {
        fprintf(stderr, "test_install_jpeg: W and H must be in [1, 4096]\n");
        return 2;
    }
    uint8_t *px = smooth_rgb(w, h, atoi(argv[4]));
    write_jpeg(argv[1], px, w, h, TJPF_RGB, 95);
    free(px);
    return 0;
}
