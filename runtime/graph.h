/* The runtime's own model representation: tensors, attributes, nodes and the
 * graph. The loader (onnx/) fills these from protobuf; nothing outside onnx/
 * sees protobuf types. */
#ifndef OR_GRAPH_H
#define OR_GRAPH_H

#include "onnxrun.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OR_MAX_RANK ONNXRUN_MAX_RANK
#define OR_ERRMSG_MAX 1024

/* dtype values match ONNX TensorProto.DataType (onnxrun_dtype plus the rest). */
enum {
    OR_UNDEFINED = 0,
    OR_FLOAT = 1,
    OR_UINT8 = 2,
    OR_INT8 = 3,
    OR_UINT16 = 4,
    OR_INT16 = 5,
    OR_INT32 = 6,
    OR_INT64 = 7,
    OR_STRING = 8,
    OR_BOOL = 9,
    OR_FLOAT16 = 10,
    OR_DOUBLE = 11,
    OR_UINT32 = 12,
    OR_UINT64 = 13,
    OR_COMPLEX64 = 14,
    OR_COMPLEX128 = 15,
    OR_BFLOAT16 = 16,
    OR_FLOAT8E4M3FN = 17,
    OR_FLOAT8E4M3FNUZ = 18,
    OR_FLOAT8E5M2 = 19,
    OR_FLOAT8E5M2FNUZ = 20,
    /* Sub-byte types: packed in TensorProto, but one byte per element in
     * memory (like ml_dtypes): int4/int2 sign-extended, uint4/uint2 zero-
     * extended, float4e2m1 as its 4-bit code. */
    OR_UINT4 = 21,
    OR_INT4 = 22,
    OR_FLOAT4E2M1 = 23,
    OR_FLOAT8E8M0 = 24,
    OR_UINT2 = 25,
    OR_INT2 = 26,
    OR_DTYPE_COUNT
};

typedef enum or_tensor_kind {
    OR_T_ACTIVATION = 0, /* produced by a node; lives in the arena */
    OR_T_INPUT,          /* graph input bound by the caller; data borrowed */
    OR_T_INITIALIZER,    /* weights/constants from the model; read-only */
} or_tensor_kind;

typedef struct or_tensor {
    char *name;
    int dtype;
    int rank; /* -1 while unknown */
    int64_t dims[OR_MAX_RANK];
    char *dim_params[OR_MAX_RANK]; /* symbolic dim names (graph inputs/outputs) */
    void *data;                    /* row-major, densely packed */
    size_t nbytes;
    or_tensor_kind kind;
    bool is_static;    /* value known while planning: initializer or folded */
    bool value_pinned; /* graph input whose value the plan depends on */
    bool is_graph_output;
    int producer; /* node index, -1 for inputs/initializers */
    int last_use; /* last consumer's position in the schedule */
    void *owned;  /* heap or mapping owned by this tensor (initializers,
                     folded values) */
    size_t owned_len;
    bool owned_is_mapping; /* owned came from mmap */
    bool released;         /* initializer freed after its only reader packed it
                              (runtime/weights.h): data is NULL, shape kept */
    bool external;         /* activation whose buffer the session sets before each run (a
                              streaming state's next value): kept out of the arena */
    size_t arena_offset;
} or_tensor;

typedef enum or_attr_type {
    OR_ATTR_UNDEFINED = 0,
    OR_ATTR_FLOAT = 1,
    OR_ATTR_INT = 2,
    OR_ATTR_STRING = 3,
    OR_ATTR_TENSOR = 4,
    OR_ATTR_GRAPH = 5,
    OR_ATTR_FLOATS = 6,
    OR_ATTR_INTS = 7,
    OR_ATTR_STRINGS = 8,
    OR_ATTR_TENSORS = 9,
    OR_ATTR_GRAPHS = 10,
    OR_ATTR_SPARSE_TENSOR = 11,
    OR_ATTR_SPARSE_TENSORS = 12,
    OR_ATTR_TYPE_PROTO = 13,
    OR_ATTR_TYPE_PROTOS = 14,
} or_attr_type;

