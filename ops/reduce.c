/* ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1,
 * ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare (opsets 1-23).
 *
 * One engine: reduce over a set of axes, keepdims (default 1). Axes come from
 * the `axes` attribute, or from the optional second input from opset 13
 * (ReduceSum) / 18 (the others), whose value must be known while planning.
 * Empty axes reduce everything unless noop_with_empty_axes, which reduces
 * nothing (each element alone: ReduceSumSquare squares, ReduceL1 takes |x|...).
 * A reduction over zero elements yields the identity (0, 1, -inf, +inf,
 * log(0) = -inf; NaN for ReduceMean).
 *
 * Types: float, double, float16, bfloat16, int8-64, uint8-64;
 * bool for ReduceMax/ReduceMin. Floating inputs accumulate in double (float16
 * and bfloat16 results are rounded once at the end); integers in
 * int64 (wrapping), except L2/LogSum/LogSumExp which go through double.
 * uint64 keeps its bits in the int64 accumulators and compares, divides
 * (ReduceMean) and takes |x| (ReduceL1) unsigned.
 * ReduceLogSumExp subtracts the per-output maximum first. */
#include "../runtime/alloc.h"
#include "convert.h"
#include "shape_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Elements converted to the accumulator type per step. */
#define CHUNK 256

typedef enum rop {
    R_SUM,
    R_MEAN,
    R_MAX,
    R_MIN,
    R_PROD,
    R_L1,
    R_L2,
    R_LOGSUM,
    R_LOGSUMEXP,
    R_SUMSQ,
    R_EXPSUM, /* second pass of LogSumExp: sum of exp(x - max) */
} rop;

typedef struct reduce_plan {
    rop op;
    int dtype;
    bool int_acc; /* int64 accumulators, else double */
    int rank;     /* collapsed: size-1 axes dropped, neighbours of one kind merged */
    int64_t dims[OR_MAX_RANK];
    bool red[OR_MAX_RANK];
    int64_t ostride[OR_MAX_RANK]; /* output elements per step, 0 on reduced axes */
    int64_t in_numel, out_numel;
    int64_t count; /* input elements per output element */
    void *acc;     /* [out_numel] int64_t or double */
    double *aux;   /* [out_numel] maxima for LogSumExp */
} reduce_plan;

static void free_plan(void *state) {
    reduce_plan *p = state;
    if (!p) return;
    or_free(p->acc);
    or_free(p->aux);
    or_free(p);
}

/* ---- conversion of a run of input elements to the accumulator type ---- */

#define CONVERT(T, U)                                                                              \
    for (int64_t j = 0; j < n; j++) buf[j] = (U)((const T *)x)[off + j];

static void to_double(int dt, const void *x, int64_t off, int64_t n, double *buf) {
    switch (dt) {
    case OR_FLOAT:
        CONVERT(float, double) break;
    case OR_DOUBLE:
        CONVERT(double, double) break;
    case OR_INT32:
        CONVERT(int32_t, double) break;
    case OR_INT64:
        CONVERT(int64_t, double) break;
    case OR_UINT32:
        CONVERT(uint32_t, double) break;
    case OR_UINT64:
        CONVERT(uint64_t, double) break;
    case OR_INT8:
        CONVERT(int8_t, double) break;
    case OR_INT16:
        CONVERT(int16_t, double) break;
    case OR_UINT16:
        CONVERT(uint16_t, double) break;
    case OR_FLOAT16:
        for (int64_t j = 0; j < n; j++) buf[j] = or_f16_to_f32(((const uint16_t *)x)[off + j]);
        break;
    case OR_BFLOAT16:
        for (int64_t j = 0; j < n; j++) buf[j] = or_bf16_to_f32(((const uint16_t *)x)[off + j]);
        break;
    default:
        CONVERT(uint8_t, double) break; /* uint8, bool */
    }
}

static void to_int64(int dt, const void *x, int64_t off, int64_t n, int64_t *buf) {
    switch (dt) {
    case OR_INT32:
        CONVERT(int32_t, int64_t) break;
    case OR_INT64:
        CONVERT(int64_t, int64_t) break;
    case OR_UINT32:
        CONVERT(uint32_t, int64_t) break;
    case OR_UINT64: /* the bits, wrapping arithmetic is the same */
        memcpy(buf, (const uint64_t *)x + off, (size_t)n * sizeof(uint64_t));
        break;
    case OR_INT8:
        CONVERT(int8_t, int64_t) break;
    case OR_INT16:
        CONVERT(int16_t, int64_t) break;
    case OR_UINT16:
        CONVERT(uint16_t, int64_t) break;
    default:
        CONVERT(uint8_t, int64_t) break;
    }
}

/* ---- accumulation: a = op(a, v) ---- */

static inline double step_d(rop op, double a, double v, double shift) {
    switch (op) {
    case R_MAX:
        return v > a || isnan(v) ? v : a;
    case R_MIN:
        return v < a || isnan(v) ? v : a;
    case R_PROD:
        return a * v;
    case R_L1:
        return a + fabs(v);
    case R_L2:
    case R_SUMSQ:
        return a + v * v;
    case R_EXPSUM:
        return a + exp(v - shift);
    default:
        return a + v; /* sum, mean, log-sum */
    }
}

/* Integer arithmetic wraps (through uint64) instead of overflowing; with
 * is_unsigned (uint64 input) a and v hold uint64 bits. */
static inline int64_t step_i(rop op, int64_t a, int64_t v, bool is_unsigned) {
    switch (op) {
    case R_MAX:
        return (is_unsigned ? (uint64_t)v > (uint64_t)a : v > a) ? v : a;
    case R_MIN:
        return (is_unsigned ? (uint64_t)v < (uint64_t)a : v < a) ? v : a;
    case R_PROD:
        return (int64_t)((uint64_t)a * (uint64_t)v);
    case R_L1:
        if (is_unsigned || v >= 0) return (int64_t)((uint64_t)a + (uint64_t)v);
        return (int64_t)((uint64_t)a - (uint64_t)v);
    case R_SUMSQ:
        return (int64_t)((uint64_t)a + (uint64_t)v * (uint64_t)v);
    default:
        return (int64_t)((uint64_t)a + (uint64_t)v);
    }
}

/* Accumulates input elements [off, off+len) into acc[base] (reduced last
 * axis) or acc[base + j] (kept last axis). */
static void accumulate_run(const reduce_plan *p, rop op, const void *x, int64_t off, int64_t len,
                           int64_t base, bool fold) {
    for (int64_t c = 0; c < len; c += CHUNK) {
        int64_t n = len - c < CHUNK ? len - c : CHUNK;
        if (p->int_acc) {
            int64_t buf[CHUNK], *acc = (int64_t *)p->acc + base;
            bool u = p->dtype == OR_UINT64;
            to_int64(p->dtype, x, off + c, n, buf);
            if (fold) {
                for (int64_t j = 0; j < n; j++) acc[0] = step_i(op, acc[0], buf[j], u);
            } else {
                for (int64_t j = 0; j < n; j++) acc[c + j] = step_i(op, acc[c + j], buf[j], u);
            }
        } else {
            double buf[CHUNK], *acc = (double *)p->acc + base;
            const double *sh = p->aux ? p->aux + base : NULL;
            to_double(p->dtype, x, off + c, n, buf);
            if (fold) {
                double s = sh ? sh[0] : 0;
                for (int64_t j = 0; j < n; j++) acc[0] = step_d(op, acc[0], buf[j], s);
            } else {
                for (int64_t j = 0; j < n; j++)
                    acc[c + j] = step_d(op, acc[c + j], buf[j], sh ? sh[c + j] : 0);
            }
        }
    }
}

/* One pass over the input in memory order. */
static void reduce_pass(const reduce_plan *p, rop op, const void *x) {
    int last = p->rank - 1;
    int64_t len = p->dims[last], idx[OR_MAX_RANK] = {0}, base = 0;
    for (int64_t off = 0; off < p->in_numel; off += len) {
        accumulate_run(p, op, x, off, len, base, p->red[last]);
        for (int d = last - 1; d >= 0; d--) { /* odometer over the other axes */
            base += p->ostride[d];
            if (++idx[d] < p->dims[d]) break;
            base -= p->ostride[d] * p->dims[d];
            idx[d] = 0;
        }
    }
}

static void int_limits(int dt, int64_t *lo, int64_t *hi) {
    switch (dt) {
    case OR_INT32:
        *lo = INT32_MIN, *hi = INT32_MAX;
        break;
    case OR_UINT32:
        *lo = 0, *hi = UINT32_MAX;
        break;
    case OR_INT8:
        *lo = INT8_MIN, *hi = INT8_MAX;
        break;
    case OR_UINT8:
        *lo = 0, *hi = UINT8_MAX;
        break;
    case OR_INT16:
        *lo = INT16_MIN, *hi = INT16_MAX;
        break;
    case OR_UINT16:
        *lo = 0, *hi = UINT16_MAX;
        break;
    case OR_BOOL:
        *lo = 0, *hi = 1;
        break;
    case OR_UINT64: /* as the accumulators hold it: UINT64_MAX's bits */
        *lo = 0, *hi = -1;
        break;
    default:
        *lo = INT64_MIN, *hi = INT64_MAX;
        break;
    }
}

