/* or_huge_page_alloc (runtime/alloc.h): whole 2 MiB-aligned huge pages from
 * the C library; a plain block of the size asked under a memory context. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"

Test(alloc, huge_page_block_is_aligned_and_usable) {
    size_t sizes[] = {1, 768 << 10, OR_HUGE_PAGE, OR_HUGE_PAGE + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = or_huge_page_alloc(sizes[i]);
        cr_assert_not_null(p, "%zu bytes", sizes[i]);
#ifdef __linux__
        cr_assert_eq((uintptr_t)p % OR_HUGE_PAGE, 0, "%zu bytes at %p", sizes[i], (void *)p);
#endif
        memset(p, 0x5A, sizes[i]);
        cr_assert_eq(p[sizes[i] - 1], 0x5A);
        or_free(p);
    }
}

/* A user's allocator is never asked for 2 MiB alignment, and a cap counts
 * what was asked for, not whole huge pages. */
Test(alloc, huge_page_block_under_a_context_is_plain) {
    or_mem *mem = or_mem_new(NULL, (size_t)1 << 20);
    cr_assert_not_null(mem);
    or_mem *previous = or_mem_enter(mem);
    size_t before = or_mem_used(mem);
    unsigned char *p = or_huge_page_alloc(768 << 10);
    size_t used = or_mem_used(mem) - before;
    cr_assert_not_null(p);
    cr_assert_eq((uintptr_t)p % 64, 0);
    cr_assert(used >= (768 << 10) && used < (769 << 10), "%zu bytes counted", used);
    memset(p, 1, 768 << 10);
    or_free(p);
    cr_assert_null(or_huge_page_alloc(2 << 20), "over the 1 MiB cap");
    or_mem_leave(previous);
    or_mem_release(mem);
}

/* or_large_alloc: whole huge pages from 2 MiB on where rounding up wastes at
 * most 1/8; smaller or wasteful sizes are plain blocks (usable either way). */
Test(alloc, large_blocks_go_on_huge_pages_when_little_is_wasted) {
    size_t huge[] = {OR_HUGE_PAGE, 4 * OR_HUGE_PAGE, 15 * OR_HUGE_PAGE + 4096};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        unsigned char *p = or_large_alloc(huge[i]);
        cr_assert_not_null(p);
#ifdef __linux__
        cr_assert_eq((uintptr_t)p % OR_HUGE_PAGE, 0, "%zu bytes", huge[i]);
#endif
        memset(p, 7, huge[i]);
        or_free(p);
    }
    size_t plain[] = {1, 4096, OR_HUGE_PAGE - 64, OR_HUGE_PAGE + 64};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        unsigned char *p = or_large_alloc(plain[i]);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % 64, 0);
        memset(p, 7, plain[i]);
        or_free(p);
    }
}