typedef struct or_attr {
    char *name;
    or_attr_type type;
    float f;
    int64_t i;
    char *s; /* NUL-terminated; s_len excludes the NUL */
    size_t s_len;
    or_tensor *t; /* standalone tensor (not in the graph's table), owned */
    size_t n;     /* element count of floats/ints/strings */
    float *floats;
    int64_t *ints;
    char **strings;
} or_attr;

struct or_graph;
struct or_node;
typedef int (*or_run_fn)(struct or_graph *g, struct or_node *n);

typedef struct or_node {
    char *name; /* never NULL: the loader invents "<op>_<index>" when missing */
    char *op_type;
    char *domain; /* "" for the default domain */
    int op;       /* or_op_id from ops/ops.def */
    int opset;    /* opset version of the node's domain */
    int n_inputs;
    int *inputs; /* tensor indices; -1 for an absent optional input */
    int n_outputs;
    int *outputs;
    int n_attrs;
    or_attr *attrs;

    /* Filled by prepare, reset before each re-plan. */
    or_run_fn run;
    void *state;
    void (*free_state)(void *state);
    bool folded; /* ran while planning: outputs are static */
    /* Output 0 holds input 0's bytes unchanged (Reshape, Squeeze, Identity...):
     * the planner may place both in one arena slot, and run then copies
     * nothing (it must accept output and input at the same address). */
    bool output_is_view;
    /* Working memory the op asked for in prepare (or_request_scratch): a
     * slot of the arena alive only while this node runs, shared with other
     * nodes' activations and scratch at other times. Its contents do not
     * survive between runs. */
    size_t scratch_bytes;
    void *scratch;
    /* Bit k: run never reads input k's bytes, only its shape (a recurrent
     * node that reads X·Wᵀ from embedding tables instead of X). Never set
     * on the input of an output_is_view node, which shares its bytes. */
    uint32_t unread_inputs;
    /* No running node reads its outputs' bytes and none is a graph output:
     * the planner skips it and gives its outputs no memory. */
    bool dead;
    /* -1, or the index of an earlier node whose run also runs this one (two
     * recurrent layers pipelined across threads, ops/recurrent_pipe.c): the
     * loop skips this node, and its outputs and scratch are live from that
     * node on. Set in prepare; the planner clears it unless every input this
     * node reads is static, written by a node before that one, or written
     * by that node itself (or a view of such a tensor). Which of the running
     * node's outputs may feed this one, and when, is that node's business:
     * the pipelined layers hand Y over step by step, and never pair a node
     * that reads the first layer's Y_h or Y_c (written at its end). */
    int run_by;

    /* Op-owned data kept across re-plans (e.g. packed weights). */
    void *cache;
    void (*free_cache)(void *cache);
    /* cache belongs to another graph (a clone's original, runtime/session_clone.c):
     * read it, replace it, never free it (or_node_drop_cache). */
    bool cache_borrowed;
} or_node;

typedef struct or_opset {
    char *domain;
    int64_t version;
} or_opset;

struct or_threadpool;

typedef struct or_graph {
    or_tensor *tensors;
    int n_tensors, cap_tensors;
    int *name_slots;     /* [name_slot_count] open-addressing index by name: tensor + 1, 0 empty */
    int name_slot_count; /* a power of two, at least twice cap_tensors */
    or_node *nodes;      /* in topological order once or_graph_sort succeeded */
    int n_nodes, cap_nodes;
    int *inputs; /* non-initializer graph inputs (tensor indices) */
    int n_inputs;
    int *outputs;
    int n_outputs;
    or_opset *opsets;
    int n_opsets;
    int opset; /* version of the default domain ("" / "ai.onnx") */
    int64_t ir_version;
    char *producer_name;
    char *producer_version;
    char *graph_name;
    char *model_path; /* for messages; may be NULL */

    struct or_threadpool *pool;
    int num_threads;
    int weight_precision; /* onnxrun_precision: recurrent ops may store weights in it */
    bool weights_shared;  /* a clone borrows the initializers: none may be released */
    bool weights_trim;    /* weights were released while planning (or_weights_settle) */
    /* Clones may be reading this graph's node caches; cleared by the
     * original's first plan after its last clone is gone (session.c). */
    bool caches_lent;
    /* Caches a re-plan replaced while clones may still read them
     * (or_node_retire_cache); freed with the graph, or by the original's
     * first plan after its last clone is gone. */
    struct or_retired_cache *retired;
    int n_retired, cap_retired;

    unsigned char *arena; /* activations, planned from lifetimes */
    size_t arena_size;
    bool planned;
    /* Set while planning when a prepare asked for the value of a graph input
     * that is not bound yet (load-time planning): planning waits for run. */
    bool plan_needs_input_values;

    char errmsg[OR_ERRMSG_MAX];
} or_graph;

