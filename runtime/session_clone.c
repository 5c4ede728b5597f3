/* onnxrun_session_clone: a second session over the same loaded model for
 * another thread. The clone copies the tensor and node tables but borrows,
 * read-only, everything that does not change while running: names,
 * attributes, initializers and the weights packed by the original's plan
 * (n->cache). The original's graph is refcounted (or_shared_graph) and
 * outlives whichever of the sessions is destroyed last. Each clone has its
 * own plan, arena, bound inputs, states and memory context. */
#include "exec.h"
#include "session_internal.h"

#include <string.h>

#define set_error or_session_error

void or_shared_release(or_shared_graph *sh) {
    if (!sh || atomic_fetch_sub(&sh->refs, 1) != 1) return;
    or_mem *mem = sh->mem;
    or_mem *previous = or_mem_enter(mem);
    or_graph_free(sh->graph);
    or_free(sh);
    or_mem_leave(previous);
    or_mem_release(mem);
}

/* Packed weights can be borrowed when the node packed them from
 * initializers only: an op repacks (and frees) a cache built from folded
 * values at every plan, unless it released a source (runtime/weights.h). */
static bool cache_is_shareable(const or_graph *src, const or_node *n) {
    if (!n->cache) return false;
    bool folded = false;
    for (int k = 0; k < n->n_inputs; k++) {
        int t = n->inputs[k];
        if (t < 0) continue;
        const or_tensor *x = &src->tensors[t];
        if (x->released) return true; /* the cache is the only copy: never repacked */
        if (x->kind != OR_T_INITIALIZER && x->is_static) folded = true;
    }
    return src->planned && !folded;
}

static void reset_tensor(or_tensor *t, const onnxrun_tensor_info *decl) {
    if (t->kind != OR_T_INITIALIZER) t->data = NULL;
    t->owned = NULL; /* initializers stay the original's; the rest is replanned */
    t->owned_len = 0;
    t->owned_is_mapping = false;
    t->value_pinned = false;
    if (t->kind == OR_T_ACTIVATION) t->is_static = false;
    if (!decl) return;
    t->dtype = (int)decl->dtype;
    t->rank = decl->rank;
    for (int d = 0; d < OR_MAX_RANK; d++) t->dims[d] = d < decl->rank ? decl->dims[d] : 0;
    t->nbytes = 0;
}

static or_graph *copy_graph(const onnxrun_session *src) {
    const or_graph *g0 = src->graph;
    or_graph *g = or_malloc(sizeof *g);
    if (!g) return NULL;
    *g = *g0;
    g->tensors = or_malloc(sizeof *g->tensors * (size_t)(g0->n_tensors + 1));
    g->nodes = or_malloc(sizeof *g->nodes * (size_t)(g0->n_nodes + 1));
    g->arena = NULL;
    g->arena_size = 0;
    g->planned = false;
    g->plan_needs_input_values = false;
    g->pool = NULL;
    g->errmsg[0] = '\0';
    g->retired = NULL; /* the original's, freed with it */
    g->n_retired = g->cap_retired = 0;
    g->caches_lent = false; /* a clone lends none, so it sets none aside: clones of it
                             * borrow the original's */
    if (!g->tensors || !g->nodes) {
        or_free(g->tensors);
        or_free(g->nodes);
        or_free(g);
        return NULL;
    }
    g->cap_tensors = g0->n_tensors + 1;
    g->cap_nodes = g0->n_nodes + 1;
    memcpy(g->tensors, g0->tensors, sizeof *g->tensors * (size_t)g0->n_tensors);
    memcpy(g->nodes, g0->nodes, sizeof *g->nodes * (size_t)g0->n_nodes);
    for (int i = 0; i < g->n_tensors; i++) reset_tensor(&g->tensors[i], NULL);
    for (int i = 0; i < g->n_inputs; i++) reset_tensor(&g->tensors[g->inputs[i]], &src->inputs[i]);
    for (int i = 0; i < g->n_nodes; i++) {
        or_node *n = &g->nodes[i];
        n->run = NULL;
        n->state = NULL;
        n->free_state = NULL;
        n->folded = false;
        n->scratch_bytes = 0;
        n->scratch = NULL;
        /* a clone's own packed weights (a clone of a clone) die with it; what
         * it borrowed lives as long as the original's graph (retired at worst) */
        bool owned_by_shared = g0 == src->shared->graph || g0->nodes[i].cache_borrowed;
        if (!owned_by_shared || !cache_is_shareable(g0, &g0->nodes[i])) {
            n->cache = NULL;
            n->free_cache = NULL;
        }
        /* A plan of the clone that wants other packed weights (another
         * batch) packs its own instead of freeing these. */
        n->cache_borrowed = n->cache != NULL;
    }
    return g;
}

