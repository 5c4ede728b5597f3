/* onnxrun public API: load an ONNX model and run it on the CPU.
 *
 * Handles are opaque. Every call that can fail returns an onnxrun_status (the
 * others destroy, count or name things); on failure the message is kept on
 * the session (onnxrun_errmsg), as in SQLite. A session whose creation failed
 * is still returned (unless memory ran out) so that the caller can read the
 * message; it must be destroyed like any other. Results come back through the
 * last parameters.
 *
 * Threads: a session is used by one thread at a time (its bound inputs,
 * outputs and states are per session). To run one model from several
 * threads, give each thread a clone (onnxrun_session_clone), which shares
 * the weights read-only. Functions that take no session are thread-safe.
 *
 * Memory: every allocation a session makes goes through its allocator
 * (onnxrun_options.allocator) and, with max_memory_bytes set, fails cleanly
 * with ONNXRUN_ERR_NOMEM instead of exceeding the cap.
 */
#ifndef ONNXRUN_H
#define ONNXRUN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is compiled with -fvisibility=hidden; libonnxrun.so exports
 * exactly the functions declared in this header (up to the matching pop). */
#if defined(ONNXRUN_BUILDING) && defined(__GNUC__)
#pragma GCC visibility push(default)
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

/* A custom allocator for every allocation the session makes (model bytes,
 * weights, packed weights, arena, states, bookkeeping). alloc returns memory
 * aligned to at least `alignment` bytes (a power of two, at most 64) or NULL;
 * free receives only pointers alloc returned. They are called from the
 * thread calling into the session; a session and its clones share the
 * allocator (each with its own count against max_memory_bytes), so make it
 * thread-safe when clones run in parallel. The struct is copied at creation;
 * `user` must stay valid until the session and its clones are destroyed.
 * With alloc or free NULL the session uses the C library's malloc and free. */
typedef struct onnxrun_allocator {
    void *(*alloc)(void *user, size_t size, size_t alignment);
    void (*free)(void *user, void *ptr);
    void *user;
} onnxrun_allocator;

/* The most intra-op threads a session may ask for. */
#define ONNXRUN_MAX_THREADS 1024

