/* BatchNormalization, LayerNormalization and Gelu on small hand-worked
 * cases: inference and training batch norm (with running statistics), the
 * legacy per-activation mode, mixed opset-15 types and float16, layer norm's
 * Mean/InvStdDev outputs, negative axes and broadcast Scale, both Gelu forms.
 */
#include "one_node_graph.h"

static void attr_f(test_graph *tg, const char *name, float v) {
    new_attr(tg, name, OR_ATTR_FLOAT)->f = v;
}

static void attr_s(test_graph *tg, const char *name, const char *v) {
    or_attr *a = new_attr(tg, name, OR_ATTR_STRING);
    a->s = strdup(v);
    a->s_len = strlen(v);
}

static void expect_f64(const or_tensor *t, int rank, const int64_t *dims, const double *vals) {
    expect_shape(t, OR_DOUBLE, rank, dims);
    const double *d = t->data;
    for (int64_t i = 0; i < or_shape_numel(rank, dims); i++)
        cr_assert_float_eq(d[i], vals[i], 1e-12, "[%lld] %g, expected %g", (long long)i, d[i],
                           vals[i]);
}

static void expect_u16(const or_tensor *t, int dtype, int rank, const int64_t *dims,
                       const uint16_t *vals) {
    expect_shape(t, dtype, rank, dims);
    const uint16_t *d = t->data;
    for (int64_t i = 0; i < or_shape_numel(rank, dims); i++)
        cr_assert_eq(d[i], vals[i], "[%lld] 0x%04x, expected 0x%04x", (long long)i, d[i], vals[i]);
}

/* ---- BatchNormalization ---- */

static const char *const BN_IN[] = {"x", "s", "b", "m", "v"};

/* Channel 0: (x - 1) / 2; channel 1: (x - 3) * 2 + 1. */
Test(batchnorm, inference_per_channel) {
    test_graph tg = make("BatchNormalization", 15, 5, BN_IN, 1, IN("y"));
    float x[] = {1, 2, 3, 4}, s[] = {1, 2}, b[] = {0, 1}, m[] = {1, 3}, v[] = {4, 1};
    input(&tg, "x", OR_FLOAT, 4, DIMS(1, 2, 1, 2), x);
    init(&tg, "s", OR_FLOAT, 1, DIMS(2), s);
    init(&tg, "b", OR_FLOAT, 1, DIMS(2), b);
    init(&tg, "m", OR_FLOAT, 1, DIMS(2), m);
    init(&tg, "v", OR_FLOAT, 1, DIMS(2), v);
    attr_f(&tg, "epsilon", 0);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 4, DIMS(1, 2, 1, 2), (const float[]){0, 0.5f, 1, 3});
    or_graph_free(tg.g);
}

/* Batch stats over N: channel 0 {1,3} mean 2 var 1; channel 1 {2,6} mean 4
 * var 4. Running: 0.5 * input + 0.5 * batch. */
Test(batchnorm, training_mode_running_stats) {
    test_graph tg = make("BatchNormalization", 15, 5, BN_IN, 3, IN("y", "rm", "rv"));
    float x[] = {1, 2, 3, 6}, s[] = {1, 1}, b[] = {0, 0}, m[] = {0, 0}, v[] = {1, 1};
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 2), x);
    init(&tg, "s", OR_FLOAT, 1, DIMS(2), s);
    init(&tg, "b", OR_FLOAT, 1, DIMS(2), b);
    init(&tg, "m", OR_FLOAT, 1, DIMS(2), m);
    init(&tg, "v", OR_FLOAT, 1, DIMS(2), v);
    attr_f(&tg, "epsilon", 0);
    attr_f(&tg, "momentum", 0.5f);
    attr_int(&tg, "training_mode", 1);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(2, 2), (const float[]){-1, -1, 1, 1});
    expect_f32(out(&tg, "rm"), 1, DIMS(2), (const float[]){1, 2});
    expect_f32(out(&tg, "rv"), 1, DIMS(2), (const float[]){1, 2.5f});
    or_graph_free(tg.g);
}

