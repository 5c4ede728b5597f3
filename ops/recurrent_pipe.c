/* Two stacked recurrent layers pipelined across two threads.
 *
 * PyTorch exports a stacked RNN, GRU or LSTM as one node per layer, the
 * first layer's Y squeezed into the second's X (Y -> Squeeze -> X). Split
 * across threads step by step, as the team engine does for one node, each
 * step ends at a barrier. Pipelined, the first layer (node A) runs whole on
 * thread 0 and the second (node B) on thread 1, one chunk of steps behind:
 * thread 1 waits only when it catches up with A. Each chunk's X·Wᵀ of B
 * (its X is A's Y) is split between the two threads, so that both carry
 * the same FLOPs per step (A's input product runs up front on the whole
 * pool).
 *
 * B's X·Wᵀ lives in a ring of PIPE_RING hand-overs; A's is computed for the
 * whole sequence up front.
 *
 * When (or_rnn_pipe_role): float RNN/GRU/LSTM nodes where the team engine
 * runs (AVX2 or AVX-512, fp32 weights, static W and R), forward, layout 0,
 * no sequence_lens, B's X a Squeeze of A's Y that nothing else reads (shape
 * ops aside), every other input of B ready before A runs (the executor
 * checks that again: or_node.run_by), no memory cap, A's X·Wᵀ for the
 * whole sequence within OR_RNN_PIPE_XW_BYTES. Both nodes then run on one
 * thread each (one team member owning every unit, reading every slice of
 * the pack all team plans share, so a re-plan decides afresh whether to
 * pair: packs of their own once kept pairs paired at batch 1, 1.20 of the
 * split's time). By default
 * on a pool of exactly two threads, at a batch of
 * PIPE_MIN_BATCH or more, when a sequence has at least PIPE_MIN_CHUNKS
 * chunks; ONNXRUN_RNN_PIPE=0 turns it off, =1 pipelines every such pair
 * whatever the threads, batch and length (tests: one thread runs a chunk
 * of A, then of B, in turn), and whatever the size of A's X·Wᵀ. In a stack, each
 * layer pairs with the next unless it is itself the second of a pair: 1+2,
 * 3+4, ... (2+3 when 1 cannot pair).
 *
 * Measured on a 2-core Zen 5, 2 threads, against the team engine's split
 * (pair medians of alternating process pairs): LSTM hidden 512, 2 layers,
 * batch 16: 0.93-0.96 of the time; LSTM hidden 256 batch 16 0.91; GRU
 * hidden 512 batch 16 0.96; LSTM hidden 512 batch 8 0.97, batch 4 0.98;
 * batch 1 1.09-1.19 (each core then reads a whole layer's R per step,
 * where the split reads half of each), hence PIPE_MIN_BATCH. Hand-overs of
 * 16 rows beat 64 (LSTM hidden 512 batch 16: one step 0.93 of four's time);
 * of 8 rows, at batch 8, took 1.05 of the split's time. The Zen 5's two
 * vCPUs sit on two L3s, where the split's per-step meeting costs a cache
 * line's trip between them (460 ns). Where both cores share one L3
 * (or_cpu_l3_shared) that trip is short, and the pair lost: on a 2-core
 * Zen 3 (AVX2), pipelined against not (16-24 alternating single-run pairs
 * of two live processes, medians of the pair ratios), 2-layer LSTM hidden
 * 512 batch 16 1.06-1.11, batch 4 1.06, batch 8 1.00, LSTM hidden 256
 * batch 16 1.06, GRU hidden 512 batch 16 1.07; so there the default does
 * not pair.
 */
#include "recurrent.h"

#include "../runtime/alloc.h"
#include "../runtime/cpu.h"
#include "../runtime/env.h"
#include "../runtime/threadpool.h"

#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

/* Rows (steps × batch) of B's input product per chunk at least: fewer make
 * that product a GEMV that reads all of W for a few rows. */
