/* The session struct, shared by the files of the public API (session*.c). */
#ifndef OR_SESSION_INTERNAL_H
#define OR_SESSION_INTERNAL_H

#include "alloc.h"
#include "graph.h"
#include "onnxrun.h"

#include <stdatomic.h>

/* A graph output fed back into a graph input after each run. The state's
 * value lives in buf, which the input tensor points at while running. */
typedef struct or_state {
    size_t output, input; /* graph output / input indices */
    void *buf;            /* [nbytes] this run's input value, session-owned */
    size_t buf_cap;
    void *next; /* [nbytes] where the output writes the next value; swapped with buf */
    size_t next_cap;
    size_t nbytes;
    int rank;
    int64_t dims[OR_MAX_RANK];
    bool valid; /* false: zeros of the shape resolved at the next run */
} or_state;

/* The loaded graph of an original session, kept alive until the original
 * and every clone are gone: clones borrow its names, attributes,
 * initializers and packed weights. Freed under the original's context. */
typedef struct or_shared_graph {
    atomic_int refs;
    or_graph *graph;
    or_mem *mem;
} or_shared_graph;

struct onnxrun_session {
    or_graph *graph; /* NULL when creation failed */
    char errmsg[OR_ERRMSG_MAX];
    or_mem *mem;                  /* NULL: no allocator and no cap, plain malloc */
    onnxrun_options opts;         /* allocator points at `allocator` below, or NULL */
    onnxrun_allocator allocator;  /* the caller's, copied */
    or_shared_graph *shared;      /* set once the session was cloned (or is a clone) */
    onnxrun_tensor_info *inputs;  /* declared, [n_inputs] */
    onnxrun_tensor_info *outputs; /* declared, [n_outputs] */
    bool *bound;                  /* [n_inputs] */
    /* What the current plan was made for: input shapes, and the bytes of the
     * inputs whose values shaped it. */
    int *planned_rank;                    /* [n_inputs] */
    int64_t (*planned_dims)[OR_MAX_RANK]; /* [n_inputs] */
    void **pinned_bytes;                  /* [n_inputs], NULL when not pinned */
    size_t *pinned_len;                   /* [n_inputs] */
    void **out_buf;                       /* [n_outputs], caller-owned, NULL: none */
    size_t *out_cap;                      /* [n_outputs] */
    or_state *states;                     /* [n_states] */
    int n_states;
    bool outputs_valid; /* the last run succeeded and no state reset came since */
};

onnxrun_status or_session_error(onnxrun_session *s, onnxrun_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
onnxrun_status or_session_ok(onnxrun_session *s);
/* ARGUMENT for a NULL pointer parameter, with "<what> is NULL" as the message
 * when s is a usable session (a failed one keeps its creation message). */
onnxrun_status or_session_null_argument(onnxrun_session *s, const char *what);
/* Checks a tensor against a declaration (dtype, rank, static dims, bytes). */
onnxrun_status or_session_check_shape(onnxrun_session *s, const onnxrun_tensor_info *decl,
                                      onnxrun_dtype dtype, int rank, const int64_t *dims,
                                      size_t nbytes);
/* Allocates the per-input/output bookkeeping and fills the declarations. */
onnxrun_status or_session_snapshot(onnxrun_session *s);
/* Starts the thread pool and plans when the input shapes are static. */
onnxrun_status or_session_prepare(onnxrun_session *s);
/* A new session with its own memory context, current on return (*previous
 * must be restored with or_mem_leave). NULL *out only when memory ran out. */
onnxrun_status or_session_begin(const onnxrun_options *options, onnxrun_session **out,
                                or_mem **previous);
/* Rewrites a NOMEM message when the cap refused memory. */
onnxrun_status or_session_finish(onnxrun_session *s, onnxrun_status status);

/* session_state.c */
int or_state_of_input(const onnxrun_session *s, size_t input);
/* Sets a state input's value (copied) from onnxrun_set_input. */
onnxrun_status or_state_set_value(onnxrun_session *s, int state, onnxrun_dtype dtype, int rank,
                                  const int64_t *dims, const void *data, size_t nbytes);
/* Before a run: binds every state input to its buffer (zeros when reset). */
onnxrun_status or_states_bind(onnxrun_session *s);
/* After planning, before a run: checks each state output's planned shape
 * and points it at the state's next buffer, so the run writes it in place. */
onnxrun_status or_states_attach_outputs(onnxrun_session *s);
/* After a run: the next buffers become the inputs (a swap, no copy). */
void or_states_advance(onnxrun_session *s);
void or_states_free(onnxrun_session *s);

/* session_clone.c */
void or_shared_release(or_shared_graph *sh);
/* Frees a clone's graph, leaving what it borrows from its original (borrowed caches). */
void or_clone_graph_free(or_graph *g);

#endif
