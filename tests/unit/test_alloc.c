/* or_huge_page_alloc(_later), or_large_alloc and or_prefault (runtime/alloc.h): 2
 * MiB-aligned huge pages from the C library; a plain block of the size asked
 * under a memory context; pages mapped ahead of writes. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"

/* Where the C library gives huge pages (Linux: MADV_HUGEPAGE). */
#ifdef __linux__
#define HUGE_ALIGN OR_HUGE_PAGE
#else
#define HUGE_ALIGN 64
#endif

/* p holds `bytes` writable bytes aligned to `align`; frees it. */
static void use_and_free(unsigned char *p, size_t bytes, size_t align) {
    cr_assert_not_null(p, "%zu bytes", bytes);
    cr_assert_eq((uintptr_t)p % align, 0, "%zu bytes at %p", bytes, (void *)p);
    memset(p, 0x5A, bytes);
    cr_assert_eq(p[bytes - 1], 0x5A);
    or_free(p);
}

Test(alloc, huge_page_block_is_aligned_and_usable) {
    size_t sizes[] = {1, 768 << 10, OR_HUGE_PAGE, OR_HUGE_PAGE + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        use_and_free(or_huge_page_alloc(sizes[i]), sizes[i], HUGE_ALIGN);
}

/* A block put on huge pages after it is written: 2 MiB-aligned, and what
 * was written survives the collapse (or the hint, on kernels before
 * MADV_COLLAPSE). */
Test(alloc, huge_page_block_written_first_keeps_its_bytes) {
    size_t sizes[] = {100, OR_HUGE_PAGE, 3 * OR_HUGE_PAGE + 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = or_huge_page_alloc_later(sizes[i]);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % HUGE_ALIGN, 0, "%zu bytes", sizes[i]);
        for (size_t k = 0; k < sizes[i]; k++) p[k] = (unsigned char)(k * 7 + 3);
        or_huge_page_collapse(p, sizes[i]);
        size_t bad = 0;
        for (size_t k = 0; k < sizes[i]; k++) bad += p[k] != (unsigned char)(k * 7 + 3);
        cr_assert_eq(bad, 0, "%zu bytes: %zu changed", sizes[i], bad);
        or_free(p);
    }
}

/* A user's allocator is never asked for 2 MiB alignment, and a cap counts
 * what was asked for, not whole huge pages, written first or not (the
 * collapse then leaves the block be). */
Test(alloc, huge_page_block_under_a_context_is_plain) {
    void *(*const allocs[2])(size_t) = {or_huge_page_alloc, or_huge_page_alloc_later};
    or_mem *mem = or_mem_new(NULL, (size_t)1 << 20);
    cr_assert_not_null(mem);
    or_mem *previous = or_mem_enter(mem);
    for (int a = 0; a < 2; a++) {
        size_t before = or_mem_used(mem);
        unsigned char *p = allocs[a](768 << 10);
        size_t used = or_mem_used(mem) - before;
        cr_assert(used >= (768 << 10) && used < (769 << 10), "%zu bytes counted", used);
        or_huge_page_collapse(p, 768 << 10);
        use_and_free(p, 768 << 10, 64);
        cr_assert_null(allocs[a](2 << 20), "over the 1 MiB cap");
    }
    or_mem_leave(previous);
    or_mem_release(mem);
}

/* or_large_alloc and or_large_alloc_exact: 2 MiB-aligned from 2 MiB on (whole
 * huge pages, or huge pages for the whole 2 MiB stretches and 4 KiB pages for
 * the rest); smaller sizes are plain blocks (usable either way). */
Test(alloc, large_blocks_start_on_huge_pages_from_2_mib) {
    size_t huge[] = {OR_HUGE_PAGE, OR_HUGE_PAGE + 64, 4 * OR_HUGE_PAGE, 15 * OR_HUGE_PAGE + 4096};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        use_and_free(or_large_alloc(huge[i]), huge[i], HUGE_ALIGN);
        use_and_free(or_large_alloc_exact(huge[i]), huge[i], HUGE_ALIGN);
    }
    size_t plain[] = {1, 4096, OR_PREFAULT_MIN, OR_HUGE_PAGE - 64};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        use_and_free(or_large_alloc(plain[i]), plain[i], 64);
        use_and_free(or_large_alloc_exact(plain[i]), plain[i], 64);
    }
}

/* Under a context (a user's allocator or a cap) they are plain blocks that
 * count what was asked for. */
Test(alloc, large_blocks_under_a_context_are_plain) {
    or_mem *mem = or_mem_new(NULL, (size_t)8 << 20);
    cr_assert_not_null(mem);
    or_mem *previous = or_mem_enter(mem);
    size_t before = or_mem_used(mem), bytes = OR_HUGE_PAGE + 4096;
    unsigned char *p = or_large_alloc_exact(bytes);
    size_t used = or_mem_used(mem) - before;
    cr_assert(used >= bytes && used < bytes + 4096, "%zu bytes counted", used);
    use_and_free(p, bytes, 64);
    or_mem_leave(previous);
    or_mem_release(mem);
}

#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>

/* Pages of [p, p + bytes) (page-aligned) that are resident. */
static size_t resident_pages(void *p, size_t bytes, size_t page) {
    unsigned char vec[512];
    size_t n = bytes / page, count = 0;
    cr_assert_leq(n, sizeof vec);
    cr_assert_eq(mincore(p, bytes, vec), 0);
    for (size_t i = 0; i < n; i++) count += vec[i] & 1;
    return count;
}

/* or_prefault maps the pages under the range (all of them, the partial ones
 * at either end included) and leaves every byte as it was; short ranges and
 * NULL are left alone. */
Test(alloc, prefault_maps_pages_and_keeps_contents) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE), len = 64 * page;
    unsigned char *map =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(map, MAP_FAILED);
    if (madvise(map, page, OR_MADV_POPULATE_WRITE) != 0) {
        munmap(map, len);
        cr_skip_test("this kernel has no MADV_POPULATE_WRITE (Linux < 5.14)");
    }
    map[page] = 0xC3; /* page 1 holds data that must survive */
    or_prefault(NULL, len);
    or_prefault(map + 40 * page, OR_PREFAULT_MIN - 1);
    cr_assert_eq(resident_pages(map, len, page), 2, "pages 0 and 1 only");
    /* From the middle of page 1 into page 20: pages 1-20. */
    or_prefault(map + page + 100, 19 * page);
    cr_assert_eq(resident_pages(map, len, page), 21);
    cr_assert_eq(map[page], 0xC3);
    for (size_t i = 2 * page; i < 21 * page; i++) cr_assert_eq(map[i], 0, "byte %zu", i);
    cr_assert_eq(resident_pages(map + 21 * page, len - 21 * page, page), 0);
    munmap(map, len);
}
#endif