/* Opset 9 training via extra outputs: saved_mean/saved_var are the batch's. */
Test(batchnorm, legacy_training_outputs) {
    test_graph tg = make("BatchNormalization", 9, 5, BN_IN, 5, IN("y", "rm", "rv", "sm", "sv"));
    double x[] = {1, 2, 3, 6}, s[] = {2, 1}, b[] = {1, 0}, m[] = {0, 0}, v[] = {1, 1};
    input(&tg, "x", OR_DOUBLE, 2, DIMS(2, 2), x);
    init(&tg, "s", OR_DOUBLE, 1, DIMS(2), s);
    init(&tg, "b", OR_DOUBLE, 1, DIMS(2), b);
    init(&tg, "m", OR_DOUBLE, 1, DIMS(2), m);
    init(&tg, "v", OR_DOUBLE, 1, DIMS(2), v);
    attr_f(&tg, "epsilon", 0);
    run_ok(&tg);
    /* momentum 0.9 (float): running = 0.9f * input + (1 - 0.9f) * batch */
    double mo = (double)0.9f;
    expect_f64(out(&tg, "y"), 2, DIMS(2, 2), (const double[]){-1, -1, 3, 1});
    expect_f64(out(&tg, "rm"), 1, DIMS(2), (const double[]){2 * (1 - mo), 4 * (1 - mo)});
    expect_f64(out(&tg, "rv"), 1, DIMS(2), (const double[]){mo + (1 - mo), mo + 4 * (1 - mo)});
    expect_f64(out(&tg, "sm"), 1, DIMS(2), (const double[]){2, 4});
    expect_f64(out(&tg, "sv"), 1, DIMS(2), (const double[]){1, 4});
    or_graph_free(tg.g);
}

/* spatial=0: one statistic per element of [C, D]. */
Test(batchnorm, opset7_per_activation) {
    test_graph tg = make("BatchNormalization", 7, 5, BN_IN, 1, IN("y"));
    float x[] = {1, 2, 3, 4}, s[] = {1, 1, 1, 1}, b[] = {0, 0, 0, 0}, m[] = {1, 1, 1, 1},
          v[] = {1, 4, 1, 4};
    input(&tg, "x", OR_FLOAT, 3, DIMS(1, 2, 2), x);
    init(&tg, "s", OR_FLOAT, 2, DIMS(2, 2), s);
    init(&tg, "b", OR_FLOAT, 2, DIMS(2, 2), b);
    init(&tg, "m", OR_FLOAT, 2, DIMS(2, 2), m);
    init(&tg, "v", OR_FLOAT, 2, DIMS(2, 2), v);
    attr_f(&tg, "epsilon", 0);
    attr_int(&tg, "spatial", 0);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 3, DIMS(1, 2, 2), (const float[]){0, 0.5f, 2, 1.5f});
    or_graph_free(tg.g);
}

/* Opset 15: float16 X with float scale/B and double mean/var. Same numbers as
 * inference_per_channel; 1.0 = 0x3c00, 2 = 0x4000, 3 = 0x4200, 4 = 0x4400,
 * 0.5 = 0x3800. */
Test(batchnorm, float16_mixed_types) {
    test_graph tg = make("BatchNormalization", 15, 5, BN_IN, 1, IN("y"));
    uint16_t x[] = {0x3c00, 0x4000, 0x4200, 0x4400};
    float s[] = {1, 2}, b[] = {0, 1};
    double m[] = {1, 3}, v[] = {4, 1};
    input(&tg, "x", OR_FLOAT16, 4, DIMS(1, 2, 1, 2), x);
    init(&tg, "s", OR_FLOAT, 1, DIMS(2), s);
    init(&tg, "b", OR_FLOAT, 1, DIMS(2), b);
    init(&tg, "m", OR_DOUBLE, 1, DIMS(2), m);
    init(&tg, "v", OR_DOUBLE, 1, DIMS(2), v);
    attr_f(&tg, "epsilon", 0);
    run_ok(&tg);
    expect_u16(out(&tg, "y"), OR_FLOAT16, 4, DIMS(1, 2, 1, 2),
               (const uint16_t[]){0x0000, 0x3800, 0x3c00, 0x4200});
    or_graph_free(tg.g);
}

