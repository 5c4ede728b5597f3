/* MatMul, Gemm, Softmax, LogSoftmax, the Reduce* family and ArgMax/ArgMin on
 * one-node graphs built by hand and run through the planner. Expected values
 * are worked out by hand (logs chosen so that softmax results are simple
 * fractions). Weights given as initializers take the packed-GEMM path. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "graph.h"
#include "threadpool.h"

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define F32(...) ((const float[]){__VA_ARGS__})
#define F64(...) ((const double[]){__VA_ARGS__})
#define I32(...) ((const int32_t[]){__VA_ARGS__})
#define I64(...) ((const int64_t[]){__VA_ARGS__})

typedef struct {
    or_graph *g;
    or_node *n;
} one_node;

static int tensor_id(or_graph *g, const char *name) {
    int t = or_graph_tensor(g, name);
    cr_assert(t >= 0);
    return t;
}

/* A node named node0 with inputs in0.. and outputs out0..; every output is a
 * graph output. */
static one_node node(const char *op, int opset, int n_in, int n_out) {
    one_node t = {or_graph_new(), NULL};
    cr_assert_not_null(t.g);
    t.g->opset = opset;
    t.n = or_graph_add_node(t.g);
    t.n->name = strdup("node0");
    t.n->op_type = strdup(op);
    t.n->domain = strdup("");
    t.n->opset = opset;
    t.n->n_inputs = n_in;
    t.n->inputs = calloc((size_t)n_in + 1, sizeof(int));
    t.n->n_outputs = n_out;
    t.n->outputs = calloc((size_t)n_out + 1, sizeof(int));
    char name[16];
    for (int i = 0; i < n_in; i++) {
        snprintf(name, sizeof name, "in%d", i);
        t.n->inputs[i] = tensor_id(t.g, name);
    }
    t.g->outputs = calloc((size_t)n_out + 1, sizeof(int));
    for (int i = 0; i < n_out; i++) {
        snprintf(name, sizeof name, "out%d", i);
        t.n->outputs[i] = tensor_id(t.g, name);
        t.g->outputs[t.g->n_outputs++] = t.n->outputs[i];
        t.g->tensors[t.n->outputs[i]].is_graph_output = true;
    }
    return t;
}

static void drop_input(one_node *t, int i) {
    t->n->inputs[i] = -1;
}

static or_tensor *shaped(one_node *t, int i, int dtype, int rank, const int64_t *dims) {
    or_tensor *x = &t->g->tensors[t->n->inputs[i]];
    x->dtype = dtype;
    x->rank = rank;
    for (int k = 0; k < rank; k++) x->dims[k] = dims[k];
    x->nbytes = (size_t)or_shape_numel(rank, dims) * or_dtype_size(dtype);
    return x;
}

/* A graph input bound to caller data. */
static void feed(one_node *t, int i, int dtype, int rank, const int64_t *dims, const void *data) {
    or_tensor *x = shaped(t, i, dtype, rank, dims);
    x->kind = OR_T_INPUT;
    x->data = (void *)data;
    t->g->inputs = realloc(t->g->inputs, sizeof(int) * (size_t)(t->g->n_inputs + 1));
    t->g->inputs[t->g->n_inputs++] = t->n->inputs[i];
}

/* An initializer (a copy of data, known while planning). */
static void weight(one_node *t, int i, int dtype, int rank, const int64_t *dims, const void *data) {
    or_tensor *x = shaped(t, i, dtype, rank, dims);
    x->kind = OR_T_INITIALIZER;
    x->is_static = true;
    x->owned = malloc(x->nbytes ? x->nbytes : 1);
    memcpy(x->owned, data, x->nbytes);
    x->data = x->owned;
}

