/* AveragePool, MaxPool, GlobalAveragePool and GlobalMaxPool on one-node
 * graphs built by hand and run through the planner. Every expected value is
 * worked out by hand in the comment next to it (windows listed as input
 * positions; "p" marks padding). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "one_node_graph.h"
#include "threadpool.h"

static void attr_string(test_graph *tg, const char *name, const char *s) {
    or_attr *a = new_attr(tg, name, OR_ATTR_STRING);
    a->s = strdup(s);
    a->s_len = strlen(s);
}

static void attr_ints(test_graph *tg, const char *name, size_t count, const int64_t *v) {
    or_attr *a = new_attr(tg, name, OR_ATTR_INTS);
    a->ints = malloc(count * sizeof *v);
    memcpy(a->ints, v, count * sizeof *v);
    a->n = count;
}

/* A pool node on a float input X [1, 1, len] with a 1-D kernel. */
static test_graph pool1d(const char *op, const float *x, int64_t len, int64_t k) {
    test_graph tg = make(op, 22, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 3, DIMS(1, 1, len), x);
    attr_ints(&tg, "kernel_shape", 1, DIMS(k));
    return tg;
}

static void expect_u16(const or_tensor *t, int64_t count, const uint16_t *vals) {
    const uint16_t *d = t->data;
    for (int64_t i = 0; i < count; i++)
        cr_assert_eq(d[i], vals[i], "[%lld] 0x%04x, expected 0x%04x", (long long)i, d[i], vals[i]);
}

/* ---- ceil_mode ---- */

Test(pool, maxpool_2d_ceil_mode) {
    /* X = 1..16 in 4x4, kernel 3x3, stride 2: ceil((4-3)/2)+1 = 2 windows per
     * axis, rows/cols {0,1,2} and {2,3}: maxima X[2][2]=11, X[2][3]=12,
     * X[3][2]=15, X[3][3]=16. Without ceil_mode: 1 window, max 11. */
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    test_graph tg = make("MaxPool", 12, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 1, 4, 4), x);
    attr_ints(&tg, "kernel_shape", 2, DIMS(3, 3));
    attr_ints(&tg, "strides", 2, DIMS(2, 2));
    attr_int(&tg, "ceil_mode", 1);
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 4, DIMS(1, 1, 2, 2), (const float[]){11, 12, 15, 16});
    or_graph_free(tg.g);

    tg = make("MaxPool", 12, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 1, 4, 4), x);
    attr_ints(&tg, "kernel_shape", 2, DIMS(3, 3));
    attr_ints(&tg, "strides", 2, DIMS(2, 2));
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 4, DIMS(1, 1, 1, 1), (const float[]){11});
    or_graph_free(tg.g);
}

Test(pool, averagepool_ceil_mode_partial_window) {
    /* [1..5], kernel 2, stride 2, ceil: windows {0,1} {2,3} {4}: 1.5 3.5 5.
     * count_include_pad changes nothing: the ceil overhang is not padding. */
    const float x[5] = {1, 2, 3, 4, 5};
    for (int inc = 0; inc <= 1; inc++) {
        test_graph tg = pool1d("AveragePool", x, 5, 2);
        attr_ints(&tg, "strides", 1, DIMS(2));
        attr_int(&tg, "ceil_mode", 1);
        attr_int(&tg, "count_include_pad", inc);
        run_ok(&tg);
        expect_f32(out(&tg, "Y"), 3, DIMS(1, 1, 3), (const float[]){1.5f, 3.5f, 5});
        or_graph_free(tg.g);
    }
}

Test(pool, ceil_mode_last_window_must_start_inside) {
    /* [1,2,3,4], kernel 1, stride 2, ceil: ceil((4-1)/2)+1 = 3, but window 3
     * would start at 4 = in + pad_begin, past the input: 2 windows, {0} {2}. */
    const float x[4] = {1, 2, 3, 4};
    test_graph tg = pool1d("AveragePool", x, 4, 1);
    attr_ints(&tg, "strides", 1, DIMS(2));
    attr_int(&tg, "ceil_mode", 1);
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 3, DIMS(1, 1, 2), (const float[]){1, 3});
    or_graph_free(tg.g);

    /* 5 elements, pads 1/1, kernel 2, stride 3: ceil(5/3)+1 = 3, window 3
     * starts at 6-1 = 5 (right pad) -> 2 windows {p,0} {2,3}: max 1, 4. */
    const float x5[5] = {1, 2, 3, 4, 5};
    tg = pool1d("MaxPool", x5, 5, 2);
    attr_ints(&tg, "strides", 1, DIMS(3));
    attr_ints(&tg, "pads", 2, DIMS(1, 1));
    attr_int(&tg, "ceil_mode", 1);
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 3, DIMS(1, 1, 2), (const float[]){1, 4});
    or_graph_free(tg.g);
}

