/* Shape and data-movement ops (Shape, Size, Reshape, Flatten, Squeeze,
 * Unsqueeze, Concat, Gather, GatherElements, Transpose, Slice, Split, Expand,
 * Tile, ConstantOfShape, Constant, Range, Pad, Trilu, CumSum) on one-node
 * graphs built by hand and run through the planner. Expected values are
 * worked out by hand from the ONNX spec (a few are the spec's own examples).
 *
 * Data inputs are bound graph inputs, so the node runs at run time; shape-like
 * inputs are initializers, read while planning. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "one_node_graph.h"

static void attr_float(test_graph *tg, const char *name, float v) {
    new_attr(tg, name, OR_ATTR_FLOAT)->f = v;
}

static void attr_ints(test_graph *tg, const char *name, size_t count, const int64_t *v) {
    or_attr *a = new_attr(tg, name, OR_ATTR_INTS);
    a->n = count;
    a->ints = malloc(sizeof(int64_t) * (count ? count : 1));
    memcpy(a->ints, v, sizeof(int64_t) * count);
}

static void attr_string(test_graph *tg, const char *name, const char *s) {
    or_attr *a = new_attr(tg, name, OR_ATTR_STRING);
    a->s = strdup(s);
    a->s_len = strlen(s);
}

/* A tensor attribute (Constant's value, ConstantOfShape's value). */
static void attr_tensor(test_graph *tg, const char *name, int dtype, int rank, const int64_t *dims,
                        const void *data) {
    or_attr *a = new_attr(tg, name, OR_ATTR_TENSOR);
    a->t = calloc(1, sizeof *a->t);
    size_t bytes = byte_size(dtype, rank, dims);
    set_shape(a->t, dtype, rank, dims, bytes);
    a->t->name = strdup(name);
    a->t->kind = OR_T_INITIALIZER;
    a->t->is_static = true;
    a->t->owned = malloc(bytes ? bytes : 1);
    memcpy(a->t->owned, data, bytes);
    a->t->data = a->t->owned;
}

static const float iota24[24] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

/* ---- Shape, Size ---- */

