/* Shared between the loader's files; the only header that includes the
 * generated protobuf-c bindings. */
#ifndef OR_PB_INTERNAL_H
#define OR_PB_INTERNAL_H

#include "../runtime/alloc.h"
#include "graph.h"
#include "onnx.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is rejected before protobuf-c (which recurses
 * without a limit) sees the buffer; real models nest a few levels. */
#define OR_PB_MAX_DEPTH 64

/* Formats a message into err and returns status. */
int or_pb_err(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Whether the encoded message nests at most max_depth levels. Malformed
 * encodings pass: protobuf-c reports those itself. */
bool or_pb_depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                    int max_depth);

/* Decodes a TensorProto's type, shape and data into out (name, kind and the
 * other graph fields are left alone). what names the tensor in messages, e.g.
 * "initializer 'W'". External data resolves inside model_dir (NULL forbids
 * it). On failure out holds no data and no allocation. */
int or_pb_decode_tensor(const Onnx__TensorProto *tp, const char *what, const char *model_dir,
                        or_tensor *out, char *err, size_t errlen);

/* Loads external data (data_location = EXTERNAL) into out->data/owned. */
int or_pb_load_external(const Onnx__TensorProto *tp, const char *what, const char *model_dir,
                        size_t nbytes, or_tensor *out, char *err, size_t errlen);

/* 64-byte aligned allocation of at least one cache line; or_free() releases it. */
void *or_pb_aligned_alloc(size_t nbytes);

/* Converts little-endian elements of esize bytes to host order in place. */
void or_pb_le_to_host(void *data, size_t nbytes, size_t esize);

#endif
