/* Data types: float8/float4/e8m0 coding, the packed 4- and 2-bit types in
 * TensorProto, Cast to and from them, MT19937 against numpy, training-mode
 * Dropout, float16 MatMul, and the op type table (ops/op_types.txt).
 *
 * Expected values are derived by hand from the formats (bit layouts are
 * spelled out next to each), from the ONNX backend-test data
 * (test_cast_FLOAT_to_INT4 ...) or from numpy's legacy RandomState
 * (np.random.seed(0); np.random.uniform(0, 1, 5)). */
#include "convert.h"
#include "loader.h"
#include "mt19937.h"
#include "one_node_graph.h"
#include "registry.h"

#include <math.h>
#include <stdio.h>

/* ---- float8 ---- */

Test(dtypes, f8_e4m3fn_encode) {
    /* 1.0 = 2^0: exponent 0 + bias 7 = 0111, mantissa 000 -> 0 0111 000. */
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, 1.0f, true), 0x38);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, -1.0f, true), 0xb8);
    /* 448 = 1.75 * 2^8, the largest: 1111 110 (1111 111 is NaN). */
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, 448.0f, true), 0x7e);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, 500.0f, true), 0x7e);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, -500.0f, true), 0xfe);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, INFINITY, true), 0x7e);
    /* Without saturation, out of range is NaN (no infinity in E4M3FN). */
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, 500.0f, false), 0x7f);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, -500.0f, false), 0xff);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, INFINITY, false), 0x7f);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, NAN, true) & 0x7f, 0x7f);
    /* Subnormals: quantum 2^-9. 2^-10 is a tie between 0 and 1: even -> 0;
     * 3 * 2^-10 ties between 1 and 2 -> 2. */
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, 0x1p-9f, true), 0x01);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, 0x1p-10f, true), 0x00);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, 0x3p-10f, true), 0x02);
    /* 1 + 1/16 is half way between 1 (0x38) and 1.125 (0x39): even -> 0x38. */
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, 1.0625f, true), 0x38);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FN, 1.1875f, true), 0x3a);
}

Test(dtypes, f8_other_formats) {
    /* E5M2: bias 15, 1.0 = 01111 00; max 57344 = 11110 11; 11111 00 = inf. */
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E5M2, 1.0f, true), 0x3c);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E5M2, 57344.0f, true), 0x7b);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E5M2, 1e6f, true), 0x7b);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E5M2, 1e6f, false), 0x7c);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E5M2, -INFINITY, false), 0xfc);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E5M2, 0x1p-16f, true), 0x01);
    /* FNUZ: bias one larger, 0x80 is the only NaN, no negative zero. */
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FNUZ, 1.0f, true), 0x40);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FNUZ, 240.0f, true), 0x7f);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FNUZ, 1000.0f, false), 0x80);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FNUZ, NAN, true), 0x80);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E4M3FNUZ, -0.0f, true), 0x00);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E5M2FNUZ, 1.0f, true), 0x40);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E5M2FNUZ, 57344.0f, true), 0x7f);
    cr_assert_eq(or_f32_to_f8(OR_FLOAT8E5M2FNUZ, INFINITY, false), 0x80);
}

Test(dtypes, f8_decode) {
    cr_assert_eq(or_f8_to_f32(OR_FLOAT8E4M3FN, 0x38), 1.0f);
    cr_assert_eq(or_f8_to_f32(OR_FLOAT8E4M3FN, 0x7e), 448.0f);
    cr_assert(isnan(or_f8_to_f32(OR_FLOAT8E4M3FN, 0x7f)));
    cr_assert(isnan(or_f8_to_f32(OR_FLOAT8E4M3FN, 0xff)));
    cr_assert_eq(or_f8_to_f32(OR_FLOAT8E4M3FN, 0x01), 0x1p-9f);
    cr_assert_eq(or_f8_to_f32(OR_FLOAT8E4M3FN, 0x80), 0.0f);
    cr_assert(signbit(or_f8_to_f32(OR_FLOAT8E4M3FN, 0x80)));
    cr_assert_eq(or_f8_to_f32(OR_FLOAT8E5M2, 0x7c), INFINITY);
    cr_assert_eq(or_f8_to_f32(OR_FLOAT8E5M2, 0xfc), -INFINITY);
    cr_assert(isnan(or_f8_to_f32(OR_FLOAT8E5M2, 0x7d)));
    cr_assert(isnan(or_f8_to_f32(OR_FLOAT8E4M3FNUZ, 0x80)));
    cr_assert_eq(or_f8_to_f32(OR_FLOAT8E4M3FNUZ, 0x7f), 240.0f);
    cr_assert_eq(or_f8_to_f32(OR_FLOAT8E5M2FNUZ, 0x01), 0x1p-17f);
}

/* ---- float4 E2M1 and float8 E8M0 ---- */