/* ---- auto_pad ---- */

Test(pool, same_upper_vs_same_lower) {
    /* [1,2,3,4], kernel 3, stride 2: out = ceil(4/2) = 2, pad total
     * (2-1)*2+3-4 = 1. SAME_UPPER puts it at the end: windows {0,1,2}
     * {2,3,p}; SAME_LOWER at the start: {p,0,1} {1,2,3}. */
    const float x[4] = {1, 2, 3, 4};
    struct {
        const char *op, *pad;
        float want[2];
    } cases[] = {
        {"AveragePool", "SAME_UPPER", {2, 3.5f}},
        {"AveragePool", "SAME_LOWER", {1.5f, 3}},
        {"MaxPool", "SAME_UPPER", {3, 4}},
        {"MaxPool", "SAME_LOWER", {2, 4}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_graph tg = pool1d(cases[i].op, x, 4, 3);
        attr_ints(&tg, "strides", 1, DIMS(2));
        attr_string(&tg, "auto_pad", cases[i].pad);
        run_ok(&tg);
        expect_f32(out(&tg, "Y"), 3, DIMS(1, 1, 2), cases[i].want);
        or_graph_free(tg.g);
    }
}

Test(pool, same_lower_stride1_and_valid) {
    /* kernel 2, stride 1 on [1,2,3,4]: pad total 1. SAME_LOWER: {p,0} {0,1}
     * {1,2} {2,3} -> avg 1 1.5 2.5 3.5. VALID: 3 windows -> 1.5 2.5 3.5. */
    const float x[4] = {1, 2, 3, 4};
    test_graph tg = pool1d("AveragePool", x, 4, 2);
    attr_string(&tg, "auto_pad", "SAME_LOWER");
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 3, DIMS(1, 1, 4), (const float[]){1, 1.5f, 2.5f, 3.5f});
    or_graph_free(tg.g);

    tg = pool1d("AveragePool", x, 4, 2);
    attr_string(&tg, "auto_pad", "VALID");
    attr_ints(&tg, "pads", 2, DIMS(1, 1)); /* ignored with VALID */
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 3, DIMS(1, 1, 3), (const float[]){1.5f, 2.5f, 3.5f});
    or_graph_free(tg.g);
}

/* ---- count_include_pad ---- */

Test(pool, averagepool_count_include_pad) {
    /* [1,2,3,4], kernel 3, pads 1/1: windows {p,0,1} {0,1,2} {1,2,3} {2,3,p}.
     * Sums 3 6 9 7. Excluding padding: /2 /3 /3 /2; including: all /3. */
    const float x[4] = {1, 2, 3, 4};
    const float excl[4] = {1.5f, 2, 3, 3.5f}, incl[4] = {1, 2, 3, 7.0f / 3.0f};
    for (int inc = 0; inc <= 1; inc++) {
        test_graph tg = pool1d("AveragePool", x, 4, 3);
        attr_ints(&tg, "pads", 2, DIMS(1, 1));
        attr_int(&tg, "count_include_pad", inc);
        run_ok(&tg);
        expect_f32(out(&tg, "Y"), 3, DIMS(1, 1, 4), inc ? incl : excl);
        or_graph_free(tg.g);
    }
}

/* ---- dilations ---- */

Test(pool, maxpool_2d_dilations) {
    /* X = 1..16 in 4x4, kernel 2x2, dilation 2: effective 3x3, 2x2 windows
     * at rows/cols {0,2} or {1,3}: maxima X[2][2]=11 12 15 16. */
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    test_graph tg = make("MaxPool", 10, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 1, 4, 4), x);
    attr_ints(&tg, "kernel_shape", 2, DIMS(2, 2));
    attr_ints(&tg, "dilations", 2, DIMS(2, 2));
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 4, DIMS(1, 1, 2, 2), (const float[]){11, 12, 15, 16});
    or_graph_free(tg.g);
}