#define PIPE_CHUNK_ROWS 16
#define PIPE_MIN_CHUNKS 8
#define PIPE_MIN_BATCH 4
#define PIPE_MAX_LAYERS 64
#define WAIT_SPINS 20000
/* Hand-overs B's X·Wᵀ ring holds: thread 0 waits before writing its part
 * of a chunk only when B is this many behind. */
#define PIPE_RING 8

/* ---- when ---- */

static bool is_rnn(const or_node *n) {
    return n && or_op_is_recurrent(n->op);
}

/* The only node reading tensor t's values, through input 0 (Shape and Size
 * may read its shape too); NULL when t is a graph output or read elsewhere. */
static const or_node *sole_reader(const or_graph *g, int t) {
    if (t < 0 || g->tensors[t].is_graph_output) return NULL;
    const or_node *reader = NULL;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            if (g->nodes[i].inputs[k] != t || or_node_reads_only_shape(&g->nodes[i])) continue;
            if (reader || k != 0) return NULL;
            reader = &g->nodes[i];
        }
    return reader;
}

/* A Squeeze of Y [seq, 1, batch, hidden] that B can take as X is [seq,
 * batch, hidden] (others fail B's prepare); a Reshape could regroup the
 * steps, so it is not taken. */
static bool squeezes(const or_node *v) {
    return v && (!v->domain || !v->domain[0]) && v->n_outputs == 1 &&
           strcmp(v->op_type, "Squeeze") == 0;
}

/* B when A's Y feeds it through a Squeeze, else NULL. */
static const or_node *second_of(const or_graph *g, const or_node *a) {
    if (!is_rnn(a) || a->n_outputs < 1) return NULL;
    const or_node *v = sole_reader(g, a->outputs[0]);
    if (!squeezes(v)) return NULL;
    const or_node *b = sole_reader(g, v->outputs[0]);
    return is_rnn(b) ? b : NULL;
}

/* A when B's X is a Squeeze of A's Y (as second_of sees it). */
static const or_node *first_of(const or_graph *g, const or_node *b) {
    if (!is_rnn(b) || b->n_inputs < 1 || b->inputs[0] < 0) return NULL;
    int v = g->tensors[b->inputs[0]].producer;
    if (v < 0 || !squeezes(&g->nodes[v]) || g->nodes[v].inputs[0] < 0) return NULL;
    int a = g->tensors[g->nodes[v].inputs[0]].producer;
    if (a < 0 || second_of(g, &g->nodes[a]) != b) return NULL;
    return &g->nodes[a];
}

static bool input_absent(const or_node *n, int k) {
    return k >= n->n_inputs || n->inputs[k] < 0;
}

/* Whether tensor t's value follows from the model alone (initializers,
 * constants and shapes), so that planning makes it static. *budget bounds
 * the tensors visited (a graph may reach one tensor by many paths); past
 * it, the answer is no. */
static bool model_fixed(const or_graph *g, int t, int *budget) {
    const or_tensor *x = &g->tensors[t];
    if (x->is_static || x->kind == OR_T_INITIALIZER) return true;
    if (x->kind != OR_T_ACTIVATION || x->producer < 0 || --*budget < 0) return false;
    const or_node *p = &g->nodes[x->producer];
    if (or_node_reads_only_shape(p)) return true;
    for (int k = 0; k < p->n_inputs; k++)
        if (p->inputs[k] >= 0 && !model_fixed(g, p->inputs[k], budget)) return false;
    return true;
}

#define FIXED_BUDGET 256

static bool fixed(const or_graph *g, int t) {
    int budget = FIXED_BUDGET;
    return model_fixed(g, t, &budget);
}

/* Whether input k of B holds its value before A (node index a) runs. */
static bool ready_before(const or_graph *g, const or_node *b, int k, int a) {
    if (input_absent(b, k)) return true;
    const or_tensor *t = &g->tensors[b->inputs[k]];
    return t->kind != OR_T_ACTIVATION || t->producer < a || fixed(g, b->inputs[k]);
}