Test(batchnorm, rejects_wrong_channel_count) {
    test_graph tg = make("BatchNormalization", 15, 5, BN_IN, 1, IN("y"));
    float x[6] = {0}, p3[3] = {1, 1, 1}, p2[2] = {1, 1};
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 3), x);
    init(&tg, "s", OR_FLOAT, 1, DIMS(2), p2);
    init(&tg, "b", OR_FLOAT, 1, DIMS(3), p3);
    init(&tg, "m", OR_FLOAT, 1, DIMS(3), p3);
    init(&tg, "v", OR_FLOAT, 1, DIMS(3), p3);
    run_fails(&tg, ONNXRUN_ERR_INPUT, "scale has shape [2]");
    or_graph_free(tg.g);
}

Test(batchnorm, rejects_mixed_types_before_opset15) {
    test_graph tg = make("BatchNormalization", 14, 5, BN_IN, 1, IN("y"));
    float x[2] = {0}, p[1] = {1};
    double d[1] = {1};
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 1), x);
    init(&tg, "s", OR_FLOAT, 1, DIMS(1), p);
    init(&tg, "b", OR_FLOAT, 1, DIMS(1), p);
    init(&tg, "m", OR_DOUBLE, 1, DIMS(1), d);
    init(&tg, "v", OR_DOUBLE, 1, DIMS(1), d);
    run_fails(&tg, ONNXRUN_ERR_MODEL, "mean is float64 but X is float32");
    or_graph_free(tg.g);
}

/* ---- LayerNormalization ---- */

/* Rows {1,2,3} (mean 2, var 2/3) and {2,4,6} (mean 4, var 8/3) both
 * normalise to {-sqrt(1.5), 0, sqrt(1.5)}; then * {1,2,3} + {0,1,0}. */
Test(layernorm, last_axis_with_stats) {
    test_graph tg = make("LayerNormalization", 17, 3, IN("x", "s", "b"), 3, IN("y", "mean", "inv"));
    float x[] = {1, 2, 3, 2, 4, 6}, s[] = {1, 2, 3}, b[] = {0, 1, 0};
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 3), x);
    init(&tg, "s", OR_FLOAT, 1, DIMS(3), s);
    init(&tg, "b", OR_FLOAT, 1, DIMS(3), b);
    attr_f(&tg, "epsilon", 0);
    run_ok(&tg);
    const float r = 1.224744871f; /* sqrt(1.5) */
    expect_f32(out(&tg, "y"), 2, DIMS(2, 3), (const float[]){-r, 1, 3 * r, -r, 1, 3 * r});
    expect_f32(out(&tg, "mean"), 2, DIMS(2, 1), (const float[]){2, 4});
    expect_f32(out(&tg, "inv"), 2, DIMS(2, 1), (const float[]){r, 0.6123724357f});
    or_graph_free(tg.g);
}

/* axis -2 of [2,2]: one row {1,3,5,7}, mean 4, var 5; Scale [2] broadcasts
 * over the normalised [2,2]; no B. */
Test(layernorm, negative_axis_broadcast_scale) {
    test_graph tg = make("LayerNormalization", 17, 2, IN("x", "s"), 2, IN("y", "mean"));
    double x[] = {1, 3, 5, 7}, s[] = {1, 2};
    input(&tg, "x", OR_DOUBLE, 2, DIMS(2, 2), x);
    init(&tg, "s", OR_DOUBLE, 1, DIMS(2), s);
    attr_int(&tg, "axis", -2);
    attr_f(&tg, "epsilon", 0);
    run_ok(&tg);
    const double r = 0.4472135954999579; /* 1/sqrt(5) */
    expect_f64(out(&tg, "y"), 2, DIMS(2, 2), (const double[]){-3 * r, -2 * r, r, 6 * r});
    expect_f32(out(&tg, "mean"), 2, DIMS(1, 1), (const float[]){4});
    or_graph_free(tg.g);
}

