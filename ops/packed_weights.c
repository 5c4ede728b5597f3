/* Packing constant GEMM operands once per node (see packed_weights.h). */
#include "../runtime/alloc.h"
#include "packed_weights.h"

#include <stdlib.h>

typedef struct weight_cache {
    or_packed_b *p;
    const void *src; /* the initializer's data it was packed from */
    int dtype;
    bool trans_b;
    int64_t K, N;
} weight_cache;

static void free_weight_cache(void *cache) {
    weight_cache *c = cache;
    if (!c) return;
    or_packed_b_free(c->p);
    or_free(c);
}

static or_packed_b *pack(const or_tensor *t, bool trans_b, int64_t K, int64_t N) {
    int64_t ld = trans_b ? K : N;
    if (t->dtype == OR_FLOAT) return or_sgemm_pack_b(trans_b, K, N, t->data, ld);
    return or_dgemm_pack_b(trans_b, K, N, t->data, ld);
}

const or_packed_b *or_pack_weight(or_graph *g, or_node *n, int i, bool trans_b, int64_t K,
                                  int64_t N, or_packed_b **owned) {
    *owned = NULL;
    const or_tensor *t = or_input(g, n, i);
    if (!t || !t->is_static || !t->data || K <= 0 || N <= 0) return NULL;
    if (t->dtype != OR_FLOAT && t->dtype != OR_DOUBLE) return NULL;
    if (t->kind != OR_T_INITIALIZER) {
        *owned = pack(t, trans_b, K, N);
        return *owned;
    }
    weight_cache *c = n->cache;
    if (c && n->free_cache == free_weight_cache && c->src == t->data && c->dtype == t->dtype &&
        c->trans_b == trans_b && c->K == K && c->N == N)
        return c->p;
    if (!or_node_retire_cache(g, n)) return NULL;
    c = or_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->p = pack(t, trans_b, K, N);
    if (!c->p) {
        or_free(c);
        return NULL;
    }
    c->src = t->data;
    c->dtype = t->dtype;
    c->trans_b = trans_b;
    c->K = K;
    c->N = N;
    n->cache = c;
    n->free_cache = free_weight_cache;
    return c->p;
}
