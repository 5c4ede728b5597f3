/* Elementwise ops on one-node graphs built by hand and run through the
 * planner: arithmetic with integer edge cases, Pow's mixed types, Mod's two
 * modes, comparisons and logic, Where, Clip in both attribute and input
 * forms, Cast's rounding and out-of-range rules, the variadic ops,
 * activations with their default attributes, Dropout, PRelu, legacy (opset 6)
 * broadcasting and a threaded run. Expected values are worked out by hand
 * from the ONNX spec (IEEE bit patterns for float16/bfloat16 by hand too). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "graph.h"
#include "threadpool.h"

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define F32(...) ((const float[]){__VA_ARGS__})
#define F64(...) ((const double[]){__VA_ARGS__})
#define I8(...) ((const int8_t[]){__VA_ARGS__})
#define U8(...) ((const uint8_t[]){__VA_ARGS__})
#define U16(...) ((const uint16_t[]){__VA_ARGS__})
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

/* A node with inputs "a", "b", ... (NULL entries in `absent` become -1) and
 * outputs "y", "z". */
static one_node node(const char *op, int opset, int n_in, int n_out) {
    one_node t = {or_graph_new(), NULL};
    cr_assert_not_null(t.g);
    t.g->opset = opset;
    or_node *n = or_graph_add_node(t.g);
    n->name = strdup("el0");
    n->op_type = strdup(op);
    n->domain = strdup("");
    n->opset = opset;
    n->n_inputs = n_in;
    n->inputs = calloc((size_t)n_in + 1, sizeof(int));
    for (int i = 0; i < n_in; i++) n->inputs[i] = tensor_id(t.g, (char[]){(char)('a' + i), 0});
    n->n_outputs = n_out;
    n->outputs = calloc((size_t)n_out + 1, sizeof(int));
    t.g->outputs = calloc((size_t)n_out + 1, sizeof(int));
    for (int i = 0; i < n_out; i++) {
        n->outputs[i] = tensor_id(t.g, (char[]){(char)('y' + i), 0});
        t.g->outputs[t.g->n_outputs++] = n->outputs[i];
        t.g->tensors[n->outputs[i]].is_graph_output = true;
    }
    t.n = n;
    return t;
}

static void drop_input(one_node *t, int i) {
    t->n->inputs[i] = -1;
}

static or_tensor *shape_in(one_node *t, int i, int dtype, int rank, const int64_t *dims) {
    or_tensor *x = &t->g->tensors[t->n->inputs[i]];
    x->dtype = dtype;
    x->rank = rank;
    memcpy(x->dims, dims, sizeof(int64_t) * (size_t)rank);
    x->nbytes = (size_t)or_shape_numel(rank, dims) * or_dtype_size(dtype);
    return x;
}

/* Input i as a bound graph input (the node runs at run time). */
static void feed(one_node *t, int i, int dtype, int rank, const int64_t *dims, const void *data) {
    or_tensor *x = shape_in(t, i, dtype, rank, dims);
    x->kind = OR_T_INPUT;
    x->data = (void *)data;
    t->g->inputs = realloc(t->g->inputs, sizeof(int) * (size_t)(t->g->n_inputs + 1));
    t->g->inputs[t->g->n_inputs++] = t->n->inputs[i];
}

/* Input i as an initializer (known while planning). */
static void constant(one_node *t, int i, int dtype, int rank, const int64_t *dims,
                     const void *data) {
    or_tensor *x = shape_in(t, i, dtype, rank, dims);
    x->kind = OR_T_INITIALIZER;
    x->is_static = true;
    x->owned = malloc(x->nbytes ? x->nbytes : 1);
    memcpy(x->owned, data, x->nbytes);
    x->data = x->owned;
}

static or_attr *attr(one_node *t, const char *name, or_attr_type type) {
    or_node *n = t->n;
    n->attrs = realloc(n->attrs, sizeof(or_attr) * (size_t)(n->n_attrs + 1));
    or_attr *a = memset(&n->attrs[n->n_attrs++], 0, sizeof(or_attr));
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
    cr_assert_eq(got, status, "status %d: %s", got, t->g->errmsg);
    cr_assert(strstr(t->g->errmsg, needle), "'%s' lacks '%s'", t->g->errmsg, needle);
    cr_assert(strstr(t->g->errmsg, "el0"), "'%s' names no node", t->g->errmsg);
    or_graph_free(t->g);
}

/* Checks output k's dtype and shape, returns its data, frees nothing. */
static const void *result(one_node *t, int k, int dtype, int rank, const int64_t *dims) {
    const or_tensor *y = &t->g->tensors[t->n->outputs[k]];
    cr_assert_eq(y->dtype, dtype, "dtype %d, expected %d", y->dtype, dtype);
    cr_assert_eq(y->rank, rank, "rank %d, expected %d", y->rank, rank);
    for (int d = 0; d < rank; d++)
        cr_assert_eq(y->dims[d], dims[d], "dim %d is %lld", d, (long long)y->dims[d]);
    return y->data;
}

static int64_t count(int rank, const int64_t *dims) {
    return or_shape_numel(rank, dims);
}