typedef struct onnxrun_options {
    size_t size;     /* sizeof(onnxrun_options): lets the struct grow */
    int num_threads; /* intra-op threads, default 1 (below 1: 1; above
                        ONNXRUN_MAX_THREADS: creation fails with ARGUMENT) */
    /* Fails creation or a run with ONNXRUN_ERR_NOMEM instead of exceeding
     * this many bytes of session memory (heap blocks with a 32-64 byte header
     * each, plus mapped external data; see onnxrun_memory_peak); 0 means no
     * limit. */
    size_t max_memory_bytes;
    const onnxrun_allocator *allocator; /* NULL: the C library's malloc */
    onnxrun_precision weight_precision; /* default ONNXRUN_PRECISION_FP32; another
                                           value fails creation with ARGUMENT */
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

/* ---- Options ---------------------------------------------------------- */

/* Fills *options with the defaults (size set, one thread, no memory cap, the C
 * library's allocator, float32 weights). Set fields after calling this. */
void onnxrun_options_init(onnxrun_options *options);

/* ---- Sessions ----------------------------------------------------------
 * A session holds one loaded, planned model, its bound inputs and outputs,
 * its states and its memory. A session is used by one thread at a time:
 * calls on the same session must not overlap, but different sessions
 * (including clones of one another) run in parallel freely.
 *
 * Creation stores the new session in *out_session even when it fails (the
 * status says so), so that onnxrun_errmsg can tell why; destroy it as
 * usual. *out_session is NULL only when even the session could not be
 * allocated. options may be NULL (defaults); it is copied, as is the
 * allocator it points to: neither needs to outlive the call. The allocator's
 * `user` pointer must stay valid until the session and its clones are gone.
 * Errors: MODEL (invalid or unsupported model: the message names the node),
 * IO, NOMEM (out of memory or over max_memory_bytes: the message gives the
 * limit, the bytes in use and what needed more), ARGUMENT. */

/* Loads path; external data is read relative to the file's folder. */
onnxrun_status onnxrun_session_create_from_file(const char *path, const onnxrun_options *options,
                                                onnxrun_session **out_session);
/* Loads a model from memory. The buffer is not retained; external data
 * resolves relative to model_dir (NULL forbids external data). */
onnxrun_status onnxrun_session_create_from_buffer(const void *buffer, size_t length,
                                                  const char *model_dir,
                                                  const onnxrun_options *options,
                                                  onnxrun_session **out_session);
/* A new session for another thread over the same model, with the same
 * options and state bindings (states start at zero; no inputs or output
 * buffers bound). It shares the weights, and the packed weights of
 * `session`'s current plan (a model with static input shapes is planned at
 * creation, others at their first run: clone after it), with `session`
 * read-only instead of copying them: they stay alive until the
 * last of the sessions sharing them is destroyed, in any order. Memory the
 * clone allocates itself (plan, activations, states) counts against its own
 * max_memory_bytes; the shared weights stay counted by the original. Call it
 * from the thread that owns `session`; the clone may then move to any
 * thread. On failure *out_clone is NULL and the message is on `session`.
 * Errors: NOMEM, ARGUMENT (no session, or one whose creation failed). */
onnxrun_status onnxrun_session_clone(onnxrun_session *session, onnxrun_session **out_clone);
/* Frees the session and everything it allocated; NULL is a no-op. Views and
 * infos obtained from it become invalid. */
void onnxrun_session_destroy(onnxrun_session *session);

/* ---- Errors ------------------------------------------------------------ */

/* The message of the session's last failed call, or "" after a success.
 * Valid until the next call on the session. */
const char *onnxrun_errmsg(const onnxrun_session *session);
/* A short constant name for a status ("out of memory", ...). */
const char *onnxrun_status_name(onnxrun_status status);
/* Checks the ONNXRUN_* environment variables (README, "Environment
 * variables"). The library ignores a value a variable does not accept, as if
 * it were unset; this says so. OK when every set variable is valid (message
 * then ""); otherwise ARGUMENT, and message gets one line per invalid
 * variable naming it, its value and what it accepts. With size > 0 the text
 * is cut to size and always terminated; message may be NULL with size 0. It
 * reports the environment as it is now: the ISA and cache sizes are read
 * once per process, so a later change is reported without taking effect.
 * Like session creation and planning, it reads the environment: not safe
 * against a concurrent setenv, putenv or unsetenv. */
onnxrun_status onnxrun_check_environment(char *message, size_t size);

/* ---- Model inputs and outputs -------------------------------------------
 * Graph inputs exclude initializers. Infos and names stay valid for the
 * session's lifetime. Errors: ARGUMENT (index out of range, a NULL argument),
 * INPUT (no such name). As everywhere, a failure leaves its message on the
 * session (unless the session is NULL or its creation failed, which keeps
 * that message) and a success clears it. */

size_t onnxrun_input_count(const onnxrun_session *session);
size_t onnxrun_output_count(const onnxrun_session *session);
onnxrun_status onnxrun_input_info(const onnxrun_session *session, size_t index,
                                  onnxrun_tensor_info *out_info);
onnxrun_status onnxrun_output_info(const onnxrun_session *session, size_t index,
                                   onnxrun_tensor_info *out_info);
onnxrun_status onnxrun_input_index(const onnxrun_session *session, const char *name,
                                   size_t *out_index);
onnxrun_status onnxrun_output_index(const onnxrun_session *session, const char *name,
                                    size_t *out_index);

/* ---- Running -------------------------------------------------------------- */

/* Binds an input by index: dtype, rank and dims must match the declaration
 * (symbolic dims take any size) and nbytes the shape. The data is borrowed,
 * not copied, and must stay valid and unchanged until onnxrun_run returns;
 * a binding lasts until the input is set again. For an input bound to a
 * state (onnxrun_bind_state) the data is copied instead and becomes the
 * state's value. Errors: INPUT (dtype, shape or size), ARGUMENT, NOMEM. */
onnxrun_status onnxrun_set_input(onnxrun_session *session, size_t index, onnxrun_dtype dtype,
                                 int rank, const int64_t *dims, const void *data, size_t nbytes);

/* Makes a run also write output `index` into the caller's buffer
 * (row-major, densely packed), which must stay valid until the next run
 * returns and stays owned by the caller. At each run the output's size is
 * checked before anything is computed: a buffer smaller than the output
 * fails the run with ARGUMENT, the message giving the shape and the bytes
 * needed. data = NULL unbinds. The output's size is known from
 * onnxrun_output_info when its shape is static, else from a previous run's
 * view. Errors: ARGUMENT. */
onnxrun_status onnxrun_set_output(onnxrun_session *session, size_t index, void *data,
                                  size_t nbytes);

/* Runs the model on the bound inputs; plans again first when input shapes
 * changed. On success every output is available through onnxrun_get_output
 * (and written into its buffer, if one was set) and every state has
 * advanced. Errors: INPUT (an input missing or rejected while running, a
 * state shape mismatch), MODEL (a node failed: the message names it), NOMEM,
 * ARGUMENT (output buffer too small). */
onnxrun_status onnxrun_run(onnxrun_session *session);

/* A view of output `index` after a successful run: engine-owned memory (or
 * the caller's buffer from onnxrun_set_output), valid until the next run,
 * onnxrun_reset_state or destroy. Errors: ARGUMENT (bad index, NULL view, or
 * no output to show: no successful run yet, the last run failed, or the
 * states were reset since). */
onnxrun_status onnxrun_get_output(onnxrun_session *session, size_t index,
                                  onnxrun_tensor_view *out_view);

/* ---- Streaming state -------------------------------------------------------
 * For stateful models run over a long input in chunks (an LSTM exported with
 * h0/c0 as inputs and hn/cn as outputs): after each successful run, output
 * `output_index` becomes the value of input `input_index` for the next run.
 * The caller does not set bound inputs: a state starts as zeros of the
 * input's declared shape, its symbolic dimensions (such as the batch) taken
 * from the other inputs' dimensions of the same name, or from the value given
 * with onnxrun_set_input. The session owns the state's memory: two buffers
 * per state, one read as the input while the run writes the output straight
 * into the other, swapped after the run, so no bytes are copied (the
 * output's view points into the state buffer and stays valid until the
 * next run).
 * Binding checks that dtypes, ranks and static dimensions agree; each run
 * checks the output's actual shape against the state's (INPUT otherwise),
 * and that the state's named dimensions still match the inputs (INPUT when
 * the batch changed: call onnxrun_reset_state). Binding the same pair twice
 * is a no-op; an input or output already in another pair is ARGUMENT. */
onnxrun_status onnxrun_bind_state(onnxrun_session *session, size_t output_index,
                                  size_t input_index);
/* Every state back to zeros (of the shape the next run's inputs give). */
onnxrun_status onnxrun_reset_state(onnxrun_session *session);

/* ---- Memory --------------------------------------------------------------- */

/* Bytes the session holds now and at most so far (heap blocks with their
 * bookkeeping, and mapped external data), as counted against
 * max_memory_bytes. Counted only when the session has a custom allocator or
 * a memory cap; 0 otherwise. */
size_t onnxrun_memory_used(const onnxrun_session *session);
size_t onnxrun_memory_peak(const onnxrun_session *session);

/* ---- Tensors ---------------------------------------------------------------
 * An opaque, caller-owned tensor: a dtype, a shape and a densely packed
 * row-major buffer that the tensor owns. Use it to keep an output beyond the
 * next run, or to hand inputs around without tracking shapes by hand. A
 * tensor belongs to no session and may be used with any, from any thread
 * (not concurrently with its own destruction). */
typedef struct onnxrun_tensor onnxrun_tensor;

/* A new tensor holding a copy of data (nbytes must equal the shape's size),
 * or zeros when data is NULL. Errors: ARGUMENT (rank above ONNXRUN_MAX_RANK,
 * a negative dim, an unknown or string dtype, a size that overflows or
 * disagrees with nbytes), NOMEM. */
onnxrun_status onnxrun_tensor_create(onnxrun_dtype dtype, int rank, const int64_t *dims,
                                     const void *data, size_t nbytes, onnxrun_tensor **out_tensor);
void onnxrun_tensor_destroy(onnxrun_tensor *tensor);
/* The tensor's dtype, shape and data (name NULL), valid until destroy. */
onnxrun_status onnxrun_tensor_get_view(const onnxrun_tensor *tensor, onnxrun_tensor_view *out_view);
/* Writable access to the tensor's bytes (for filling it in place). */
void *onnxrun_tensor_data(onnxrun_tensor *tensor);

/* onnxrun_set_input with a tensor's dtype, shape and data: borrowed, so the
 * tensor must outlive the run. */
onnxrun_status onnxrun_set_input_tensor(onnxrun_session *session, size_t index,
                                        const onnxrun_tensor *tensor);
/* A new tensor holding a copy of output `index` after a successful run; the
 * caller destroys it. Errors: ARGUMENT (bad index, not run), NOMEM. */
onnxrun_status onnxrun_get_output_tensor(onnxrun_session *session, size_t index,
                                         onnxrun_tensor **out_tensor);

/* ---- Data types ------------------------------------------------------------ */

const char *onnxrun_dtype_name(onnxrun_dtype dtype); /* "float32", ... */
size_t onnxrun_dtype_size(onnxrun_dtype dtype);      /* bytes; 0 for string/unknown */

#if defined(ONNXRUN_BUILDING) && defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
