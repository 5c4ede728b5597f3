/* Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0).
 *
 * Reading accepts the numeric dtypes onnxrun knows (f2 f4 f8, i1 i2 i4 i8,
 * u1 u2 u4 u8, b1), in little-endian, big-endian (byte-swapped on load) or
 * '|' (one-byte) order, and converts fortran_order arrays to C order. The
 * header is validated strictly: the data must be exactly numel * itemsize
 * bytes, rank <= ONNXRUN_MAX_RANK, dims non-negative and every size product
 * overflow-checked.
 *
 * Writing produces version 1.0 with the header padded so the data starts at a
 * multiple of 64 bytes, as numpy does. bfloat16 and the float8 types have
 * no numpy dtype: they are written as '<u2' and '|u1' holding the raw bit
 * patterns (and read back as uint16 / uint8).
 */
#ifndef OR_NPY_H
#define OR_NPY_H

#include "onnxrun.h"

#include <stddef.h>
#include <stdint.h>

typedef struct or_npy {
    onnxrun_dtype dtype;
    int rank; /* 0 for a scalar */
    int64_t dims[ONNXRUN_MAX_RANK];
    void *data; /* C order, native byte order, owned (malloc) */
    size_t nbytes;
} or_npy;

/* Parses a whole .npy file held in memory. On failure returns
 * ONNXRUN_ERR_INPUT (malformed) or ONNXRUN_ERR_NOMEM, writes a one-line
 * message into err, and leaves out empty. */
onnxrun_status or_npy_parse(const void *buf, size_t len, or_npy *out, char *err, size_t errlen);
/* Same from a file; ONNXRUN_ERR_IO when it cannot be read. */
onnxrun_status or_npy_load_file(const char *path, or_npy *out, char *err, size_t errlen);
void or_npy_free(or_npy *npy);

/* The version 1.0 header (magic, version, length, dict, padding) for a C-order
 * array; *out is malloc'd and *out_len is a multiple of 64.
 * ONNXRUN_ERR_ARGUMENT for a dtype numpy cannot represent. */
onnxrun_status or_npy_header(onnxrun_dtype dtype, int rank, const int64_t *dims,
                             unsigned char **out, size_t *out_len, char *err, size_t errlen);
/* Writes header + data; nbytes must equal numel * itemsize. */
onnxrun_status or_npy_write_file(const char *path, onnxrun_dtype dtype, int rank,
                                 const int64_t *dims, const void *data, size_t nbytes, char *err,
                                 size_t errlen);

/* numpy's descr for a dtype ("<f4"), or NULL when it cannot be stored. */
const char *or_npy_descr(onnxrun_dtype dtype);

#endif