/* Compares as double with a relative tolerance; NaN matches NaN. */
#define EXPECT_NEAR(T, DT, t, rank, dims, want, tol)                                               \
    do {                                                                                           \
        const T *got_ = result(t, 0, DT, rank, dims);                                              \
        for (int64_t i_ = 0; i_ < count(rank, dims); i_++) {                                       \
            double g_ = got_[i_], w_ = (want)[i_];                                                 \
            cr_assert(g_ == w_ || (isnan(g_) && isnan(w_)) ||                                      \
                          fabs(g_ - w_) <= (tol) * (1 + fabs(w_)),                                 \
                      "[%lld] %.9g, expected %.9g", (long long)i_, g_, w_);                        \
        }                                                                                          \
        or_graph_free((t)->g);                                                                     \
    } while (0)

#define EXPECT_EQ(T, DT, t, rank, dims, want)                                                      \
    do {                                                                                           \
        const T *got_ = result(t, 0, DT, rank, dims);                                              \
        for (int64_t i_ = 0; i_ < count(rank, dims); i_++)                                         \
            cr_assert_eq(got_[i_], (want)[i_], "[%lld] %lld, expected %lld", (long long)i_,        \
                         (long long)got_[i_], (long long)(want)[i_]);                              \
        or_graph_free((t)->g);                                                                     \
    } while (0)

/* Two fed inputs of one dtype, run, compare exactly. */
#define BINARY_EQ(op, opset, DT, T, ra, da, va, rb, db, vb, OUT_DT, OUT_T, ro, dout, want)         \
    do {                                                                                           \
        one_node t_ = node(op, opset, 2, 1);                                                       \
        feed(&t_, 0, DT, ra, da, va);                                                              \
        feed(&t_, 1, DT, rb, db, vb);                                                              \
        run_ok(&t_);                                                                               \
        EXPECT_EQ(OUT_T, OUT_DT, &t_, ro, dout, want);                                             \
    } while (0)

/* ---- arithmetic ---- */

Test(elementwise, add_row_broadcast) {
    one_node t = node("Add", 14, 2, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), F32(1, 2, 3, 4, 5, 6));
    feed(&t, 1, OR_FLOAT, 1, DIMS(3), F32(10, 20, 30));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 2, DIMS(2, 3), F32(11, 22, 33, 14, 25, 36), 0);
}

Test(elementwise, sub_mul_double_scalar) {
    one_node t = node("Sub", 14, 2, 1);
    feed(&t, 0, OR_DOUBLE, 0, DIMS(1), F64(1.5));
    feed(&t, 1, OR_DOUBLE, 2, DIMS(2, 1), F64(0.25, -2));
    run_ok(&t);
    EXPECT_NEAR(double, OR_DOUBLE, &t, 2, DIMS(2, 1), F64(1.25, 3.5), 0);
    t = node("Mul", 14, 2, 1);
    feed(&t, 0, OR_DOUBLE, 2, DIMS(2, 1), F64(2, 3));
    feed(&t, 1, OR_DOUBLE, 2, DIMS(1, 3), F64(1, 10, 100));
    run_ok(&t);
    EXPECT_NEAR(double, OR_DOUBLE, &t, 2, DIMS(2, 3), F64(2, 20, 200, 3, 30, 300), 0);
}

Test(elementwise, integer_wraparound) {
    BINARY_EQ("Sub", 14, OR_INT32, int32_t, 1, DIMS(2), I32(INT32_MIN, 5), 1, DIMS(2), I32(1, 7),
              OR_INT32, int32_t, 1, DIMS(2), I32(INT32_MAX, -2));
    BINARY_EQ("Add", 14, OR_INT64, int64_t, 1, DIMS(1), I64(INT64_MAX), 0, DIMS(1), I64(1),
              OR_INT64, int64_t, 1, DIMS(1), I64(INT64_MIN));
    /* 65535 * 65535 = 0xFFFE0001, whose low 16 bits are 1. */
    BINARY_EQ("Mul", 14, OR_UINT16, uint16_t, 1, DIMS(2), U16(65535, 300), 1, DIMS(2),
              U16(65535, 300), OR_UINT16, uint16_t, 1, DIMS(2), U16(1, 24464));
    BINARY_EQ("Add", 14, OR_INT8, int8_t, 1, DIMS(2), I8(127, -128), 1, DIMS(2), I8(1, -1), OR_INT8,
              int8_t, 1, DIMS(2), I8(-128, 127));
}

Test(elementwise, integer_division) {
    BINARY_EQ("Div", 14, OR_INT32, int32_t, 1, DIMS(6), I32(-7, 7, 7, -7, 5, INT32_MIN), 1, DIMS(6),
              I32(2, -2, 2, -2, 0, -1), OR_INT32, int32_t, 1, DIMS(6),
              I32(-3, -3, 3, 3, 0, INT32_MIN));
    BINARY_EQ("Div", 14, OR_INT64, int64_t, 1, DIMS(3), I64(-9, INT64_MIN, 4), 0, DIMS(1), I64(-1),
              OR_INT64, int64_t, 1, DIMS(3), I64(9, INT64_MIN, -4));
    BINARY_EQ("Div", 14, OR_UINT8, uint8_t, 1, DIMS(3), U8(200, 7, 9), 1, DIMS(3), U8(3, 0, 9),
              OR_UINT8, uint8_t, 1, DIMS(3), U8(66, 0, 1));
}

