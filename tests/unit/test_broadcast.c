/* The broadcasting helper (ops/broadcast.h): output shapes, axis collapsing
 * and the strided iteration, including runs split at arbitrary offsets and
 * across a thread pool. Expected shapes follow the numpy rules by hand;
 * expected values come from each element's closed form. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../ops/broadcast.h"

static or_graph *g;
static or_node node = {.name = "bc", .op_type = "Add"};

static void setup(void) {
    g = or_graph_new();
}
static void teardown(void) {
    or_graph_free(g);
}

TestSuite(broadcast, .init = setup, .fini = teardown);

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

static void expect_shape(int count, const int *ranks, const int64_t *const *dims, int rank,
                         const int64_t *want) {
    int got_rank = -1;
    int64_t got[OR_MAX_RANK];
    int status = or_bcast_shape(g, &node, count, ranks, dims, &got_rank, got);
    cr_assert_eq(status, ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(got_rank, rank);
    for (int d = 0; d < rank; d++)
        cr_assert_eq(got[d], want[d], "dim %d: %lld", d, (long long)got[d]);
}

Test(broadcast, shapes) {
    expect_shape(2, (int[]){3, 1}, (const int64_t *[]){DIMS(2, 3, 4), DIMS(4)}, 3, DIMS(2, 3, 4));
    expect_shape(2, (int[]){3, 2}, (const int64_t *[]){DIMS(2, 1, 4), DIMS(3, 1)}, 3,
                 DIMS(2, 3, 4));
    expect_shape(2, (int[]){0, 1}, (const int64_t *[]){DIMS(1), DIMS(5)}, 1, DIMS(5));
    expect_shape(2, (int[]){2, 2}, (const int64_t *[]){DIMS(0, 3), DIMS(1, 3)}, 2, DIMS(0, 3));
    expect_shape(3, (int[]){4, 3, 1}, (const int64_t *[]){DIMS(8, 1, 6, 1), DIMS(7, 1, 5), DIMS(1)},
                 4, DIMS(8, 7, 6, 5));
    expect_shape(2, (int[]){0, 0}, (const int64_t *[]){DIMS(1), DIMS(1)}, 0, DIMS(1));
}

Test(broadcast, mismatch_names_node_and_shapes) {
    int rank;
    int64_t dims[OR_MAX_RANK];
    int status = or_bcast_shape(g, &node, 2, (int[]){2, 1},
                                (const int64_t *[]){DIMS(2, 3), DIMS(4)}, &rank, dims);
    cr_assert_eq(status, ONNXRUN_ERR_INPUT);
    cr_assert(strstr(g->errmsg, "'bc'"), "%s", g->errmsg);
    cr_assert(strstr(g->errmsg, "[2,3]") && strstr(g->errmsg, "[4]"), "%s", g->errmsg);
    status = or_bcast_shape(g, &node, 2, (int[]){2, 2}, (const int64_t *[]){DIMS(0, 3), DIMS(2, 3)},
                            &rank, dims);
    cr_assert_eq(status, ONNXRUN_ERR_INPUT, "0 against 2 must not broadcast");
}

static or_bcast plan2(int ra, const int64_t *a, int rb, const int64_t *b, int ro,
                      const int64_t *o) {
    or_bcast b2;
    int rc = or_bcast_plan(&b2, 2, (int[]){ra, rb}, (const int64_t *[]){a, b}, ro, o);
    cr_assert_eq(rc, 0);
    return b2;
}

static void expect_plan(const or_bcast *b, int rank, const int64_t *dims, const int64_t *sa,
                        const int64_t *sb) {
    cr_assert_eq(b->rank, rank, "rank %d", b->rank);
    for (int d = 0; d < rank; d++) {
        cr_assert_eq(b->dims[d], dims[d], "dim %d: %lld", d, (long long)b->dims[d]);
        cr_assert_eq(b->strides[0][d], sa[d], "a stride %d: %lld", d, (long long)b->strides[0][d]);
        cr_assert_eq(b->strides[1][d], sb[d], "b stride %d: %lld", d, (long long)b->strides[1][d]);
    }
}

Test(broadcast, collapse) {
    or_bcast b = plan2(3, DIMS(2, 3, 4), 3, DIMS(2, 3, 4), 3, DIMS(2, 3, 4));
    expect_plan(&b, 1, DIMS(24), DIMS(1), DIMS(1));
    cr_assert_eq(b.numel, 24);
    /* [N,C,H,W] + [1,C,1,1]: H and W merge, N is its own axis. */
    b = plan2(4, DIMS(2, 3, 4, 5), 4, DIMS(1, 3, 1, 1), 4, DIMS(2, 3, 4, 5));
    expect_plan(&b, 3, DIMS(2, 3, 20), DIMS(60, 20, 1), DIMS(0, 1, 0));
    /* Scalar against a matrix: one flat run with step 0. */
    b = plan2(0, DIMS(1), 2, DIMS(2, 3), 2, DIMS(2, 3));
    expect_plan(&b, 1, DIMS(6), DIMS(0), DIMS(1));
    /* Row broadcast: [4,5] + [5]. */
    b = plan2(2, DIMS(4, 5), 1, DIMS(5), 2, DIMS(4, 5));
    expect_plan(&b, 2, DIMS(4, 5), DIMS(5, 1), DIMS(0, 1));
    /* Outer product: [2,1] + [1,3]. */
    b = plan2(2, DIMS(2, 1), 2, DIMS(1, 3), 2, DIMS(2, 3));
    expect_plan(&b, 2, DIMS(2, 3), DIMS(1, 0), DIMS(0, 1));
    /* Size-1 axes vanish: [1,4,1] + [4,1]. */
    b = plan2(3, DIMS(1, 4, 1), 2, DIMS(4, 1), 3, DIMS(1, 4, 1));
    expect_plan(&b, 1, DIMS(4), DIMS(1), DIMS(1));
    /* All ones. */
    b = plan2(2, DIMS(1, 1), 0, DIMS(1), 2, DIMS(1, 1));
    cr_assert_eq(b.rank, 1);
    cr_assert_eq(b.dims[0], 1);
    cr_assert_eq(b.numel, 1);
    or_bcast bad;
    cr_assert_eq(
        or_bcast_plan(&bad, 2, (int[]){1, 1}, (const int64_t *[]){DIMS(3), DIMS(2)}, 1, DIMS(3)),
        -1);
}