static or_attr *attr(one_node *t, const char *name, or_attr_type type) {
    or_node *n = t->n;
    n->attrs = realloc(n->attrs, sizeof(or_attr) * (size_t)(n->n_attrs + 1));
    or_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

static void attr_i(one_node *t, const char *name, int64_t v) {
    attr(t, name, OR_ATTR_INT)->i = v;
}
static void attr_f(one_node *t, const char *name, float v) {
    attr(t, name, OR_ATTR_FLOAT)->f = v;
}
static void attr_ints(one_node *t, const char *name, size_t count, const int64_t *v) {
    or_attr *a = attr(t, name, OR_ATTR_INTS);
    a->n = count;
    a->ints = malloc(sizeof(int64_t) * (count ? count : 1));
    memcpy(a->ints, v, sizeof(int64_t) * count);
}

static int plan_run(one_node *t) {
    int status = or_graph_sort(t->g);
    if (status == ONNXRUN_OK) status = or_graph_check_ops(t->g);
    if (status == ONNXRUN_OK) status = or_graph_plan(t->g);
    if (status == ONNXRUN_OK) status = or_graph_run(t->g);
    return status;
}

static void run_ok(one_node *t) {
    int status = plan_run(t);
    cr_assert_eq(status, ONNXRUN_OK, "%s", t->g->errmsg);
}

static void run_fails(one_node *t, int status, const char *needle) {
    int got = plan_run(t);
    cr_assert_eq(got, status, "status %d, message: %s", got, t->g->errmsg);
    cr_assert(strstr(t->g->errmsg, needle), "message '%s' lacks '%s'", t->g->errmsg, needle);
}

/* Output k after checking its dtype and shape. */
static const void *result(one_node *t, int k, int dtype, int rank, const int64_t *dims) {
    const or_tensor *y = &t->g->tensors[t->n->outputs[k]];
    cr_assert_eq(y->dtype, dtype, "dtype %d, expected %d", y->dtype, dtype);
    cr_assert_eq(y->rank, rank, "rank %d, expected %d", y->rank, rank);
    for (int d = 0; d < rank; d++)
        cr_assert_eq(y->dims[d], dims[d], "dim %d is %lld, expected %lld", d, (long long)y->dims[d],
                     (long long)dims[d]);
    return y->data;
}

static void expect_f32(one_node *t, int rank, const int64_t *dims, const float *want) {
    const float *y = result(t, 0, OR_FLOAT, rank, dims);
    for (int64_t i = 0; i < or_shape_numel(rank, dims); i++)
        cr_expect(y[i] == want[i] || fabsf(y[i] - want[i]) <= 1e-5f * (1 + fabsf(want[i])) ||
                      (isnan(y[i]) && isnan(want[i])),
                  "[%lld] %.9g, expected %.9g", (long long)i, y[i], want[i]);
}

static void expect_f64(one_node *t, int rank, const int64_t *dims, const double *want) {
    const double *y = result(t, 0, OR_DOUBLE, rank, dims);
    for (int64_t i = 0; i < or_shape_numel(rank, dims); i++)
        cr_expect(fabs(y[i] - want[i]) <= 1e-12 * (1 + fabs(want[i])),
                  "[%lld] %.17g, expected %.17g", (long long)i, y[i], want[i]);
}

static void expect_i32(one_node *t, int rank, const int64_t *dims, const int32_t *want) {
    const int32_t *y = result(t, 0, OR_INT32, rank, dims);
    for (int64_t i = 0; i < or_shape_numel(rank, dims); i++)
        cr_expect_eq(y[i], want[i], "[%lld] %d, expected %d", (long long)i, y[i], want[i]);
}

static void expect_i64(one_node *t, int rank, const int64_t *dims, const int64_t *want) {
    const int64_t *y = result(t, 0, OR_INT64, rank, dims);
    for (int64_t i = 0; i < or_shape_numel(rank, dims); i++)
        cr_expect_eq(y[i], want[i], "[%lld] %lld, expected %lld", (long long)i, (long long)y[i],
                     (long long)want[i]);
}

static void done(one_node *t) {
    or_graph_free(t->g);
}

static const float A23[6] = {1, 2, 3, 4, 5, 6};    /* [[1,2,3],[4,5,6]] */
static const float B32[6] = {7, 8, 9, 10, 11, 12}; /* [[7,8],[9,10],[11,12]] */
static const float AB[4] = {58, 64, 139, 154};     /* A23 x B32 */

/* ---- MatMul ---- */

Test(matmul, two_d) {
    one_node t = node("MatMul", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), A23);
    feed(&t, 1, OR_FLOAT, 2, DIMS(3, 2), B32);
    run_ok(&t);
    expect_f32(&t, 2, DIMS(2, 2), AB);
    done(&t);
}