/* ---- construction (used by the loader and tests) ---- */
or_graph *or_graph_new(void);
void or_graph_free(or_graph *g);
/* Returns the index of the tensor with this name, creating it if needed;
 * -1 on allocation failure. */
int or_graph_tensor(or_graph *g, const char *name);
int or_graph_find_tensor(const or_graph *g, const char *name);
/* Appends an empty node; returns it or NULL on allocation failure. */
or_node *or_graph_add_node(or_graph *g);
/* Sorts nodes topologically (file order is not trusted), checks every input
 * has a producer, and fills producer indices. */
int or_graph_sort(or_graph *g);

void or_tensor_free_contents(or_tensor *t);
/* Lets go of n->cache: frees it unless it is borrowed, and clears it. */
void or_node_drop_cache(or_node *n);
/* Lets go of n->cache before n packs another, as or_node_drop_cache, except
 * that once the graph lent its caches to clones (g->caches_lent) a cache of
 * its own may be one a clone is running with: it is set aside until the
 * graph is freed or its clones are gone (or_graph_free_retired), and
 * or_node_revive_cache can find it again meanwhile. False (n
 * keeps its cache) when there is no memory to set it aside. */
bool or_node_retire_cache(or_graph *g, or_node *n);
/* A cache of n set aside by or_node_retire_cache, freed by free_cache, for
 * which matches(cache, ctx) holds, made n->cache again (n's current one set
 * aside in its place); NULL when none matches. */
void *or_node_revive_cache(or_graph *g, or_node *n, void (*free_cache)(void *),
                           bool (*matches)(const void *, const void *), const void *ctx);
/* Frees the caches set aside in g. */
void or_graph_free_retired(or_graph *g);
void or_attr_free_contents(or_attr *a);

/* ---- errors: format into g->errmsg and return status ---- */
int or_fail(or_graph *g, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes "node 'NAME' (OP): ". */
int or_node_fail(or_graph *g, const or_node *n, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- dtypes and shapes ---- */
size_t or_dtype_size(int dtype); /* 0 for unknown/string */
/* Bits per element in a TensorProto (4 or 2 for the packed sub-byte types,
 * else 8 * or_dtype_size). */
int or_dtype_pb_bits(int dtype);
const char *or_dtype_name(int dtype);
/* Element count; -1 when a dim is unknown or the product overflows. */
int64_t or_shape_numel(int rank, const int64_t *dims);
int64_t or_tensor_numel(const or_tensor *t);
/* Formats "[2,3,4]" into buf. */
const char *or_shape_str(int rank, const int64_t *dims, char *buf, size_t len);

/* ---- attributes ---- */
/* Shape and Size read only their input's shape, never its values. */
bool or_node_reads_only_shape(const or_node *n);

const or_attr *or_attr_find(const or_node *n, const char *name);
int64_t or_attr_int(const or_node *n, const char *name, int64_t dflt);
float or_attr_float(const or_node *n, const char *name, float dflt);
const char *or_attr_string(const or_node *n, const char *name, const char *dflt);
/* Returns the list and its length, or NULL (count 0) when absent. */
const int64_t *or_attr_ints(const or_node *n, const char *name, size_t *count);
const float *or_attr_floats(const or_node *n, const char *name, size_t *count);

/* ---- tensor access for ops ---- */
static inline or_tensor *or_input(or_graph *g, const or_node *n, int i) {
    return (i < n->n_inputs && n->inputs[i] >= 0) ? &g->tensors[n->inputs[i]] : NULL;
}
static inline or_tensor *or_output(or_graph *g, const or_node *n, int i) {
    return (i < n->n_outputs && n->outputs[i] >= 0) ? &g->tensors[n->outputs[i]] : NULL;
}

#endif