Test(dtypes, f4_e2m1) {
    static const float values[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
    for (int c = 0; c < 8; c++) {
        cr_assert_eq(or_f4_to_f32((uint8_t)c), values[c]);
        cr_assert_eq(or_f4_to_f32((uint8_t)(c | 8)), -values[c]);
        cr_assert_eq(or_f32_to_f4(values[c]), c);
    }
    cr_assert_eq(or_f32_to_f4(0.25f), 0);   /* tie 0 / 0.5: even code 0 */
    cr_assert_eq(or_f32_to_f4(0.75f), 2);   /* tie 0.5 / 1: even code 2 */
    cr_assert_eq(or_f32_to_f4(2.5f), 4);    /* tie 2 / 3: code 4 */
    cr_assert_eq(or_f32_to_f4(5.0f), 6);    /* tie 4 / 6: code 6 */
    cr_assert_eq(or_f32_to_f4(-3.5f), 0xe); /* tie 3 / 4: -4 (backend test) */
    cr_assert_eq(or_f32_to_f4(100.0f), 7);  /* saturates */
    cr_assert_eq(or_f32_to_f4(-INFINITY), 0xf);
    cr_assert_eq(or_f32_to_f4(NAN), 0x8); /* as in test_cast_FLOAT_to_FLOAT4E2M1 */
    cr_assert_eq(or_f32_to_f4(-0.0f), 0x8);
}

Test(dtypes, e8m0) {
    cr_assert_eq(or_e8m0_to_f32(0x7f), 1.0f);
    cr_assert_eq(or_e8m0_to_f32(0x00), 0x1p-127f);
    cr_assert_eq(or_e8m0_to_f32(0xfe), 0x1p127f);
    cr_assert(isnan(or_e8m0_to_f32(0xff)));
    cr_assert_eq(or_f32_to_e8m0(1.0f, true, OR_ROUND_UP), 0x7f);
    cr_assert_eq(or_f32_to_e8m0(-1.0f, true, OR_ROUND_UP), 0x7f); /* sign dropped */
    cr_assert_eq(or_f32_to_e8m0(1.25f, true, OR_ROUND_UP), 0x80);
    cr_assert_eq(or_f32_to_e8m0(1.25f, true, OR_ROUND_DOWN), 0x7f);
    cr_assert_eq(or_f32_to_e8m0(1.25f, true, OR_ROUND_NEAREST), 0x7f);
    cr_assert_eq(or_f32_to_e8m0(1.5f, true, OR_ROUND_NEAREST), 0x80);
    cr_assert_eq(or_f32_to_e8m0(0.0f, true, OR_ROUND_UP), 0x00);
    cr_assert_eq(or_f32_to_e8m0(NAN, true, OR_ROUND_UP), 0xff);
    cr_assert_eq(or_f32_to_e8m0(INFINITY, true, OR_ROUND_UP), 0xff);
    /* 1.5 * 2^127 rounds up past the largest exponent unless saturating. */
    cr_assert_eq(or_f32_to_e8m0(0x1.8p127f, true, OR_ROUND_UP), 0xfe);
    cr_assert_eq(or_f32_to_e8m0(0x1.8p127f, false, OR_ROUND_UP), 0xff);
}

/* ---- casts through or_cast_block ---- */

Test(dtypes, cast_to_int4_wraps) {
    /* From test_cast_FLOAT_to_INT4: -9 -> 7, 8 -> -8; 15 -> -1 (low 4 bits). */
    const float x[6] = {-9, -8, 7, 8, 15, 2.7f};
    int8_t i4[6];
    uint8_t u4[6], u2[6];
    int8_t i2[6];
    or_cast_block(OR_FLOAT, x, OR_INT4, i4, 6, true);
    or_cast_block(OR_FLOAT, x, OR_UINT4, u4, 6, true);
    or_cast_block(OR_FLOAT, x, OR_INT2, i2, 6, true);
    or_cast_block(OR_FLOAT, x, OR_UINT2, u2, 6, true);
    const int8_t want_i4[6] = {7, -8, 7, -8, -1, 2};
    const uint8_t want_u4[6] = {7, 8, 7, 8, 15, 2};
    const int8_t want_i2[6] = {-1, 0, -1, 0, -1, -2};
    const uint8_t want_u2[6] = {3, 0, 3, 0, 3, 2};
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(i4[i], want_i4[i], "int4[%d] = %d", i, i4[i]);
        cr_assert_eq(u4[i], want_u4[i], "uint4[%d] = %d", i, u4[i]);
        cr_assert_eq(i2[i], want_i2[i], "int2[%d] = %d", i, i2[i]);
        cr_assert_eq(u2[i], want_u2[i], "uint2[%d] = %d", i, u2[i]);
    }
    const int64_t big[2] = {17, -17};
    or_cast_block(OR_INT64, big, OR_UINT4, u4, 2, true);
    cr_assert_eq(u4[0], 1);  /* 17 = 0x11 */
    cr_assert_eq(u4[1], 15); /* -17 = ...1110 1111 */
}