Test(pool, averagepool_dilations_with_pads) {
    /* [1..5], kernel 2, dilation 2, pads 1/1: 5 windows, taps
     * {p,1} {0,2} {1,3} {2,4} {3,p}: values {2} {1,3} {2,4} {3,5} {4}.
     * Excluding padding: 2 2 3 4 4; including: 1 2 3 4 2. */
    const float x[5] = {1, 2, 3, 4, 5};
    const float excl[5] = {2, 2, 3, 4, 4}, incl[5] = {1, 2, 3, 4, 2};
    for (int inc = 0; inc <= 1; inc++) {
        test_graph tg = pool1d("AveragePool", x, 5, 2);
        attr_ints(&tg, "dilations", 1, DIMS(2));
        attr_ints(&tg, "pads", 2, DIMS(1, 1));
        attr_int(&tg, "count_include_pad", inc);
        run_ok(&tg);
        expect_f32(out(&tg, "Y"), 3, DIMS(1, 1, 5), inc ? incl : excl);
        or_graph_free(tg.g);
    }
}

/* ---- Indices ---- */

static void run_argmax_2d(int64_t order, const int64_t *want_ind) {
    /* X [1, 2, 2, 3]: plane 0 [[1,5,2],[3,4,6]], plane 1 [[9,8,7],[6,5,4]];
     * kernel 2x2 gives 2 windows per plane (cols {0,1} and {1,2}).
     * Maxima: 5 at (0,1), 6 at (1,2); 9 at (0,0), 8 at (0,1). */
    const float x[12] = {1, 5, 2, 3, 4, 6, 9, 8, 7, 6, 5, 4};
    test_graph tg = make("MaxPool", 12, 1, IN("X"), 2, IN("Y", "I"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 2, 2, 3), x);
    attr_ints(&tg, "kernel_shape", 2, DIMS(2, 2));
    attr_int(&tg, "storage_order", order);
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 4, DIMS(1, 2, 1, 2), (const float[]){5, 6, 9, 8});
    expect_i64(out(&tg, "I"), 4, DIMS(1, 2, 1, 2), want_ind);
    or_graph_free(tg.g);
}

Test(pool, maxpool_indices_row_major) {
    /* h*3 + w, plus 6 per plane: 1 5 | 6+0 6+1. */
    run_argmax_2d(0, (const int64_t[]){1, 5, 6, 7});
}

Test(pool, maxpool_indices_storage_order_1) {
    /* h + w*2, plus 6 per plane: (0,1) -> 2, (1,2) -> 5 | 6+0, (0,1) -> 6+2. */
    run_argmax_2d(1, (const int64_t[]){2, 5, 6, 8});
}

Test(pool, maxpool_3d_indices_storage_order_1) {
    /* X[d][h][w] = d*6 + h*3 + w in [2,2,3], kernel 2x2x2: 2 windows with
     * maxima at (1,1,1) = 10 and (1,1,2) = 11. Column-major position
     * d + 2*(h + 2*w): 7 and 11. */
    float x[12];
    for (int i = 0; i < 12; i++) x[i] = (float)i;
    test_graph tg = make("MaxPool", 12, 1, IN("X"), 2, IN("Y", "I"));
    input(&tg, "X", OR_FLOAT, 5, DIMS(1, 1, 2, 2, 3), x);
    attr_ints(&tg, "kernel_shape", 3, DIMS(2, 2, 2));
    attr_int(&tg, "storage_order", 1);
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 5, DIMS(1, 1, 1, 1, 2), (const float[]){10, 11});
    expect_i64(out(&tg, "I"), 5, DIMS(1, 1, 1, 1, 2), (const int64_t[]){7, 11});
    or_graph_free(tg.g);
}

/* ---- odd shapes ---- */

/* X[h][w] = h*7 + w in [5, 7]; kernel (2,3), strides (2,3), pads begin
 * (1,0) end (0,2). Rows: starts -1 1 3 -> {0} {1,2} {3,4}. Cols: starts
 * 0 3 6 -> {0,1,2} {3,4,5} {6} (7, 8 are padding). */
static test_graph odd_2d(const char *op, const float *x) {
    test_graph tg = make(op, 19, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 1, 5, 7), x);
    attr_ints(&tg, "kernel_shape", 2, DIMS(2, 3));
    attr_ints(&tg, "strides", 2, DIMS(2, 3));
    attr_ints(&tg, "pads", 4, DIMS(1, 0, 0, 2));
    return tg;
}