Test(matmul, one_d_operands_drop_their_axis) {
    one_node t = node("MatMul", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(3), F32(1, 2, 3));
    feed(&t, 1, OR_FLOAT, 2, DIMS(3, 2), B32);
    run_ok(&t);
    expect_f32(&t, 1, DIMS(2), F32(58, 64));
    done(&t);

    t = node("MatMul", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), A23);
    feed(&t, 1, OR_FLOAT, 1, DIMS(3), F32(1, 1, 1));
    run_ok(&t);
    expect_f32(&t, 1, DIMS(2), F32(6, 15));
    done(&t);

    t = node("MatMul", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(3), F32(1, 2, 3));
    feed(&t, 1, OR_FLOAT, 1, DIMS(3), F32(4, 5, 6));
    run_ok(&t);
    expect_f32(&t, 0, DIMS(0), F32(32));
    done(&t);
}

/* A [2,1,2,2] holds I and 2I; B [3,2,2] holds three matrices: the output
 * [2,3,2,2] is every s * B_b. */
Test(matmul, batch_broadcast) {
    static const float a[8] = {1, 0, 0, 1, 2, 0, 0, 2};
    static const float b[12] = {1, 2, 3, 4, 0, 1, 1, 0, 1, 1, 1, 1};
    float want[24];
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 12; k++) want[s * 12 + k] = (float)(s + 1) * b[k];
    one_node t = node("MatMul", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 4, DIMS(2, 1, 2, 2), a);
    feed(&t, 1, OR_FLOAT, 3, DIMS(3, 2, 2), b);
    run_ok(&t);
    expect_f32(&t, 4, DIMS(2, 3, 2, 2), want);
    done(&t);
}

/* A [2,2,3] against a constant B: batch folded into M, B packed. */
Test(matmul, constant_weight_packed) {
    static const float a[12] = {1, 2, 3, 4, 5, 6, 0, 0, 1, 1, 0, 0};
    one_node t = node("MatMul", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 3, DIMS(2, 2, 3), a);
    weight(&t, 1, OR_FLOAT, 2, DIMS(3, 2), B32);
    run_ok(&t);
    expect_f32(&t, 3, DIMS(2, 2, 2), F32(58, 64, 139, 154, 11, 12, 7, 8));
    cr_expect_not_null(t.n->cache, "the constant B was not packed");
    done(&t);
}

Test(matmul, double_and_integers) {
    one_node t = node("MatMul", 13, 2, 1);
    feed(&t, 0, OR_DOUBLE, 2, DIMS(2, 3), F64(1, 2, 3, 4, 5, 6));
    weight(&t, 1, OR_DOUBLE, 2, DIMS(3, 2), F64(7, 8, 9, 10, 11, 12));
    run_ok(&t);
    expect_f64(&t, 2, DIMS(2, 2), F64(58, 64, 139, 154));
    done(&t);

    t = node("MatMul", 13, 2, 1);
    feed(&t, 0, OR_INT32, 2, DIMS(2, 3), I32(1, 2, 3, 4, 5, 6));
    feed(&t, 1, OR_INT32, 2, DIMS(3, 2), I32(7, 8, 9, 10, 11, -12));
    run_ok(&t);
    expect_i32(&t, 2, DIMS(2, 2), I32(58, -8, 139, 10));
    done(&t);

    t = node("MatMul", 13, 2, 1);
    feed(&t, 0, OR_INT64, 2, DIMS(1, 2), I64(3000000000, 1));
    feed(&t, 1, OR_INT64, 2, DIMS(2, 1), I64(3, -1));
    run_ok(&t);
    expect_i64(&t, 2, DIMS(1, 1), I64(8999999999));
    done(&t);
}

Test(matmul, mismatched_inner_dims_fail) {
    one_node t = node("MatMul", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), A23);
    feed(&t, 1, OR_FLOAT, 2, DIMS(2, 3), B32);
    run_fails(&t, ONNXRUN_ERR_INPUT, "inner dimensions");
    done(&t);
}

/* 40 heads of [4,8] x [8,4] with a thread pool: batches run in parallel.
 * Head h multiplies all-ones by h-filled, so every entry is 8h. */
