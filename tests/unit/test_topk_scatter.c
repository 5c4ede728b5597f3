/* TopK, ScatterElements and Scatter on one-node graphs built by hand and run
 * through the planner. Expected values are worked out by hand from the ONNX
 * spec (the add-with-duplicates case is the spec's own example). Data inputs
 * are bound graph inputs; TopK's K is an initializer, read while planning. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "one_node_graph.h"

static void attr_string(test_graph *tg, const char *name, const char *s) {
    or_attr *a = new_attr(tg, name, OR_ATTR_STRING);
    a->s = strdup(s);
    a->s_len = strlen(s);
}

/* ---- TopK ---- */

Test(topk_scatter, topk_largest_ties_lower_index_first) {
    test_graph tg = make("TopK", 11, 2, IN("x", "k"), 2, IN("v", "i"));
    float x[8] = {1, 3, 3, 2, 5, 5, 5, 0};
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 4), x);
    init_i64(&tg, "k", 1, (const int64_t[]){2});
    run_ok(&tg);
    expect_f32(out(&tg, "v"), 2, DIMS(2, 2), (const float[]){3, 3, 5, 5});
    expect_i64(out(&tg, "i"), 2, DIMS(2, 2), (const int64_t[]){1, 2, 0, 1});
    or_graph_free(tg.g);
}

Test(topk_scatter, topk_smallest_axis0_int32) {
    test_graph tg = make("TopK", 11, 2, IN("x", "k"), 2, IN("v", "i"));
    int32_t x[6] = {4, 1, 2, 1, 2, 7};
    input(&tg, "x", OR_INT32, 2, DIMS(3, 2), x);
    init_i64(&tg, "k", 1, (const int64_t[]){2});
    attr_int(&tg, "axis", 0);
    attr_int(&tg, "largest", 0);
    run_ok(&tg);
    expect_i32(out(&tg, "v"), 2, DIMS(2, 2), (const int32_t[]){2, 1, 2, 1});
    expect_i64(out(&tg, "i"), 2, DIMS(2, 2), (const int64_t[]){1, 0, 2, 1});
    or_graph_free(tg.g);
}

Test(topk_scatter, topk_opset1_k_attribute) {
    test_graph tg = make("TopK", 1, 1, IN("x"), 2, IN("v", "i"));
    float x[3] = {0.5f, -1, 2};
    input(&tg, "x", OR_FLOAT, 1, DIMS(3), x);
    attr_int(&tg, "k", 1);
    run_ok(&tg);
    expect_f32(out(&tg, "v"), 1, DIMS(1), (const float[]){2});
    expect_i64(out(&tg, "i"), 1, DIMS(1), (const int64_t[]){2});
    or_graph_free(tg.g);
}

Test(topk_scatter, topk_k_too_large_fails) {
    test_graph tg = make("TopK", 11, 2, IN("x", "k"), 2, IN("v", "i"));
    float x[3] = {0, 1, 2};
    input(&tg, "x", OR_FLOAT, 1, DIMS(3), x);
    init_i64(&tg, "k", 1, (const int64_t[]){5});
    run_fails(&tg, ONNXRUN_ERR_INPUT, "k=5");
    or_graph_free(tg.g);
}

/* ---- ScatterElements, Scatter ---- */

Test(topk_scatter, scatter_elements_add_duplicates) {
    test_graph tg = make("ScatterElements", 18, 3, IN("x", "i", "u"), 1, IN("y"));
    float x[5] = {1, 2, 3, 4, 5}, u[2] = {1.1f, 2.1f};
    int64_t ind[2] = {1, 1};
    input(&tg, "x", OR_FLOAT, 2, DIMS(1, 5), x);
    input(&tg, "i", OR_INT64, 2, DIMS(1, 2), ind);
    input(&tg, "u", OR_FLOAT, 2, DIMS(1, 2), u);
    attr_int(&tg, "axis", 1);
    attr_string(&tg, "reduction", "add");
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(1, 5), (const float[]){1, 5.2f, 3, 4, 5});
    or_graph_free(tg.g);
}

