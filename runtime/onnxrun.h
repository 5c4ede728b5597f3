/* onnxrun public API: load an ONNX model and run it on the CPU.
 *
 * Handles are opaque. Every call returns an onnxrun_status; on failure the
 * message is kept on the session (onnxrun_errmsg), as in SQLite. A session
 * whose creation failed is still returned (unless memory ran out) so that the
 * caller can read the message; it must be destroyed like any other.
 *
 * A session is not thread-safe: use one session per thread (creating several
 * sessions from the same buffer is cheap).
 */
#ifndef ONNXRUN_H
#define ONNXRUN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONNXRUN_MAX_RANK 8

typedef enum onnxrun_status {
    ONNXRUN_OK = 0,
    ONNXRUN_ERR_MODEL = 2,    /* load, validation or unsupported op */
    ONNXRUN_ERR_INPUT = 3,    /* missing, malformed, wrong dtype or shape */
    ONNXRUN_ERR_NOMEM = 4,    /* allocation failed or memory limit exceeded */
    ONNXRUN_ERR_IO = 5,       /* file could not be read or written */
    ONNXRUN_ERR_ARGUMENT = 6, /* API misuse: NULL pointer, bad index */
    ONNXRUN_ERR_INTERNAL = 7,
} onnxrun_status;

/* Values match ONNX TensorProto.DataType. */
typedef enum onnxrun_dtype {
    ONNXRUN_UNDEFINED = 0,
    ONNXRUN_FLOAT = 1,
    ONNXRUN_UINT8 = 2,
    ONNXRUN_INT8 = 3,
    ONNXRUN_UINT16 = 4,
    ONNXRUN_INT16 = 5,
    ONNXRUN_INT32 = 6,
    ONNXRUN_INT64 = 7,
    ONNXRUN_STRING = 8,
    ONNXRUN_BOOL = 9,
    ONNXRUN_FLOAT16 = 10,
    ONNXRUN_DOUBLE = 11,
    ONNXRUN_UINT32 = 12,
    ONNXRUN_UINT64 = 13,
    ONNXRUN_BFLOAT16 = 16,
} onnxrun_dtype;

typedef struct onnxrun_session onnxrun_session;

/* Weight precision for the recurrent and matrix kernels. Reduced precision is
 * opt-in: weights are stored in it after load, activations stay float32. */
typedef enum onnxrun_precision {
    ONNXRUN_PRECISION_FP32 = 0, /* default: exact float32 weights */
    ONNXRUN_PRECISION_BF16 = 1, /* bfloat16 weights (AVX512-BF16 where present) */
    ONNXRUN_PRECISION_INT8 = 2, /* int8 weights, per-row scales (VNNI where present) */
} onnxrun_precision;

/* A custom allocator for every allocation the session makes (weights, arena,
 * tensors, bookkeeping). alloc returns memory aligned to at least `alignment`
 * bytes (a power of two, at most 64) or NULL; free accepts NULL. */
typedef struct onnxrun_allocator {
    void *(*alloc)(void *user, size_t size, size_t alignment);
    void (*free)(void *user, void *ptr);
    void *user;
} onnxrun_allocator;

typedef struct onnxrun_options {
    size_t size;     /* sizeof(onnxrun_options): lets the struct grow */
    int num_threads; /* intra-op threads, default 1 */
    /* Fails creation or a run with ONNXRUN_ERR_NOMEM instead of exceeding
     * this many bytes of session memory; 0 means no limit. */
    size_t max_memory_bytes;
    const onnxrun_allocator *allocator; /* NULL: the C library's malloc */
    onnxrun_precision weight_precision; /* default ONNXRUN_PRECISION_FP32 */
} onnxrun_options;

/* Describes a graph input or output; dims[i] < 0 is a symbolic or unknown
 * dimension whose name (possibly NULL) is dim_names[i]. Pointers stay valid
 * for the session's lifetime. */
typedef struct onnxrun_tensor_info {
    const char *name;
    onnxrun_dtype dtype;
    int rank; /* -1 when unknown */
    int64_t dims[ONNXRUN_MAX_RANK];
    const char *dim_names[ONNXRUN_MAX_RANK];
} onnxrun_tensor_info;

/* A tensor owned by the session, valid until the next run or destroy. */
typedef struct onnxrun_tensor_view {
    const char *name;
    onnxrun_dtype dtype;
    int rank;
    int64_t dims[ONNXRUN_MAX_RANK];
    const void *data; /* row-major, densely packed */
    size_t nbytes;
} onnxrun_tensor_view;

void onnxrun_options_init(onnxrun_options *options);

onnxrun_status onnxrun_session_create_from_file(const char *path, const onnxrun_options *options,
                                                onnxrun_session **out_session);
/* The buffer is not retained; external data resolves relative to model_dir
 * (NULL forbids external data). */
onnxrun_status onnxrun_session_create_from_buffer(const void *buffer, size_t length,
                                                  const char *model_dir,
                                                  const onnxrun_options *options,
                                                  onnxrun_session **out_session);
void onnxrun_session_destroy(onnxrun_session *session);

/* The message of the last failed call, or "" after a success. */
const char *onnxrun_errmsg(const onnxrun_session *session);
const char *onnxrun_status_name(onnxrun_status status);

size_t onnxrun_input_count(const onnxrun_session *session);
size_t onnxrun_output_count(const onnxrun_session *session);
onnxrun_status onnxrun_input_info(const onnxrun_session *session, size_t index,
                                  onnxrun_tensor_info *out_info);
onnxrun_status onnxrun_output_info(const onnxrun_session *session, size_t index,
                                   onnxrun_tensor_info *out_info);

/* Binds an input by index. The data is borrowed, not copied, and must stay
 * valid and unchanged until onnxrun_run returns. */
onnxrun_status onnxrun_set_input(onnxrun_session *session, size_t index, onnxrun_dtype dtype,
                                 int rank, const int64_t *dims, const void *data, size_t nbytes);
/* Finds an input's index by name. */
onnxrun_status onnxrun_input_index(const onnxrun_session *session, const char *name,
                                   size_t *out_index);

onnxrun_status onnxrun_run(onnxrun_session *session);

onnxrun_status onnxrun_get_output(onnxrun_session *session, size_t index,
                                  onnxrun_tensor_view *out_view);

const char *onnxrun_dtype_name(onnxrun_dtype dtype);
size_t onnxrun_dtype_size(onnxrun_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif
