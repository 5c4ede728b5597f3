/* Max, Min, Sum, Mean (opsets 6-23; numpy broadcasting since 8, which is a
 * superset of 6's equal shapes): one or more inputs of one type folded left
 * to right into the output, each step broadcasting the running result with
 * the next input. Max/Min take any numeric type (integers since 12) and
 * propagate NaN like numpy; Sum/Mean take float types. float16/bfloat16
 * compute through float32, rounding after every step. */
#include "../runtime/alloc.h"
#include "elementwise.h"

#include <stdlib.h>
#include <string.h>

#define MAXMIN(DT, T, U, S)                                                                        \
    OR_EW_KERNEL(max_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, x > y || x != x ? x : y);                                       \
    }                                                                                              \
    OR_EW_KERNEL(min_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, x < y || x != x ? x : y);                                       \
    }
OR_EW_NUMERIC(MAXMIN)

#define SUMS(DT, T, U, S)                                                                          \
    OR_EW_KERNEL(sum_##S) {                                                                        \
        OR_EW_BINARY_LOOP(T, T, T, x + y);                                                         \
    }                                                                                              \
    OR_EW_KERNEL(scale_##S) {                                                                      \
        const T a = (T)OR_EW_P(0);                                                                 \
        OR_EW_UNARY_LOOP(T, T, x *a);                                                              \
    }
OR_EW_FLOAT(SUMS)

#define ENTRY_MAX(DT, T, U, S) [DT] = max_##S,
#define ENTRY_MIN(DT, T, U, S) [DT] = min_##S,
static const or_ew_table max_table = {OR_EW_NUMERIC(ENTRY_MAX)};
static const or_ew_table min_table = {OR_EW_NUMERIC(ENTRY_MIN)};
static const or_ew_table sum_table = {[OR_FLOAT] = sum_f32, [OR_DOUBLE] = sum_f64};
static const or_ew_table scale_table = {[OR_FLOAT] = scale_f32, [OR_DOUBLE] = scale_f64};

typedef struct {
    or_ew_kern step_k;  /* binary step, or the copy of a single input */
    or_ew_kern scale_k; /* Mean's final division; fn NULL otherwise */
    or_bcast scale_b;
    int n_steps;
    or_bcast steps[];
} variadic_state;

static int variadic_run(or_graph *g, or_node *n) {
    const variadic_state *s = n->state;
    void *out = or_output(g, n, 0)->data;
    const void *in[2] = {or_input(g, n, 0)->data, NULL};
    for (int i = 0; i < s->n_steps; i++) {
        if (i > 0) in[0] = out;
        in[1] = n->n_inputs > 1 ? or_input(g, n, i + 1)->data : NULL;
        or_ew_exec(&s->step_k, &s->steps[i], g->pool, out, in);
    }
    if (s->scale_k.fn) {
        const void *o[1] = {out};
        or_ew_exec(&s->scale_k, &s->scale_b, g->pool, out, o);
    }
    return ONNXRUN_OK;
}

/* Output shape: the broadcast of every input. */
static int variadic_shape(or_graph *g, or_node *n, int *rank, int64_t *dims) {
    *rank = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const or_tensor *t = or_input(g, n, i);
        const int ranks[2] = {*rank, t->rank};
        int64_t acc[OR_MAX_RANK];
        memcpy(acc, dims, sizeof(int64_t) * (size_t)*rank);
        const int64_t *shapes[2] = {acc, t->dims};
        int status = or_bcast_shape(g, n, 2, ranks, shapes, rank, dims);
        if (status != ONNXRUN_OK) return status;
    }
    return ONNXRUN_OK;
}

static void plan_steps(or_graph *g, or_node *n, variadic_state *s, int rank, const int64_t *dims) {
    for (int i = 0; i < s->n_steps; i++) {
        const or_tensor *a = or_input(g, n, 0);
        const or_tensor *b = n->n_inputs > 1 ? or_input(g, n, i + 1) : NULL;
        int ranks[2] = {i == 0 ? a->rank : rank, b ? b->rank : 0};
        const int64_t *shapes[2] = {i == 0 ? a->dims : dims, b ? b->dims : NULL};
        or_bcast_plan(&s->steps[i], b ? 2 : 1, ranks, shapes, rank, dims);
    }
}

static int variadic_prepare(or_graph *g, or_node *n, const or_bcast_kernel *table, bool mean) {
    int dtype, rank;
    int64_t dims[OR_MAX_RANK];
    if (n->n_inputs < 1) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "needs at least 1 input");
    int status = or_ew_check_arity(g, n, n->n_inputs, n->n_inputs);
    if (status == ONNXRUN_OK) status = or_ew_same_dtype(g, n, n->n_inputs, &dtype);
    if (status == ONNXRUN_OK) status = variadic_shape(g, n, &rank, dims);
    if (status == ONNXRUN_OK) status = or_set_output(g, n, 0, dtype, rank, dims);
    if (status != ONNXRUN_OK) return status;
    int n_steps = n->n_inputs > 1 ? n->n_inputs - 1 : 1;
    variadic_state *s = or_calloc(1, sizeof *s + sizeof(or_bcast) * (size_t)n_steps);
    if (!s) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    s->n_steps = n_steps;
    s->step_k = (or_ew_kern){.n_in = n->n_inputs > 1 ? 2 : 1,
                             .out_dtype = dtype,
                             .in_dtype = {dtype, dtype},
                             .grain = OR_EW_GRAIN};
    bool ok = or_ew_pick(&s->step_k, table, dtype);
    if (n->n_inputs == 1) {
        s->step_k.fn = or_ew_copy;
        s->step_k.via_f32 = false;
    }
    if (ok && mean && n->n_inputs > 1) {
        s->scale_k = (or_ew_kern){.n_in = 1,
                                  .out_dtype = dtype,
                                  .in_dtype = {dtype},
                                  .p = {1.0 / n->n_inputs},
                                  .grain = OR_EW_GRAIN};
        ok = or_ew_pick(&s->scale_k, scale_table, dtype);
        int64_t numel = or_shape_numel(rank, dims);
        const int64_t *flat[1] = {&numel};
        or_bcast_plan(&s->scale_b, 1, (const int[]){1}, flat, 1, &numel);
    }
    if (!ok) {
        or_free(s);
        return or_ew_bad_dtype(g, n, dtype);
    }
    plan_steps(g, n, s, rank, dims);
    n->state = s;
    n->free_state = or_free;
    n->run = variadic_run;
    return ONNXRUN_OK;
}

int max_prepare(or_graph *g, or_node *n) {
    return variadic_prepare(g, n, max_table, false);
}
int min_prepare(or_graph *g, or_node *n) {
    return variadic_prepare(g, n, min_table, false);
}
int sum_prepare(or_graph *g, or_node *n) {
    return variadic_prepare(g, n, sum_table, false);
}
int mean_prepare(or_graph *g, or_node *n) {
    return variadic_prepare(g, n, sum_table, true);
}