Test(dtypes, cast_from_sub_byte) {
    const int8_t i4[3] = {-8, -1, 7};
    float f[3];
    or_cast_block(OR_INT4, i4, OR_FLOAT, f, 3, true);
    cr_assert(f[0] == -8 && f[1] == -1 && f[2] == 7);
    const uint8_t e8[2] = {0x7c, 0x82}; /* 2^-3, 2^3 */
    or_cast_block(OR_FLOAT8E8M0, e8, OR_FLOAT, f, 2, true);
    cr_assert(f[0] == 0.125f && f[1] == 8.0f);
    uint16_t h[2];
    or_cast_block(OR_FLOAT8E8M0, e8, OR_FLOAT16, h, 2, true);
    cr_assert(h[0] == 0x3000 && h[1] == 0x4800); /* 0.125, 8 in float16 */
    const uint8_t f4[2] = {0x7, 0xd};            /* 6, -3 */
    int32_t i[2];
    or_cast_block(OR_FLOAT4E2M1, f4, OR_INT32, i, 2, true);
    cr_assert(i[0] == 6 && i[1] == -3);
    /* round_mode reaches e8m0 targets: 3 = 1.5 * 2 */
    const float three = 3.0f;
    uint8_t e;
    or_cast_block_mode(OR_FLOAT, &three, OR_FLOAT8E8M0, &e, 1, true, OR_ROUND_DOWN);
    cr_assert_eq(e, 0x80);
    or_cast_block_mode(OR_FLOAT, &three, OR_FLOAT8E8M0, &e, 1, true, OR_ROUND_UP);
    cr_assert_eq(e, 0x81);
}

/* ---- packed 4- and 2-bit tensors in TensorProto ---- */

static or_tensor parse(const unsigned char *pb, size_t len) {
    or_tensor t;
    char err[256];
    int st = or_parse_tensor_pb(pb, len, &t, err, sizeof err);
    cr_assert_eq(st, ONNXRUN_OK, "%s", err);
    return t;
}

Test(dtypes, int4_raw_data_unpacks) {
    /* dims [3], data_type 22 (INT4), raw_data 0x87 0x0f: 7, -8 | -1, pad. */
    const unsigned char pb[] = {0x08, 0x03, 0x10, 22, 0x4a, 0x02, 0x87, 0x0f};
    or_tensor t = parse(pb, sizeof pb);
    cr_assert_eq(t.dtype, OR_INT4);
    cr_assert_eq(t.nbytes, 3);
    const int8_t *d = t.data;
    cr_assert(d[0] == 7 && d[1] == -8 && d[2] == -1, "%d %d %d", d[0], d[1], d[2]);
    or_tensor_free_contents(&t);
}

Test(dtypes, uint4_int32_data_unpacks) {
    /* int32_data holds one packed byte per value: 0x87 (varint 87 01), 0x0f. */
    const unsigned char pb[] = {0x08, 0x03, 0x10, 21, 0x2a, 0x03, 0x87, 0x01, 0x0f};
    or_tensor t = parse(pb, sizeof pb);
    const uint8_t *d = t.data;
    cr_assert(d[0] == 7 && d[1] == 8 && d[2] == 15);
    or_tensor_free_contents(&t);
}

Test(dtypes, int2_raw_data_unpacks) {
    /* dims [5], INT2 (26): 0x39 = 00 11 10 01 -> 1, -2, -1, 0; 0x02 -> -2. */
    const unsigned char pb[] = {0x08, 0x05, 0x10, 26, 0x4a, 0x02, 0x39, 0x02};
    or_tensor t = parse(pb, sizeof pb);
    const int8_t *d = t.data;
    const int8_t want[5] = {1, -2, -1, 0, -2};
    for (int i = 0; i < 5; i++) cr_assert_eq(d[i], want[i], "[%d] = %d", i, d[i]);
    or_tensor_free_contents(&t);
}

Test(dtypes, packed_size_is_checked) {
    /* 3 int4 elements need 2 bytes, not 3. */
    const unsigned char pb[] = {0x08, 0x03, 0x10, 22, 0x4a, 0x03, 0x87, 0x0f, 0x00};
    or_tensor t;
    char err[256];
    cr_assert_eq(or_parse_tensor_pb(pb, sizeof pb, &t, err, sizeof err), ONNXRUN_ERR_MODEL);
    cr_assert(strstr(err, "raw_data has 3 bytes, expected 2") != NULL, "%s", err);
}

/* ---- MT19937 against numpy's legacy RandomState ---- */

Test(dtypes, mt19937_matches_numpy) {
    or_mt19937 s;
    or_mt_seed(&s, 0);
    cr_assert_eq(or_mt_next(&s), 2357136044u); /* np.random.seed(0); randint(2**32) */
    or_mt_seed(&s, 0);
    const double want[5] = {0.5488135039273248, 0.7151893663724195, 0.6027633760716439,
                            0.5448831829968969, 0.4236547993389047};
    for (int i = 0; i < 5; i++) cr_assert_eq(or_mt_double(&s), want[i], "draw %d", i);
    or_mt_seed(&s, 5489); /* the reference implementation's default seed */
    cr_assert_eq(or_mt_next(&s), 3499211612u);
}

/* ---- ops ---- */