Test(pool, odd_shape_2d) {
    float x[35];
    for (int i = 0; i < 35; i++) x[i] = (float)i;
    /* Average = mean(h)*7 + mean(w); mean h 0 1.5 3.5, mean w 1 4 6. */
    test_graph tg = odd_2d("AveragePool", x);
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 4, DIMS(1, 1, 3, 3),
               (const float[]){1, 4, 6, 11.5f, 14.5f, 16.5f, 25.5f, 28.5f, 30.5f});
    or_graph_free(tg.g);
    /* Including padding every window divides by 2*3 = 6: sums 3 12 6 | 69 87
     * 33 | 153 171 61. */
    tg = odd_2d("AveragePool", x);
    attr_int(&tg, "count_include_pad", 1);
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 4, DIMS(1, 1, 3, 3),
               (const float[]){0.5f, 2, 1, 11.5f, 14.5f, 5.5f, 25.5f, 28.5f, 61.0f / 6.0f});
    or_graph_free(tg.g);
    /* Max = max(h)*7 + max(w); max h 0 2 4, max w 2 5 6. */
    tg = odd_2d("MaxPool", x);
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 4, DIMS(1, 1, 3, 3),
               (const float[]){2, 5, 6, 16, 19, 20, 30, 33, 34});
    or_graph_free(tg.g);
}

Test(pool, planes_split_across_threads) {
    /* 64 planes [1, 64, 4096], X[c][i] = c + i. Kernel 2, stride 2: output j
     * of plane c is max c + 2j + 1, average c + 2j + 0.5. Planes this size
     * are split into several chunks, so both threads take part. */
    enum { C = 64, L = 4096, OUT = L / 2 };
    float *x = malloc(sizeof(float) * C * L), *want_max = malloc(sizeof(float) * C * OUT);
    float *want_avg = malloc(sizeof(float) * C * OUT);
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < L; i++) x[c * L + i] = (float)(c + i);
        for (int j = 0; j < OUT; j++) {
            want_max[c * OUT + j] = (float)(c + 2 * j + 1);
            want_avg[c * OUT + j] = (float)(c + 2 * j) + 0.5f;
        }
    }
    for (int op = 0; op < 2; op++) {
        test_graph tg = make(op ? "AveragePool" : "MaxPool", 12, 1, IN("X"), 1, IN("Y"));
        tg.g->pool = or_threadpool_create(2);
        cr_assert_not_null(tg.g->pool);
        tg.g->num_threads = 2;
        input(&tg, "X", OR_FLOAT, 3, DIMS(1, C, L), x);
        attr_ints(&tg, "kernel_shape", 1, DIMS(2));
        attr_ints(&tg, "strides", 1, DIMS(2));
        run_ok(&tg);
        expect_f32(out(&tg, "Y"), 3, DIMS(1, C, OUT), op ? want_avg : want_max);
        or_threadpool_destroy(tg.g->pool);
        tg.g->pool = NULL;
        or_graph_free(tg.g);
    }
    free(x);
    free(want_max);
    free(want_avg);
}

Test(pool, maxpool_minus_infinity_and_nan) {
    /* A window of -inf gives -inf (not the lowest finite value); its index
     * is the first tap. NaN in the first tap propagates, a later NaN loses. */
    const float x[4] = {-INFINITY, -INFINITY, NAN, 1};
    test_graph tg = make("MaxPool", 12, 1, IN("X"), 2, IN("Y", "I"));
    input(&tg, "X", OR_FLOAT, 3, DIMS(1, 1, 4), x);
    attr_ints(&tg, "kernel_shape", 1, DIMS(2));
    run_ok(&tg);
    const float *y = out(&tg, "Y")->data;
    cr_assert(isinf(y[0]) && y[0] < 0);
    cr_assert(isnan(y[2]));
    cr_assert(isinf(y[1]) && y[1] < 0); /* {-inf, NaN}: NaN never compares greater */
    expect_i64(out(&tg, "I"), 3, DIMS(1, 1, 3), (const int64_t[]){0, 1, 2});
    or_graph_free(tg.g);
}

/* ---- dtypes ---- */

Test(pool, averagepool_float16) {
    /* [1,2,3,4] as float16, kernel 2, stride 2: 1.5 (0x3e00), 3.5 (0x4300). */
    const uint16_t x[4] = {0x3c00, 0x4000, 0x4200, 0x4400};
    test_graph tg = make("AveragePool", 11, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT16, 3, DIMS(1, 1, 4), x);
    attr_ints(&tg, "kernel_shape", 1, DIMS(2));
    attr_ints(&tg, "strides", 1, DIMS(2));
    run_ok(&tg);
    expect_shape(out(&tg, "Y"), OR_FLOAT16, 3, DIMS(1, 1, 2));
    expect_u16(out(&tg, "Y"), 2, (const uint16_t[]){0x3e00, 0x4300});
    or_graph_free(tg.g);
}