Test(shape_ops, shape_returns_dims) {
    test_graph tg = make("Shape", 13, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    run_ok(&tg);
    expect_i64(out(&tg, "y"), 1, DIMS(3), DIMS(2, 3, 4));
    or_graph_free(tg.g);
}

Test(shape_ops, shape_opset15_start_end_clamp) {
    test_graph tg = make("Shape", 15, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    attr_int(&tg, "start", -2);
    attr_int(&tg, "end", 100); /* clamped to rank */
    run_ok(&tg);
    expect_i64(out(&tg, "y"), 1, DIMS(2), DIMS(3, 4));
    or_graph_free(tg.g);
}

Test(shape_ops, shape_start_after_end_is_empty) {
    test_graph tg = make("Shape", 15, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    attr_int(&tg, "start", 2);
    attr_int(&tg, "end", -2);
    run_ok(&tg);
    expect_shape(out(&tg, "y"), OR_INT64, 1, DIMS(0));
    or_graph_free(tg.g);
}

Test(shape_ops, size_counts_elements) {
    test_graph tg = make("Size", 13, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    run_ok(&tg);
    expect_i64(out(&tg, "y"), 0, NULL, DIMS(24));
    or_graph_free(tg.g);
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze ---- */

Test(shape_ops, reshape_zero_copies_and_minus_one_infers) {
    test_graph tg = make("Reshape", 13, 2, IN("x", "s"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    init_i64(&tg, "s", 3, DIMS(2, 0, -1));
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 3, DIMS(2, 3, 4), iota24);
    or_graph_free(tg.g);
}

Test(shape_ops, reshape_allowzero_keeps_zero) {
    test_graph tg = make("Reshape", 14, 2, IN("x", "s"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(0, 3), iota24);
    init_i64(&tg, "s", 2, DIMS(3, 0));
    attr_int(&tg, "allowzero", 1);
    run_ok(&tg);
    expect_shape(out(&tg, "y"), OR_FLOAT, 2, DIMS(3, 0));
    or_graph_free(tg.g);
}

Test(shape_ops, reshape_count_mismatch_names_node) {
    test_graph tg = make("Reshape", 13, 2, IN("x", "s"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    init_i64(&tg, "s", 2, DIMS(5, 5));
    run_fails(&tg, ONNXRUN_ERR_INPUT, "cannot reshape");
    or_graph_free(tg.g);
}

Test(shape_ops, reshape_two_minus_ones_fail) {
    test_graph tg = make("Reshape", 13, 2, IN("x", "s"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    init_i64(&tg, "s", 2, DIMS(-1, -1));
    run_fails(&tg, ONNXRUN_ERR_MODEL, "more than one -1");
    or_graph_free(tg.g);
}

static or_graph *reshape_by_gathered_shape(test_graph *tg, const int64_t *sv, bool bind_sv) {
    or_graph *g = or_graph_new();
    g->opset = 13;
    *tg = (test_graph){g, NULL};
    static const int64_t idx[2] = {1, 0};
    input(tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    input(tg, "sv", OR_INT64, 1, DIMS(2), bind_sv ? sv : NULL);
    init_i64(tg, "idx", 2, idx);
    const char *gin[] = {"sv", "idx"}, *gout[] = {"s"}, *rin[] = {"x", "s"}, *rout[] = {"y"};
    for (int k = 0; k < 2; k++) {
        or_node *n = or_graph_add_node(g);
        n->name = strdup(k ? "node0" : "gather");
        n->op_type = strdup(k ? "Reshape" : "Gather");
        n->domain = strdup("");
        n->opset = 13;
        n->n_inputs = 2;
        n->inputs = calloc(2, sizeof(int));
        for (int i = 0; i < 2; i++) n->inputs[i] = tensor(g, k ? rin[i] : gin[i]);
        n->n_outputs = 1;
        n->outputs = calloc(1, sizeof(int));
        n->outputs[0] = tensor(g, k ? rout[0] : gout[0]);
    }
    g->outputs = malloc(sizeof(int));
    g->outputs[g->n_outputs++] = tensor(g, "y");
    return g;
}

Test(shape_ops, reshape_shape_computed_from_input_value_is_folded) {
    /* The shape is a Gather over a graph input's value: the planner computes
     * it from the bound input ({6, 4} gathered as {4, 6}). */
    test_graph tg;
    static const int64_t sv[2] = {6, 4};
    or_graph *g = reshape_by_gathered_shape(&tg, sv, true);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(4, 6), iota24);
    cr_expect(g->tensors[g->inputs[1]].value_pinned, "the plan must depend on sv's value");
    or_graph_free(g);
}

Test(shape_ops, reshape_shape_from_unbound_input_fails) {
    test_graph tg;
    or_graph *g = reshape_by_gathered_shape(&tg, NULL, false);
    run_fails(&tg, ONNXRUN_ERR_MODEL, "must be known while planning");
    cr_expect(g->plan_needs_input_values);
    or_graph_free(g);
}

Test(shape_ops, flatten_axes) {
    const int64_t axes[4] = {0, 2, -1, 3};
    const int64_t want[4][2] = {{1, 24}, {6, 4}, {6, 4}, {24, 1}};
    for (int i = 0; i < 4; i++) {
        test_graph tg = make("Flatten", 13, 1, IN("x"), 1, IN("y"));
        input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
        attr_int(&tg, "axis", axes[i]);
        run_ok(&tg);
        expect_f32(out(&tg, "y"), 2, want[i], iota24);
        or_graph_free(tg.g);
    }
}

Test(shape_ops, squeeze_attr_axes_opset11) {
    test_graph tg = make("Squeeze", 11, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 4, DIMS(2, 1, 3, 1), iota24);
    attr_ints(&tg, "axes", 1, DIMS(-1));
    run_ok(&tg);
    expect_shape(out(&tg, "y"), OR_FLOAT, 3, DIMS(2, 1, 3));
    or_graph_free(tg.g);
}

Test(shape_ops, squeeze_without_axes_drops_all_ones) {
    test_graph tg = make("Squeeze", 13, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 4, DIMS(2, 1, 3, 1), iota24);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(2, 3), iota24);
    or_graph_free(tg.g);
}

Test(shape_ops, squeeze_non_one_axis_fails) {
    test_graph tg = make("Squeeze", 13, 2, IN("x", "a"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 3), iota24);
    init_i64(&tg, "a", 1, DIMS(0));
    run_fails(&tg, ONNXRUN_ERR_INPUT, "cannot squeeze axis 0");
    or_graph_free(tg.g);
}

Test(shape_ops, unsqueeze_axes_input_opset13) {
    test_graph tg = make("Unsqueeze", 13, 2, IN("x", "a"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 3), iota24);
    init_i64(&tg, "a", 2, DIMS(-1, 0));
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 4, DIMS(1, 2, 3, 1), iota24);
    or_graph_free(tg.g);
}

Test(shape_ops, unsqueeze_attr_axes_opset11_and_repeats_fail) {
    test_graph tg = make("Unsqueeze", 11, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(3), iota24);
    attr_ints(&tg, "axes", 1, DIMS(1));
    run_ok(&tg);
    expect_shape(out(&tg, "y"), OR_FLOAT, 2, DIMS(3, 1));
    or_graph_free(tg.g);

    tg = make("Unsqueeze", 11, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(3), iota24);
    attr_ints(&tg, "axes", 2, DIMS(0, -3)); /* both are axis 0 of the rank-3 output */
    run_fails(&tg, ONNXRUN_ERR_MODEL, "repeated");
    or_graph_free(tg.g);
}

/* ---- Concat ---- */

Test(shape_ops, concat_negative_axis_and_empty_input) {
    test_graph tg = make("Concat", 13, 3, IN("a", "b", "c"), 1, IN("y"));
    int64_t a[2] = {1, 2}, b[4] = {3, 4, 5, 6};
    input(&tg, "a", OR_INT64, 2, DIMS(2, 1), a);
    input(&tg, "b", OR_INT64, 2, DIMS(2, 2), b);
    input(&tg, "c", OR_INT64, 2, DIMS(2, 0), NULL);
    attr_int(&tg, "axis", -1);
    run_ok(&tg);
    expect_i64(out(&tg, "y"), 2, DIMS(2, 3), DIMS(1, 3, 4, 2, 5, 6));
    or_graph_free(tg.g);
}

Test(shape_ops, concat_mismatched_dims_fail) {
    test_graph tg = make("Concat", 13, 2, IN("a", "b"), 1, IN("y"));
    input(&tg, "a", OR_FLOAT, 2, DIMS(2, 1), iota24);
    input(&tg, "b", OR_FLOAT, 2, DIMS(3, 1), iota24);
    attr_int(&tg, "axis", 1);
    run_fails(&tg, ONNXRUN_ERR_INPUT, "incompatible");
    or_graph_free(tg.g);
}

/* ---- Gather, GatherElements ---- */

Test(shape_ops, gather_axis0_negative_indices) {
    test_graph tg = make("Gather", 13, 2, IN("x", "i"), 1, IN("y"));
    int32_t x[6] = {10, 11, 20, 21, 30, 31};
    int64_t ind[2] = {2, -3};
    input(&tg, "x", OR_INT32, 2, DIMS(3, 2), x);
    input(&tg, "i", OR_INT64, 2, DIMS(1, 2), ind);
    run_ok(&tg);
    expect_i32(out(&tg, "y"), 3, DIMS(1, 2, 2), (const int32_t[]){30, 31, 10, 11});
    or_graph_free(tg.g);
}

Test(shape_ops, gather_axis1_scalar_int32_index) {
    test_graph tg = make("Gather", 13, 2, IN("x", "i"), 1, IN("y"));
    int32_t ind = -1;
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 3), iota24);
    input(&tg, "i", OR_INT32, 0, NULL, &ind);
    attr_int(&tg, "axis", 1);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 1, DIMS(2), (const float[]){2, 5});
    or_graph_free(tg.g);
}

Test(shape_ops, gather_out_of_range_fails_naming_index) {
    test_graph tg = make("Gather", 13, 2, IN("x", "i"), 1, IN("y"));
    int64_t ind[2] = {0, 3};
    input(&tg, "x", OR_FLOAT, 2, DIMS(3, 2), iota24);
    input(&tg, "i", OR_INT64, 1, DIMS(2), ind);
    run_fails(&tg, ONNXRUN_ERR_INPUT, "index 3");
    or_graph_free(tg.g);
}

Test(shape_ops, gather_elements_axis1_negative) {
    test_graph tg = make("GatherElements", 13, 2, IN("x", "i"), 1, IN("y"));
    float x[4] = {1, 2, 3, 4};
    int64_t ind[4] = {0, 0, -1, 0};
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 2), x);
    input(&tg, "i", OR_INT64, 2, DIMS(2, 2), ind);
    attr_int(&tg, "axis", 1);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(2, 2), (const float[]){1, 1, 4, 3});
    or_graph_free(tg.g);
}

Test(shape_ops, gather_elements_axis0_smaller_indices) {
    /* x = [[0,1,2],[3,4,5],[6,7,8]]; indices [1,2] rows pick along axis 0 */
    test_graph tg = make("GatherElements", 13, 2, IN("x", "i"), 1, IN("y"));
    int32_t ind[4] = {1, 2, 0, 2};
    input(&tg, "x", OR_FLOAT, 2, DIMS(3, 3), iota24);
    input(&tg, "i", OR_INT32, 2, DIMS(2, 2), ind);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(2, 2), (const float[]){3, 7, 0, 7});
    or_graph_free(tg.g);
}

/* ---- Transpose ---- */

Test(shape_ops, transpose_default_reverses) {
    test_graph tg = make("Transpose", 13, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 3), iota24);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(3, 2), (const float[]){0, 3, 1, 4, 2, 5});
    or_graph_free(tg.g);
}

