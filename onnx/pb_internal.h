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

/* Like or_pb_decode_tensor for a tp unpacked with or_pb_allocator: a large
 * raw_data block may become out's buffer instead of being copied (then
 * tp->raw_data.data is NULL and *adopted is true). */
int or_pb_decode_tensor_adopt(Onnx__TensorProto *tp, const char *what, const char *model_dir,
                              or_tensor *out, bool *adopted, char *err, size_t errlen);

/* protobuf-c allocations through or_malloc; blocks of OR_PB_ADOPT_MIN bytes
 * or more are 64-byte aligned and padded like or_pb_aligned_alloc's. */
#define OR_PB_ADOPT_MIN 256
extern ProtobufCAllocator or_pb_allocator;

/* A graph initializer entry inside a serialized model: the key's first byte,
 * the TensorProto's first byte and the end. */
typedef struct or_pb_span {
    size_t start, value, end;
} or_pb_span;

/* A model split for streaming: the skeleton is the model without the graph's
 * initializer entries, which are listed in file order. */
typedef struct or_pb_layout {
    uint8_t *skeleton;
    size_t skeleton_len;
    or_pb_span *inits;
    size_t n_inits;
} or_pb_layout;

enum { OR_SPLIT_OK, OR_SPLIT_FALLBACK, OR_SPLIT_NOMEM };

/* Splits a serialized ModelProto. OR_SPLIT_FALLBACK: the model is malformed
 * or uses an encoding the split does not handle (groups, the graph field
 * twice...) or has no initializers; unpack it whole instead. out is empty
 * unless OR_SPLIT_OK. */
int or_pb_split_model(const uint8_t *buf, size_t len, or_pb_layout *out);
void or_pb_layout_free(or_pb_layout *l);

/* Whether a TensorProto's top-level fields are well formed; *name (not
 * terminated, may be NULL) is the last name field seen before any fault. */
bool or_pb_tensor_wire_ok(const uint8_t *buf, size_t len, const char **name, size_t *name_len);

/* Finds a TensorProto's raw_data field (offsets into buf); false when it is
 * absent, repeated or the message is malformed. */
bool or_pb_find_raw_data(const uint8_t *buf, size_t len, or_pb_span *raw);

/* Drops the pages of a read-only private file mapping from map + done up to
 * the page holding byte upto (exclusive; done is page-aligned); returns the
 * new done. */
size_t or_pb_release_pages(const void *map, size_t done, size_t upto);

/* Loads external data (data_location = EXTERNAL) into out->data/owned. */
int or_pb_load_external(const Onnx__TensorProto *tp, const char *what, const char *model_dir,
                        size_t nbytes, or_tensor *out, char *err, size_t errlen);

/* 64-byte aligned allocation of at least one cache line; or_free() releases it. */
void *or_pb_aligned_alloc(size_t nbytes);

/* Converts little-endian elements of esize bytes to host order in place. */
void or_pb_le_to_host(void *data, size_t nbytes, size_t esize);

#endif
