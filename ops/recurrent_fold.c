/* Embedding folding for RNN, GRU and LSTM (float and double, every opset the
 * ops cover). When X is Gather(E, indices) along axis 0, with E an
 * initializer [vocab, input] and indices a graph input (int32 or int64),
 * optionally through a Transpose with perm [1, 0, 2] (PyTorch's batch_first
 * export), then X·W_dᵀ = (E·W_dᵀ)[indices]: the input product of every run
 * becomes a copy of table rows, the table E·W_dᵀ [vocab, gh] being computed
 * once at load. The node then does not read X (or_node.unread_inputs), so
 * the planner skips the Gather and the Transpose unless something else reads
 * their outputs; the node validates the indices itself (or_rnn_fold_check). */
#include "recurrent.h"

#include "../runtime/alloc.h"
#include "../runtime/env.h"
#include "registry.h"

#include <stdlib.h>
#include <string.h>

/* Largest table (every direction) folded: it trades memory for the input
 * product's FLOPs. The Embedding→biLSTM classifier of bench/ (a 2000 x 64
 * embedding, hidden 128, table 7.8 MiB) ran 15% faster on one Zen 5 core,
 * 40% on two, for 7.5 MB more peak RSS. */
#define FOLD_MAX_BYTES ((size_t)16 << 20)

static const or_node *producer(const or_graph *g, const or_tensor *t) {
    return t && t->kind == OR_T_ACTIVATION && t->producer >= 0 ? &g->nodes[t->producer] : NULL;
}

static bool default_domain(const or_node *n) {
    return n->domain[0] == '\0' || strcmp(n->domain, "ai.onnx") == 0;
}

static bool is_swap_01(const or_node *n) {
    size_t count = 0;
    const int64_t *perm = or_attr_ints(n, "perm", &count);
    return n->op == OR_OP_Transpose && default_domain(n) && perm && count == 3 && perm[0] == 1 &&
           perm[1] == 0 && perm[2] == 2;
}

bool or_rnn_fold_find(or_graph *g, const or_node *n, const or_rnn_state *s, or_rnn_fold *f) {
    *f = (or_rnn_fold){.indices = -1};
    if (or_env_value(OR_ENV_RNN_FOLD) == 0) return false;
    /* A session with a memory cap wants memory more than speed (and a table
     * that fits could leave too little for what comes after it). */
    if (or_mem_cap(or_mem_current()) > 0) return false;
    const or_node *p = producer(g, or_input(g, n, 0));
    bool transposed = p && is_swap_01(p);
    if (transposed) p = producer(g, or_input(g, p, 0));
    if (!p || p->op != OR_OP_Gather || !default_domain(p) || or_attr_int(p, "axis", 0) != 0)
        return false;
    const or_tensor *e = or_input(g, p, 0), *idx = or_input(g, p, 1);
    if (!e || !idx || e->kind != OR_T_INITIALIZER || e->released || !e->data ||
        e->dtype != s->dtype || e->rank != 2 || e->dims[1] != s->input || e->dims[0] <= 0)
        return false;
    if (idx->kind != OR_T_INPUT || (idx->dtype != OR_INT32 && idx->dtype != OR_INT64) ||
        idx->rank != 2)
        return false;
    double bytes = (double)s->dirs * (double)e->dims[0] * (double)s->gh * (double)s->esz;
    if (bytes > (double)FOLD_MAX_BYTES) return false;
    *f = (or_rnn_fold){.indices = p->inputs[1],
                       .transposed = transposed,
                       .idx32 = idx->dtype == OR_INT32,
                       .vocab = e->dims[0],
                       .e_src = e->data};
    return true;
}

bool or_rnn_fold_same(const or_rnn_fold *a, const or_rnn_fold *b) {
    return a->indices == b->indices && a->transposed == b->transposed && a->vocab == b->vocab &&
           a->e_src == b->e_src;
}

bool or_rnn_fold_build(or_rnn_fold *f, const or_rnn_state *s, int d, const void *wd) {
    size_t bytes = (size_t)f->vocab * (size_t)s->gh * s->esz;
    /* On whole huge pages where that wastes at most 1/8 (or_large_alloc):
     * faulting in a few MiB of fresh 4 KiB pages took 25 ms of a 48 ms run
     * of the CLI on a Zen 5 VM (the classifier of bench/; 25 ms with huge
     * pages, 23 ms unfolded). */
    f->table[d] = or_large_alloc(bytes);
    if (!f->table[d]) return false;
    if (s->dtype == OR_FLOAT)
        or_sgemm(false, true, f->vocab, s->gh, s->input, 1, f->e_src, s->input, wd, s->input, 0,
                 f->table[d], s->gh, NULL);
    else
        or_dgemm(false, true, f->vocab, s->gh, s->input, 1, f->e_src, s->input, wd, s->input, 0,
                 f->table[d], s->gh, NULL);
    return true;
}

void or_rnn_fold_free(or_rnn_fold *f) {
    for (int d = 0; d < 2; d++) {
        or_free(f->table[d]);
        f->table[d] = NULL;
    }
}

static int64_t index_at(const or_tensor *idx, int64_t i) {
    return idx->dtype == OR_INT32 ? ((const int32_t *)idx->data)[i]
                                  : ((const int64_t *)idx->data)[i];
}

int or_rnn_fold_check(or_graph *g, const or_node *n, const or_rnn_fold *f) {
    const or_tensor *idx = &g->tensors[f->indices];
    int64_t count = or_tensor_numel(idx);
    for (int64_t i = 0; i < count; i++) {
        int64_t v = index_at(idx, i);
        if (v < -f->vocab || v >= f->vocab)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "index %lld (element %lld of '%s') is outside [-%lld, %lld) "
                                "(embedding rows)",
                                (long long)v, (long long)i, idx->name, (long long)f->vocab,
                                (long long)f->vocab);
    }
    return ONNXRUN_OK;
}

/* The rows are scattered over a table in the L3 or memory, and the gate
 * kernel stalled on them: Embedding→biLSTM classifier of bench/, batch 16,
 * one Zen 5 core, perf samples of the gate kernel per sample of the GEMM
 * kernel 0.47-0.55 folded, 0.16 unfolded; 0.26-0.41 with each row asked for
 * two rows ahead (0.33 asking for every row before the step's product).
 * Kept out of line: inlined into recurrent.c's time loop, GCC 12 -O2 dropped
 * the prefetches. */
void or_rnn_fold_prefetch(const or_rnn_state *s, int d, int64_t k, int64_t b0, int64_t b1) {
    size_t bytes = (size_t)s->gh * s->esz;
    for (int64_t b = b0; b < b1 && b < s->batch; b++) {
        int64_t t = or_rnn_row_time(s, d, k, b);
        if (t < 0) continue;
        const unsigned char *row = or_rnn_fold_xw(s, d, t, b);
        for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(row + off, 0, 2);
    }
}
