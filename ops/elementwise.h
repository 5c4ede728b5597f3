/* Machinery shared by the elementwise op families (arith.c, compare.c,
 * unary.c, activation.c, ...): a kernel description, the prepare/run pair
 * that broadcasts the inputs (broadcast.h) and splits the work across the
 * thread pool, and loop macros that expand one typed kernel per dtype.
 *
 * Kernels are looked up in tables indexed by dtype. float16, bfloat16 (and
 * float8) have no kernels of their own: their operands are converted to
 * float32 in small stack blocks, the float32 kernel runs, and the result is
 * rounded back, which is what onnxruntime does for most of these ops. */
#ifndef OR_ELEMENTWISE_H
#define OR_ELEMENTWISE_H

#include "broadcast.h"
#include "op.h"

/* Elements per parallel chunk for cheap ops; transcendental ones use less. */
#define OR_EW_GRAIN 32768
#define OR_EW_GRAIN_MATH 8192

typedef struct or_ew_kern {
    or_bcast_kernel fn; /* typed kernel; the float32 one when via_f32 */
    int n_in;
    int in_dtype[OR_BCAST_MAX_IN];
    int out_dtype;
    bool via_f32;       /* operands of float16/bfloat16/float8 go through float32 */
    double p[4];        /* op parameters (alpha, beta, ...) */
    const void *aux[2]; /* values bound per run (Clip's bounds), or NULL */
    int64_t grain;
} or_ew_kern;

typedef struct or_ew_state {
    or_ew_kern k;
    or_bcast b;
} or_ew_state;

typedef or_bcast_kernel or_ew_table[OR_DTYPE_COUNT];

/* Runs k over the planned broadcast b. */
void or_ew_exec(const or_ew_kern *k, const or_bcast *b, or_threadpool *pool, void *out,
                const void *const *in);

/* Fills k->fn (and via_f32) for dtype from table; false when unsupported. */
bool or_ew_pick(or_ew_kern *k, const or_bcast_kernel *table, int dtype);

/* Broadcasts node inputs 0..k->n_in-1 (before opset 7, two operands follow
 * the legacy `broadcast`/`axis` attributes), declares output 0 with dtype
 * k->out_dtype, fills k->in_dtype and stores the state; n->run is set to
 * run, or or_ew_run when NULL. */
int or_ew_prepare(or_graph *g, or_node *n, const or_ew_kern *k, or_run_fn run);
/* Same with the operands' shapes given (for an op's own legacy rules). */
int or_ew_prepare_shapes(or_graph *g, or_node *n, const or_ew_kern *k, or_run_fn run,
                         const int *ranks, const int64_t *const *dims);
int or_ew_run(or_graph *g, or_node *n);

/* Fails unless inputs 0..lo-1 are present, there are at most hi inputs and
 * output 0 exists. */
int or_ew_check_arity(or_graph *g, const or_node *n, int lo, int hi);
/* Fails unless inputs 0..count-1 share one dtype, returned in *dtype. */
int or_ew_same_dtype(or_graph *g, const or_node *n, int count, int *dtype);
int or_ew_bad_dtype(or_graph *g, const or_node *n, int dtype);

/* The common case: count same-dtype inputs, output dtype out_dtype (0: the
 * inputs'), kernel from table, parameters p (may be NULL). */
int or_ew_simple(or_graph *g, or_node *n, int count, const or_bcast_kernel *table, int out_dtype,
                 const double *p, int64_t grain);

/* A kernel copying its one input (any dtype: k->out_dtype gives the size). */
void or_ew_copy(const void *ctx, void *out, const void *const *in, const int *step, int64_t n);

/* ---- kernel helpers ---- */

#define OR_EW_KERNEL(name)                                                                         \
    static void name(const void *ctx, void *out, const void *const *in, const int *step, int64_t n)

/* Operand types: X(dtype, C type, unsigned type wide enough for wrapping
 * arithmetic without promotion to int, suffix). */
#define OR_EW_SINT(X)                                                                              \
    X(OR_INT8, int8_t, uint32_t, i8)                                                               \
    X(OR_INT16, int16_t, uint32_t, i16)                                                            \
    X(OR_INT32, int32_t, uint32_t, i32)                                                            \
    X(OR_INT64, int64_t, uint64_t, i64)
#define OR_EW_UINT(X)                                                                              \
    X(OR_UINT8, uint8_t, uint32_t, u8)                                                             \
    X(OR_UINT16, uint16_t, uint32_t, u16)                                                          \
    X(OR_UINT32, uint32_t, uint32_t, u32)                                                          \
    X(OR_UINT64, uint64_t, uint64_t, u64)
#define OR_EW_FLOAT(X)                                                                             \
    X(OR_FLOAT, float, float, f32)                                                                 \
    X(OR_DOUBLE, double, double, f64)
#define OR_EW_INT(X) OR_EW_SINT(X) OR_EW_UINT(X)
#define OR_EW_NUMERIC(X) OR_EW_FLOAT(X) OR_EW_INT(X)

/* Kernel parameter i as a double (inside a kernel). */
#define OR_EW_P(i) (((const or_ew_kern *)ctx)->p[i])

/* One loop per step pattern so each stays simple enough to vectorise. EXPR
 * computes the TY result from x (TA) and y (TB). */
#define OR_EW_BINARY_LOOP(TA, TB, TY, EXPR)                                                        \
    do {                                                                                           \
        const TA *pa_ = in[0];                                                                     \
        const TB *pb_ = in[1];                                                                     \
        TY *py_ = out;                                                                             \
        (void)ctx;                                                                                 \
        if (step[0] && step[1]) {                                                                  \
            for (int64_t i_ = 0; i_ < n; i_++) {                                                   \
                const TA x = pa_[i_];                                                              \
                const TB y = pb_[i_];                                                              \
                py_[i_] = (TY)(EXPR);                                                              \
            }                                                                                      \
        } else if (step[0]) {                                                                      \
            const TB y = pb_[0];                                                                   \
            for (int64_t i_ = 0; i_ < n; i_++) {                                                   \
                const TA x = pa_[i_];                                                              \
                py_[i_] = (TY)(EXPR);                                                              \
            }                                                                                      \
        } else if (step[1]) {                                                                      \
            const TA x = pa_[0];                                                                   \
            for (int64_t i_ = 0; i_ < n; i_++) {                                                   \
                const TB y = pb_[i_];                                                              \
                py_[i_] = (TY)(EXPR);                                                              \
            }                                                                                      \
        } else {                                                                                   \
            const TA x = pa_[0];                                                                   \
            const TB y = pb_[0];                                                                   \
            const TY v_ = (TY)(EXPR);                                                              \
            for (int64_t i_ = 0; i_ < n; i_++) py_[i_] = v_;                                       \
        }                                                                                          \
    } while (0)

/* Unary: the output has the input's shape, so the input always advances. */
#define OR_EW_UNARY_LOOP(TX, TY, EXPR)                                                             \
    do {                                                                                           \
        const TX *px_ = in[0];                                                                     \
        TY *py_ = out;                                                                             \
        (void)ctx;                                                                                 \
        (void)step;                                                                                \
        for (int64_t i_ = 0; i_ < n; i_++) {                                                       \
            const TX x = px_[i_];                                                                  \
            py_[i_] = (TY)(EXPR);                                                                  \
        }                                                                                          \
    } while (0)

#endif
