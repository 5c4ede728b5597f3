/* Transpose (opsets 1-23): permutes axes by perm (default: reversed). Any
 * dtype. The permuted view is collapsed first (size-1 axes dropped, axes that
 * stay adjacent merged); when the source's innermost axis stays innermost the
 * copy is row-wise, otherwise it moves 2-D tiles between the two axes that
 * hold the source's and the output's unit strides. */
#include "../runtime/alloc.h"
#include "shape_common.h"

#include <stdlib.h>
#include <string.h>

#define TILE 32

typedef struct transpose_plan {
    shp_view v;                     /* output dims, source strides (collapsed) */
    int j;                          /* output axis with source stride 1; -1: rows are contiguous */
    int64_t ostrides[SHP_MAX_VIEW]; /* dense output strides of v */
    int64_t outer;                  /* planes: product of dims other than j and last */
    int64_t row_blocks;             /* ceil(dims[j] / TILE) */
} transpose_plan;

typedef struct tile_ctx {
    const transpose_plan *p;
    const unsigned char *src;
    unsigned char *dst;
    size_t es;
} tile_ctx;

/* dst[a*dstride + b] = src[a + b*sstride] over an na x nb tile. */
#define TILE_COPY(ES)                                                                              \
    for (int64_t a = 0; a < na; a++) {                                                             \
        unsigned char *dp = d + a * dstride * (ES);                                                \
        const unsigned char *sp = s + a * (ES);                                                    \
        for (int64_t b = 0; b < nb; b++, dp += (ES), sp += sstep) memcpy(dp, sp, ES);              \
    }

static void copy_tile(unsigned char *d, const unsigned char *s, int64_t na, int64_t nb,
                      int64_t dstride, int64_t sstride, size_t es) {
    int64_t sstep = sstride * (int64_t)es;
    switch (es) {
    case 1:
        TILE_COPY(1) break;
    case 2:
        TILE_COPY(2) break;
    case 4:
        TILE_COPY(4) break;
    case 8:
        TILE_COPY(8) break;
    default:
        TILE_COPY(es)
    }
}

/* Offsets of plane `plane` in source and output, iterating every axis except
 * j and the last. */
static void plane_offsets(const transpose_plan *p, int64_t plane, int64_t *soff, int64_t *doff) {
    int last = p->v.rank - 1;
    *soff = *doff = 0;
    for (int k = last - 1; k >= 0; k--) {
        if (k == p->j) continue;
        int64_t i = plane % p->v.dims[k];
        plane /= p->v.dims[k];
        *soff += i * p->v.strides[k];
        *doff += i * p->ostrides[k];
    }
}

static void tile_items(void *arg, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const tile_ctx *c = arg;
    const transpose_plan *p = c->p;
    int last = p->v.rank - 1;
    int64_t rows = p->v.dims[p->j], cols = p->v.dims[last];
    int64_t dstride = p->ostrides[p->j], sstride = p->v.strides[last];
    for (int64_t item = begin; item < end; item++) {
        int64_t soff, doff, a0 = (item % p->row_blocks) * TILE;
        plane_offsets(p, item / p->row_blocks, &soff, &doff);
        int64_t na = rows - a0 < TILE ? rows - a0 : TILE;
        for (int64_t b0 = 0; b0 < cols; b0 += TILE) {
            int64_t nb = cols - b0 < TILE ? cols - b0 : TILE;
            const unsigned char *s = c->src + (size_t)(soff + a0 + b0 * sstride) * c->es;
            unsigned char *d = c->dst + (size_t)(doff + a0 * dstride + b0) * c->es;
            copy_tile(d, s, na, nb, dstride, sstride, c->es);
        }
    }
}

static int transpose_run(or_graph *g, or_node *n) {
    const transpose_plan *p = n->state;
    const or_tensor *x = or_input(g, n, 0);
    or_tensor *y = or_output(g, n, 0);
    size_t es = or_dtype_size(x->dtype);
    if (or_tensor_numel(y) == 0) return 0;
    if (p->j < 0) {
        shp_strided_copy(g->pool, y->data, x->data, &p->v, es);
        return 0;
    }
    tile_ctx c = {p, x->data, y->data, es};
    int64_t items = p->outer * p->row_blocks;
    int64_t bytes = or_tensor_numel(y) * (int64_t)es;
    if (items > 1 && bytes >= 256 * 1024)
        or_parallel_for(g->pool, items, 1, tile_items, &c);
    else
        tile_items(&c, 0, items, 0);
    return 0;
}

static int read_perm(or_graph *g, or_node *n, int rank, int *perm) {
    size_t count;
    const int64_t *attr = or_attr_ints(n, "perm", &count);
    if (!attr) {
        for (int k = 0; k < rank; k++) perm[k] = rank - 1 - k;
        return 0;
    }
    bool seen[OR_MAX_RANK] = {false};
    if (count != (size_t)rank)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "perm has %zu entries for rank %d", count,
                            rank);
    for (int k = 0; k < rank; k++) {
        int a = or_norm_axis(attr[k], rank);
        if (a < 0 || seen[a])
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "perm is not a permutation of 0..%d",
                                rank - 1);
        seen[a] = true;
        perm[k] = a;
    }
    return 0;
}

static void make_plan(transpose_plan *p, const or_tensor *x, const int *perm) {
    int64_t istrides[OR_MAX_RANK];
    shp_dense_strides(x->rank, x->dims, istrides);
    p->v.rank = x->rank;
    for (int k = 0; k < x->rank; k++) {
        p->v.dims[k] = x->dims[perm[k]];
        p->v.strides[k] = istrides[perm[k]];
    }
    shp_view_simplify(&p->v);
    shp_dense_strides(p->v.rank, p->v.dims, p->ostrides);
    int last = p->v.rank - 1;
    p->j = -1;
    for (int k = 0; k < last; k++)
        if (p->v.strides[k] == 1) p->j = k;
    if (p->v.strides[last] == 1) p->j = -1;
    p->outer = 1;
    for (int k = 0; k < last; k++)
        if (k != p->j) p->outer *= p->v.dims[k];
    p->row_blocks = p->j >= 0 ? (p->v.dims[p->j] + TILE - 1) / TILE : 0;
}

int transpose_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    if (!x || n->n_outputs < 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 input and 1 output");
    size_t es;
    int rc = shp_elem_size(g, n, x, &es);
    if (rc) return rc;
    if (or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input shape is unknown");
    int perm[OR_MAX_RANK];
    if ((rc = read_perm(g, n, x->rank, perm))) return rc;
    int64_t dims[OR_MAX_RANK];
    for (int k = 0; k < x->rank; k++) dims[k] = x->dims[perm[k]];
    transpose_plan *p = or_calloc(1, sizeof *p);
    if (!p) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    if (or_tensor_numel(x) > 0) make_plan(p, x, perm);
    n->state = p;
    n->free_state = or_free;
    n->run = transpose_run;
    return or_set_output(g, n, 0, x->dtype, x->rank, dims);
}