Test(elementwise, float16_through_float) {
    /* 1 + 2 = 3 and 0.5 + 65504 = 65504 (the sum rounds back to 65504). */
    BINARY_EQ("Add", 14, OR_FLOAT16, uint16_t, 1, DIMS(2), U16(0x3c00, 0x3800), 1, DIMS(2),
              U16(0x4000, 0x7bff), OR_FLOAT16, uint16_t, 1, DIMS(2), U16(0x4200, 0x7bff));
    /* bfloat16: 1.5 * 2 = 3 (0x4040). */
    BINARY_EQ("Mul", 14, OR_BFLOAT16, uint16_t, 0, DIMS(1), U16(0x3fc0), 0, DIMS(1), U16(0x4000),
              OR_BFLOAT16, uint16_t, 0, DIMS(1), U16(0x4040));
}

Test(elementwise, broadcast_error) {
    one_node t = node("Add", 14, 2, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 3), F32(0, 0, 0, 0, 0, 0));
    feed(&t, 1, OR_FLOAT, 1, DIMS(4), F32(0, 0, 0, 0));
    run_fails(&t, ONNXRUN_ERR_INPUT, "[2,3] and [4]");
}

Test(elementwise, mixed_types_rejected) {
    one_node t = node("Add", 14, 2, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(1), F32(0));
    feed(&t, 1, OR_INT32, 1, DIMS(1), I32(0));
    run_fails(&t, ONNXRUN_ERR_MODEL, "int32");
}

Test(elementwise, legacy_broadcast_axis) {
    /* Opset 6, broadcast=1, axis=1: B [3] lines up with A's dim 1. */
    one_node t = node("Add", 6, 2, 1);
    attr_i(&t, "broadcast", 1);
    attr_i(&t, "axis", 1);
    feed(&t, 0, OR_FLOAT, 3, DIMS(2, 3, 2), F32(0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1));
    feed(&t, 1, OR_FLOAT, 1, DIMS(3), F32(10, 20, 30));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 3, DIMS(2, 3, 2),
                F32(10, 10, 20, 20, 30, 30, 11, 11, 21, 21, 31, 31), 0);
    /* Without axis: suffix matching, as numpy. */
    t = node("Mul", 6, 2, 1);
    attr_i(&t, "broadcast", 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(2, 2), F32(1, 2, 3, 4));
    feed(&t, 1, OR_FLOAT, 1, DIMS(2), F32(10, 100));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 2, DIMS(2, 2), F32(10, 200, 30, 400), 0);
}

/* ---- Pow ---- */

Test(elementwise, pow_types) {
    one_node t = node("Pow", 15, 2, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(3), F32(2, -2, 9));
    feed(&t, 1, OR_INT32, 1, DIMS(3), I32(3, 3, -1));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(3), F32(8, -8, 1.0f / 9), 1e-6);
    /* Integer powers are exact; negative exponents truncate 1/x^k. */
    t = node("Pow", 15, 2, 1);
    feed(&t, 0, OR_INT32, 1, DIMS(5), I32(3, 2, -1, 0, -3));
    feed(&t, 1, OR_INT64, 1, DIMS(5), I64(4, -1, -3, -1, 3));
    run_ok(&t);
    EXPECT_EQ(int32_t, OR_INT32, &t, 1, DIMS(5), I32(81, 0, -1, 0, -27));
    t = node("Pow", 15, 2, 1);
    feed(&t, 0, OR_INT64, 1, DIMS(2), I64(4, 10));
    feed(&t, 1, OR_FLOAT, 0, DIMS(1), F32(0.5f));
    run_ok(&t);
    EXPECT_EQ(int64_t, OR_INT64, &t, 1, DIMS(2), I64(2, 3));
    /* 3^40 = 12157665459056928801 wraps to 12157665459056928801 - 2^64. */
    t = node("Pow", 15, 2, 1);
    feed(&t, 0, OR_INT64, 0, DIMS(1), I64(3));
    feed(&t, 1, OR_INT64, 0, DIMS(1), I64(40));
    run_ok(&t);
    EXPECT_EQ(int64_t, OR_INT64, &t, 0, DIMS(1), I64(-6289078614652622815));
}

Test(elementwise, pow_constant_exponent) {
    one_node t = node("Pow", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 2, DIMS(1, 3), F32(-3, 1.5f, 0));
    constant(&t, 1, OR_FLOAT, 0, DIMS(1), F32(2));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 2, DIMS(1, 3), F32(9, 2.25f, 0), 0);
    t = node("Pow", 13, 2, 1);
    feed(&t, 0, OR_DOUBLE, 1, DIMS(2), F64(-2, 0.5));
    constant(&t, 1, OR_INT64, 1, DIMS(1), I64(3));
    run_ok(&t);
    EXPECT_NEAR(double, OR_DOUBLE, &t, 1, DIMS(2), F64(-8, 0.125), 0);
}

Test(elementwise, pow_mixed_before_opset_12) {
    one_node t = node("Pow", 7, 2, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(1), F32(2));
    feed(&t, 1, OR_INT32, 1, DIMS(1), I32(2));
    run_fails(&t, ONNXRUN_ERR_MODEL, "opset 12");
}

/* ---- Mod ---- */

