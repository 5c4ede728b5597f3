/* The worker pool: every index is visited exactly once, whatever the split. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "cpu.h"
#include "test_env.h"
#include "threadpool.h"

typedef struct {
    atomic_int *visits;
    int threads;
    atomic_int bad_thread_index;
} visit_ctx;

static void visit(void *ctx_, int64_t begin, int64_t end, int thread_index) {
    visit_ctx *ctx = ctx_;
    if (thread_index < 0 || thread_index >= ctx->threads)
        atomic_fetch_add(&ctx->bad_thread_index, 1);
    for (int64_t i = begin; i < end; i++) atomic_fetch_add(&ctx->visits[i], 1);
}

static void check_pool(int threads) {
    or_threadpool *pool = or_threadpool_create(threads);
    cr_assert_not_null(pool);
    cr_assert_eq(or_threadpool_size(pool), threads < 1 ? 1 : threads);
    const int64_t sizes[] = {1, 2, 3, 7, 64, 1000, 4099};
    for (int round = 0; round < 200; round++) {
        int64_t n = sizes[round % 7];
        atomic_int *visits = calloc((size_t)n, sizeof *visits);
        visit_ctx ctx = {visits, or_threadpool_size(pool), 0};
        or_parallel_for(pool, n, 1 + round % 5, visit, &ctx);
        for (int64_t i = 0; i < n; i++)
            cr_assert_eq(atomic_load(&visits[i]), 1, "n=%ld i=%ld", (long)n, (long)i);
        cr_assert_eq(atomic_load(&ctx.bad_thread_index), 0);
        free(visits);
    }
    or_threadpool_destroy(pool);
}

Test(threadpool, one_thread) {
    check_pool(1);
}
Test(threadpool, two_threads) {
    check_pool(2);
}
Test(threadpool, four_threads) {
    check_pool(4);
}

Test(threadpool, null_pool_runs_inline) {
    atomic_int visits[5] = {0};
    visit_ctx ctx = {visits, 1, 0};
    or_parallel_for(NULL, 5, 1, visit, &ctx);
    for (int i = 0; i < 5; i++) cr_assert_eq(atomic_load(&visits[i]), 1);
}

Test(cpu, isa_cap_from_environment) {
    setenv("ONNXRUN_ISA", "scalar", 1);
    or_cpu_reset();
    cr_assert_eq(or_cpu_isa(), OR_ISA_SCALAR);
    unsetenv("ONNXRUN_ISA");
    or_cpu_reset();
    cr_assert_str_neq(or_isa_name(or_cpu_isa()), "");
}

/* A hypervisor's package-wide L3 (CPUID through sysconf) is capped on AMD
 * to what one CCX of that family has; sysfs figures never go through this. */
Test(cpu, package_l3_from_cpuid_capped_on_amd) {
    const size_t mib = (size_t)1 << 20;
    cr_assert_eq(or_cpu_amd_ccx_l3(0x1a, 0x02), 32 * mib); /* Zen 5 */
    cr_assert_eq(or_cpu_amd_ccx_l3(0x19, 0x11), 32 * mib); /* Zen 4 */
    cr_assert_eq(or_cpu_amd_ccx_l3(0x17, 0x31), 16 * mib); /* Zen 2 */
    cr_assert_eq(or_cpu_amd_ccx_l3(0x17, 0x01), 8 * mib);  /* Zen 1 */
    cr_assert_eq(or_cpu_amd_ccx_l3(0x18, 0x00), 8 * mib);  /* Hygon Dhyana */
    cr_assert_eq(or_cpu_amd_ccx_l3(0x15, 0x02), 8 * mib);  /* before Zen */
    cr_assert_eq(or_cpu_l3_from_sysconf(508 * mib, 32 * mib), 32 * mib);
    cr_assert_eq(or_cpu_l3_from_sysconf(64 * mib, 8 * mib), 8 * mib);
    cr_assert_eq(or_cpu_l3_from_sysconf(32 * mib, 32 * mib), 32 * mib);
    cr_assert_eq(or_cpu_l3_from_sysconf(16 * mib, 32 * mib), 16 * mib);
    cr_assert_eq(or_cpu_l3_from_sysconf(0, 32 * mib), 0);
    cr_assert_eq(or_cpu_l3_from_sysconf(504 * mib, 0), 504 * mib); /* not AMD: no cap */
}

Test(cpu, cache_sizes_from_environment) {
    cr_assert_eq(or_cpu_size_from_text("8192K"), (size_t)8 << 20);
    cr_assert_eq(or_cpu_size_from_text("32M"), (size_t)32 << 20);
    cr_assert_eq(or_cpu_size_from_text("1048576"), (size_t)1 << 20);
    static const char *const bad[] = {"",
                                      "K",
                                      "-1",
                                      "1G",
                                      "12 K",
                                      "8192K\n",
                                      "512\n",
                                      " 512K",
                                      "0x10",
                                      "99999999999999999999",
                                      "18014398509481984K",
                                      "18446744073709551615"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(or_cpu_size_from_text(bad[i]), 0, "'%s'", bad[i]);
    cr_assert_eq(or_cpu_size_from_text(NULL), 0);
    char *old_l2 = swap_env("ONNXRUN_L2_BYTES", NULL), *old_l3 = swap_env("ONNXRUN_L3_BYTES", NULL);
    or_cpu_reset();
    size_t l2 = or_cpu_l2_bytes(), l3 = or_cpu_l3_bytes();
    setenv("ONNXRUN_L2_BYTES", "512K", 1);
    setenv("ONNXRUN_L3_BYTES", "16M", 1);
    or_cpu_reset();
    cr_expect_eq(or_cpu_l2_bytes(), (size_t)512 << 10);
    cr_expect_eq(or_cpu_l3_bytes(), (size_t)16 << 20);
    cr_expect_str_eq(or_cpu_l3_source(), "env");
    setenv("ONNXRUN_L3_BYTES", "lots", 1); /* not a size: the machine's figure */
    or_cpu_reset();
    cr_expect_eq(or_cpu_l3_bytes(), l3);
    cr_expect_str_neq(or_cpu_l3_source(), "env");
    unsetenv("ONNXRUN_L2_BYTES");
    unsetenv("ONNXRUN_L3_BYTES");
    or_cpu_reset();
    cr_expect_eq(or_cpu_l2_bytes(), l2);
    cr_expect_eq(or_cpu_l3_bytes(), l3);
    restore_env("ONNXRUN_L2_BYTES", old_l2);
    restore_env("ONNXRUN_L3_BYTES", old_l3);
    or_cpu_reset();
}