static void init_acc(const reduce_plan *p, rop op, void *acc) {
    if (p->int_acc) {
        int64_t lo, hi, v = op == R_PROD ? 1 : 0, *a = acc;
        int_limits(p->dtype, &lo, &hi);
        if (op == R_MAX) v = lo;
        if (op == R_MIN) v = hi;
        for (int64_t i = 0; i < p->out_numel; i++) a[i] = v;
        return;
    }
    double v = op == R_PROD ? 1 : 0, *a = acc;
    if (op == R_MAX) v = -INFINITY;
    if (op == R_MIN) v = INFINITY;
    for (int64_t i = 0; i < p->out_numel; i++) a[i] = v;
}

static double finish_d(const reduce_plan *p, double a, int64_t i) {
    switch (p->op) {
    case R_MEAN:
        return a / (double)p->count;
    case R_L2:
        return sqrt(a);
    case R_LOGSUM:
        return log(a);
    case R_LOGSUMEXP:
        return isinf(p->aux[i]) ? p->aux[i] : p->aux[i] + log(a);
    default:
        return a;
    }
}

/* double -> integer without undefined behaviour on NaN or out-of-range values. */
static int64_t d_to_i64(double v) {
    if (!(v > -9.2e18 && v < 9.2e18)) return v > 0 ? INT64_MAX : INT64_MIN;
    return (int64_t)v;
}

static uint64_t d_to_u64(double v) {
    if (!(v > 0)) return 0;                                       /* NaN too */
    return v < 18446744073709551616.0 ? (uint64_t)v : UINT64_MAX; /* 2^64 */
}

static inline double value_d(const reduce_plan *p, int64_t i) {
    return finish_d(p, ((const double *)p->acc)[i], i);
}

static inline int64_t value_i(const reduce_plan *p, int64_t i) {
    if (!p->int_acc) return d_to_i64(value_d(p, i));
    int64_t a = ((const int64_t *)p->acc)[i];
    return p->op == R_MEAN ? (p->count ? a / p->count : 0) : a;
}

static inline uint64_t value_u(const reduce_plan *p, int64_t i) {
    if (!p->int_acc) return d_to_u64(value_d(p, i));
    uint64_t a = ((const uint64_t *)p->acc)[i];
    return p->op == R_MEAN ? (p->count ? a / (uint64_t)p->count : 0) : a;
}

#define STORE(T, VALUE)                                                                            \
    for (int64_t i = 0; i < p->out_numel; i++) ((T *)y)[i] = (T)VALUE(p, i);

static void store(const reduce_plan *p, void *y) {
    switch (p->dtype) {
    case OR_FLOAT:
        STORE(float, value_d) break;
    case OR_DOUBLE:
        STORE(double, value_d) break;
    case OR_INT32:
        STORE(int32_t, value_i) break;
    case OR_INT64:
        STORE(int64_t, value_i) break;
    case OR_UINT32:
        STORE(uint32_t, value_i) break;
    case OR_UINT64:
        STORE(uint64_t, value_u) break;
    case OR_INT8:
        STORE(int8_t, value_i) break;
    case OR_UINT8:
        STORE(uint8_t, value_i) break;
    case OR_INT16:
        STORE(int16_t, value_i) break;
    case OR_UINT16:
        STORE(uint16_t, value_i) break;
    case OR_FLOAT16:
        for (int64_t i = 0; i < p->out_numel; i++)
            ((uint16_t *)y)[i] = or_f32_to_f16((float)value_d(p, i));
        break;
    case OR_BFLOAT16:
        for (int64_t i = 0; i < p->out_numel; i++)
            ((uint16_t *)y)[i] = or_f32_to_bf16((float)value_d(p, i));
        break;
    default:
        STORE(bool, value_i) break;
    }
}

static int reduce_run(or_graph *g, or_node *n) {
    const reduce_plan *p = n->state;
    const void *x = or_input(g, n, 0)->data;
    if (p->out_numel == 0) return 0;
    if (p->op == R_LOGSUMEXP) {
        reduce_plan max = *p;
        max.acc = p->aux;
        max.aux = NULL;
        init_acc(&max, R_MAX, max.acc);
        if (p->in_numel) reduce_pass(&max, R_MAX, x);
    }
    rop op = p->op == R_LOGSUMEXP ? R_EXPSUM : p->op;
    init_acc(p, op, p->acc);
    if (p->in_numel) reduce_pass(p, op, x);
    store(p, or_output(g, n, 0)->data);
    return 0;
}

/* ---- planning ---- */

