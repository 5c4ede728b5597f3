/* The library's allocation functions. Every allocation onnxrun makes goes
 * through these (never malloc/free directly), so that a session's custom
 * allocator and memory cap (onnxrun_options) govern all of its memory.
 * or_aligned_alloc's blocks are released with or_free like any other.
 *
 * Memory contexts: a session with a custom allocator or a memory cap owns an
 * or_mem; its public API calls make it the calling thread's current context
 * (or_mem_enter ... or_mem_leave). While a context is current, every block
 * comes from its allocator with a small header (size and alignment offset,
 * since the user's free takes no size) and counts against its cap. With no
 * context current these are plain malloc/free, so code outside a session
 * (the CLI, tests building graphs by hand) may mix them with the C library.
 * Rule: a block is freed under the context that allocated it. */
#ifndef OR_ALLOC_H
#define OR_ALLOC_H

#include "onnxrun.h"

#include <stdbool.h>
#include <stddef.h>

void *or_malloc(size_t size);
void *or_calloc(size_t count, size_t size);
void *or_realloc(void *ptr, size_t size);
void *or_aligned_alloc(size_t alignment, size_t size);
void or_free(void *ptr);
char *or_strdup(const char *s);

/* A block of at least `bytes` on whole 2 MiB pages, 2 MiB-aligned, that the
 * kernel is asked to back with transparent huge pages (madvise; Linux's THP
 * "madvise" or "always" modes): physically contiguous, it spreads evenly
 * over every cache set, where 4 KiB pages land wherever the kernel puts
 * them. Resident as whole huge pages once touched (up to 2 MiB - 1 bytes
 * more than asked). With a context current (a user's allocator or a cap)
 * or without MADV_HUGEPAGE, a plain 64-byte-aligned block of `bytes`.
 * Released with or_free. */
#define OR_HUGE_PAGE ((size_t)2 << 20)
void *or_huge_page_alloc(size_t bytes);
/* The same block for a pack written once in an order that touches several
 * huge pages at a time (the blocked GEMM's pack fills one panel in every K
 * block at once): on 4 KiB pages while it is written, so that only what is
 * written is resident, then moved onto huge pages by or_huge_page_collapse
 * (MADV_COLLAPSE, Linux 6.1; before that only the hint for khugepaged).
 * Faulted in as huge pages, LSTM hidden 1024's 16 MiB R had peaked 7.4 MB
 * above 4 KiB pages while its source was handed back row by row. Released
 * with or_free; under a context both are plain. */
void *or_huge_page_alloc_later(size_t bytes);
void or_huge_page_collapse(void *p, size_t bytes);

/* A large block filled once and read in full (an initializer's bytes, an
 * embedding fold's table): 2 MiB-aligned from 2 MiB on, its whole 2 MiB
 * stretches on huge pages and the rest prefaulted (or_prefault: the caller
 * fills the block at once), or all of it on huge pages where rounding up
 * wastes at most 1/8; smaller blocks 64-byte aligned and prefaulted. On the
 * Zen 5 VM every first touch of a 4 KiB page is a hypervisor round trip,
 * even prefaulted: copying a model's initializers out of the file took more
 * time in page faults than in the copy. A plain block under a context.
 * Released with or_free. */
void *or_large_alloc(size_t bytes);
/* The same, never rounded up (nothing resident past `bytes`): the activation
 * arena, which lives as long as the session. */
void *or_large_alloc_exact(size_t bytes);

/* Writes are about to cover [p, p + bytes) of a fresh block: asks the kernel
 * to map the pages under it in one call (madvise MADV_POPULATE_WRITE, Linux
 * 5.14+) instead of taking one page fault per 4 KiB page on the first
 * writes. Contents are unchanged, so a page shared with a neighbouring block
 * is harmless; so is a kernel without it (nothing happens). Ranges under
 * OR_PREFAULT_MIN bytes are left to the faults. Measured on the Zen 5 VM
 * (where a fault is a round trip through the hypervisor): writing 16 MiB of
 * fresh 4 KiB pages took 40-45 ms, 24-26 ms when each 16 KiB-4 MiB stretch
 * was populated first; packers call it stretch by stretch just ahead of
 * their writes, so the resident memory grows no faster than before. */
#define OR_PREFAULT_MIN ((size_t)16 << 10)
/* The value of madvise's MADV_POPULATE_WRITE (Linux 5.14; older kernels
 * answer EINVAL), which older C library headers do not define. */
#define OR_MADV_POPULATE_WRITE 23
void or_prefault(void *p, size_t bytes);

typedef struct or_mem or_mem;

/* A context over `allocator` (NULL: the C library) capped at `cap` bytes (0:
 * no cap), with one reference. The context itself comes from the allocator
 * but is not counted. NULL when out of memory. */
or_mem *or_mem_new(const onnxrun_allocator *allocator, size_t cap);
void or_mem_retain(or_mem *m);
/* Drops a reference; the last one frees the context (its blocks must be gone). */
void or_mem_release(or_mem *m);
/* Makes m (may be NULL) current on this thread; returns the previous one,
 * which the caller restores with or_mem_leave. */
or_mem *or_mem_enter(or_mem *m);
void or_mem_leave(or_mem *previous);
or_mem *or_mem_current(void);

/* Counts bytes that are not heap blocks (mapped files) against the current
 * context's cap; false (and nothing counted) when the cap would be exceeded. */
bool or_mem_charge(size_t bytes);
void or_mem_uncharge(size_t bytes);

/* Bytes in use (blocks with their headers, plus charged bytes) and the peak. */
size_t or_mem_used(const or_mem *m);
size_t or_mem_peak(const or_mem *m);
size_t or_mem_cap(const or_mem *m);
/* Lets allocations exceed the cap while set (they are still counted). */
void or_mem_set_uncapped(or_mem *m, bool uncapped);
/* Whether the current context refused an allocation for its cap (and
 * or_mem_take_refusal has not cleared it since). */
bool or_mem_refused(void);
/* Whether an allocation was refused for the cap since the last call, with
 * the size asked for and the bytes in use then; clears the record. */
bool or_mem_take_refusal(or_mem *m, size_t *request, size_t *in_use);

#endif