void or_clone_graph_free(or_graph *g) {
    or_graph_unplan(g);
    for (int i = 0; i < g->n_nodes; i++) or_node_drop_cache(&g->nodes[i]);
    or_free(g->nodes);
    or_free(g->tensors);
    or_free(g->arena);
    or_free(g);
}

static onnxrun_status share_graph(onnxrun_session *s) {
    s->graph->weights_shared = true;
    /* Only the original lends its caches; a clone of a clone borrows the
     * original's, which it lent when its first clone was made. */
    if (!s->shared || s->graph == s->shared->graph) s->graph->caches_lent = true;
    if (s->shared) return ONNXRUN_OK;
    or_mem *previous = or_mem_enter(s->mem);
    or_shared_graph *sh = or_malloc(sizeof *sh);
    or_mem_leave(previous);
    if (!sh) return set_error(s, ONNXRUN_ERR_NOMEM, "out of memory cloning the session");
    atomic_init(&sh->refs, 1);
    sh->graph = s->graph;
    sh->mem = s->mem;
    or_mem_retain(s->mem);
    s->shared = sh;
    return ONNXRUN_OK;
}

static onnxrun_status copy_states(onnxrun_session *c, const onnxrun_session *s) {
    if (!s->n_states) return ONNXRUN_OK;
    c->states = or_calloc((size_t)s->n_states, sizeof *c->states);
    if (!c->states) return set_error(c, ONNXRUN_ERR_NOMEM, "out of memory cloning the states");
    for (int k = 0; k < s->n_states; k++)
        c->states[k] = (or_state){.output = s->states[k].output, .input = s->states[k].input};
    c->n_states = s->n_states;
    return ONNXRUN_OK;
}

static onnxrun_status fill_clone(onnxrun_session *c, onnxrun_session *s) {
    c->graph = copy_graph(s);
    if (!c->graph) return set_error(c, ONNXRUN_ERR_NOMEM, "out of memory cloning the graph");
    c->shared = s->shared;
    atomic_fetch_add(&s->shared->refs, 1);
    onnxrun_status status = or_session_snapshot(c);
    if (status == ONNXRUN_OK) { /* the declarations, not the original's planned shapes */
        memcpy(c->inputs, s->inputs, sizeof *c->inputs * (size_t)c->graph->n_inputs);
        memcpy(c->outputs, s->outputs, sizeof *c->outputs * (size_t)c->graph->n_outputs);
        status = copy_states(c, s);
    }
    if (status == ONNXRUN_OK) status = or_session_prepare(c);
    return status;
}

onnxrun_status onnxrun_session_clone(onnxrun_session *s, onnxrun_session **out_clone) {
    if (!out_clone) return or_session_null_argument(s, "out_clone");
    *out_clone = NULL;
    if (!s || !s->graph) return ONNXRUN_ERR_ARGUMENT;
    onnxrun_status status = share_graph(s);
    if (status != ONNXRUN_OK) return status;
    or_mem *previous;
    status = or_session_begin(&s->opts, out_clone, &previous);
    if (status != ONNXRUN_OK) return set_error(s, status, "out of memory cloning the session");
    onnxrun_session *c = *out_clone;
    status = or_session_finish(c, fill_clone(c, s));
    or_mem_leave(previous);
    if (status == ONNXRUN_OK) return or_session_ok(s);
    set_error(s, status, "%s", c->errmsg);
    onnxrun_session_destroy(c);
    *out_clone = NULL;
    return status;
}
