/* Allocation through the current memory context (see alloc.h). */
#include "alloc.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct or_mem {
    onnxrun_allocator a; /* alloc == NULL: the C library */
    size_t cap;          /* 0: none */
    size_t used, peak;
    bool uncapped;
    bool refused;
    size_t refused_request, refused_in_use;
    atomic_int refs;
};

/* Sits right before every block handed out under a context. */
typedef struct block_header {
    size_t size;   /* the caller's size */
    size_t offset; /* from the start of the underlying allocation */
    uint64_t magic;
    uint64_t unused;
} block_header;

#define HEADER_SIZE 32
#define BLOCK_MAGIC 0x6f6e6e7872756e31ULL
_Static_assert(sizeof(block_header) == HEADER_SIZE, "header layout");

static _Thread_local or_mem *current;

or_mem *or_mem_enter(or_mem *m) {
    or_mem *previous = current;
    current = m;
    return previous;
}

void or_mem_leave(or_mem *previous) {
    current = previous;
}

or_mem *or_mem_current(void) {
    return current;
}

static void *raw_alloc(const onnxrun_allocator *a, size_t size, size_t alignment) {
    if (a->alloc) return a->alloc(a->user, size, alignment);
    void *p = NULL;
    return posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}

static void raw_free(const onnxrun_allocator *a, void *p) {
    if (a->alloc)
        a->free(a->user, p);
    else
        free(p);
}

or_mem *or_mem_new(const onnxrun_allocator *allocator, size_t cap) {
    onnxrun_allocator a = {0};
    if (allocator && allocator->alloc && allocator->free) a = *allocator;
    or_mem *m = raw_alloc(&a, sizeof *m, alignof(max_align_t));
    if (!m) return NULL;
    memset(m, 0, sizeof *m);
    m->a = a;
    m->cap = cap;
    atomic_init(&m->refs, 1);
    return m;
}

void or_mem_retain(or_mem *m) {
    if (m) atomic_fetch_add(&m->refs, 1);
}

void or_mem_release(or_mem *m) {
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
    onnxrun_allocator a = m->a;
    raw_free(&a, m);
}

static bool over_cap(or_mem *m, size_t bytes) {
    if (!m->cap || m->uncapped) return false;
    if (bytes <= m->cap && m->used <= m->cap - bytes) return false;
    if (!m->refused) {
        m->refused = true;
        m->refused_request = bytes;
        m->refused_in_use = m->used;
    }
    return true;
}

static void count(or_mem *m, size_t bytes) {
    m->used += bytes;
    if (m->used > m->peak) m->peak = m->used;
}

bool or_mem_charge(size_t bytes) {
    or_mem *m = current;
    if (!m) return true;
    if (over_cap(m, bytes)) return false;
    count(m, bytes);
    return true;
}

void or_mem_uncharge(size_t bytes) {
    or_mem *m = current;
    if (m) m->used -= bytes < m->used ? bytes : m->used;
}

size_t or_mem_used(const or_mem *m) {
    return m ? m->used : 0;
}

size_t or_mem_peak(const or_mem *m) {
    return m ? m->peak : 0;
}

size_t or_mem_cap(const or_mem *m) {
    return m ? m->cap : 0;
}

void or_mem_set_uncapped(or_mem *m, bool uncapped) {
    if (m) m->uncapped = uncapped;
}

bool or_mem_refused(void) {
    return current && current->refused;
}

bool or_mem_take_refusal(or_mem *m, size_t *request, size_t *in_use) {
    if (!m || !m->refused) return false;
    if (request) *request = m->refused_request;
    if (in_use) *in_use = m->refused_in_use;
    m->refused = false;
    return true;
}

/* alignment: a power of two. */
static void *ctx_alloc(or_mem *m, size_t size, size_t alignment) {
    if (alignment < alignof(max_align_t)) alignment = alignof(max_align_t);
    size_t offset = alignment > HEADER_SIZE ? alignment : HEADER_SIZE;
    if (size > SIZE_MAX - offset) return NULL;
    size_t total = offset + size;
    if (over_cap(m, total)) return NULL;
    unsigned char *raw = raw_alloc(&m->a, total, alignment);
    if (!raw) return NULL;
    count(m, total);
    unsigned char *p = raw + offset;
    block_header h = {size, offset, BLOCK_MAGIC, 0};
    memcpy(p - HEADER_SIZE, &h, sizeof h);
    return p;
}

static block_header header_of(const void *p) {
    block_header h;
    memcpy(&h, (const unsigned char *)p - HEADER_SIZE, sizeof h);
    return h;
}

static void ctx_free(or_mem *m, void *p) {
    block_header h = header_of(p);
    if (h.magic != BLOCK_MAGIC) { /* not ours: breaks the rule in alloc.h */
        free(p);
        return;
    }
    memset((unsigned char *)p - HEADER_SIZE, 0, HEADER_SIZE);
    size_t total = h.offset + h.size;
    m->used -= total < m->used ? total : m->used;
    raw_free(&m->a, (unsigned char *)p - h.offset);
}

void *or_malloc(size_t size) {
    if (current) return ctx_alloc(current, size, alignof(max_align_t));
    return malloc(size ? size : 1);
}