/* out = a + b over int32, honouring the steps. */
static void add_i32(const void *ctx, void *out, const void *const *in, const int *step, int64_t n) {
    const int32_t *a = in[0], *b = in[1];
    int32_t *o = out;
    (void)ctx;
    for (int64_t i = 0; i < n; i++) o[i] = a[i * step[0]] + b[i * step[1]];
}

/* a[i,0,k] = 10i + k over [2,1,3]; b[j,0] = 100j over [4,1]; out [2,4,3]. */
static void fill_ab(int32_t *a, int32_t *b) {
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 3; k++) a[i * 3 + k] = 10 * i + k;
    for (int j = 0; j < 4; j++) b[j] = 100 * j;
}

static void check_out(const int32_t *o) {
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 3; k++)
                cr_assert_eq(o[(i * 4 + j) * 3 + k], 10 * i + k + 100 * j, "[%d,%d,%d] = %d", i, j,
                             k, o[(i * 4 + j) * 3 + k]);
}

Test(broadcast, run_in_pieces) {
    int32_t a[6], b[4], o[24];
    fill_ab(a, b);
    or_bcast bc = plan2(3, DIMS(2, 1, 3), 2, DIMS(4, 1), 3, DIMS(2, 4, 3));
    const void *in[2] = {a, b};
    const size_t sizes[2] = {4, 4};
    for (int64_t piece = 1; piece <= 24; piece++) {
        memset(o, 0xff, sizeof o);
        for (int64_t begin = 0; begin < 24; begin += piece)
            or_bcast_run_range(&bc, add_i32, NULL, o, 4, in, sizes, begin,
                               begin + piece < 24 ? begin + piece : 24);
        check_out(o);
    }
}

Test(broadcast, run_on_pool) {
    or_threadpool *pool = or_threadpool_create(2);
    cr_assert_not_null(pool);
    int32_t a[6], b[4], o[24];
    fill_ab(a, b);
    or_bcast bc = plan2(3, DIMS(2, 1, 3), 2, DIMS(4, 1), 3, DIMS(2, 4, 3));
    const void *in[2] = {a, b};
    const size_t sizes[2] = {4, 4};
    or_bcast_run(&bc, pool, 1, add_i32, NULL, o, 4, in, sizes);
    check_out(o);
    memset(o, 0, sizeof o);
    or_bcast_run(&bc, NULL, 1, add_i32, NULL, o, 4, in, sizes);
    check_out(o);
    or_threadpool_destroy(pool);
}

Test(broadcast, eight_dims) {
    /* [2,1,2,1,2,1,2,1] + [1,2,1,2,1,2,1,2]: every axis alternates. */
    const int64_t da[8] = {2, 1, 2, 1, 2, 1, 2, 1}, db[8] = {1, 2, 1, 2, 1, 2, 1, 2};
    const int64_t dout[8] = {2, 2, 2, 2, 2, 2, 2, 2};
    or_bcast bc = plan2(8, da, 8, db, 8, dout);
    cr_assert_eq(bc.rank, 8);
    int32_t a[16], b[16], o[256];
    /* a's flat index enumerates the even axes, b's the odd ones. */
    for (int i = 0; i < 16; i++) a[i] = i * 16, b[i] = i;
    const void *in[2] = {a, b};
    const size_t sizes[2] = {4, 4};
    or_bcast_run_range(&bc, add_i32, NULL, o, 4, in, sizes, 0, 256);
    for (int idx = 0; idx < 256; idx++) {
        int ia = 0, ib = 0;
        for (int d = 0; d < 8; d++) {
            int bit = (idx >> (7 - d)) & 1;
            if (d % 2 == 0)
                ia = ia * 2 + bit;
            else
                ib = ib * 2 + bit;
        }
        cr_assert_eq(o[idx], ia * 16 + ib, "[%d] = %d", idx, o[idx]);
    }
}