Test(matmul, many_batches_threaded) {
    static float a[40 * 32], b[40 * 32], want[40 * 16];
    for (int h = 0; h < 40; h++) {
        for (int k = 0; k < 32; k++) a[h * 32 + k] = 1, b[h * 32 + k] = (float)h;
        for (int k = 0; k < 16; k++) want[h * 16 + k] = 8.0f * (float)h;
    }
    one_node t = node("MatMul", 13, 2, 1);
    t.g->pool = or_threadpool_create(2);
    feed(&t, 0, OR_FLOAT, 3, DIMS(40, 4, 8), a);
    feed(&t, 1, OR_FLOAT, 3, DIMS(40, 8, 4), b);
    run_ok(&t);
    expect_f32(&t, 3, DIMS(40, 4, 4), want);
    or_threadpool_destroy(t.g->pool);
    t.g->pool = NULL;
    done(&t);
}

/* ---- Gemm ---- */

/* op(A) = [[1,3],[2,4]], op(B) = [[1,1],[0,1]]: product [[1,4],[2,6]];
 * 2 * that + 0.5 * [10,20] = [[7,18],[9,22]]. */
Test(gemm_op, transposes_alpha_beta_row_bias) {
    one_node t = node("Gemm", 13, 3, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 2), F32(1, 2, 3, 4));
    feed(&t, 1, OR_FLOAT, 2, DIMS(2, 2), F32(1, 0, 1, 1));
    feed(&t, 2, OR_FLOAT, 1, DIMS(2), F32(10, 20));
    attr_i(&t, "transA", 1);
    attr_i(&t, "transB", 1);
    attr_f(&t, "alpha", 2.0f);
    attr_f(&t, "beta", 0.5f);
    run_ok(&t);
    expect_f32(&t, 2, DIMS(2, 2), F32(7, 18, 9, 22));
    done(&t);
}

/* Linear layer form: constant B^T (packed), column bias [M,1]. */
Test(gemm_op, packed_weight_column_bias) {
    static const float bt[6] = {7, 9, 11, 8, 10, 12}; /* B32 transposed */
    one_node t = node("Gemm", 11, 3, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), A23);
    weight(&t, 1, OR_FLOAT, 2, DIMS(2, 3), bt);
    weight(&t, 2, OR_FLOAT, 2, DIMS(2, 1), F32(1, -1));
    attr_i(&t, "transB", 1);
    run_ok(&t);
    expect_f32(&t, 2, DIMS(2, 2), F32(59, 65, 138, 153));
    cr_expect_not_null(t.n->cache);
    done(&t);
}

/* Same as transposes_alpha_beta_row_bias with B constant. */
Test(gemm_op, trans_a_with_constant_b) {
    one_node t = node("Gemm", 13, 3, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 2), F32(1, 2, 3, 4));
    weight(&t, 1, OR_FLOAT, 2, DIMS(2, 2), F32(1, 0, 1, 1));
    weight(&t, 2, OR_FLOAT, 1, DIMS(2), F32(10, 20));
    attr_i(&t, "transA", 1);
    attr_i(&t, "transB", 1);
    attr_f(&t, "alpha", 2.0f);
    attr_f(&t, "beta", 0.5f);
    run_ok(&t);
    expect_f32(&t, 2, DIMS(2, 2), F32(7, 18, 9, 22));
    done(&t);
}

Test(gemm_op, optional_c_and_integers) {
    one_node t = node("Gemm", 13, 3, 1);
    feed(&t, 0, OR_DOUBLE, 2, DIMS(2, 3), F64(1, 2, 3, 4, 5, 6));
    feed(&t, 1, OR_DOUBLE, 2, DIMS(3, 2), F64(7, 8, 9, 10, 11, 12));
    drop_input(&t, 2);
    run_ok(&t);
    expect_f64(&t, 2, DIMS(2, 2), F64(58, 64, 139, 154));
    done(&t);

    t = node("Gemm", 13, 3, 1);
    feed(&t, 0, OR_INT32, 2, DIMS(1, 2), I32(2, 3));
    feed(&t, 1, OR_INT32, 2, DIMS(2, 2), I32(1, 2, 3, 4));
    feed(&t, 2, OR_INT32, 0, DIMS(0), I32(100));
    attr_f(&t, "alpha", 2.0f);
    run_ok(&t);
    expect_i32(&t, 2, DIMS(1, 2), I32(2 * 11 + 100, 2 * 16 + 100));
    done(&t);
}