/* A layer the pipeline can run: forward, layout 0, no sequence_lens, static
 * float W and R (the team engine's packs). */
static bool layer_fits(const or_graph *g, const or_node *n) {
    const char *dir = or_attr_string(n, "direction", "forward");
    if (strcmp(dir, "forward") != 0 || or_attr_int(n, "layout", 0) != 0) return false;
    if (!input_absent(n, 4) || input_absent(n, 1) || input_absent(n, 2)) return false;
    for (int k = 1; k <= 2; k++) {
        const or_tensor *w = &g->tensors[n->inputs[k]];
        if (w->dtype != OR_FLOAT || !fixed(g, n->inputs[k])) return false;
    }
    return true;
}

static int64_t chunk_of(int64_t batch) {
    int64_t forced = or_env_value(OR_ENV_RNN_CHUNK); /* tests */
    if (forced > 0) return forced;
    return batch > 0 ? (PIPE_CHUNK_ROWS + batch - 1) / batch : 1;
}

/* A layer's R tensor, or NULL. */
static const or_tensor *r_of(const or_graph *g, const or_node *n) {
    return n->n_inputs > 2 && n->inputs[2] >= 0 ? &g->tensors[n->inputs[2]] : NULL;
}

/* Bytes of a layer's X·Wᵀ for the whole sequence (gates * hidden from R's
 * shape; s: either layer's state, both have the same batch and length). */
static double whole_xw_bytes(const or_graph *g, const or_node *n, const or_rnn_state *s) {
    const or_tensor *r = r_of(g, n);
    double gh = r && r->rank == 3 ? (double)r->dims[1] : 0;
    return (double)s->seq * (double)s->batch * gh * sizeof(float);
}

/* The conditions on the machine, the session and the sequence (s: either
 * layer's state; both have the same batch and length). The first layer
 * keeps its X·Wᵀ for the whole sequence (xw_bytes), computed up front: a
 * memory cap rules pairing out, and so does its outgrowing
 * OR_RNN_PIPE_XW_BYTES. */
static bool worth_it(const or_graph *g, const or_rnn_state *s, bool rows_instead, double xw_bytes) {
    int64_t env = or_env_value(OR_ENV_RNN_PIPE), team = or_env_value(OR_ENV_RNN_TEAM);
    bool simd = or_cpu_isa() == OR_ISA_AVX512 || or_cpu_isa() == OR_ISA_AVX2;
    if (env == 0 || team == 0 || team == 2 || team == 4 || !simd ||
        or_mem_cap(or_mem_current()) > 0)
        return false;
    if (g->weight_precision != ONNXRUN_PRECISION_FP32 || s->dtype != OR_FLOAT) return false;
    if (env == 1) return true;
    if (or_threadpool_size(g->pool) != 2) return false;
    if (rows_instead || or_cpu_l3_shared()) return false;
    return s->batch >= PIPE_MIN_BATCH && s->seq / PIPE_MIN_CHUNKS >= chunk_of(s->batch) &&
           xw_bytes <= OR_RNN_PIPE_XW_BYTES;
}

static bool pair_fits(const or_graph *g, const or_node *a, const or_node *b) {
    if (!layer_fits(g, a) || !layer_fits(g, b)) return false;
    int ai = (int)(a - g->nodes);
    for (int k = 1; k < b->n_inputs; k++)
        if (!ready_before(g, b, k, ai)) return false;
    return true;
}

/* Whether n is the second layer of a pair: pairs are taken from the first
 * layer of a stack on (1+2, 3+4, ...). */
static bool is_second(const or_graph *g, const or_node *n, int depth) {
    const or_node *a = first_of(g, n);
    return a && depth < PIPE_MAX_LAYERS && pair_fits(g, a, n) && !is_second(g, a, depth + 1);
}