Test(dtypes, dropout_training_reproduces_numpy) {
    /* seed 0 uniforms 0.5488, 0.7152, 0.6028, 0.5449; an element is kept
     * when its uniform is >= ratio 0.6: drop, keep, keep, drop. Kept values
     * are scaled by 1 / (1 - 0.6) = 2.5. */
    test_graph tg = make("Dropout", 13, 3, IN("x", "r", "t"), 2, IN("y", "mask"));
    const float x[4] = {1, 2, 3, 4}, ratio = 0.6f;
    const uint8_t training = 1;
    input(&tg, "x", OR_FLOAT, 2, DIMS(1, 4), x);
    init(&tg, "r", OR_FLOAT, 0, NULL, &ratio);
    init(&tg, "t", OR_BOOL, 0, NULL, &training);
    attr_int(&tg, "seed", 0);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(1, 4), (const float[]){0.0f, 5.0f, 7.5f, 0.0f});
    const uint8_t *m = out(&tg, "mask")->data;
    cr_assert(m[0] == 0 && m[1] == 1 && m[2] == 1 && m[3] == 0);
    or_graph_free(tg.g);
}

Test(dtypes, dropout_training_checks_ratio) {
    test_graph tg = make("Dropout", 13, 3, IN("x", "r", "t"), 1, IN("y"));
    const float x[2] = {1, 2}, ratio = 1.0f;
    const uint8_t training = 1;
    input(&tg, "x", OR_FLOAT, 1, DIMS(2), x);
    init(&tg, "r", OR_FLOAT, 0, NULL, &ratio);
    init(&tg, "t", OR_BOOL, 0, NULL, &training);
    run_fails(&tg, ONNXRUN_ERR_INPUT, "outside [0, 1)");
    or_graph_free(tg.g);
}

Test(dtypes, matmul_float16) {
    /* [[1,2],[3,4]] x [[0.5,1],[1,0.25]] = [[2.5,1.5],[5.5,4]]; float16 bits:
     * 1 3c00, 2 4000, 3 4200, 4 4400, 0.5 3800, 0.25 3400, 2.5 4100,
     * 1.5 3e00, 5.5 4580. */
    test_graph tg = make("MatMul", 13, 2, IN("a", "b"), 1, IN("y"));
    const uint16_t a[4] = {0x3c00, 0x4000, 0x4200, 0x4400};
    const uint16_t b[4] = {0x3800, 0x3c00, 0x3c00, 0x3400};
    input(&tg, "a", OR_FLOAT16, 2, DIMS(2, 2), a);
    input(&tg, "b", OR_FLOAT16, 2, DIMS(2, 2), b);
    run_ok(&tg);
    const or_tensor *y = out(&tg, "y");
    expect_shape(y, OR_FLOAT16, 2, DIMS(2, 2));
    const uint16_t want[4] = {0x4100, 0x3e00, 0x4580, 0x4400};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(((const uint16_t *)y->data)[i], want[i], "[%d] %04x", i,
                     ((const uint16_t *)y->data)[i]);
    or_graph_free(tg.g);
}

Test(dtypes, matmul_float16_rounds_once) {
    /* 1 + 2048 + 1 = 2050 is a float16 (0x6801: the spacing at 2048 is 2).
     * Summing in float16 would lose both ones (2048 + 1 ties back to 2048);
     * summing in float32 and rounding once keeps them. */
    test_graph tg = make("MatMul", 13, 2, IN("a", "b"), 1, IN("y"));
    const uint16_t a[3] = {0x3c00, 0x6800, 0x3c00}; /* 1, 2048, 1 */
    const uint16_t b[3] = {0x3c00, 0x3c00, 0x3c00};
    input(&tg, "a", OR_FLOAT16, 2, DIMS(1, 3), a);
    input(&tg, "b", OR_FLOAT16, 2, DIMS(3, 1), b);
    run_ok(&tg);
    cr_assert_eq(((const uint16_t *)out(&tg, "y")->data)[0], 0x6801);
    or_graph_free(tg.g);
}

Test(dtypes, cast_node_saturate_off) {
    /* Cast-19 to float8e4m3fn with saturate = 0: 500 is out of range -> NaN
     * (0x7f); 1.0 -> 0x38. */
    test_graph tg = make("Cast", 19, 1, IN("x"), 1, IN("y"));
    const float x[2] = {500.0f, 1.0f};
    input(&tg, "x", OR_FLOAT, 1, DIMS(2), x);
    attr_int(&tg, "to", OR_FLOAT8E4M3FN);
    attr_int(&tg, "saturate", 0);
    run_ok(&tg);
    const uint8_t *y = out(&tg, "y")->data;
    cr_assert(y[0] == 0x7f && y[1] == 0x38, "%02x %02x", y[0], y[1]);
    or_graph_free(tg.g);
}