/* Integer sums and products wrap instead of overflowing (signed overflow was
 * undefined behaviour, found by fuzz_model_run); alpha 1 keeps int64 exact
 * beyond 2^53; another alpha goes through double and converts back as Cast
 * does (out of range: INT64_MIN). */
Test(gemm_op, integer_overflow_wraps) {
    one_node t = node("Gemm", 13, 3, 1);
    feed(&t, 0, OR_INT64, 2, DIMS(1, 2), I64(INT64_MAX, 3));
    feed(&t, 1, OR_INT64, 2, DIMS(2, 1), I64((int64_t)1 << 40, ((int64_t)1 << 53) + 1));
    feed(&t, 2, OR_INT64, 0, DIMS(0), I64(1));
    run_ok(&t);
    /* (2^63 - 1) * 2^40 = -2^40 modulo 2^64 */
    expect_i64(&t, 2, DIMS(1, 1), I64(-((int64_t)1 << 40) + 3 * (((int64_t)1 << 53) + 1) + 1));
    done(&t);

    t = node("Gemm", 13, 3, 1);
    feed(&t, 0, OR_INT64, 2, DIMS(1, 1), I64((int64_t)1 << 62));
    feed(&t, 1, OR_INT64, 2, DIMS(1, 3), I64(1, 0, 2));
    drop_input(&t, 2);
    attr_f(&t, "alpha", 4.0f);
    run_ok(&t); /* 4 * 2^62 = 2^64 is out of range; 2 * 2^62 wraps to INT64_MIN, times 4 */
    expect_i64(&t, 2, DIMS(1, 3), I64(INT64_MIN, 0, INT64_MIN));
    done(&t);

    t = node("Gemm", 13, 3, 1);
    feed(&t, 0, OR_INT32, 2, DIMS(1, 2), I32(INT32_MAX, 1));
    feed(&t, 1, OR_INT32, 2, DIMS(2, 1), I32(2, 5));
    drop_input(&t, 2);
    run_ok(&t);
    expect_i32(&t, 2, DIMS(1, 1), I32(3)); /* 2 * (2^31 - 1) = -2 modulo 2^32 */
    done(&t);
}

Test(gemm_op, bad_shapes_fail) {
    one_node t = node("Gemm", 9, 2, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), A23);
    feed(&t, 1, OR_FLOAT, 2, DIMS(3, 2), B32);
    run_fails(&t, ONNXRUN_ERR_MODEL, "C");
    done(&t);

    t = node("Gemm", 13, 3, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), A23);
    feed(&t, 1, OR_FLOAT, 2, DIMS(3, 2), B32);
    feed(&t, 2, OR_FLOAT, 1, DIMS(3), F32(1, 2, 3));
    run_fails(&t, ONNXRUN_ERR_INPUT, "does not broadcast");
    done(&t);
}

/* ---- Softmax, LogSoftmax ---- */

#define LN2 0.69314718055994531
#define LN3 1.09861228866810969

/* exp([0, ln2, ln3]) = [1,2,3]: softmax [1,2,3]/6, also with 1000 added. */
Test(softmax, last_axis_stable) {
    one_node t = node("Softmax", 13, 1, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3),
         F32(0, (float)LN2, (float)LN3, 1000, 1000 + (float)LN2, 1000 + (float)LN3));
    run_ok(&t);
    /* 1000 + ln2 rounds in float: allow for that through the 1e-5 tolerance. */
    const float *y = result(&t, 0, OR_FLOAT, 2, DIMS(2, 3));
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < 3; k++)
            cr_expect(fabsf(y[r * 3 + k] - (float)(k + 1) / 6) < (r ? 1e-4f : 1e-6f), "%g",
                      y[r * 3 + k]);
    done(&t);
}

/* Opset 11 coerces [2,2,2] at axis 1 into rows of 4. */
Test(softmax, opset11_coerces_to_2d) {
    one_node t = node("Softmax", 11, 1, 1);
    feed(&t, 0, OR_DOUBLE, 3, DIMS(2, 2, 2), F64(0, LN3, 0, 0, LN2, LN2, LN2, LN2));
    run_ok(&t);
    expect_f64(&t, 3, DIMS(2, 2, 2), F64(1. / 6, 3. / 6, 1. / 6, 1. / 6, .25, .25, .25, .25));
    done(&t);
}

