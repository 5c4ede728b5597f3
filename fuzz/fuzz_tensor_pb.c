/* libFuzzer target: serialized TensorProto parsing (or_parse_tensor_pb), as
 * used for the backend tests' input_K.pb files. A tensor that parses must
 * have a consistent shape and byte count. */
#include "graph.h"
#include "loader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    or_tensor t;
    char err[OR_ERRMSG_MAX];
    memset(&t, 0, sizeof t);
    if (or_parse_tensor_pb(data, size, &t, err, sizeof err) != ONNXRUN_OK) {
        if (t.data || t.name || t.owned) abort(); /* failure leaves it empty */
        return 0;
    }
    if (t.rank < 0 || t.rank > OR_MAX_RANK) abort();
    int64_t numel = or_shape_numel(t.rank, t.dims);
    size_t esize = or_dtype_size(t.dtype);
    if (numel < 0 || (esize && (size_t)numel * esize != t.nbytes)) abort();
    /* Touch every byte so ASan checks the buffer really is that long. */
    volatile unsigned char sum = 0;
    for (size_t i = 0; i < t.nbytes; i++) sum ^= ((const unsigned char *)t.data)[i];
    (void)sum;
    or_tensor_free_contents(&t);
    return 0;
}
