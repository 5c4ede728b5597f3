/* or_src_release (runtime/weights.h): pages wholly inside a packed source
 * are given back once every byte of them was reported, and only then. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "weights.h"

#define PAGES 8

static unsigned char *map_pages(size_t page) {
    void *p = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(p, MAP_FAILED);
    memset(p, 0xAB, PAGES * page);
    return p;
}

static bool page_is(const unsigned char *p, size_t page, unsigned char v) {
    for (size_t i = 0; i < page; i++)
        if (p[i] != v) return false;
    return true;
}

/* The buffer starts 100 bytes into page 0 and ends 100 bytes before the end
 * of page 7: pages 1..6 are whole. */
Test(weights, whole_reported_pages_are_given_back) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *map = map_pages(page), *buf = map + 100;
    size_t len = PAGES * page - 200;
    or_src_release *r = or_src_release_begin(buf, len);
    cr_assert_not_null(r);
    or_src_release_consumed(r, buf, 2 * page - 100);                 /* page 0 tail, page 1 */
    or_src_release_consumed(r, map + 2 * page, page / 2);            /* page 2, first half */
    or_src_release_consumed(r, map + 2 * page + page / 2, page / 2); /* ... second half */
    or_src_release_consumed(r, map + 4 * page, page - 1);            /* page 4 but one byte */
    or_src_release_consumed(r, map + 6 * page, 2 * page - 100);      /* page 6, page 7 head */
    cr_assert(or_src_release_end(r));
    cr_assert(page_is(map, page, 0xAB), "page 0 is only partly in the buffer");
    cr_assert(page_is(map + page, page, 0), "page 1");
    cr_assert(page_is(map + 2 * page, page, 0), "page 2 (two halves)");
    cr_assert(page_is(map + 3 * page, page, 0xAB), "page 3 was not reported");
    cr_assert(page_is(map + 4 * page, page, 0xAB), "page 4 lacks a byte");
    cr_assert(page_is(map + 5 * page, page, 0xAB), "page 5");
    cr_assert(page_is(map + 6 * page, page, 0), "page 6");
    cr_assert(page_is(map + 7 * page, page, 0xAB), "page 7 is only partly in the buffer");
    munmap(map, PAGES * page);
}

Test(weights, nothing_reported_gives_nothing_back) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *map = map_pages(page);
    or_src_release *r = or_src_release_begin(map, PAGES * page);
    cr_assert_not_null(r);
    cr_assert_not(or_src_release_end(r));
    for (int p = 0; p < PAGES; p++) cr_assert(page_is(map + p * page, page, 0xAB), "page %d", p);
    /* no whole page: no tracker, and a NULL tracker ignores reports */
    cr_assert_null(or_src_release_begin(map + 1, page));
    or_src_release_consumed(NULL, map, page);
    cr_assert_not(or_src_release_end(NULL));
    cr_assert(page_is(map, page, 0xAB));
    munmap(map, PAGES * page);
}
