/* Einsum on hand-worked cases: equation parsing (ellipsis placement,
 * implicit output order, errors), matrix products on both the direct-loop
 * and GEMM paths, transposed outputs, ellipsis broadcasting, diagonals and
 * traces, subscripts summed within one operand, three operands, integers,
 * and error messages naming the node. */
#include "einsum_parse.h"
#include "one_node_graph.h"

#define L(c) ((int8_t)((c) >= 'a' ? (c) - 'a' + 26 : (c) - 'A'))
#define E(j) ((int8_t)(OR_EINSUM_ELL + (j)))

static void attr_s(test_graph *tg, const char *name, const char *v) {
    or_attr *a = new_attr(tg, name, OR_ATTR_STRING);
    a->s = strdup(v);
    a->s_len = strlen(v);
}

static test_graph einsum(const char *eq, int n_in) {
    static const char *const names[] = {"a", "b", "c"};
    test_graph tg = make("Einsum", 12, n_in, names, 1, IN("y"));
    attr_s(&tg, "equation", eq);
    return tg;
}

/* ---- parsing ---- */

Test(einsum_parse, ellipsis_right_aligned) {
    or_einsum_spec s;
    char err[128];
    int ranks[] = {4, 3}; /* 2 and 2 ellipsis dims */
    cr_assert_eq(or_einsum_parse("...ij, j...->...i", 2, ranks, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.ell_rank, 2);
    /* input 0: both ellipsis dims then i, j; input 1: j then both */
    const int8_t l0[] = {E(0), E(1), L('i'), L('j')}, l1[] = {L('j'), E(0), E(1)};
    cr_assert_arr_eq(s.lab[0], l0, 4);
    cr_assert_arr_eq(s.lab[1], l1, 3);
    const int8_t out[] = {E(0), E(1), L('i')};
    cr_assert_eq(s.out_rank, 3);
    cr_assert_arr_eq(s.out, out, 3);
    /* a narrower ellipsis takes the trailing ellipsis dims */
    int r2[] = {3, 2};
    cr_assert_eq(or_einsum_parse("...i,...i", 2, r2, &s, err, sizeof err), 0, "%s", err);
    const int8_t n1[] = {E(1), L('i')}, o2[] = {E(0), E(1)};
    cr_assert_arr_eq(s.lab[1], n1, 2);
    cr_assert_eq(s.out_rank, 2);
    cr_assert_arr_eq(s.out, o2, 2);
}

Test(einsum_parse, implicit_output_sorted_uppercase_first) {
    or_einsum_spec s;
    char err[128];
    int ranks[] = {3, 2};
    /* once-used labels: b, A, c -> sorted A, b, c; 'k' is summed */
    cr_assert_eq(or_einsum_parse("bkA,kc", 2, ranks, &s, err, sizeof err), 0, "%s", err);
    const int8_t out[] = {L('A'), L('b'), L('c')};
    cr_assert_eq(s.out_rank, 3);
    cr_assert_arr_eq(s.out, out, 3);
}

Test(einsum_parse, errors) {
    or_einsum_spec s;
    char err[128];
    int r2[] = {2, 2}, r1[] = {2};
    cr_assert_eq(or_einsum_parse("ij,jk->il", 2, r2, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "'l' appears in no input"), "%s", err);
    cr_assert_eq(or_einsum_parse("ij->ii", 1, r1, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "'i' is repeated"), "%s", err);
    cr_assert_eq(or_einsum_parse("i.j", 1, r1, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "ellipsis"), "%s", err);
    cr_assert_eq(or_einsum_parse("ij,jk", 1, r1, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "more input terms"), "%s", err);
    cr_assert_eq(or_einsum_parse("ijk", 1, r1, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "has rank 2"), "%s", err);
    cr_assert_eq(or_einsum_parse("i1", 1, r1, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "invalid character '1'"), "%s", err);
    int r3[] = {3};
    cr_assert_eq(or_einsum_parse("...ij->ij", 1, r3, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "output has none"), "%s", err);
}

/* ---- execution ---- */

/* [[1,2,3],[4,5,6]] x [[1,0],[0,1],[1,1]] */
Test(einsum, matmul_small) {
    test_graph tg = einsum("ij,jk->ik", 2);
    float a[] = {1, 2, 3, 4, 5, 6}, b[] = {1, 0, 0, 1, 1, 1};
    input(&tg, "a", OR_FLOAT, 2, DIMS(2, 3), a);
    input(&tg, "b", OR_FLOAT, 2, DIMS(3, 2), b);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(2, 2), (const float[]){4, 5, 10, 11});
    or_graph_free(tg.g);
}