Test(topk_scatter, scatter_elements_negative_indices_axis0) {
    test_graph tg = make("ScatterElements", 13, 3, IN("x", "i", "u"), 1, IN("y"));
    int64_t x[6] = {0}, u[4] = {10, 11, 12, 13};
    int32_t ind[4] = {-1, 0, 1, -3};
    input(&tg, "x", OR_INT64, 2, DIMS(3, 2), x);
    input(&tg, "i", OR_INT32, 2, DIMS(2, 2), ind);
    input(&tg, "u", OR_INT64, 2, DIMS(2, 2), u);
    run_ok(&tg);
    expect_i64(out(&tg, "y"), 2, DIMS(3, 2), (const int64_t[]){0, 13, 12, 0, 10, 0});
    or_graph_free(tg.g);
}

Test(topk_scatter, scatter_elements_mul_int32) {
    test_graph tg = make("ScatterElements", 16, 3, IN("x", "i", "u"), 1, IN("y"));
    int32_t x[2] = {2, 3}, u[3] = {5, -1, 4};
    int64_t ind[3] = {0, 0, 1};
    input(&tg, "x", OR_INT32, 1, DIMS(2), x);
    input(&tg, "i", OR_INT64, 1, DIMS(3), ind);
    input(&tg, "u", OR_INT32, 1, DIMS(3), u);
    attr_string(&tg, "reduction", "mul");
    run_ok(&tg);
    expect_i32(out(&tg, "y"), 1, DIMS(2), (const int32_t[]){-10, 12});
    or_graph_free(tg.g);
}

Test(topk_scatter, scatter_elements_out_of_range_fails) {
    test_graph tg = make("ScatterElements", 13, 3, IN("x", "i", "u"), 1, IN("y"));
    float x[3] = {0, 0, 0}, u[1] = {1};
    int64_t ind[1] = {3};
    input(&tg, "x", OR_FLOAT, 1, DIMS(3), x);
    input(&tg, "i", OR_INT64, 1, DIMS(1), ind);
    input(&tg, "u", OR_FLOAT, 1, DIMS(1), u);
    run_fails(&tg, ONNXRUN_ERR_INPUT, "index 3");
    or_graph_free(tg.g);
}

Test(topk_scatter, scatter_elements_max_needs_opset18) {
    test_graph tg = make("ScatterElements", 16, 3, IN("x", "i", "u"), 1, IN("y"));
    float x[3] = {0, 0, 0}, u[1] = {1};
    int64_t ind[1] = {0};
    input(&tg, "x", OR_FLOAT, 1, DIMS(3), x);
    input(&tg, "i", OR_INT64, 1, DIMS(1), ind);
    input(&tg, "u", OR_FLOAT, 1, DIMS(1), u);
    attr_string(&tg, "reduction", "max");
    run_fails(&tg, ONNXRUN_ERR_MODEL, "reduction 'max'");
    or_graph_free(tg.g);
}

Test(topk_scatter, scatter_opset9_uint8) {
    test_graph tg = make("Scatter", 9, 3, IN("x", "i", "u"), 1, IN("y"));
    uint8_t x[4] = {1, 2, 3, 4}, u[2] = {9, 8};
    int64_t ind[2] = {1, 0};
    input(&tg, "x", OR_UINT8, 2, DIMS(2, 2), x);
    input(&tg, "i", OR_INT64, 2, DIMS(1, 2), ind);
    input(&tg, "u", OR_UINT8, 2, DIMS(1, 2), u);
    run_ok(&tg);
    const uint8_t *y = out(&tg, "y")->data;
    const uint8_t want[4] = {1, 8, 9, 4};
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], want[i], "[%d] %u", i, y[i]);
    or_graph_free(tg.g);
}