Test(elementwise, mod_integer_sign_rules) {
    /* fmod=0: the sign of the divisor (Python). */
    BINARY_EQ("Mod", 13, OR_INT32, int32_t, 1, DIMS(6), I32(-7, 7, -7, 7, 5, INT32_MIN), 1, DIMS(6),
              I32(3, -3, -3, 3, 0, -1), OR_INT32, int32_t, 1, DIMS(6), I32(2, -2, -1, 1, 0, 0));
    one_node t = node("Mod", 13, 2, 1);
    attr_i(&t, "fmod", 1);
    feed(&t, 0, OR_INT64, 1, DIMS(3), I64(-7, 7, -7));
    feed(&t, 1, OR_INT64, 1, DIMS(3), I64(3, -3, 0));
    run_ok(&t);
    EXPECT_EQ(int64_t, OR_INT64, &t, 1, DIMS(3), I64(-1, 1, 0));
}

Test(elementwise, mod_float) {
    one_node t = node("Mod", 13, 2, 1);
    attr_i(&t, "fmod", 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(3), F32(-7.5f, 7.5f, 5));
    feed(&t, 1, OR_FLOAT, 1, DIMS(3), F32(2, -2, 2.5f));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(3), F32(-1.5f, 1.5f, 0), 0);
    t = node("Mod", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(1), F32(1));
    feed(&t, 1, OR_FLOAT, 1, DIMS(1), F32(1));
    run_fails(&t, ONNXRUN_ERR_MODEL, "fmod must be 1");
}

/* ---- comparisons and logic ---- */

Test(elementwise, comparisons) {
    const float a[4] = {1, 2, NAN, 4}, b[2] = {2, NAN};
    static const struct {
        const char *op;
        int opset;
        uint8_t want[8];
    } cases[] = {
        /* a [4,1] against b [2] -> [4,2]: (1,2) (1,nan) (2,2) (2,nan) (nan,..) (4,2) (4,nan) */
        {"Less", 13, {1, 0, 0, 0, 0, 0, 0, 0}},
        {"Greater", 13, {0, 0, 0, 0, 0, 0, 1, 0}},
        {"Equal", 13, {0, 0, 1, 0, 0, 0, 0, 0}},
        {"LessOrEqual", 16, {1, 0, 1, 0, 0, 0, 0, 0}},
        {"GreaterOrEqual", 16, {0, 0, 1, 0, 0, 0, 1, 0}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        one_node t = node(cases[c].op, cases[c].opset, 2, 1);
        feed(&t, 0, OR_FLOAT, 2, DIMS(4, 1), a);
        feed(&t, 1, OR_FLOAT, 1, DIMS(2), b);
        run_ok(&t);
        EXPECT_EQ(uint8_t, OR_BOOL, &t, 2, DIMS(4, 2), cases[c].want);
    }
    BINARY_EQ("Equal", 11, OR_INT64, int64_t, 1, DIMS(3), I64(INT64_MIN, 0, 5), 0, DIMS(1),
              I64(INT64_MIN), OR_BOOL, uint8_t, 1, DIMS(3), U8(1, 0, 0));
    BINARY_EQ("Less", 13, OR_UINT8, uint8_t, 1, DIMS(2), U8(200, 3), 1, DIMS(2), U8(100, 250),
              OR_BOOL, uint8_t, 1, DIMS(2), U8(0, 1));
}

Test(elementwise, logic) {
    const uint8_t a[4] = {0, 0, 1, 1}, b[2] = {0, 1};
    BINARY_EQ("And", 7, OR_BOOL, uint8_t, 2, DIMS(2, 2), a, 1, DIMS(2), b, OR_BOOL, uint8_t, 2,
              DIMS(2, 2), U8(0, 0, 0, 1));
    BINARY_EQ("Or", 7, OR_BOOL, uint8_t, 2, DIMS(2, 2), a, 1, DIMS(2), b, OR_BOOL, uint8_t, 2,
              DIMS(2, 2), U8(0, 1, 1, 1));
    BINARY_EQ("Xor", 7, OR_BOOL, uint8_t, 2, DIMS(2, 2), a, 1, DIMS(2), b, OR_BOOL, uint8_t, 2,
              DIMS(2, 2), U8(0, 1, 1, 0));
    one_node t = node("Not", 1, 1, 1);
    feed(&t, 0, OR_BOOL, 1, DIMS(3), U8(0, 1, 0));
    run_ok(&t);
    EXPECT_EQ(uint8_t, OR_BOOL, &t, 1, DIMS(3), U8(1, 0, 1));
}

Test(elementwise, where_three_way_broadcast) {
    one_node t = node("Where", 16, 3, 1);
    feed(&t, 0, OR_BOOL, 2, DIMS(2, 1), U8(1, 0));
    feed(&t, 1, OR_INT64, 2, DIMS(1, 3), I64(1, 2, 3));
    feed(&t, 2, OR_INT64, 0, DIMS(1), I64(-1));
    run_ok(&t);
    EXPECT_EQ(int64_t, OR_INT64, &t, 2, DIMS(2, 3), I64(1, 2, 3, -1, -1, -1));
    t = node("Where", 9, 3, 1);
    feed(&t, 0, OR_BOOL, 1, DIMS(3), U8(0, 1, 1));
    feed(&t, 1, OR_FLOAT16, 1, DIMS(3), U16(0x3c00, 0x4000, 0x4200));
    feed(&t, 2, OR_FLOAT16, 1, DIMS(3), U16(0xbc00, 0xc000, 0xc200));
    run_ok(&t);
    EXPECT_EQ(uint16_t, OR_FLOAT16, &t, 1, DIMS(3), U16(0xbc00, 0x4000, 0x4200));
}

/* ---- Clip ---- */

Test(elementwise, clip_attributes) {
    one_node t = node("Clip", 6, 1, 1);
    attr_f(&t, "min", -1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(4), F32(-5, 0.5f, 3e38f, NAN));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(4), F32(-1, 0.5f, 3e38f, NAN), 0);
}

