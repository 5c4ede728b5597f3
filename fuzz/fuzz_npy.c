/* libFuzzer target: the .npy reader (runtime/npy.h). A file that parses must
 * describe exactly its data, and re-encoding its header must round-trip. */
#include "npy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const or_npy *a) {
    unsigned char *hdr = NULL;
    size_t hlen = 0;
    char err[256];
    if (or_npy_header(a->dtype, a->rank, a->dims, &hdr, &hlen, err, sizeof err) != ONNXRUN_OK)
        return; /* dtypes numpy cannot store */
    unsigned char *file = malloc(hlen + a->nbytes + 1);
    if (file) {
        memcpy(file, hdr, hlen);
        if (a->nbytes) memcpy(file + hlen, a->data, a->nbytes);
        or_npy b;
        if (or_npy_parse(file, hlen + a->nbytes, &b, err, sizeof err) != ONNXRUN_OK) abort();
        if (b.dtype != a->dtype || b.rank != a->rank || b.nbytes != a->nbytes ||
            memcmp(b.dims, a->dims, sizeof a->dims[0] * (size_t)a->rank) != 0 ||
            (a->nbytes && memcmp(b.data, a->data, a->nbytes) != 0))
            abort();
        or_npy_free(&b);
        free(file);
    }
    free(hdr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    or_npy a;
    char err[256];
    if (or_npy_parse(data, size, &a, err, sizeof err) != ONNXRUN_OK) {
        if (!memchr(err, '\0', sizeof err)) abort();
        return 0;
    }
    if (a.rank < 0 || a.rank > ONNXRUN_MAX_RANK) abort();
    size_t numel = 1;
    for (int d = 0; d < a.rank; d++) {
        if (a.dims[d] < 0) abort();
        numel *= (size_t)a.dims[d];
    }
    if (numel * onnxrun_dtype_size(a.dtype) != a.nbytes || a.nbytes > size) abort();
    check_roundtrip(&a);
    or_npy_free(&a);
    return 0;
}