/* bfloat16 X: {1, 3} -> {-1, 1} with epsilon 0 (bf16 1.0 = 0x3f80). */
Test(layernorm, bfloat16) {
    test_graph tg = make("LayerNormalization", 17, 2, IN("x", "s"), 1, IN("y"));
    uint16_t x[] = {0x3f80, 0x4040}, s[] = {0x3f80, 0x3f80};
    input(&tg, "x", OR_BFLOAT16, 1, DIMS(2), x);
    init(&tg, "s", OR_BFLOAT16, 1, DIMS(2), s);
    attr_f(&tg, "epsilon", 0);
    run_ok(&tg);
    expect_u16(out(&tg, "y"), OR_BFLOAT16, 1, DIMS(2), (const uint16_t[]){0xbf80, 0x3f80});
    or_graph_free(tg.g);
}

Test(layernorm, rejects_bad_axis) {
    float x[4] = {0}, s[3] = {1, 1, 1};
    test_graph tg = make("LayerNormalization", 17, 2, IN("x", "s"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 2), x);
    init(&tg, "s", OR_FLOAT, 1, DIMS(2), s);
    attr_int(&tg, "axis", 2);
    run_fails(&tg, ONNXRUN_ERR_MODEL, "axis 2 is out of range");
    or_graph_free(tg.g);
}

Test(layernorm, rejects_bad_scale) {
    float x[4] = {0}, s[3] = {1, 1, 1};
    test_graph tg = make("LayerNormalization", 17, 2, IN("x", "s"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT, 2, DIMS(2, 2), x);
    init(&tg, "s", OR_FLOAT, 1, DIMS(3), s);
    run_fails(&tg, ONNXRUN_ERR_INPUT, "does not broadcast");
    or_graph_free(tg.g);
}

/* ---- Gelu ---- */

/* x * Phi(x): Phi(1) = 0.841344746, Phi(2) = 0.977249868. */
Test(gelu, erf_form) {
    test_graph tg = make("Gelu", 20, 1, IN("x"), 1, IN("y"));
    float x[] = {-1, 0, 1, 2};
    input(&tg, "x", OR_FLOAT, 1, DIMS(4), x);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 1, DIMS(4),
               (const float[]){-0.158655254f, 0, 0.841344746f, 1.954499736f});
    or_graph_free(tg.g);
}

/* 0.5x(1 + tanh(0.79788456 (x + 0.044715 x^3))); gelu(-x) = gelu(x) - x. */
Test(gelu, tanh_form_double) {
    test_graph tg = make("Gelu", 20, 1, IN("x"), 1, IN("y"));
    double x[] = {-1, 0, 1, 2};
    input(&tg, "x", OR_DOUBLE, 1, DIMS(4), x);
    attr_s(&tg, "approximate", "tanh");
    run_ok(&tg);
    expect_shape(out(&tg, "y"), OR_DOUBLE, 1, DIMS(4));
    const double *y = out(&tg, "y")->data, want[] = {-0.158808009, 0, 0.841191991, 1.954597694};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(y[i], want[i], 1e-9, "[%d] %.12f", i, y[i]);
    or_graph_free(tg.g);
}

/* float16: gelu(2) = 1.95450 = 1 + 977.4/1024 rounds to 1 + 977/1024 = 0x3fd1.
 */
Test(gelu, float16) {
    test_graph tg = make("Gelu", 20, 1, IN("x"), 1, IN("y"));
    uint16_t x[] = {0x0000, 0x4000};
    input(&tg, "x", OR_FLOAT16, 1, DIMS(2), x);
    run_ok(&tg);
    expect_u16(out(&tg, "y"), OR_FLOAT16, 1, DIMS(2), (const uint16_t[]){0x0000, 0x3fd1});
    or_graph_free(tg.g);
}

Test(gelu, rejects_unknown_approximation) {
    uint16_t x[] = {0x0000, 0x4000};
    test_graph tg = make("Gelu", 20, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_FLOAT16, 1, DIMS(2), x);
    attr_s(&tg, "approximate", "fast");
    run_fails(&tg, ONNXRUN_ERR_MODEL, "approximate must be");
    or_graph_free(tg.g);
}
