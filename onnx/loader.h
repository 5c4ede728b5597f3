/* The ONNX loader: turns a serialized ModelProto or TensorProto into the
 * runtime's own structures (runtime/graph.h). This directory is the only
 * place that sees protobuf types; callers only get or_graph / or_tensor.
 *
 * Every function returns ONNXRUN_OK or an onnxrun_status (ONNXRUN_ERR_MODEL
 * for anything wrong with the model, ONNXRUN_ERR_NOMEM, ONNXRUN_ERR_IO) and
 * writes a one-line message naming the file, node or tensor into errmsg.
 */
#ifndef OR_LOADER_H
#define OR_LOADER_H

#include "graph.h"

#include <stddef.h>

/* Parses a model held in memory. External tensor data is resolved relative to
 * model_dir and must stay inside it (NULL forbids external data). model_path
 * only names the file in messages (may be NULL). On success *out_graph holds
 * a topologically sorted graph; on failure it is NULL. The buffer is not
 * retained. Unknown ops are not an error here (or_graph_check_ops reports
 * them) so that tools can list them. */
int or_load_model(const void *buf, size_t len, const char *model_dir, const char *model_path,
                  or_graph **out_graph, char *errmsg, size_t errlen);

/* or_load_model's flags. */
enum {
    /* buf is a whole file mapped read-only and private (page-aligned),
     * charged against the memory cap (or_mem_charge): pages already
     * consumed are dropped while loading and uncharged (stats' released_bytes
     * says how many, also on failure). */
    OR_LOAD_MAPPED = 1,
    /* Unpack the whole model at once instead of one initializer at a time
     * (the path every model the split does not handle takes; for tests). */
    OR_LOAD_WHOLE = 2,
};

/* What a load did, for tests and diagnostics. */
typedef struct or_load_stats {
    bool streamed;         /* initializers were unpacked one at a time */
    size_t initializers;   /* graph initializers converted */
    size_t adopted;        /* of which raw_data was taken over, not copied */
    size_t released_bytes; /* mapped file bytes dropped while loading */
    size_t skeleton_bytes; /* the model without its initializers */
} or_load_stats;

/* or_load_model with flags (OR_LOAD_*) and statistics (stats may be NULL). */
int or_load_model_ex(const void *buf, size_t len, const char *model_dir, const char *model_path,
                     int flags, or_load_stats *stats, or_graph **out_graph, char *errmsg,
                     size_t errlen);

/* Parses a serialized TensorProto (as in the backend tests' input_K.pb) into a
 * standalone tensor: name strdup'ed, data owned (64-byte aligned). Release it
 * with or_tensor_free_contents. External data is not allowed. On failure out
 * is left empty. */
int or_parse_tensor_pb(const void *buf, size_t len, or_tensor *out, char *errmsg, size_t errlen);

/* Reads a file and parses it with or_parse_tensor_pb. */
int or_load_tensor_pb_file(const char *path, or_tensor *out, char *errmsg, size_t errlen);

#endif