Test(shape_ops, transpose_keeps_inner_rows) {
    /* perm [1,0,2] on [2,3,4]: y[j][i][k] = x[i][j][k] */
    test_graph tg = make("Transpose", 13, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    attr_ints(&tg, "perm", 3, DIMS(1, 0, 2));
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 3, DIMS(3, 2, 4),
               (const float[]){0,  1,  2,  3,  12, 13, 14, 15, 4,  5,  6,  7,
                               16, 17, 18, 19, 8,  9,  10, 11, 20, 21, 22, 23});
    or_graph_free(tg.g);
}

Test(shape_ops, transpose_moves_inner_axis) {
    /* perm [2,0,1] on [2,3,4]: y[k][i][j] = x[i][j][k] = 12i + 4j + k */
    test_graph tg = make("Transpose", 13, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    attr_ints(&tg, "perm", 3, DIMS(2, 0, 1));
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 3, DIMS(4, 2, 3),
               (const float[]){0, 4, 8,  12, 16, 20, 1, 5, 9,  13, 17, 21,
                               2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23});
    or_graph_free(tg.g);
}

Test(shape_ops, transpose_large_tiles_each_dtype) {
    /* [37, 70] with partial tiles: y[j][i] = x[i][j], x[i][j] = 100i + j. */
    enum { R = 37, C = 70 };
    static int64_t x64[R * C];
    static int16_t x16[R * C];
    static uint8_t x8[R * C];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            x64[i * C + j] = 100 * i + j;
            x16[i * C + j] = (int16_t)(100 * i + j);
            x8[i * C + j] = (uint8_t)(i * 3 + j);
        }
    const void *data[3] = {x64, x16, x8};
    const int dtypes[3] = {OR_INT64, OR_INT16, OR_UINT8};
    for (int v = 0; v < 3; v++) {
        test_graph tg = make("Transpose", 13, 1, IN("x"), 1, IN("y"));
        input(&tg, "x", dtypes[v], 2, DIMS(R, C), data[v]);
        run_ok(&tg);
        const or_tensor *y = out(&tg, "y");
        expect_shape(y, dtypes[v], 2, DIMS(C, R));
        for (int j = 0; j < C; j++)
            for (int i = 0; i < R; i++) {
                int64_t got = v == 0   ? ((const int64_t *)y->data)[j * R + i]
                              : v == 1 ? ((const int16_t *)y->data)[j * R + i]
                                       : ((const uint8_t *)y->data)[j * R + i];
                int64_t want = v == 2 ? (uint8_t)(i * 3 + j) : 100 * i + j;
                cr_assert_eq(got, want, "dtype %d y[%d][%d] = %lld", dtypes[v], j, i,
                             (long long)got);
            }
        or_graph_free(tg.g);
    }
}