/* 16x16x16 goes through GEMM: ones(16,16) x B with B[j][k] = k gives
 * C[i][k] = 16k; the "->ki" output (written transposed) gives C[k][i] = 16k. */
static void gemm_case(const char *eq, bool transposed) {
    test_graph tg = einsum(eq, 2);
    float a[256], b[256], want[256];
    for (int i = 0; i < 256; i++) a[i] = 1, b[i] = (float)(i % 16);
    for (int i = 0; i < 256; i++) want[i] = 16.0f * (float)(transposed ? i / 16 : i % 16);
    input(&tg, "a", OR_FLOAT, 2, DIMS(16, 16), a);
    input(&tg, "b", OR_FLOAT, 2, DIMS(16, 16), b);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(16, 16), want);
    or_graph_free(tg.g);
}

Test(einsum, matmul_gemm) {
    gemm_case("ij,jk->ik", false);
}
Test(einsum, matmul_gemm_transposed_output) {
    gemm_case("ij,jk->ki", true);
}

/* Batch dims through an ellipsis; b broadcasts (no ellipsis dims):
 * [[1,2]] . [1,1] = 3, [[3,4]] . [1,1] = 7. */
Test(einsum, ellipsis_batch) {
    test_graph tg = einsum("...ij,jk->...ik", 2);
    double a[] = {1, 2, 3, 4}, b[] = {1, 1};
    input(&tg, "a", OR_DOUBLE, 3, DIMS(2, 1, 2), a);
    input(&tg, "b", OR_DOUBLE, 2, DIMS(2, 1), b);
    run_ok(&tg);
    expect_shape(out(&tg, "y"), OR_DOUBLE, 3, DIMS(2, 1, 1));
    const double *y = out(&tg, "y")->data;
    cr_assert(y[0] == 3 && y[1] == 7, "%g %g", y[0], y[1]);
    or_graph_free(tg.g);
}

/* Ellipsis dims of size 1 broadcast against 2: a [1,2] (rows {1,2}) times
 * b [2,2] per batch: sum_i a[0,i] * b[e,i] = {1*1+2*2, 1*3+2*4}. */
Test(einsum, ellipsis_broadcast) {
    test_graph tg = einsum("...i,...i->...", 2);
    float a[] = {1, 2}, b[] = {1, 2, 3, 4};
    input(&tg, "a", OR_FLOAT, 2, DIMS(1, 2), a);
    input(&tg, "b", OR_FLOAT, 2, DIMS(2, 2), b);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 1, DIMS(2), (const float[]){5, 11});
    or_graph_free(tg.g);
}

/* [[0,1,2],[3,4,5],[6,7,8]]: diagonal {0,4,8}; trace 12 below. */
Test(einsum, diagonal) {
    float x[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    test_graph tg = einsum("ii->i", 1);
    input(&tg, "a", OR_FLOAT, 2, DIMS(3, 3), x);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 1, DIMS(3), (const float[]){0, 4, 8});
    or_graph_free(tg.g);
}

Test(einsum, trace) {
    float x[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    test_graph tg = einsum("ii", 1);
    input(&tg, "a", OR_FLOAT, 2, DIMS(3, 3), x);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 0, NULL, (const float[]){12});
    or_graph_free(tg.g);
}

