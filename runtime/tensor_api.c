/* The public opaque tensor (onnxrun_tensor): a dtype, a shape and a buffer it
 * owns. It belongs to no session: it is created outside any session's memory
 * context, so its memory comes from the C library (no session allocator or
 * memory cap applies). */
#include "alloc.h"
#include "onnxrun.h"
#include "session_internal.h"

#include <stdbool.h>
#include <string.h>

#define TENSOR_ALIGN 64

struct onnxrun_tensor {
    onnxrun_dtype dtype;
    int rank;
    int64_t dims[ONNXRUN_MAX_RANK];
    size_t nbytes;
    void *data; /* [nbytes], TENSOR_ALIGN-aligned */
};

/* The byte size of a shape, false when it is invalid or overflows. */
static bool shape_bytes(onnxrun_dtype dtype, int rank, const int64_t *dims, size_t *out) {
    size_t elem = onnxrun_dtype_size(dtype);
    if (elem == 0 || rank < 0 || rank > ONNXRUN_MAX_RANK || (rank > 0 && !dims)) return false;
    size_t bytes = elem;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0 || (uint64_t)dims[d] > SIZE_MAX) return false;
        if (__builtin_mul_overflow(bytes, (size_t)dims[d], &bytes)) return false;
    }
    *out = bytes;
    return true;
}

onnxrun_status onnxrun_tensor_create(onnxrun_dtype dtype, int rank, const int64_t *dims,
                                     const void *data, size_t nbytes, onnxrun_tensor **out_tensor) {
    if (!out_tensor) return ONNXRUN_ERR_ARGUMENT;
    *out_tensor = NULL;
    size_t bytes;
    if (!shape_bytes(dtype, rank, dims, &bytes) || (data && nbytes != bytes))
        return ONNXRUN_ERR_ARGUMENT;
    onnxrun_tensor *t = or_calloc(1, sizeof *t);
    if (!t) return ONNXRUN_ERR_NOMEM;
    size_t padded = (bytes + TENSOR_ALIGN - 1) / TENSOR_ALIGN * TENSOR_ALIGN;
    t->data = padded >= bytes ? or_aligned_alloc(TENSOR_ALIGN, padded) : NULL;
    if (!t->data) {
        or_free(t);
        return ONNXRUN_ERR_NOMEM;
    }
    if (data && bytes)
        memcpy(t->data, data, bytes);
    else
        memset(t->data, 0, bytes);
    t->dtype = dtype;
    t->rank = rank;
    for (int d = 0; d < rank; d++) t->dims[d] = dims[d];
    t->nbytes = bytes;
    *out_tensor = t;
    return ONNXRUN_OK;
}

void onnxrun_tensor_destroy(onnxrun_tensor *tensor) {
    if (!tensor) return;
    or_free(tensor->data);
    or_free(tensor);
}

onnxrun_status onnxrun_tensor_get_view(const onnxrun_tensor *tensor,
                                       onnxrun_tensor_view *out_view) {
    if (!tensor || !out_view) return ONNXRUN_ERR_ARGUMENT;
    memset(out_view, 0, sizeof *out_view);
    out_view->dtype = tensor->dtype;
    out_view->rank = tensor->rank;
    memcpy(out_view->dims, tensor->dims, sizeof tensor->dims);
    out_view->data = tensor->data;
    out_view->nbytes = tensor->nbytes;
    return ONNXRUN_OK;
}

void *onnxrun_tensor_data(onnxrun_tensor *tensor) {
    return tensor ? tensor->data : NULL;
}

onnxrun_status onnxrun_set_input_tensor(onnxrun_session *session, size_t index,
                                        const onnxrun_tensor *tensor) {
    if (!tensor) return or_session_null_argument(session, "input tensor");
    return onnxrun_set_input(session, index, tensor->dtype, tensor->rank, tensor->dims,
                             tensor->data, tensor->nbytes);
}

onnxrun_status onnxrun_get_output_tensor(onnxrun_session *session, size_t index,
                                         onnxrun_tensor **out_tensor) {
    if (!out_tensor) return or_session_null_argument(session, "out_tensor");
    *out_tensor = NULL;
    onnxrun_tensor_view view;
    onnxrun_status status = onnxrun_get_output(session, index, &view);
    if (status != ONNXRUN_OK) return status;
    return onnxrun_tensor_create(view.dtype, view.rank, view.dims, view.data, view.nbytes,
                                 out_tensor);
}