Test(shape_ops, transpose_bad_perm_fails) {
    test_graph tg = make("Transpose", 13, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 3), iota24);
    attr_ints(&tg, "perm", 2, DIMS(0, 0));
    run_fails(&tg, ONNXRUN_ERR_MODEL, "permutation");
    or_graph_free(tg.g);
}

/* ---- Slice ---- */

Test(shape_ops, slice_negative_step_to_int64_min) {
    test_graph tg = make("Slice", 13, 5, IN("x", "s", "e", "a", "st"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(10), iota24);
    init_i64(&tg, "s", 1, DIMS(-1));
    init_i64(&tg, "e", 1, DIMS(INT64_MIN));
    init_i64(&tg, "a", 1, DIMS(0));
    init_i64(&tg, "st", 1, DIMS(-3));
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 1, DIMS(4), (const float[]){9, 6, 3, 0});
    or_graph_free(tg.g);
}

Test(shape_ops, slice_clamps_and_negative_axes) {
    /* x [4,6] = 6r + c; rows 1..end (clamped), cols -4..-1 step 2 -> cols 2, 4 */
    test_graph tg = make("Slice", 13, 5, IN("x", "s", "e", "a", "st"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(4, 6), iota24);
    init_i64(&tg, "s", 2, DIMS(-4, 1));
    init_i64(&tg, "e", 2, DIMS(-1, 1000));
    init_i64(&tg, "a", 2, DIMS(-1, -2));
    init_i64(&tg, "st", 2, DIMS(2, 1));
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(3, 2), (const float[]){8, 10, 14, 16, 20, 22});
    or_graph_free(tg.g);
}