Test(pool, maxpool_int8_uint8) {
    const int8_t xi[4] = {-5, -3, -7, -100};
    test_graph tg = make("MaxPool", 12, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_INT8, 3, DIMS(1, 1, 4), xi);
    attr_ints(&tg, "kernel_shape", 1, DIMS(2));
    run_ok(&tg);
    expect_shape(out(&tg, "Y"), OR_INT8, 3, DIMS(1, 1, 3));
    const int8_t *yi = out(&tg, "Y")->data;
    cr_assert(yi[0] == -3 && yi[1] == -3 && yi[2] == -7);
    or_graph_free(tg.g);

    const uint8_t xu[3] = {200, 3, 255};
    tg = make("MaxPool", 12, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_UINT8, 3, DIMS(1, 1, 3), xu);
    attr_ints(&tg, "kernel_shape", 1, DIMS(2));
    run_ok(&tg);
    const uint8_t *yu = out(&tg, "Y")->data;
    cr_assert(yu[0] == 200 && yu[1] == 255);
    or_graph_free(tg.g);
}

/* ---- global pools ---- */

Test(pool, global_average_and_max) {
    /* planes [1,2,3,4] and [-1,-5,0,-2]: mean 2.5 and -2, max 4 and 0. */
    const float x[8] = {1, 2, 3, 4, -1, -5, 0, -2};
    test_graph tg = make("GlobalAveragePool", 1, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 2, 2, 2), x);
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 4, DIMS(1, 2, 1, 1), (const float[]){2.5f, -2});
    or_graph_free(tg.g);

    tg = make("GlobalMaxPool", 1, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 2, 2, 2), x);
    run_ok(&tg);
    expect_f32(out(&tg, "Y"), 4, DIMS(1, 2, 1, 1), (const float[]){4, 0});
    or_graph_free(tg.g);
}

/* ---- errors ---- */

Test(pool, bad_kernel_shape_fails) {
    const float x[16] = {0};
    test_graph tg = make("MaxPool", 12, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 1, 4, 4), x);
    attr_ints(&tg, "kernel_shape", 1, DIMS(2));
    run_fails(&tg, ONNXRUN_ERR_MODEL, "kernel_shape has 1 values, expected 2");
    or_graph_free(tg.g);

    tg = make("AveragePool", 12, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 1, 4, 4), x);
    attr_ints(&tg, "kernel_shape", 2, DIMS(2, 0));
    run_fails(&tg, ONNXRUN_ERR_MODEL, "kernel_shape[1] = 0 is out of range");
    or_graph_free(tg.g);

    tg = make("AveragePool", 12, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 1, 4, 4), x);
    run_fails(&tg, ONNXRUN_ERR_MODEL, "kernel_shape is required");
    or_graph_free(tg.g);

    tg = make("MaxPool", 12, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 4, DIMS(1, 1, 4, 4), x);
    attr_ints(&tg, "kernel_shape", 2, DIMS(5, 2));
    run_fails(&tg, ONNXRUN_ERR_INPUT, "larger than the padded input");
    or_graph_free(tg.g);
}

Test(pool, bad_attributes_and_types_fail) {
    const float x[4] = {0};
    test_graph tg = pool1d("MaxPool", x, 4, 2);
    attr_string(&tg, "auto_pad", "SAME");
    run_fails(&tg, ONNXRUN_ERR_MODEL, "auto_pad");
    or_graph_free(tg.g);

    tg = pool1d("MaxPool", x, 4, 2);
    attr_ints(&tg, "pads", 2, DIMS(-1, 0));
    run_fails(&tg, ONNXRUN_ERR_MODEL, "pads[0]");
    or_graph_free(tg.g);

    tg = pool1d("MaxPool", x, 4, 2);
    attr_int(&tg, "storage_order", 2);
    run_fails(&tg, ONNXRUN_ERR_MODEL, "storage_order");
    or_graph_free(tg.g);

    const int8_t xi[4] = {0};
    tg = make("MaxPool", 11, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_INT8, 3, DIMS(1, 1, 4), xi);
    attr_ints(&tg, "kernel_shape", 1, DIMS(2));
    run_fails(&tg, ONNXRUN_ERR_MODEL, "unsupported dtype");
    or_graph_free(tg.g);

    tg = make("MaxPool", 7, 1, IN("X"), 2, IN("Y", "I"));
    input(&tg, "X", OR_FLOAT, 3, DIMS(1, 1, 4), x);
    attr_ints(&tg, "kernel_shape", 1, DIMS(2));
    run_fails(&tg, ONNXRUN_ERR_MODEL, "opset 8");
    or_graph_free(tg.g);

    tg = make("GlobalAveragePool", 1, 1, IN("X"), 1, IN("Y"));
    input(&tg, "X", OR_FLOAT, 2, DIMS(2, 2), x);
    run_fails(&tg, ONNXRUN_ERR_INPUT, "rank >= 3");
    or_graph_free(tg.g);
}