Test(dtypes, cast_node_round_mode) {
    /* Cast-25 to float8e8m0, round_mode down: 3 = 1.5 * 2^1 -> 2^1 (0x80). */
    test_graph tg = make("Cast", 25, 1, IN("x"), 1, IN("y"));
    const float x = 3.0f;
    input(&tg, "x", OR_FLOAT, 1, DIMS(1), &x);
    attr_int(&tg, "to", OR_FLOAT8E8M0);
    or_attr *a = new_attr(&tg, "round_mode", OR_ATTR_STRING);
    a->s = strdup("down");
    a->s_len = 4;
    run_ok(&tg);
    cr_assert_eq(((const uint8_t *)out(&tg, "y")->data)[0], 0x80);
    or_graph_free(tg.g);
}

Test(dtypes, cast_node_bad_round_mode) {
    test_graph tg = make("Cast", 25, 1, IN("x"), 1, IN("y"));
    const float x = 3.0f;
    input(&tg, "x", OR_FLOAT, 1, DIMS(1), &x);
    attr_int(&tg, "to", OR_FLOAT8E8M0);
    or_attr *a = new_attr(&tg, "round_mode", OR_ATTR_STRING);
    a->s = strdup("sideways");
    a->s_len = 8;
    run_fails(&tg, ONNXRUN_ERR_MODEL, "round_mode 'sideways'");
    or_graph_free(tg.g);
}

/* ---- the op type table (ops/op_types.txt) ---- */

/* Types a probe tries: those of the issue-4 list. */
static const int probe_types[] = {OR_FLOAT,  OR_DOUBLE, OR_FLOAT16, OR_BFLOAT16, OR_INT8,
                                  OR_INT16,  OR_INT32,  OR_INT64,   OR_UINT8,    OR_UINT16,
                                  OR_UINT32, OR_UINT64, OR_BOOL};
#define N_PROBE_TYPES (int)(sizeof probe_types / sizeof probe_types[0])

/* A one-node graph whose first n_t inputs have the probed type (shape [2,2],
 * or [1,1,2,2] when conv), followed by int64 initializers; `where` puts a
 * bool condition first. Planning succeeds exactly for the accepted types. */
typedef struct probe {
    const char *op;
    int opset;
    int n_t, n_out;
    bool conv, where;
    int n_i64;
    int64_t i64_len[2], i64[2][4];
    const char *attr; /* an int attribute set to attr_val, or NULL */
    int64_t attr_val;
} probe;