/* Axis 0 of [2,2]: columns [0, ln3] -> [1/4, 3/4] and [0, 0] -> [1/2, 1/2]. */
Test(softmax, strided_axis) {
    one_node t = node("Softmax", 13, 1, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 2), F32(0, 0, (float)LN3, 0));
    attr_i(&t, "axis", 0);
    run_ok(&t);
    expect_f32(&t, 2, DIMS(2, 2), F32(.25f, .5f, .75f, .5f));
    done(&t);
}

Test(softmax, log_softmax) {
    one_node t = node("LogSoftmax", 13, 1, 1);
    feed(&t, 0, OR_DOUBLE, 1, DIMS(3), F64(0, LN2, LN3));
    run_ok(&t);
    expect_f64(&t, 1, DIMS(3), F64(-(LN2 + LN3), -LN3, -LN2));
    done(&t);

    t = node("LogSoftmax", 1, 1, 1); /* default axis 1, coerced */
    feed(&t, 0, OR_FLOAT, 3, DIMS(1, 2, 2), F32(1e4f, 1e4f, 1e4f, 1e4f));
    run_ok(&t);
    float l4 = -2 * (float)LN2;
    expect_f32(&t, 3, DIMS(1, 2, 2), F32(l4, l4, l4, l4));
    done(&t);
}

/* ---- Reductions ---- */

static const float X23[6] = {0, 1, 2, 3, 4, 5}; /* [[0,1,2],[3,4,5]] */

Test(reduce, sum_axes_attribute_and_input) {
    one_node t = node("ReduceSum", 11, 1, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), X23);
    attr_ints(&t, "axes", 1, I64(1));
    attr_i(&t, "keepdims", 0);
    run_ok(&t);
    expect_f32(&t, 1, DIMS(2), F32(3, 12));
    done(&t);

    t = node("ReduceSum", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), X23);
    weight(&t, 1, OR_INT64, 1, DIMS(1), I64(-2));
    run_ok(&t);
    expect_f32(&t, 2, DIMS(1, 3), F32(3, 5, 7));
    done(&t);
}

/* x[i][j][k] = 6i + 2j + k over [2,3,2]; summing j gives 18i + 3k + 6. */
Test(reduce, middle_axis) {
    static const float x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    one_node t = node("ReduceSum", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 3, DIMS(2, 3, 2), x);
    weight(&t, 1, OR_INT64, 1, DIMS(1), I64(1));
    run_ok(&t);
    expect_f32(&t, 3, DIMS(2, 1, 2), F32(6, 9, 24, 27));
    done(&t);
}

Test(reduce, mean_all_and_noop) {
    one_node t = node("ReduceMean", 18, 1, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), X23);
    run_ok(&t);
    expect_f32(&t, 2, DIMS(1, 1), F32(2.5f));
    done(&t);

    t = node("ReduceSumSquare", 18, 1, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), X23);
    attr_i(&t, "noop_with_empty_axes", 1);
    run_ok(&t);
    expect_f32(&t, 2, DIMS(2, 3), F32(0, 1, 4, 9, 16, 25));
    done(&t);
}