/* Implicit "ji" is "ji->ij": a transpose. */
Test(einsum, implicit_transpose) {
    test_graph tg = einsum("ji", 1);
    float x[] = {1, 2, 3, 4, 5, 6};
    input(&tg, "a", OR_FLOAT, 2, DIMS(2, 3), x);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 2, DIMS(3, 2), (const float[]){1, 4, 2, 5, 3, 6});
    or_graph_free(tg.g);
}

/* k occurs only in b: y_i = (sum_j a_ij) * (sum_k b_k) = {3*3, 7*3}. */
Test(einsum, index_in_one_operand_only) {
    test_graph tg = einsum("ij,k->i", 2);
    float a[] = {1, 2, 3, 4}, b[] = {1, 1, 1};
    input(&tg, "a", OR_FLOAT, 2, DIMS(2, 2), a);
    input(&tg, "b", OR_FLOAT, 1, DIMS(3), b);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 1, DIMS(2), (const float[]){9, 21});
    or_graph_free(tg.g);
}

/* 1*3*5 + 2*4*6 = 63 */
Test(einsum, three_operands) {
    test_graph tg = einsum("i,i,i->", 3);
    float a[] = {1, 2}, b[] = {3, 4}, c[] = {5, 6};
    input(&tg, "a", OR_FLOAT, 1, DIMS(2), a);
    input(&tg, "b", OR_FLOAT, 1, DIMS(2), b);
    input(&tg, "c", OR_FLOAT, 1, DIMS(2), c);
    run_ok(&tg);
    expect_f32(out(&tg, "y"), 0, NULL, (const float[]){63});
    or_graph_free(tg.g);
}

/* Column sums of [[1,2,3],[4,5,6]]; then the outer product {1,2} x {3,4,5}. */
Test(einsum, int64_column_sums) {
    test_graph tg = einsum("ij->j", 1);
    int64_t x[] = {1, 2, 3, 4, 5, 6};
    input(&tg, "a", OR_INT64, 2, DIMS(2, 3), x);
    run_ok(&tg);
    expect_i64(out(&tg, "y"), 1, DIMS(3), (const int64_t[]){5, 7, 9});
    or_graph_free(tg.g);
}

Test(einsum, int32_outer) {
    test_graph tg = einsum("i,j", 2);
    int32_t a[] = {1, 2}, b[] = {3, 4, 5};
    input(&tg, "a", OR_INT32, 1, DIMS(2), a);
    input(&tg, "b", OR_INT32, 1, DIMS(3), b);
    run_ok(&tg);
    expect_i32(out(&tg, "y"), 2, DIMS(2, 3), (const int32_t[]){3, 4, 5, 6, 8, 10});
    or_graph_free(tg.g);
}

Test(einsum, parse_error_names_node) {
    test_graph tg = einsum("ij,jk->il", 2);
    float a[4] = {0};
    input(&tg, "a", OR_FLOAT, 2, DIMS(2, 2), a);
    input(&tg, "b", OR_FLOAT, 2, DIMS(2, 2), a);
    run_fails(&tg, ONNXRUN_ERR_MODEL,
              "invalid equation 'ij,jk->il': output subscript 'l' appears in no input");
    or_graph_free(tg.g);
}

Test(einsum, size_mismatch) {
    test_graph tg = einsum("ij,jk->ik", 2);
    float a[6] = {0}, b[8] = {0};
    input(&tg, "a", OR_FLOAT, 2, DIMS(2, 3), a);
    input(&tg, "b", OR_FLOAT, 2, DIMS(4, 2), b);
    run_fails(&tg, ONNXRUN_ERR_INPUT, "subscript 'j' has size 4 in input 1 but 3 elsewhere");
    or_graph_free(tg.g);
}

Test(einsum, rejects_float16) {
    test_graph tg = einsum("i->i", 1);
    uint16_t a[2] = {0};
    input(&tg, "a", OR_FLOAT16, 1, DIMS(2), a);
    run_fails(&tg, ONNXRUN_ERR_MODEL, "unsupported input type");
    or_graph_free(tg.g);
}