/* Whether either layer, alone, would have its team split the batch rows
 * (recurrent_team.c), which measured as fast as the pair or faster, with
 * far less X·Wᵀ kept (2-core Zen 5, 2 threads, split rows per layer ->
 * pipelined pair, 4-8 alternating process pairs: LSTM hidden 512 2 layers
 * batch 16 0.995, batch 32 0.93; GRU hidden 256 2 layers batch 16 0.91;
 * LSTM hidden 256 3 layers batch 24 0.95). */
static bool rows_instead(const or_graph *g, const or_rnn_state *s, const or_node *n,
                         const or_node *other) {
    const or_node *layers[2] = {n, other};
    for (int i = 0; i < 2; i++) {
        const or_tensor *r = r_of(g, layers[i]);
        if (!r || r->rank != 3) continue;
        or_rnn_state alone = *s;
        alone.dirs = 1, alone.gh = r->dims[1], alone.hidden = r->dims[2];
        if (or_rnn_team_members(g, &alone) & OR_RNN_TEAM_BY_ROWS) return true;
    }
    return false;
}

int or_rnn_pipe_role(or_graph *g, const or_node *n, const or_rnn_state *s, int *partner) {
    *partner = -1;
    const or_node *a = is_second(g, n, 0) ? first_of(g, n) : NULL;
    const or_node *b = a ? NULL : second_of(g, n);
    const or_node *other = a ? a : b;
    if (!other || (b && !pair_fits(g, n, b))) return 0;
    if (!worth_it(g, s, rows_instead(g, s, n, other), whole_xw_bytes(g, a ? a : n, s))) return 0;
    if (a) {
        /* Only as the partner its first layer chose when it was prepared. */
        const or_rnn_state *sa = a->run ? a->state : NULL;
        if (!sa || sa->pipe_role != 1 || sa->pipe_partner != (int)(n - g->nodes)) return 0;
        if (sa->seq != s->seq || sa->batch != s->batch || sa->hidden != s->input) return 0;
    }
    *partner = (int)(other - g->nodes);
    return a ? 2 : 1;
}

int64_t or_rnn_pipe_handover(int64_t batch) {
    return chunk_of(batch);
}

int64_t or_rnn_pipe_xw_steps(const or_rnn_state *s) {
    int64_t all = s->seq > 0 ? s->seq : 1, ring;
    if (s->pipe_role != 2 || __builtin_mul_overflow(s->pipe_chunk, (int64_t)PIPE_RING, &ring))
        return all;
    return ring < all ? ring : all;
}

/* ---- run ---- */

typedef struct pipe_job {
    or_graph *g;
    or_node *b;
    or_rnn_state *sa, *sb;
    int64_t chunk;                      /* steps per chunk */
    double share_a;                     /* of each chunk's rows of B's X·Wᵀ, thread 0's part */
    int64_t ring;                       /* chunks B's xw holds (it wraps around) */
    _Alignas(64) atomic_llong a_steps;  /* A's steps done (its Y rows written) */
    _Alignas(64) atomic_llong a_chunks; /* chunks whose thread-0 rows of B's X·Wᵀ are done */
    _Alignas(64) atomic_llong b_chunks; /* chunks B has run (their xw slots free again) */
} pipe_job;

static void wait_for(atomic_llong *counter, long long want) {
    for (int spins = 0; atomic_load_explicit(counter, memory_order_acquire) < want; spins++)
        if (spins > WAIT_SPINS) sched_yield();
}

/* Iterations [c * chunk, *k1) of chunk c (both layers have max_len steps). */
static int64_t chunk_end(const pipe_job *j, int64_t c) {
    int64_t k1 = (c + 1) * j->chunk;
    return k1 < j->sb->max_len ? k1 : j->sb->max_len;
}

/* One thread's part of B's X·Wᵀ for the chunk's iterations [k0, k1): its
 * rows split at share_a, the first part thread 0's. */