Test(elementwise, clip_inputs) {
    /* Opset 11, min absent (""), max given. */
    one_node t = node("Clip", 11, 3, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(3), F32(-100, 2, 7));
    drop_input(&t, 1);
    feed(&t, 2, OR_FLOAT, 0, DIMS(1), F32(5));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(3), F32(-100, 2, 5), 0);
    /* Integers (12+), min > max gives max everywhere (numpy.clip). */
    t = node("Clip", 13, 3, 1);
    feed(&t, 0, OR_INT32, 1, DIMS(3), I32(-4, 0, 9));
    constant(&t, 1, OR_INT32, 0, DIMS(1), I32(3));
    constant(&t, 2, OR_INT32, 0, DIMS(1), I32(1));
    run_ok(&t);
    EXPECT_EQ(int32_t, OR_INT32, &t, 1, DIMS(3), I32(1, 1, 1));
    t = node("Clip", 13, 2, 1);
    feed(&t, 0, OR_UINT8, 1, DIMS(3), U8(0, 100, 255));
    feed(&t, 1, OR_UINT8, 0, DIMS(1), U8(50));
    run_ok(&t);
    EXPECT_EQ(uint8_t, OR_UINT8, &t, 1, DIMS(3), U8(50, 100, 255));
    t = node("Clip", 13, 2, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(1), F32(0));
    feed(&t, 1, OR_FLOAT, 1, DIMS(2), F32(0, 1));
    run_fails(&t, ONNXRUN_ERR_INPUT, "scalar");
}

/* ---- Cast ---- */

static one_node cast_node(int to, int from, int count, const void *data) {
    one_node t = node("Cast", 13, 1, 1);
    attr_i(&t, "to", to);
    feed(&t, 0, from, 1, DIMS(count), data);
    run_ok(&t);
    return t;
}

Test(elementwise, cast_float_to_int) {
    /* Truncation toward zero; NaN and out-of-range give INT_MIN (x86-64). */
    one_node t = cast_node(OR_INT32, OR_FLOAT, 5, F32(-1.7f, 2.9f, NAN, 3e9f, -0.5f));
    EXPECT_EQ(int32_t, OR_INT32, &t, 1, DIMS(5), I32(-1, 2, INT32_MIN, INT32_MIN, 0));
    t = cast_node(OR_INT64, OR_DOUBLE, 3, F64(-1e19, 9.5e18, 123456789012.9));
    EXPECT_EQ(int64_t, OR_INT64, &t, 1, DIMS(3), I64(INT64_MIN, INT64_MIN, 123456789012));
    /* Narrow integers convert through int32 and wrap. */
    t = cast_node(OR_UINT8, OR_FLOAT, 3, F32(300, -1, 255.9f));
    EXPECT_EQ(uint8_t, OR_UINT8, &t, 1, DIMS(3), U8(44, 255, 255));
    t = cast_node(OR_INT8, OR_DOUBLE, 2, F64(200, -129));
    EXPECT_EQ(int8_t, OR_INT8, &t, 1, DIMS(2), I8(-56, 127));
}

Test(elementwise, cast_bool_and_ints) {
    one_node t = cast_node(OR_BOOL, OR_FLOAT, 4, F32(0, -0.0f, 0.1f, NAN));
    EXPECT_EQ(uint8_t, OR_BOOL, &t, 1, DIMS(4), U8(0, 0, 1, 1));
    t = cast_node(OR_FLOAT, OR_BOOL, 2, U8(1, 0));
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(2), F32(1, 0), 0);
    t = cast_node(OR_INT16, OR_INT64, 2, I64(65537, -32769));
    EXPECT_EQ(int16_t, OR_INT16, &t, 1, DIMS(2), ((const int16_t[]){1, 32767}));
    t = cast_node(OR_FLOAT, OR_INT64, 1, I64(16777217));
    /* 2^24 + 1 is halfway between two floats: ties to even gives 2^24. */
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(1), F32(16777216), 0);
    t = cast_node(OR_DOUBLE, OR_UINT64, 1, ((const uint64_t[]){UINT64_MAX}));
    EXPECT_NEAR(double, OR_DOUBLE, &t, 1, DIMS(1), F64(18446744073709551616.0), 0);
}