Test(shape_ops, slice_attrs_opset9_and_empty_result) {
    test_graph tg = make("Slice", 9, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 3), iota24);
    attr_ints(&tg, "starts", 2, DIMS(0, 1));
    attr_ints(&tg, "ends", 2, DIMS(1, 3));
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(1, 2), (const float[]){1, 2});
    or_graph_free(tg.g);

    tg = make("Slice", 10, 3, IN("x", "s", "e"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(5), iota24);
    init_i64(&tg, "s", 1, DIMS(3));
    init_i64(&tg, "e", 1, DIMS(1));
    run_ok(&tg);
    expect_shape(out(&tg, "y"), OR_FLOAT, 1, DIMS(0));
    or_graph_free(tg.g);
}

Test(shape_ops, slice_empty_axis_negative_step_is_empty) {
    /* start -3 on an empty axis must not clamp to element 0 of nothing */
    test_graph tg = make("Slice", 13, 5, IN("x", "s", "e", "a", "st"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 0), NULL);
    init_i64(&tg, "s", 1, DIMS(-3));
    init_i64(&tg, "e", 1, DIMS(INT64_MIN));
    init_i64(&tg, "a", 1, DIMS(1));
    init_i64(&tg, "st", 1, DIMS(-1));
    run_ok(&tg);
    expect_shape(out(&tg, "y"), OR_FLOAT, 2, DIMS(2, 0));
    or_graph_free(tg.g);
}

Test(shape_ops, slice_huge_step_takes_one) {
    test_graph tg = make("Slice", 13, 5, IN("x", "s", "e", "a", "st"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(5), iota24);
    init_i64(&tg, "s", 1, DIMS(1));
    init_i64(&tg, "e", 1, DIMS(INT64_MAX));
    init_i64(&tg, "a", 1, DIMS(0));
    init_i64(&tg, "st", 1, DIMS(INT64_MAX));
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 1, DIMS(1), (const float[]){1});
    or_graph_free(tg.g);
}