static void chunk_input(const pipe_job *j, int64_t k0, int64_t k1, bool first_part) {
    const int64_t B = j->sb->batch, rows = (k1 - k0) * B;
    int64_t cut = k0 * B + (int64_t)llround(j->share_a * (double)rows);
    int64_t r0 = first_part ? k0 * B : cut, r1 = first_part ? cut : k1 * B;
    or_rnn_input_rows(j->g, j->b, r0, r1 - r0);
}

/* Chunk c of A, then thread 0's part of B's X·Wᵀ for it (once B has
 * freed the chunk's slot of the ring). */
static void first_chunk(pipe_job *j, int64_t c) {
    int64_t k0 = c * j->chunk, k1 = chunk_end(j, c);
    for (int64_t k = k0; k < k1; k++) or_rnn_team_step(j->sa, k);
    atomic_store_explicit(&j->a_steps, k1, memory_order_release);
    wait_for(&j->b_chunks, c - j->ring + 1);
    chunk_input(j, k0, k1, true);
    atomic_store_explicit(&j->a_chunks, c + 1, memory_order_release);
}

/* Thread 1's part of B's X·Wᵀ for chunk c, then B's steps. */
static void second_chunk(pipe_job *j, int64_t c) {
    int64_t k0 = c * j->chunk, k1 = chunk_end(j, c);
    wait_for(&j->a_steps, k1);
    chunk_input(j, k0, k1, false);
    wait_for(&j->a_chunks, c + 1);
    for (int64_t k = k0; k < k1; k++) or_rnn_team_step(j->sb, k);
    atomic_store_explicit(&j->b_chunks, c + 1, memory_order_release);
}

static void pipe_thread(void *ctx, int member, int members) {
    pipe_job *j = ctx;
    for (int64_t c = 0; c * j->chunk < j->sa->max_len; c++) {
        if (members == 1 || member == 0) first_chunk(j, c); /* a pool of one: both, in turn */
        if (members == 1 || member == 1) second_chunk(j, c);
    }
}

/* Thread 0's share of B's input product per row, so that both threads do
 * the same multiply-adds per step: A's step product on thread 0, B's on
 * thread 1, B's input product split. */
static double first_share(const or_rnn_state *sa, const or_rnn_state *sb) {
    double a_step = (double)sa->gh * (double)sa->hidden;
    double b_step = (double)sb->gh * (double)sb->hidden, b_in = (double)sb->gh * (double)sb->input;
    if (b_in <= 0) return 0;
    double share = (b_step + b_in - a_step) / (2 * b_in);
    return share < 0 ? 0 : share > 1 ? 1 : share;
}

int or_rnn_pipe_run(or_graph *g, or_node *first, or_node *second) {
    int status = or_rnn_run_begin(g, first);
    if (!status) status = or_rnn_run_begin(g, second);
    if (status) return status;
    pipe_job j = {.g = g, .b = second, .sa = first->state, .sb = second->state};
    j.chunk = j.sb->pipe_chunk;
    /* B's xw: PIPE_RING chunks (or_rnn_pipe_xw_steps), or every step. */
    j.ring = j.sb->chunk < j.sb->seq ? j.sb->chunk / j.chunk : INT64_MAX / 2;
    j.share_a = first_share(j.sa, j.sb);
    atomic_store(&j.a_steps, 0);
    atomic_store(&j.a_chunks, 0);
    atomic_store(&j.b_chunks, 0);
    if (!j.sa->fold) or_rnn_input_all(g, first);
    or_rnn_team_begin(j.sa);
    or_rnn_team_begin(j.sb);
    or_threadpool_team(g->pool, 2, pipe_thread, &j);
    or_rnn_team_end(j.sa);
    or_rnn_team_end(j.sb);
    or_rnn_run_end(g, first);
    or_rnn_run_end(g, second);
    return ONNXRUN_OK;
}