Test(elementwise, cast_half_formats) {
    /* float16: 1, 65504 (max), 70000 -> inf, 2^-24 (smallest subnormal),
     * 2^-25 (ties to even: 0), 1 + 2^-11 (ties to even: 1). */
    one_node t =
        cast_node(OR_FLOAT16, OR_FLOAT, 6, F32(1, 65504, 70000, 0x1p-24f, 0x1p-25f, 1 + 0x1p-11f));
    EXPECT_EQ(uint16_t, OR_FLOAT16, &t, 1, DIMS(6), U16(0x3c00, 0x7bff, 0x7c00, 1, 0, 0x3c00));
    t = cast_node(OR_FLOAT, OR_FLOAT16, 4, U16(0x0001, 0xc000, 0x7c00, 0x3555));
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(4), F32(0x1p-24f, -2, INFINITY, 0.333251953125f), 0);
    /* bfloat16 ties to even: 1 + 2^-8 -> 1, 1 + 3*2^-8 -> 1 + 2^-6. */
    t = cast_node(OR_BFLOAT16, OR_FLOAT, 3, F32(1 + 0x1p-8f, 1 + 3 * 0x1p-8f, -2));
    EXPECT_EQ(uint16_t, OR_BFLOAT16, &t, 1, DIMS(3), U16(0x3f80, 0x3f82, 0xc000));
    t = cast_node(OR_FLOAT16, OR_INT64, 2, I64(2048, 2049));
    EXPECT_EQ(uint16_t, OR_FLOAT16, &t, 1, DIMS(2), U16(0x6800, 0x6800));
}

Test(elementwise, cast_float8) {
    /* E4M3FN: 448 is the max (0x7e); 500 saturates to it, or is NaN (0x7f)
     * without saturation; 0.0078125 = 2^-7... here 2^-9 is the smallest
     * subnormal (0x01). */
    one_node t = node("Cast", 19, 1, 1);
    attr_i(&t, "to", OR_FLOAT8E4M3FN);
    feed(&t, 0, OR_FLOAT, 1, DIMS(4), F32(448, 500, -0x1p-9f, 1.0f));
    run_ok(&t);
    EXPECT_EQ(uint8_t, OR_FLOAT8E4M3FN, &t, 1, DIMS(4), U8(0x7e, 0x7e, 0x81, 0x38));
    t = node("Cast", 19, 1, 1);
    attr_i(&t, "to", OR_FLOAT8E5M2);
    attr_i(&t, "saturate", 0);
    feed(&t, 0, OR_FLOAT, 1, DIMS(3), F32(1e6f, -1.5f, NAN));
    run_ok(&t);
    EXPECT_EQ(uint8_t, OR_FLOAT8E5M2, &t, 1, DIMS(3), U8(0x7c, 0xbe, 0x7f));
}

Test(elementwise, castlike_and_bad_target) {
    one_node t = node("CastLike", 15, 2, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(2), F32(2.5f, -3.5f));
    feed(&t, 1, OR_INT32, 0, DIMS(1), I32(0));
    run_ok(&t);
    EXPECT_EQ(int32_t, OR_INT32, &t, 1, DIMS(2), I32(2, -3));
    t = node("Cast", 13, 1, 1);
    attr_i(&t, "to", OR_STRING);
    feed(&t, 0, OR_FLOAT, 1, DIMS(1), F32(1));
    run_fails(&t, ONNXRUN_ERR_MODEL, "cannot cast to string");
}

/* ---- variadic ---- */

Test(elementwise, max_min_three_inputs) {
    one_node t = node("Max", 13, 3, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(3), F32(1, 5, NAN));
    feed(&t, 1, OR_FLOAT, 2, DIMS(2, 1), F32(2, -10));
    feed(&t, 2, OR_FLOAT, 0, DIMS(1), F32(0));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 2, DIMS(2, 3), F32(2, 5, NAN, 1, 5, NAN), 0);
    t = node("Min", 13, 2, 1);
    feed(&t, 0, OR_INT32, 1, DIMS(3), I32(1, -5, 7));
    feed(&t, 1, OR_INT32, 1, DIMS(3), I32(2, -6, 7));
    run_ok(&t);
    EXPECT_EQ(int32_t, OR_INT32, &t, 1, DIMS(3), I32(1, -6, 7));
    t = node("Max", 13, 1, 1);
    feed(&t, 0, OR_UINT16, 1, DIMS(2), U16(7, 65535));
    run_ok(&t);
    EXPECT_EQ(uint16_t, OR_UINT16, &t, 1, DIMS(2), U16(7, 65535));
}

Test(elementwise, sum_mean) {
    one_node t = node("Sum", 13, 3, 1);
    feed(&t, 0, OR_DOUBLE, 1, DIMS(2), F64(1, 2));
    feed(&t, 1, OR_DOUBLE, 2, DIMS(2, 1), F64(10, 20));
    feed(&t, 2, OR_DOUBLE, 0, DIMS(1), F64(100));
    run_ok(&t);
    EXPECT_NEAR(double, OR_DOUBLE, &t, 2, DIMS(2, 2), F64(111, 112, 121, 122), 0);
    t = node("Mean", 13, 3, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(2), F32(1, 2));
    feed(&t, 1, OR_FLOAT, 1, DIMS(2), F32(4, 5));
    feed(&t, 2, OR_FLOAT, 1, DIMS(2), F32(7, -1));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(2), F32(4, 2), 1e-7);
    t = node("Sum", 13, 2, 1);
    feed(&t, 0, OR_INT32, 1, DIMS(1), I32(1));
    feed(&t, 1, OR_INT32, 1, DIMS(1), I32(1));
    run_fails(&t, ONNXRUN_ERR_MODEL, "int32");
}