static const probe probes[] = {
    {.op = "Abs", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Add", .opset = 14, .n_t = 2, .n_out = 1},
    {.op = "And", .opset = 7, .n_t = 2, .n_out = 1},
    {.op = "ArgMax", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ArgMin", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Ceil", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Clip", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Concat", .opset = 13, .n_t = 2, .n_out = 1, .attr = "axis", .attr_val = 0},
    {.op = "Conv", .opset = 11, .n_t = 2, .n_out = 1, .conv = true},
    {.op = "Cos", .opset = 7, .n_t = 1, .n_out = 1},
    {.op = "CumSum", .opset = 14, .n_t = 1, .n_out = 1, .n_i64 = 1, .i64_len = {0}, .i64 = {{0}}},
    {.op = "Div", .opset = 14, .n_t = 2, .n_out = 1},
    {.op = "Dropout", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Elu", .opset = 6, .n_t = 1, .n_out = 1},
    {.op = "Equal", .opset = 19, .n_t = 2, .n_out = 1},
    {.op = "Erf", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Exp", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Expand",
     .opset = 13,
     .n_t = 1,
     .n_out = 1,
     .n_i64 = 1,
     .i64_len = {2},
     .i64 = {{2, 2}}},
    {.op = "Flatten", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Floor", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Gather", .opset = 13, .n_t = 1, .n_out = 1, .n_i64 = 1, .i64_len = {1}, .i64 = {{1}}},
    {.op = "Gemm", .opset = 13, .n_t = 2, .n_out = 1},
    {.op = "Gelu", .opset = 20, .n_t = 1, .n_out = 1},
    {.op = "GlobalAveragePool", .opset = 22, .n_t = 1, .n_out = 1, .conv = true},
    {.op = "GlobalMaxPool", .opset = 22, .n_t = 1, .n_out = 1, .conv = true},
    {.op = "Greater", .opset = 13, .n_t = 2, .n_out = 1},
    {.op = "GreaterOrEqual", .opset = 16, .n_t = 2, .n_out = 1},
    {.op = "HardSigmoid", .opset = 6, .n_t = 1, .n_out = 1},
    {.op = "HardSwish", .opset = 14, .n_t = 1, .n_out = 1},
    {.op = "Identity", .opset = 19, .n_t = 1, .n_out = 1},
    {.op = "LayerNormalization", .opset = 17, .n_t = 2, .n_out = 1, .attr = "axis", .attr_val = 0},
    {.op = "LeakyRelu", .opset = 16, .n_t = 1, .n_out = 1},
    {.op = "Less", .opset = 13, .n_t = 2, .n_out = 1},
    {.op = "LessOrEqual", .opset = 16, .n_t = 2, .n_out = 1},
    {.op = "Log", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "LogSoftmax", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "MatMul", .opset = 13, .n_t = 2, .n_out = 1},
    {.op = "Max", .opset = 13, .n_t = 2, .n_out = 1},
    {.op = "Mean", .opset = 13, .n_t = 2, .n_out = 1},
    {.op = "Min", .opset = 13, .n_t = 2, .n_out = 1},
    {.op = "Mod", .opset = 13, .n_t = 2, .n_out = 1},
    {.op = "Mul", .opset = 14, .n_t = 2, .n_out = 1},
    {.op = "Neg", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Not", .opset = 1, .n_t = 1, .n_out = 1},
    {.op = "Or", .opset = 7, .n_t = 2, .n_out = 1},
    {.op = "Pow", .opset = 15, .n_t = 2, .n_out = 1},
    {.op = "PRelu", .opset = 16, .n_t = 2, .n_out = 1},
    {.op = "Pad",
     .opset = 13,
     .n_t = 1,
     .n_out = 1,
     .n_i64 = 1,
     .i64_len = {4},
     .i64 = {{0, 0, 0, 0}}},
    {.op = "Reciprocal", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ReduceL1", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ReduceL2", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ReduceLogSum", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ReduceLogSumExp", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ReduceMax", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ReduceMean", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ReduceMin", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ReduceProd", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ReduceSum", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "ReduceSumSquare", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Relu", .opset = 14, .n_t = 1, .n_out = 1},
    {.op = "Reshape", .opset = 14, .n_t = 1, .n_out = 1, .n_i64 = 1, .i64_len = {1}, .i64 = {{4}}},
    {.op = "Round", .opset = 11, .n_t = 1, .n_out = 1},
    {.op = "Selu", .opset = 6, .n_t = 1, .n_out = 1},
    {.op = "Shape", .opset = 15, .n_t = 1, .n_out = 1},
    {.op = "Sigmoid", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Sign", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Sin", .opset = 7, .n_t = 1, .n_out = 1},
    {.op = "Size", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Slice",
     .opset = 13,
     .n_t = 1,
     .n_out = 1,
     .n_i64 = 2,
     .i64_len = {1, 1},
     .i64 = {{0}, {1}}},
    {.op = "Softmax", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Softplus", .opset = 1, .n_t = 1, .n_out = 1},
    {.op = "Softsign", .opset = 1, .n_t = 1, .n_out = 1},
    {.op = "Split", .opset = 13, .n_t = 1, .n_out = 2},
    {.op = "Sqrt", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Squeeze", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Sub", .opset = 14, .n_t = 2, .n_out = 1},
    {.op = "Sum", .opset = 13, .n_t = 2, .n_out = 1},
    {.op = "Tanh", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Tile", .opset = 13, .n_t = 1, .n_out = 1, .n_i64 = 1, .i64_len = {2}, .i64 = {{1, 1}}},
    {.op = "TopK", .opset = 11, .n_t = 1, .n_out = 2, .n_i64 = 1, .i64_len = {1}, .i64 = {{1}}},
    {.op = "Transpose", .opset = 13, .n_t = 1, .n_out = 1},
    {.op = "Trilu", .opset = 14, .n_t = 1, .n_out = 1},
    {.op = "Unsqueeze",
     .opset = 13,
     .n_t = 1,
     .n_out = 1,
     .n_i64 = 1,
     .i64_len = {1},
     .i64 = {{0}}},
    {.op = "Where", .opset = 16, .n_t = 2, .n_out = 1, .where = true},
    {.op = "Xor", .opset = 7, .n_t = 2, .n_out = 1},
};

static bool probe_accepts(const probe *p, int dtype) {
    static const char *const t_names[] = {"t0", "t1", "t2"};
    static const char *const i_names[] = {"i0", "i1"};
    static const char *const o_names[] = {"o0", "o1"};
    const char *in[4];
    int n_in = 0;
    if (p->where) in[n_in++] = "cond";
    for (int i = 0; i < p->n_t; i++) in[n_in++] = t_names[i];
    for (int i = 0; i < p->n_i64; i++) in[n_in++] = i_names[i];
    test_graph tg = make(p->op, p->opset, n_in, in, p->n_out, o_names);
    static const unsigned char zeros[64];
    const int64_t *dims = p->conv ? DIMS(1, 1, 2, 2) : DIMS(2, 2);
    int rank = p->conv ? 4 : 2;
    if (p->where) input(&tg, "cond", OR_BOOL, 2, DIMS(2, 2), zeros);
    for (int i = 0; i < p->n_t; i++) input(&tg, t_names[i], dtype, rank, dims, zeros);
    for (int i = 0; i < p->n_i64; i++)
        init(&tg, i_names[i], OR_INT64, p->i64_len[i] ? 1 : 0, &p->i64_len[i], p->i64[i]);
    if (p->attr) attr_int(&tg, p->attr, p->attr_val);
    or_graph *g = tg.g;
    int status = or_graph_sort(g);
    if (status == ONNXRUN_OK) status = or_graph_check_ops(g);
    if (status == ONNXRUN_OK) status = or_graph_plan(g);
    or_graph_free(g);
    return status == ONNXRUN_OK;
}

/* The types listed for op in ops/op_types.txt, as a line "Op: a b c". */
static bool table_line(const char *op, char *line, size_t len) {
    FILE *f = fopen(ONNXRUN_SOURCE_DIR "/ops/op_types.txt", "r");
    cr_assert_not_null(f, "cannot open ops/op_types.txt");
    bool found = false;
    size_t op_len = strlen(op);
    while (fgets(line, (int)len, f))
        if (strncmp(line, op, op_len) == 0 && line[op_len] == ':') {
            found = true;
            break;
        }
    fclose(f);
    return found;
}

static bool lists_type(const char *line, const char *type) {
    size_t n = strlen(type);
    for (const char *s = strchr(line, ':'); s && *s; s++)
        if ((s[-1] == ' ' || s[-1] == ':') && strncmp(s, type, n) == 0 &&
            (s[n] == ' ' || s[n] == '\n' || s[n] == '\0'))
            return true;
    return false;
}

Test(dtypes, op_types_cover_the_registry) {
    char line[1024];
    for (int op = 0; op < OR_OP_COUNT; op++)
        cr_expect(table_line(or_op_name(op), line, sizeof line),
                  "ops/op_types.txt has no line for %s", or_op_name(op));
    /* ... and lists only registered ops and known type names. */
    FILE *f = fopen(ONNXRUN_SOURCE_DIR "/ops/op_types.txt", "r");
    cr_assert_not_null(f);
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char *colon = strchr(line, ':');
        cr_assert_not_null(colon, "bad line: %s", line);
        *colon = '\0';
        cr_expect(or_op_lookup("", line) >= 0, "ops/op_types.txt lists unknown op %s", line);
        for (char *tok = strtok(colon + 1, " \n"); tok; tok = strtok(NULL, " \n")) {
            bool known = false;
            for (int dt = 1; dt < OR_DTYPE_COUNT && !known; dt++)
                known = strcmp(or_dtype_name(dt), tok) == 0;
            cr_expect(known, "%s: unknown type %s", line, tok);
        }
    }
    fclose(f);
}

Test(dtypes, op_types_match_what_ops_accept) {
    char line[1024];
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        const probe *p = &probes[i];
        cr_assert(table_line(p->op, line, sizeof line), "no line for %s", p->op);
        char got[512] = "";
        bool same = true;
        for (int k = 0; k < N_PROBE_TYPES; k++) {
            const char *name = or_dtype_name(probe_types[k]);
            bool ok = probe_accepts(p, probe_types[k]);
            if (ok) snprintf(got + strlen(got), sizeof got - strlen(got), " %s", name);
            same = same && ok == lists_type(line, name);
        }
        cr_expect(same, "%s accepts:%s\n  ops/op_types.txt says %s", p->op, got, line);
    }
}

Test(dtypes, gemm_float16) {
    /* alpha 2, beta 1: 2 * [1 2] x [[1],[0.5]] + [0.25] = 2 * 2 + 0.25 = 4.25
     * (float16 0x4440: 1.0625 * 4). Inputs: 1 3c00, 2 4000, 0.5 3800,
     * 0.25 3400. */
    test_graph tg = make("Gemm", 13, 3, IN("a", "b", "c"), 1, IN("y"));
    const uint16_t a[2] = {0x3c00, 0x4000}, b[2] = {0x3c00, 0x3800}, c = 0x3400;
    input(&tg, "a", OR_FLOAT16, 2, DIMS(1, 2), a);
    input(&tg, "b", OR_FLOAT16, 2, DIMS(2, 1), b);
    input(&tg, "c", OR_FLOAT16, 1, DIMS(1), &c);
    new_attr(&tg, "alpha", OR_ATTR_FLOAT)->f = 2.0f;
    run_ok(&tg);
    const or_tensor *y = out(&tg, "y");
    expect_shape(y, OR_FLOAT16, 2, DIMS(1, 1));
    cr_assert_eq(((const uint16_t *)y->data)[0], 0x4440, "%04x", ((const uint16_t *)y->data)[0]);
    or_graph_free(tg.g);
}

Test(dtypes, argmax_float16) {
    /* [1, 3, 2] (3c00 4200 4000) -> index 1; a NaN (7e00) wins -> index 2. */
    const uint16_t x1[3] = {0x3c00, 0x4200, 0x4000}, x2[3] = {0x3c00, 0x4200, 0x7e00};
    const uint16_t *xs[2] = {x1, x2};
    const int64_t want[2] = {1, 2};
    for (int k = 0; k < 2; k++) {
        test_graph tg = make("ArgMax", 13, 1, IN("x"), 1, IN("y"));
        input(&tg, "x", OR_FLOAT16, 1, DIMS(3), xs[k]);
        run_ok(&tg);
        expect_i64(out(&tg, "y"), 1, DIMS(1), &want[k]);
        or_graph_free(tg.g);
    }
}

Test(dtypes, topk_float16_compares_values) {
    /* [-1, 3, 2] (bc00 4200 4000), k = 2: 3 and 2 at 1 and 2. Comparing the
     * bit patterns instead would rank -1 (0xbc00) first. */
    test_graph tg = make("TopK", 11, 2, IN("x", "k"), 2, IN("v", "i"));
    const uint16_t x[3] = {0xbc00, 0x4200, 0x4000};
    input(&tg, "x", OR_FLOAT16, 1, DIMS(3), x);
    init_i64(&tg, "k", 1, (const int64_t[]){2});
    run_ok(&tg);
    const uint16_t *v = out(&tg, "v")->data;
    cr_assert(v[0] == 0x4200 && v[1] == 0x4000, "%04x %04x", v[0], v[1]);
    expect_i64(out(&tg, "i"), 1, DIMS(2), (const int64_t[]){1, 2});
    or_graph_free(tg.g);
}

Test(dtypes, cumsum_float16_rounds_each_sum) {
    /* [1, 2048, 1]: 1, 2049 -> 2048 (tie to even; 0x6800), 2048 + 1 -> 2048,
     * as numpy's cumsum of a float16 array. */
    test_graph tg = make("CumSum", 14, 2, IN("x", "axis"), 1, IN("y"));
    const uint16_t x[3] = {0x3c00, 0x6800, 0x3c00};
    input(&tg, "x", OR_FLOAT16, 1, DIMS(3), x);
    init(&tg, "axis", OR_INT64, 0, NULL, (const int64_t[]){0});
    run_ok(&tg);
    const uint16_t *y = out(&tg, "y")->data;
    cr_assert(y[0] == 0x3c00 && y[1] == 0x6800 && y[2] == 0x6800, "%04x %04x %04x", y[0], y[1],
              y[2]);
    or_graph_free(tg.g);
}

Test(dtypes, reduce_int16) {
    /* ReduceMax and ReduceSum over [-300, 200, -5] (int16): 200 and -105. */
    const int16_t x[3] = {-300, 200, -5};
    const char *ops[2] = {"ReduceMax", "ReduceSum"};
    const int16_t want[2] = {200, -105};
    for (int k = 0; k < 2; k++) {
        test_graph tg = make(ops[k], 13, 1, IN("x"), 1, IN("y"));
        input(&tg, "x", OR_INT16, 1, DIMS(3), x);
        attr_int(&tg, "keepdims", 0);
        run_ok(&tg);
        const or_tensor *y = out(&tg, "y");
        expect_shape(y, OR_INT16, 0, NULL);
        cr_assert_eq(((const int16_t *)y->data)[0], want[k], "%s: %d", ops[k],
                     ((const int16_t *)y->data)[0]);
        or_graph_free(tg.g);
    }
}

/* One uint64 reduction of x over its only axis, keepdims 0: the scalar result. */
static uint64_t reduce_u64(const char *op, int64_t n, const uint64_t *x) {
    test_graph tg = make(op, 13, 1, IN("x"), 1, IN("y"));
    input(&tg, "x", OR_UINT64, 1, DIMS(n), x);
    attr_int(&tg, "keepdims", 0);
    run_ok(&tg);
    const or_tensor *y = out(&tg, "y");
    expect_shape(y, OR_UINT64, 0, NULL);
    uint64_t v = ((const uint64_t *)y->data)[0];
    or_graph_free(tg.g);
    return v;
}

Test(dtypes, reduce_uint64_is_unsigned) {
    /* Values at and past 2^63, which a signed int64 would take as negative.
     * Expected values by hand, modulo 2^64 where the sums wrap. */
    const uint64_t top = UINT64_MAX - 1, half = UINT64_C(1) << 63;
    const uint64_t mixed[3] = {top, 3, half};
    cr_expect_eq(reduce_u64("ReduceMax", 3, mixed), top);
    cr_expect_eq(reduce_u64("ReduceMin", 3, mixed), 3);
    cr_expect_eq(reduce_u64("ReduceSum", 3, mixed), half + 1); /* 2^64 - 2 + 3 + 2^63 */
    /* [2^63 + 6, 0, 3]: sum 2^63 + 9 without wrapping; mean 3074457345618258605
     * (9223372036854775817 / 3, truncated); L1 the sum, every |x| = x. */
    const uint64_t big[3] = {half + 6, 0, 3};
    cr_expect_eq(reduce_u64("ReduceMean", 3, big), UINT64_C(3074457345618258605));
    cr_expect_eq(reduce_u64("ReduceL1", 3, big), half + 9);
    cr_expect_eq(reduce_u64("ReduceProd", 2, (const uint64_t[]){3, half + 1}), half + 3);
    const uint64_t sq = (UINT64_C(1) << 32) + 1; /* its square: 2^64 + 2^33 + 1 */
    cr_expect_eq(reduce_u64("ReduceSumSquare", 1, &sq), (UINT64_C(1) << 33) + 1);
    /* Through double: sqrt(2^126) = 2^63, past INT64_MAX. */
    cr_expect_eq(reduce_u64("ReduceL2", 1, &half), half);
    /* Over no elements: the identities, 0 and UINT64_MAX. */
    cr_expect_eq(reduce_u64("ReduceMax", 0, NULL), 0);
    cr_expect_eq(reduce_u64("ReduceMin", 0, NULL), UINT64_MAX);
}