/* Rows [1,-2] and [3,4] along axis 1. */
Test(reduce, family_values) {
    static const struct {
        const char *op;
        float want[2];
    } cases[] = {
        {"ReduceMax", {1, 4}},         {"ReduceMin", {-2, 3}},        {"ReduceProd", {-2, 12}},
        {"ReduceL1", {3, 7}},          {"ReduceL2", {2.2360680f, 5}}, {"ReduceSumSquare", {5, 25}},
        {"ReduceMean", {-0.5f, 3.5f}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        one_node t = node(cases[c].op, 18, 2, 1);
        feed(&t, 0, OR_FLOAT, 2, DIMS(2, 2), F32(1, -2, 3, 4));
        weight(&t, 1, OR_INT64, 1, DIMS(1), I64(1));
        attr_i(&t, "keepdims", 0);
        run_ok(&t);
        cr_log_info("%s", cases[c].op);
        expect_f32(&t, 1, DIMS(2), cases[c].want);
        done(&t);
    }
}

Test(reduce, log_sum_and_log_sum_exp) {
    one_node t = node("ReduceLogSum", 18, 2, 1);
    feed(&t, 0, OR_DOUBLE, 2, DIMS(2, 2), F64(1, 2, 3, 4));
    weight(&t, 1, OR_INT64, 1, DIMS(1), I64(1));
    run_ok(&t);
    expect_f64(&t, 2, DIMS(2, 1), F64(LN3, log(7.0)));
    done(&t);

    t = node("ReduceLogSumExp", 13, 1, 1); /* axes attribute before 18 */
    feed(&t, 0, OR_DOUBLE, 2, DIMS(2, 2), F64(0, LN3, 1000, 1000));
    attr_ints(&t, "axes", 1, I64(1));
    run_ok(&t);
    expect_f64(&t, 2, DIMS(2, 1), F64(2 * LN2, 1000 + LN2));
    done(&t);
}

Test(reduce, integers_and_bool) {
    one_node t = node("ReduceMean", 13, 1, 1);
    feed(&t, 0, OR_INT32, 2, DIMS(2, 2), I32(1, 2, -7, 0));
    attr_ints(&t, "axes", 1, I64(1));
    run_ok(&t);
    expect_i32(&t, 2, DIMS(2, 1), I32(1, -3)); /* 3/2 and -7/2 truncate */
    done(&t);

    t = node("ReduceSum", 13, 1, 1);
    feed(&t, 0, OR_INT64, 1, DIMS(2), I64(INT64_MAX, 2));
    run_ok(&t);
    expect_i64(&t, 1, DIMS(1), I64(INT64_MIN + 1)); /* wraps */
    done(&t);

    static const bool b[4] = {true, false, false, false};
    t = node("ReduceMax", 20, 2, 1);
    feed(&t, 0, OR_BOOL, 2, DIMS(2, 2), b);
    weight(&t, 1, OR_INT64, 1, DIMS(1), I64(1));
    run_ok(&t);
    const bool *y = result(&t, 0, OR_BOOL, 2, DIMS(2, 1));
    cr_expect(y[0] && !y[1]);
    done(&t);
}

Test(reduce, empty_set_gives_identity) {
    one_node t = node("ReduceSum", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 0), F32(0));
    weight(&t, 1, OR_INT64, 1, DIMS(1), I64(1));
    run_ok(&t);
    expect_f32(&t, 2, DIMS(2, 1), F32(0, 0));
    done(&t);

    t = node("ReduceMin", 18, 2, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 0), F32(0));
    weight(&t, 1, OR_INT64, 1, DIMS(1), I64(1));
    run_ok(&t);
    expect_f32(&t, 2, DIMS(2, 1), F32(INFINITY, INFINITY));
    done(&t);
}

Test(reduce, bad_axis_fails) {
    one_node t = node("ReduceSum", 11, 1, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), X23);
    attr_ints(&t, "axes", 1, I64(2));
    run_fails(&t, ONNXRUN_ERR_MODEL, "out of range");
    done(&t);
}

/* ---- ArgMax, ArgMin ---- */

static const float T23[6] = {1, 5, 5, 7, 2, 7}; /* [[1,5,5],[7,2,7]] */

Test(argmax, ties_first_or_last) {
    one_node t = node("ArgMax", 13, 1, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), T23);
    attr_i(&t, "axis", -1);
    run_ok(&t);
    expect_i64(&t, 2, DIMS(2, 1), I64(1, 0));
    done(&t);

    t = node("ArgMax", 13, 1, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), T23);
    attr_i(&t, "axis", 1);
    attr_i(&t, "select_last_index", 1);
    run_ok(&t);
    expect_i64(&t, 2, DIMS(2, 1), I64(2, 2));
    done(&t);
}

Test(argmax, argmin_axis0_no_keepdims) {
    one_node t = node("ArgMin", 13, 1, 1);
    feed(&t, 0, OR_INT32, 2, DIMS(2, 3), I32(1, 5, 5, 7, 2, 7));
    attr_i(&t, "keepdims", 0);
    run_ok(&t);
    expect_i64(&t, 1, DIMS(3), I64(0, 1, 0));
    done(&t);
}

Test(argmax, nan_wins) {
    one_node t = node("ArgMax", 13, 1, 1);
    feed(&t, 0, OR_DOUBLE, 1, DIMS(4), F64(1, NAN, 3, NAN));
    run_ok(&t);
    expect_i64(&t, 1, DIMS(1), I64(1));
    done(&t);
}