/* ---- one-input math and activations ---- */

static one_node unary(const char *op, int opset, int dtype, int count, const void *data) {
    one_node t = node(op, opset, 1, 1);
    feed(&t, 0, dtype, 1, DIMS(count), data);
    return t;
}

#define UNARY_F32(op, opset, in, want, tol)                                                        \
    do {                                                                                           \
        one_node t_ = unary(op, opset, OR_FLOAT, sizeof(in) / sizeof(float), in);                  \
        run_ok(&t_);                                                                               \
        EXPECT_NEAR(float, OR_FLOAT, &t_, 1, DIMS(sizeof(in) / sizeof(float)), want, tol);         \
    } while (0)

Test(elementwise, unary_math) {
    UNARY_F32("Round", 11, F32(0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f), F32(0, 2, 2, -0.0f, -2, 2),
              0);
    UNARY_F32("Floor", 13, F32(-1.5f, 1.5f), F32(-2, 1), 0);
    UNARY_F32("Ceil", 13, F32(-1.5f, 1.5f), F32(-1, 2), 0);
    UNARY_F32("Reciprocal", 13, F32(4, -0.5f), F32(0.25f, -2), 0);
    UNARY_F32("Sqrt", 13, F32(9, 2), F32(3, 1.41421356f), 1e-7);
    UNARY_F32("Exp", 13, F32(0, 1), F32(1, 2.71828183f), 1e-7);
    UNARY_F32("Log", 13, F32(1, 0), F32(0, -INFINITY), 0);
    UNARY_F32("Sigmoid", 13, F32(0, -200, 200), F32(0.5f, 0, 1), 1e-7);
    UNARY_F32("Tanh", 13, F32(0, 0.5f), F32(0, 0.46211716f), 1e-7);
    UNARY_F32("Erf", 13, F32(0, 1), F32(0, 0.84270079f), 1e-7);
    UNARY_F32("Sin", 7, F32(0, 1.57079633f), F32(0, 1), 1e-7);
    UNARY_F32("Cos", 7, F32(0), F32(1), 0);
    UNARY_F32("Sign", 13, F32(-3, 0, 2, NAN), F32(-1, 0, 1, NAN), 0);
    UNARY_F32("Abs", 13, F32(-3, 2), F32(3, 2), 0);
    UNARY_F32("Neg", 13, F32(-3, 2), F32(3, -2), 0);
    UNARY_F32("Relu", 14, F32(-3, 2, NAN), F32(0, 2, NAN), 0);
}

Test(elementwise, unary_integers) {
    one_node t = unary("Neg", 13, OR_INT32, 3, I32(INT32_MIN, 5, -7));
    run_ok(&t);
    EXPECT_EQ(int32_t, OR_INT32, &t, 1, DIMS(3), I32(INT32_MIN, -5, 7));
    t = unary("Abs", 13, OR_INT8, 3, I8(-128, -5, 7));
    run_ok(&t);
    EXPECT_EQ(int8_t, OR_INT8, &t, 1, DIMS(3), I8(-128, 5, 7));
    t = unary("Sign", 13, OR_INT64, 3, I64(INT64_MIN, 0, 99));
    run_ok(&t);
    EXPECT_EQ(int64_t, OR_INT64, &t, 1, DIMS(3), I64(-1, 0, 1));
    t = unary("Relu", 14, OR_INT64, 2, I64(-4, 4));
    run_ok(&t);
    EXPECT_EQ(int64_t, OR_INT64, &t, 1, DIMS(2), I64(0, 4));
    t = unary("Sqrt", 13, OR_INT32, 1, I32(4));
    run_fails(&t, ONNXRUN_ERR_MODEL, "int32");
}

Test(elementwise, activation_defaults) {
    UNARY_F32("LeakyRelu", 16, F32(-1, 2), F32(-0.01f, 2), 1e-7);
    UNARY_F32("Elu", 6, F32(-1, 2), F32(-0.63212056f, 2), 1e-7);
    UNARY_F32("Selu", 6, F32(-1, 1), F32(-1.11133074f, 1.05070102f), 1e-6);
    UNARY_F32("HardSigmoid", 6, F32(1, -3, 3), F32(0.7f, 0, 1), 1e-7);
    UNARY_F32("HardSwish", 14, F32(1, -4, 4), F32(0.66666667f, 0, 4), 1e-7);
    UNARY_F32("Softplus", 1, F32(0, 100, -100), F32(0.69314718f, 100, 3.72007598e-44f), 1e-7);
    UNARY_F32("Softsign", 1, F32(1, -3), F32(0.5f, -0.75f), 1e-7);
}

Test(elementwise, activation_attributes) {
    one_node t = unary("LeakyRelu", 6, OR_DOUBLE, 2, F64(-2, 3));
    attr_f(&t, "alpha", 0.5f);
    run_ok(&t);
    EXPECT_NEAR(double, OR_DOUBLE, &t, 1, DIMS(2), F64(-1, 3), 0);
    t = unary("HardSigmoid", 6, OR_FLOAT, 2, F32(1, 2));
    attr_f(&t, "alpha", 0.25f);
    attr_f(&t, "beta", 0.25f);
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(2), F32(0.5f, 0.75f), 0);
}