/* Marks reduced[d] from the axes attribute or input. */
static int read_axes(or_graph *g, or_node *n, int axes_input_opset, int rank, bool *reduced) {
    int64_t axes[OR_MAX_RANK];
    int64_t count = 0;
    if (n->opset >= axes_input_opset) {
        if (or_input(g, n, 1)) {
            int rc = shp_plan_ints(g, n, 1, "axes", axes, OR_MAX_RANK, &count);
            if (rc) return rc;
        }
    } else {
        size_t c = 0;
        const int64_t *a = or_attr_ints(n, "axes", &c);
        if (c > OR_MAX_RANK) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "too many axes (%zu)", c);
        for (size_t k = 0; k < c; k++) axes[k] = a[k];
        count = (int64_t)c;
    }
    bool noop = or_attr_int(n, "noop_with_empty_axes", 0) != 0;
    for (int d = 0; d < rank; d++) reduced[d] = count == 0 && !noop;
    for (int64_t k = 0; k < count; k++) {
        int a = or_norm_axis(axes[k], rank);
        if (a < 0)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "axis %lld is out of range for rank %d",
                                (long long)axes[k], rank);
        reduced[a] = true;
    }
    return 0;
}

/* Collapses the input shape and sets the output strides. */
static void plan_layout(reduce_plan *p, int rank, const int64_t *dims, const bool *reduced) {
    p->rank = 0;
    for (int d = 0; d < rank; d++) {
        if (dims[d] == 1) continue;
        if (p->rank > 0 && p->red[p->rank - 1] == reduced[d]) {
            p->dims[p->rank - 1] *= dims[d];
            continue;
        }
        p->dims[p->rank] = dims[d];
        p->red[p->rank++] = reduced[d];
    }
    if (p->rank == 0) p->dims[p->rank] = 1, p->red[p->rank++] = false;
    int64_t s = 1;
    p->count = 1;
    for (int d = p->rank - 1; d >= 0; d--) {
        p->ostride[d] = p->red[d] ? 0 : s;
        if (p->red[d])
            p->count *= p->dims[d];
        else
            s *= p->dims[d];
    }
}

static bool dtype_ok(int dt, rop op) {
    if (dt == OR_BOOL) return op == R_MAX || op == R_MIN;
    return dt == OR_FLOAT || dt == OR_DOUBLE || dt == OR_INT32 || dt == OR_INT64 ||
           dt == OR_UINT32 || dt == OR_UINT64 || dt == OR_INT8 || dt == OR_UINT8 ||
           dt == OR_INT16 || dt == OR_UINT16 || dt == OR_FLOAT16 || dt == OR_BFLOAT16;
}

static int prepare(or_graph *g, or_node *n, rop op, int axes_input_opset) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects an input and 1 output");
    if (!dtype_ok(x->dtype, op))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "dtype %s is not supported",
                            or_dtype_name(x->dtype));
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    bool reduced[OR_MAX_RANK];
    int rc = read_axes(g, n, axes_input_opset, x->rank, reduced);
    if (rc) return rc;
    bool keep = or_attr_int(n, "keepdims", 1) != 0;
    int64_t dims[OR_MAX_RANK];
    int rank = 0;
    for (int d = 0; d < x->rank; d++)
        if (!reduced[d] || keep) dims[rank++] = reduced[d] ? 1 : x->dims[d];
    reduce_plan *p = or_calloc(1, sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    n->state = p;
    n->free_state = free_plan;
    p->op = op;
    p->dtype = x->dtype;
    p->int_acc = x->dtype != OR_FLOAT && x->dtype != OR_DOUBLE && x->dtype != OR_FLOAT16 &&
                 x->dtype != OR_BFLOAT16 && op != R_L2 && op != R_LOGSUM && op != R_LOGSUMEXP;
    p->in_numel = or_tensor_numel(x);
    p->out_numel = or_shape_numel(rank, dims);
    plan_layout(p, x->rank, x->dims, reduced);
    if (p->out_numel > 0) {
        p->acc = or_malloc((size_t)p->out_numel * 8);
        if (op == R_LOGSUMEXP) p->aux = or_malloc((size_t)p->out_numel * sizeof(double));
        if (!p->acc || (op == R_LOGSUMEXP && !p->aux))
            return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    }
    n->run = reduce_run;
    return or_set_output(g, n, 0, x->dtype, rank, dims);
}

int reduce_sum_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, R_SUM, 13);
}
int reduce_mean_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, R_MEAN, 18);
}
int reduce_max_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, R_MAX, 18);
}
int reduce_min_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, R_MIN, 18);
}
int reduce_prod_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, R_PROD, 18);
}
int reduce_l1_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, R_L1, 18);
}
int reduce_l2_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, R_L2, 18);
}
int reduce_log_sum_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, R_LOGSUM, 18);
}
int reduce_log_sum_exp_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, R_LOGSUMEXP, 18);
}
int reduce_sum_square_prepare(or_graph *g, or_node *n) {
    return prepare(g, n, R_SUMSQ, 18);
}
