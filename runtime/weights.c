/* Releasing packed-away weights (see weights.h). */
#include "weights.h"

#include "alloc.h"

#include <stdint.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/mman.h>
#include <unistd.h>

static const or_tensor *input_tensor(const or_graph *g, const or_node *n, int input) {
    if (input < 0 || input >= n->n_inputs || n->inputs[input] < 0) return NULL;
    return &g->tensors[n->inputs[input]];
}

/* Whether any node other than n, or n at another slot, reads tensor t. */
static bool read_elsewhere(const or_graph *g, const or_node *n, int input, int t) {
    for (int i = 0; i < g->n_nodes; i++) {
        const or_node *m = &g->nodes[i];
        for (int k = 0; k < m->n_inputs; k++)
            if (m->inputs[k] == t && (m != n || k != input)) return true;
    }
    return false;
}

bool or_weight_releasable(const or_graph *g, const or_node *n, int input) {
    const or_tensor *t = input_tensor(g, n, input);
    if (!t || g->weights_shared || t->released) return false;
    if (t->kind != OR_T_INITIALIZER || !t->owned || t->data != t->owned || t->is_graph_output)
        return false;
    return !read_elsewhere(g, n, input, n->inputs[input]);
}

void or_weight_release(or_graph *g, const or_node *n, int input) {
    if (!or_weight_releasable(g, n, input)) return;
    or_tensor *t = &g->tensors[n->inputs[input]];
    if (t->owned_is_mapping) {
        munmap(t->owned, t->owned_len);
        or_mem_uncharge(t->owned_len);
    } else {
        or_free(t->owned);
    }
    t->owned = NULL;
    t->owned_len = 0;
    t->owned_is_mapping = false;
    t->data = NULL;
    t->released = true;
    g->weights_trim = true;
}

void or_weights_settle(or_graph *g) {
    if (!g->weights_trim) return;
    g->weights_trim = false;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

bool or_weight_released(const or_graph *g, const or_node *n, int input) {
    const or_tensor *t = input_tensor(g, n, input);
    return t && t->released;
}

struct or_src_release {
    uintptr_t first; /* address of the first whole page */
    size_t pages, page_size;
    uint32_t *done;           /* [pages] bytes of each page reported consumed */
    uintptr_t run_lo, run_hi; /* finished pages not yet given back: one madvise per run */
    bool gave_back;
};

/* Larger runs batch the system calls; smaller ones keep the peak down. */
#define RELEASE_RUN_BYTES (256u << 10)

static void flush_run(or_src_release *r) {
    if (r->run_hi > r->run_lo) {
        madvise((void *)r->run_lo, r->run_hi - r->run_lo, MADV_DONTNEED);
        r->gave_back = true;
    }
    r->run_lo = r->run_hi = 0;
}

static void page_finished(or_src_release *r, uintptr_t page) {
    if (page != r->run_hi) flush_run(r);
    if (r->run_hi == 0) r->run_lo = page;
    r->run_hi = page + r->page_size;
    if (r->run_hi - r->run_lo >= RELEASE_RUN_BYTES) flush_run(r);
}

or_src_release *or_src_release_begin(const void *buf, size_t len) {
    long ps = sysconf(_SC_PAGESIZE);
    if (!buf || ps <= 0) return NULL;
    size_t page = (size_t)ps;
    uintptr_t start = (uintptr_t)buf, end = start + len;
    uintptr_t first = (start + page - 1) / page * page, last = end / page * page;
    if (end < start || last <= first) return NULL;
    or_src_release *r = or_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->first = first;
    r->page_size = page;
    r->pages = (last - first) / page;
    r->done = or_calloc(r->pages, sizeof *r->done);
    if (!r->done) {
        or_free(r);
        return NULL;
    }
    return r;
}

void or_src_release_consumed(or_src_release *r, const void *p, size_t bytes) {
    if (!r || !bytes) return;
    uintptr_t lo = (uintptr_t)p, hi = lo + bytes, top = r->first + r->pages * r->page_size;
    if (lo < r->first) lo = r->first;
    if (hi > top) hi = top;
    while (lo < hi) {
        size_t i = (lo - r->first) / r->page_size;
        uintptr_t page_end = r->first + (i + 1) * r->page_size;
        uintptr_t stop = hi < page_end ? hi : page_end;
        r->done[i] += (uint32_t)(stop - lo);
        if (r->done[i] == r->page_size) page_finished(r, page_end - r->page_size);
        lo = stop;
    }
}

bool or_src_release_end(or_src_release *r) {
    if (!r) return false;
    flush_run(r);
    bool gave_back = r->gave_back;
    or_free(r->done);
    or_free(r);
    return gave_back;
}