/* ---- PRelu, Dropout, Identity ---- */

Test(elementwise, prelu) {
    one_node t = node("PRelu", 9, 2, 1);
    feed(&t, 0, OR_FLOAT, 3, DIMS(1, 2, 2), F32(-1, 2, -3, 4));
    constant(&t, 1, OR_FLOAT, 2, DIMS(2, 1), F32(0.5f, 2));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 3, DIMS(1, 2, 2), F32(-0.5f, 2, -6, 4), 0);
    /* Opset 6: a [C] slope applies per channel (axis 1). */
    t = node("PRelu", 6, 2, 1);
    feed(&t, 0, OR_FLOAT, 3, DIMS(1, 2, 2), F32(-1, 2, -3, 4));
    constant(&t, 1, OR_FLOAT, 1, DIMS(2), F32(0.5f, 2));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 3, DIMS(1, 2, 2), F32(-0.5f, 2, -6, 4), 0);
    t = node("PRelu", 9, 2, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(2), F32(-1, 2));
    constant(&t, 1, OR_FLOAT, 2, DIMS(3, 1), F32(1, 2, 3));
    run_fails(&t, ONNXRUN_ERR_INPUT, "does not broadcast to X");
}

Test(elementwise, dropout_inference) {
    one_node t = node("Dropout", 7, 1, 2);
    attr_f(&t, "ratio", 0.3f);
    feed(&t, 0, OR_FLOAT, 1, DIMS(3), F32(1, -2, 3));
    run_ok(&t);
    const float *mask = result(&t, 1, OR_FLOAT, 1, DIMS(3));
    for (int i = 0; i < 3; i++) cr_assert_eq(mask[i], 1.0f);
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(3), F32(1, -2, 3), 0);
    t = node("Dropout", 13, 3, 2);
    feed(&t, 0, OR_DOUBLE, 1, DIMS(2), F64(5, 6));
    constant(&t, 1, OR_FLOAT, 0, DIMS(1), F32(0.5f));
    constant(&t, 2, OR_BOOL, 0, DIMS(1), U8(0));
    run_ok(&t);
    const uint8_t *bmask = result(&t, 1, OR_BOOL, 1, DIMS(2));
    cr_assert(bmask[0] == 1 && bmask[1] == 1);
    EXPECT_NEAR(double, OR_DOUBLE, &t, 1, DIMS(2), F64(5, 6), 0);
}

Test(elementwise, dropout_training) {
    one_node t = node("Dropout", 13, 3, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(2), F32(5, 6));
    constant(&t, 1, OR_FLOAT, 0, DIMS(1), F32(0.5f));
    constant(&t, 2, OR_BOOL, 0, DIMS(1), U8(1));
    /* Training drops at random (seeded runs: test_dtypes.c): each output is
     * 0 or its input scaled by 1 / (1 - 0.5). */
    run_ok(&t);
    const float *y = result(&t, 0, OR_FLOAT, 1, DIMS(2));
    cr_assert(y[0] == 0 || y[0] == 10, "%g", y[0]);
    cr_assert(y[1] == 0 || y[1] == 12, "%g", y[1]);
    or_graph_free(t.g);
    /* A zero ratio makes training deterministic: output = input. */
    t = node("Dropout", 13, 3, 1);
    feed(&t, 0, OR_FLOAT, 1, DIMS(2), F32(5, 6));
    constant(&t, 1, OR_FLOAT, 0, DIMS(1), F32(0));
    constant(&t, 2, OR_BOOL, 0, DIMS(1), U8(1));
    run_ok(&t);
    EXPECT_NEAR(float, OR_FLOAT, &t, 1, DIMS(2), F32(5, 6), 0);
}

Test(elementwise, identity) {
    one_node t = unary("Identity", 13, OR_INT64, 2, I64(INT64_MIN, 3));
    run_ok(&t);
    EXPECT_EQ(int64_t, OR_INT64, &t, 1, DIMS(2), I64(INT64_MIN, 3));
}

/* ---- threads ---- */

Test(elementwise, threaded_broadcast) {
    enum { ROWS = 20011, COLS = 7 };
    float *a = malloc(sizeof(float) * ROWS * COLS), b[COLS];
    for (int i = 0; i < ROWS * COLS; i++) a[i] = (float)(i / COLS);
    for (int j = 0; j < COLS; j++) b[j] = (float)j * 0.25f;
    one_node t = node("Mul", 14, 2, 1);
    t.g->pool = or_threadpool_create(2);
    feed(&t, 0, OR_FLOAT, 2, DIMS(ROWS, COLS), a);
    feed(&t, 1, OR_FLOAT, 1, DIMS(COLS), b);
    run_ok(&t);
    const float *y = result(&t, 0, OR_FLOAT, 2, DIMS(ROWS, COLS));
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < COLS; j++)
            cr_assert_eq(y[i * COLS + j], (float)i * (float)j * 0.25f, "[%d,%d] = %g", i, j,
                         y[i * COLS + j]);
    or_threadpool_destroy(t.g->pool);
    t.g->pool = NULL;
    or_graph_free(t.g);
    free(a);
}