void *or_calloc(size_t count, size_t size) {
    if (!current) return calloc(count ? count : 1, size ? size : 1);
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = ctx_alloc(current, count * size, alignof(max_align_t));
    if (p) memset(p, 0, count * size);
    return p;
}

void *or_realloc(void *ptr, size_t size) {
    if (!current) return realloc(ptr, size ? size : 1);
    if (!ptr) return or_malloc(size);
    block_header h = header_of(ptr);
    size_t alignment = h.offset > HEADER_SIZE ? h.offset : alignof(max_align_t);
    void *p = ctx_alloc(current, size, alignment);
    if (!p) return NULL;
    memcpy(p, ptr, h.size < size ? h.size : size);
    ctx_free(current, ptr);
    return p;
}

void *or_aligned_alloc(size_t alignment, size_t size) {
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    if (alignment & (alignment - 1)) return NULL;
    if (current) return ctx_alloc(current, size, alignment);
    void *p = NULL;
    if (posix_memalign(&p, alignment, size ? size : 1) != 0) return NULL;
    return p;
}

#ifdef MADV_HUGEPAGE
/* `bytes` from the C library, 2 MiB-aligned, with its first `huge` bytes
 * (whole huge pages) given `advice` (MADV_HUGEPAGE: marked for transparent
 * huge pages; MADV_NOHUGEPAGE: kept off them until or_huge_page_collapse). */
static void *huge_aligned(size_t bytes, size_t huge, int advice) {
    void *p = NULL;
    if (posix_memalign(&p, OR_HUGE_PAGE, bytes) != 0) return NULL;
    madvise(p, huge, advice); /* a hint: without THP, 4 KiB pages */
    return p;
}

/* bytes rounded up to whole huge pages (bytes <= SIZE_MAX - OR_HUGE_PAGE). */
static size_t huge_rounded(size_t bytes) {
    return (bytes + OR_HUGE_PAGE - 1) / OR_HUGE_PAGE * OR_HUGE_PAGE;
}

/* or_huge_page_alloc(_later): whole huge pages given `advice`, or a plain
 * block under a context. */
static void *huge_block(size_t bytes, int advice) {
    if (!current && bytes <= SIZE_MAX - OR_HUGE_PAGE) {
        size_t rounded = huge_rounded(bytes);
        return huge_aligned(rounded ? rounded : OR_HUGE_PAGE, rounded, advice);
    }
    return or_aligned_alloc(64, bytes);
}
#endif

void *or_huge_page_alloc(size_t bytes) {
#ifdef MADV_HUGEPAGE
    return huge_block(bytes, MADV_HUGEPAGE);
#else
    return or_aligned_alloc(64, bytes);
#endif
}

void *or_huge_page_alloc_later(size_t bytes) {
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
    return huge_block(bytes, MADV_NOHUGEPAGE); /* THP "always" would fault in whole huge pages */
#else
    return or_aligned_alloc(64, bytes);
#endif
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1; older kernels refuse it with EINVAL */
#endif

void or_huge_page_collapse(void *p, size_t bytes) {
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
    if (current || !p || (uintptr_t)p % OR_HUGE_PAGE != 0 || bytes > SIZE_MAX - OR_HUGE_PAGE)
        return;
    size_t rounded = huge_rounded(bytes);
    madvise(p, rounded, MADV_HUGEPAGE); /* lifts NOHUGEPAGE; khugepaged's hint if not below */
    madvise(p, rounded, MADV_COLLAPSE);
#else
    (void)p, (void)bytes;
#endif
}

/* round: all of it on huge pages where rounding up wastes at most 1/8. */
static void *large_alloc(size_t bytes, bool round) {
#ifdef MADV_HUGEPAGE
    size_t whole = bytes / OR_HUGE_PAGE * OR_HUGE_PAGE, tail = bytes - whole;
    if (!current && whole > 0) {
        if (round && tail > 0 && OR_HUGE_PAGE - tail <= bytes / 8) return or_huge_page_alloc(bytes);
        void *p = huge_aligned(bytes, whole, MADV_HUGEPAGE);
        if (p) or_prefault((unsigned char *)p + whole, tail);
        return p;
    }
#else
    (void)round;
#endif
    void *p = or_aligned_alloc(64, bytes);
    if (p) or_prefault(p, bytes);
    return p;
}

void *or_large_alloc(size_t bytes) {
    return large_alloc(bytes, true);
}

void *or_large_alloc_exact(size_t bytes) {
    return large_alloc(bytes, false);
}

void or_prefault(void *p, size_t bytes) {
#ifdef __linux__
    if (!p || bytes < OR_PREFAULT_MIN) return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t begin = (uintptr_t)p / page * page, end = (uintptr_t)p + bytes;
    (void)madvise((void *)begin, end - begin, OR_MADV_POPULATE_WRITE); /* a hint */
#else
    (void)p;
    (void)bytes;
#endif
}

void or_free(void *ptr) {
    if (!ptr) return;
    if (current)
        ctx_free(current, ptr);
    else
        free(ptr);
}

char *or_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = or_malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}