Test(shape_ops, slice_zero_step_fails) {
    test_graph tg = make("Slice", 13, 5, IN("x", "s", "e", "a", "st"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(5), iota24);
    init_i64(&tg, "s", 1, DIMS(0));
    init_i64(&tg, "e", 1, DIMS(3));
    init_i64(&tg, "a", 1, DIMS(0));
    init_i64(&tg, "st", 1, DIMS(0));
    run_fails(&tg, ONNXRUN_ERR_MODEL, "steps must not be 0");
    or_graph_free(tg.g);
}

/* ---- Split ---- */

Test(shape_ops, split_sizes_input_opset13) {
    test_graph tg = make("Split", 13, 2, IN("x", "s"), 2, IN("a", "b"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 3), iota24);
    init_i64(&tg, "s", 2, DIMS(1, 2));
    attr_int(&tg, "axis", -1);
    run_ok(&tg);
    expect_f32(out(&tg, "a"), 2, DIMS(2, 1), (const float[]){0, 3});
    expect_f32(out(&tg, "b"), 2, DIMS(2, 2), (const float[]){1, 2, 4, 5});
    or_graph_free(tg.g);
}

Test(shape_ops, split_num_outputs_uneven_opset18) {
    test_graph tg = make("Split", 18, 1, IN("x"), 3, IN("a", "b", "c"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(7), iota24);
    attr_int(&tg, "num_outputs", 3);
    run_ok(&tg);
    expect_f32(out(&tg, "a"), 1, DIMS(3), (const float[]){0, 1, 2});
    expect_f32(out(&tg, "b"), 1, DIMS(3), (const float[]){3, 4, 5});
    expect_f32(out(&tg, "c"), 1, DIMS(1), (const float[]){6});
    or_graph_free(tg.g);
}

Test(shape_ops, split_attr_opset11_and_equal_default) {
    test_graph tg = make("Split", 11, 1, IN("x"), 2, IN("a", "b"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(5), iota24);
    attr_ints(&tg, "split", 2, DIMS(4, 1));
    run_ok(&tg);
    expect_f32(out(&tg, "a"), 1, DIMS(4), (const float[]){0, 1, 2, 3});
    expect_f32(out(&tg, "b"), 1, DIMS(1), (const float[]){4});
    or_graph_free(tg.g);

    tg = make("Split", 13, 1, IN("x"), 2, IN("a", "b"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(4, 1), iota24);
    run_ok(&tg);
    expect_f32(out(&tg, "a"), 2, DIMS(2, 1), (const float[]){0, 1});
    expect_f32(out(&tg, "b"), 2, DIMS(2, 1), (const float[]){2, 3});
    or_graph_free(tg.g);
}

Test(shape_ops, split_bad_sum_fails) {
    test_graph tg = make("Split", 13, 2, IN("x", "s"), 2, IN("a", "b"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(5), iota24);
    init_i64(&tg, "s", 2, DIMS(1, 2));
    run_fails(&tg, ONNXRUN_ERR_INPUT, "sum to 3");
    or_graph_free(tg.g);
}

/* ---- Expand, Tile ---- */

Test(shape_ops, expand_bidirectional) {
    /* [3,1] against [2,1,4] -> [2,3,4]; a 1 in the shape keeps the input's 3. */
    test_graph tg = make("Expand", 13, 2, IN("x", "s"), 1, IN("y"));
    float x[3] = {1, 2, 3};
    input(&tg, "x", OR_FLOAT, 2, DIMS(3, 1), x);
    init_i64(&tg, "s", 3, DIMS(2, 1, 4));
    run_ok(&tg);
    float want[24];
    for (int i = 0; i < 24; i++) want[i] = (float)((i / 4) % 3 + 1);
    expect_f32(out(&tg, "y"), 3, DIMS(2, 3, 4), want);
    or_graph_free(tg.g);
}

Test(shape_ops, expand_incompatible_fails) {
    test_graph tg = make("Expand", 13, 2, IN("x", "s"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(3), iota24);
    init_i64(&tg, "s", 1, DIMS(4));
    run_fails(&tg, ONNXRUN_ERR_INPUT, "cannot broadcast");
    or_graph_free(tg.g);
}

Test(shape_ops, tile_repeats) {
    test_graph tg = make("Tile", 13, 2, IN("x", "r"), 1, IN("y"));
    int32_t x[4] = {1, 2, 3, 4};
    input(&tg, "x", OR_INT32, 2, DIMS(2, 2), x);
    init_i64(&tg, "r", 2, DIMS(2, 3));
    run_ok(&tg);
    expect_i32(out(&tg, "y"), 2, DIMS(4, 6), (const int32_t[]){1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
                                                               1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
    or_graph_free(tg.g);
}

/* ---- ConstantOfShape, Constant, Range ---- */

Test(shape_ops, constant_of_shape_int64_value) {
    test_graph tg = make("ConstantOfShape", 20, 1, IN("s"), 1, IN("y"));
    int64_t seven = 7;
    init_i64(&tg, "s", 2, DIMS(2, 3));
    attr_tensor(&tg, "value", OR_INT64, 1, DIMS(1), &seven);
    run_ok(&tg);
    expect_i64(out(&tg, "y"), 2, DIMS(2, 3), DIMS(7, 7, 7, 7, 7, 7));
    or_graph_free(tg.g);
}

Test(shape_ops, constant_of_shape_default_and_scalar) {
    test_graph tg = make("ConstantOfShape", 9, 1, IN("s"), 1, IN("y"));
    init_i64(&tg, "s", 0, NULL);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 0, NULL, (const float[]){0});
    or_graph_free(tg.g);
}

Test(shape_ops, constant_forms) {
    test_graph tg = make("Constant", 13, 0, NULL, 1, IN("y"));
    attr_ints(&tg, "value_ints", 3, DIMS(5, -1, 9));
    run_ok(&tg);
    expect_i64(out(&tg, "y"), 1, DIMS(3), DIMS(5, -1, 9));
    or_graph_free(tg.g);

    tg = make("Constant", 13, 0, NULL, 1, IN("y"));
    attr_float(&tg, "value_float", 2.5f);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 0, NULL, (const float[]){2.5f});
    or_graph_free(tg.g);

    tg = make("Constant", 13, 0, NULL, 1, IN("y"));
    int32_t v[2] = {4, -4};
    attr_tensor(&tg, "value", OR_INT32, 2, DIMS(1, 2), v);
    run_ok(&tg);
    expect_i32(out(&tg, "y"), 2, DIMS(1, 2), v);
    or_graph_free(tg.g);
}

Test(shape_ops, constant_string_is_rejected) {
    test_graph tg = make("Constant", 13, 0, NULL, 1, IN("y"));
    attr_string(&tg, "value_string", "hello");
    run_fails(&tg, ONNXRUN_ERR_MODEL, "value_string");
    or_graph_free(tg.g);
}

Test(shape_ops, range_float_and_int) {
    test_graph tg = make("Range", 11, 3, IN("a", "b", "c"), 1, IN("y"));
    float s = 1.0f, l = 2.6f, d = 0.5f;
    init(&tg, "a", OR_FLOAT, 0, NULL, &s);
    init(&tg, "b", OR_FLOAT, 0, NULL, &l);
    init(&tg, "c", OR_FLOAT, 0, NULL, &d);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 1, DIMS(4), (const float[]){1, 1.5f, 2, 2.5f});
    or_graph_free(tg.g);

    tg = make("Range", 11, 3, IN("a", "b", "c"), 1, IN("y"));
    int32_t si = 10, li = 4, di = -3;
    init(&tg, "a", OR_INT32, 0, NULL, &si);
    init(&tg, "b", OR_INT32, 0, NULL, &li);
    init(&tg, "c", OR_INT32, 0, NULL, &di);
    run_ok(&tg);
    expect_i32(out(&tg, "y"), 1, DIMS(2), (const int32_t[]){10, 7});
    or_graph_free(tg.g);
}

Test(shape_ops, range_empty_and_zero_delta) {
    test_graph tg = make("Range", 11, 3, IN("a", "b", "c"), 1, IN("y"));
    int64_t s = 5, l = 1, d = 2;
    init(&tg, "a", OR_INT64, 0, NULL, &s);
    init(&tg, "b", OR_INT64, 0, NULL, &l);
    init(&tg, "c", OR_INT64, 0, NULL, &d);
    run_ok(&tg);
    expect_shape(out(&tg, "y"), OR_INT64, 1, DIMS(0));
    or_graph_free(tg.g);

    tg = make("Range", 11, 3, IN("a", "b", "c"), 1, IN("y"));
    d = 0;
    init(&tg, "a", OR_INT64, 0, NULL, &s);
    init(&tg, "b", OR_INT64, 0, NULL, &l);
    init(&tg, "c", OR_INT64, 0, NULL, &d);
    run_fails(&tg, ONNXRUN_ERR_INPUT, "invalid range");
    or_graph_free(tg.g);
}

/* ---- Pad ---- */

static const float pad_x[6] = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f}; /* [3,2], the spec's data */

static void pad_case(const char *mode, const float *want) {
    test_graph tg = make("Pad", 13, 2, IN("x", "p"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(3, 2), pad_x);
    init_i64(&tg, "p", 4, DIMS(0, 2, 0, 0));
    attr_string(&tg, "mode", mode);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(3, 4), want);
    or_graph_free(tg.g);
}

Test(shape_ops, pad_modes_spec_examples) {
    pad_case("constant", (const float[]){0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f});
    pad_case("reflect", (const float[]){1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f,
                                        4.5f, 5.7f});
    pad_case("edge", (const float[]){1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f,
                                     4.5f, 5.7f});
}

Test(shape_ops, pad_wrap_opset19) {
    test_graph tg = make("Pad", 19, 2, IN("x", "p"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(3, 2), pad_x);
    init_i64(&tg, "p", 4, DIMS(1, 1, 0, 0)); /* one row and one column before */
    attr_string(&tg, "mode", "wrap");
    run_ok(&tg);
    expect_f32(
        out(&tg, "y"), 2, DIMS(4, 3),
        (const float[]){5.7f, 4.5f, 5.7f, 1.2f, 1.0f, 1.2f, 3.4f, 2.3f, 3.4f, 5.7f, 4.5f, 5.7f});
    or_graph_free(tg.g);
}

Test(shape_ops, pad_constant_value_axes_and_crop) {
    /* opset 18: axes [0] only; one row before with value 9, and crop the last row */
    test_graph tg = make("Pad", 18, 4, IN("x", "p", "v", "a"), 1, IN("y"));
    float nine = 9;
    input(&tg, "x", OR_FLOAT, 2, DIMS(3, 2), pad_x);
    init_i64(&tg, "p", 2, DIMS(1, -1));
    input(&tg, "v", OR_FLOAT, 0, NULL, &nine);
    init_i64(&tg, "a", 1, DIMS(0));
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(3, 2), (const float[]){9, 9, 1.0f, 1.2f, 2.3f, 3.4f});
    or_graph_free(tg.g);
}

Test(shape_ops, pad_attrs_opset2_reflect_beyond_size) {
    /* x = [0,1,2] reflected with 4 before and 3 after: numpy's periodic mirror. */
    test_graph tg = make("Pad", 2, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(3), iota24);
    attr_ints(&tg, "pads", 2, DIMS(4, 3));
    attr_string(&tg, "mode", "reflect");
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 1, DIMS(10), (const float[]){0, 1, 2, 1, 0, 1, 2, 1, 0, 1});
    or_graph_free(tg.g);

    tg = make("Pad", 2, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 1, DIMS(2), iota24);
    attr_ints(&tg, "pads", 2, DIMS(1, 1));
    attr_float(&tg, "value", -1.5f);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 1, DIMS(4), (const float[]){-1.5f, 0, 1, -1.5f});
    or_graph_free(tg.g);
}

/* ---- Trilu, CumSum ---- */

Test(shape_ops, trilu_upper_and_lower) {
    /* x [3,4] = 4r + c + 1 */
    static const float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    test_graph tg = make("Trilu", 14, 2, IN("x", "k"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(3, 4), x);
    init(&tg, "k", OR_INT64, 0, NULL, DIMS(1));
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(3, 4), (const float[]){0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12});
    or_graph_free(tg.g);

    tg = make("Trilu", 14, 2, IN("x", "k"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(3, 4), x);
    init(&tg, "k", OR_INT64, 0, NULL, DIMS(-1));
    attr_int(&tg, "upper", 0);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(3, 4), (const float[]){0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0});
    or_graph_free(tg.g);
}

Test(shape_ops, cumsum_plain_and_exclusive_reverse) {
    static const double x[5] = {1, 2, 3, 4, 5};
    test_graph tg = make("CumSum", 14, 2, IN("x", "a"), 1, IN("y"));
    int32_t axis = 0;
    input(&tg, "x", OR_DOUBLE, 1, DIMS(5), x);
    init(&tg, "a", OR_INT32, 0, NULL, &axis);
    run_ok(&tg);
    const double *y = out(&tg, "y")->data;
    const double want[5] = {1, 3, 6, 10, 15};
    for (int i = 0; i < 5; i++) cr_assert_float_eq(y[i], want[i], 0);
    or_graph_free(tg.g);

    tg = make("CumSum", 14, 2, IN("x", "a"), 1, IN("y"));
    input(&tg, "x", OR_DOUBLE, 1, DIMS(5), x);
    init(&tg, "a", OR_INT32, 0, NULL, &axis);
    attr_int(&tg, "exclusive", 1);
    attr_int(&tg, "reverse", 1);
    run_ok(&tg);
    y = out(&tg, "y")->data;
    const double want2[5] = {14, 12, 9, 5, 0};
    for (int i = 0; i < 5; i++) cr_assert_float_eq(y[i], want2[i], 0);
    or_graph_free(tg.g);
}

Test(shape_ops, cumsum_int64_axis1) {
    int64_t x[6] = {1, 2, 3, 4, 5, 6};
    test_graph tg = make("CumSum", 14, 2, IN("x", "a"), 1, IN("y"));
    input(&tg, "x", OR_INT64, 2, DIMS(2, 3), x);
    init(&tg, "a", OR_INT64, 0, NULL, DIMS(-1));
    run_ok(&tg);
    expect_i64(out(&tg, "y"), 2, DIMS(2, 3), DIMS(1, 3, 6, 4, 9, 15));
    or_graph_free(tg.g);
}

/* ---- folding: Shape -> Gather -> Unsqueeze -> Concat -> Reshape ---- */

Test(shape_ops, pytorch_shape_chain_folds) {
    /* y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) : [2,3,4] -> [2,12] */
    or_graph *g = or_graph_new();
    g->opset = 13;
    test_graph tg = {g, NULL};
    input(&tg, "x", OR_FLOAT, 3, DIMS(2, 3, 4), iota24);
    init(&tg, "zero", OR_INT64, 0, NULL, DIMS(0));
    init_i64(&tg, "axes", 1, DIMS(0));
    init_i64(&tg, "minus1", 1, DIMS(-1));
    struct {
        const char *op;
        int n_in;
        const char *in[2], *out;
    } nodes[] = {{"Shape", 1, {"x"}, "shape"},
                 {"Gather", 2, {"shape", "zero"}, "batch"},
                 {"Unsqueeze", 2, {"batch", "axes"}, "batch1"},
                 {"Concat", 2, {"batch1", "minus1"}, "target"},
                 {"Reshape", 2, {"x", "target"}, "y"}};
    for (int k = 0; k < 5; k++) {
        or_node *n = or_graph_add_node(g);
        char name[16];
        snprintf(name, sizeof name, "n%d", k);
        n->name = strdup(name);
        n->op_type = strdup(nodes[k].op);
        n->domain = strdup("");
        n->opset = 13;
        n->n_inputs = nodes[k].n_in;
        n->inputs = calloc(2, sizeof(int));
        for (int i = 0; i < nodes[k].n_in; i++) n->inputs[i] = tensor(g, nodes[k].in[i]);
        n->n_outputs = 1;
        n->outputs = calloc(1, sizeof(int));
        n->outputs[0] = tensor(g, nodes[k].out);
        if (k == 3) {
            tg.n = n;
            attr_int(&tg, "axis", 0);
        }
    }
    g->outputs = malloc(sizeof(int));
    g->outputs[g->n_outputs++] = tensor(g, "y");
    run_ok(&tg);
    for (int k = 0; k < 4; k++) cr_assert(g->nodes[k].folded, "node %d was not folded", k);
    expect_i64(out(&tg, "target"), 1, DIMS(2), DIMS(2, -1));
    expect_f32(out(&tg, "y"), 2, DIMS(2, 12), iota24);
    or_graph_free(g);
}
