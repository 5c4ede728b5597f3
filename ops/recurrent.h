/* What RNN, GRU and LSTM share: attribute and input validation, the
 * activation table, weight packing, scratch planning and the time loop.
 *
 * Execution of one node:
 *   1. Direction by direction, in chunks of steps: X·Wᵀ of the chunk's
 *      steps, one GEMM into xw (the team engine: every step of every
 *      direction at once).
 *   2. For each iteration k of the chunk: the op's step function runs the
 *      recurrent GEMM(s) H_{t-1}·R_dᵀ for the whole batch, then one gate
 *      kernel per batch row (or_rnn_rows), split across the thread pool.
 *      Row b handles time t = k forward, t = len[b] - 1 - k backwards, so a
 *      reverse pass starts at each sequence's own last step.
 *   3. Y_h / Y_c from the final states.
 *
 * Weights: static W and R (initializers, folded constants) are packed once
 * per plan for the shared GEMM into n->cache; initializers' packs survive
 * re-plans. W/R that are graph inputs are read in place by the unpacked GEMM
 * on every run, so they may change between runs. With g->weight_precision
 * BF16 or INT8 (float ops only), static W and R are packed instead into the
 * reduced-precision panels of kernels/qgemm.h; with FP32 on AVX-512, a
 * large R (or a batch of 3-16, or batch 1 with R in the L3) goes to its float
 * panels (or_rnn_f32_panels).
 * B and P are read on every
 * run (summed biases go to scratch). All scratch is sized and allocated in
 * prepare; run never allocates.
 *
 * sequence_lens follows onnxruntime: Y is zero at steps >= len[b]; Y_h/Y_c
 * hold the state after the last step processed (for the reverse direction,
 * after time step 0); a length of 0 gives zeros in Y_h and Y_c whatever
 * initial_h/initial_c hold; a length outside [0, seq_length] fails the run
 * with ONNXRUN_ERR_INPUT.
 */
#ifndef OR_RECURRENT_H
#define OR_RECURRENT_H

#include "kernels/gemm.h"
#include "kernels/qgemm.h"
#include "kernels/rnn_kernels.h"
#include "op.h"
#include "recurrent_team.h"

#include "../runtime/cpu.h"

typedef enum or_rnn_kind { OR_RNN_SIMPLE, OR_RNN_GRU, OR_RNN_LSTM } or_rnn_kind;

/* Static description of one op. */
typedef struct or_rnn_spec {
    or_rnn_kind kind;
    int gates;                   /* weight blocks per direction: 1, 3, 4 */
    int n_acts;                  /* activations per direction: 1, 2, 3 */
    const char *default_acts[3]; /* per direction */
    int max_inputs, max_outputs; /* 6/2 (RNN, GRU), 8/3 (LSTM) */
} or_rnn_spec;

/* Packed weights kept in n->cache across re-plans (only for static W/R). */
typedef struct or_rnn_cache or_rnn_cache;
typedef struct or_rnn_fold or_rnn_fold;

typedef struct or_rnn_state {
    const or_rnn_spec *spec;
    int dtype;  /* OR_FLOAT or OR_DOUBLE */
    size_t esz; /* element size */
    int64_t seq, batch, input, hidden, dirs;
    int64_t gh;               /* gates * hidden: one direction's pre-activation width */
    int layout;               /* 0: [seq, batch, ...], 1: [batch, seq, ...] */
    bool reverse;             /* direction "reverse": direction 0 runs backwards */
    bool input_forget;        /* LSTM */
    bool linear_before_reset; /* GRU */
    double clip;              /* +inf when absent */
    or_rnn_act act[2][3];     /* per direction: f, g, h */
    or_isa isa;               /* SIMD variant, or scalar for other activations */
    union {
        struct {
            or_f32_rnn_gates_fn rnn;
            or_f32_lstm_gates_fn lstm;
            or_f32_gru_reset_fn gru_reset;
            or_f32_gru_gates_fn gru;
        } f32;
        struct {
            or_f64_rnn_gates_fn rnn;
            or_f64_lstm_gates_fn lstm;
            or_f64_gru_reset_fn gru_reset;
            or_f64_gru_gates_fn gru;
        } f64;
    } k;
    /* Pipelined layers (recurrent_pipe.c): 0 none, 1 the first layer, whose
     * run also runs pipe_partner's, 2 the second (pipe_partner: the first). */
    int pipe_role, pipe_partner;
    int64_t pipe_chunk;  /* steps per hand-over, as planned (or_rnn_pipe_handover) */
    or_rnn_cache *cache; /* == n->cache, NULL when nothing was packed */
    or_rnn_team *team;   /* the fused engine's scratch when the cache has its pack */
    int team_plan;       /* its plan (or_rnn_team_members, OR_RNN_TEAM_PIPE_PLAN) on that
                            pack; while packing, the plan wanted */

    /* Scratch: n->scratch (an arena slot alive while the node runs, sized in
     * prepare), cut into these at the start of each run. */
    size_t parts[9];     /* byte size of each region below, in order (qwork last) */
    unsigned char *xw;   /* X·Wᵀ of a chunk of iterations: [xw_dirs][chunk][batch][gh]
                            (see or_rnn_input_chunk) */
    int64_t chunk;       /* iterations per chunk of xw */
    int xw_dirs;         /* chunk buffers: dirs with the team engine by direction (both
                            at once) or over one chunk (computed up front), else 1 */
    unsigned char *rg;   /* [batch, gh] H_{t-1}·R_dᵀ (GRU: z r parts, then h) */
    unsigned char *rh;   /* [batch, hidden] GRU without linear_before_reset: r ⊙ H_{t-1} */
    unsigned char *h;    /* [dirs, batch, hidden] hidden state */
    unsigned char *c;    /* [dirs, batch, hidden] LSTM cell state */
    unsigned char *bias; /* [dirs, gh] summed biases, layout in rnn_kernels.h */
    unsigned char *rbh;  /* [dirs, hidden] GRU with linear_before_reset: Rbh */
    int32_t *lens;       /* [batch] effective sequence lengths */
    void *qwork;         /* reduced-precision weights: converted activations */

    /* Set at the start of each run. */
    const struct or_rnn_fold *fold; /* X·Wᵀ from the cache's tables (recurrent_fold.c), or NULL */
    const void *fold_idx;           /* the fold's indices tensor data */
    int32_t max_len;
    bool lens_equal;  /* every row runs max_len iterations */
    unsigned char *y; /* Y output or NULL */
    or_rnn_cell_f32 cell32[2];
    or_rnn_cell_f64 cell64[2];
} or_rnn_state;

/* Validates the node against spec and fills a new state (common attributes,
 * shapes, dtypes, output shapes). On success *out owns it; the op then reads
 * its own attributes/inputs and calls or_rnn_finish. */
int or_rnn_setup(or_graph *g, or_node *n, const or_rnn_spec *spec, or_rnn_state **out);

/* Whether float R (precision FP32) is read through the float panels of
 * kernels/qgemm.h rather than the blocked GEMM (AVX-512 only; measured in
 * recurrent.c). */
bool or_rnn_f32_panels(const or_rnn_state *s, int precision);
/* The qgemm.h kind of R's pack under a weight precision (ONNXRUN_PRECISION_*). */
or_qkind or_rnn_precision_kind(int precision);
/* Bytes of one direction's R packed as kind. */
double or_rnn_r_bytes(const or_rnn_state *s, or_qkind kind);

/* Where one direction's R, packed as kind, is read from on each step: its
 * packs are marked so (gemm.h's or_pack_source; qgemm.h's streamed for
 * OR_PACK_MEMORY; measured in recurrent.c). */
or_pack_source or_rnn_r_source(const or_rnn_state *s, or_qkind kind);

/* Whether one direction's R, packed as kind and read from src on each step,
 * goes on huge pages (alloc.h's or_huge_page_alloc; measured in recurrent.c). */
bool or_rnn_r_huge_pages(const or_rnn_state *s, or_qkind kind, or_pack_source src);
/* Whether a pack of R (or a team member's slice of it) of this many bytes
 * goes on huge pages for the TLB's sake: OR_RNN_HUGE_R_TLB_BYTES or more,
 * unless ONNXRUN_HUGE_R says otherwise. */
#define OR_RNN_HUGE_R_TLB_BYTES ((size_t)8 << 20)
bool or_rnn_huge_for_tlb(double bytes);

/* How many identical copies of one direction's float R the batch-1 steps
 * take turns reading (gemm.h's or_packed_b_replicate; 1: none), for R packed
 * as kind and read from src; measured in recurrent.c. or_rnn_r_copies_on
 * decides as on a core of l2_bytes of L2 (or_rnn_r_copies: this CPU's), and
 * or_rnn_r_copies_for is its size rule alone, for R of r_bytes. */
int or_rnn_r_copies(const or_rnn_state *s, or_qkind kind, or_pack_source src);
int or_rnn_r_copies_on(const or_rnn_state *s, or_qkind kind, or_pack_source src, size_t l2_bytes);
int or_rnn_r_copies_for(double r_bytes, size_t l2_bytes);

/* Whether one-row products read one direction's float panels of R (packed as
 * kind, read from src) one panel at a time (or_qmat.one_stream; measured in
 * recurrent.c); or_rnn_r_one_stream_on decides as with l3_bytes of L3. */
bool or_rnn_r_one_stream(const or_rnn_state *s, or_qkind kind, or_pack_source src);
bool or_rnn_r_one_stream_on(const or_rnn_state *s, or_qkind kind, or_pack_source src,
                            size_t l3_bytes);

/* Marks R's pack, whichever of the two forms exists (the other NULL). */
static inline void or_rnn_mark_source(or_packed_b *pb, or_qmat *q, or_pack_source src,
                                      bool one_stream) {
    if (pb) or_packed_b_set_source(pb, src);
    if (q) {
        q->streamed = src == OR_PACK_MEMORY;
        q->one_stream = one_stream;
    }
}

/* Frees a state that or_rnn_finish did not take. */
void or_rnn_free(or_rnn_state *s);

/* Picks kernels, packs static weights, allocates scratch, installs n->state
 * and n->run. Frees s on failure. */
int or_rnn_finish(or_graph *g, or_node *n, or_rnn_state *s, or_run_fn run);

/* Fails naming the node, with ERR_INPUT when t is a graph input. */
int or_rnn_shape_fail(or_graph *g, const or_node *n, const or_tensor *t, const char *what, int rank,
                      const int64_t *want);

/* One step of one direction: the recurrent GEMM(s), then or_rnn_rows. */
typedef void (*or_rnn_step_fn)(or_graph *g, or_node *n, or_rnn_state *s, int d, int64_t k);
/* The common run: lengths, biases, input GEMM, states, time loop, Y_h/Y_c. */
int or_rnn_run(or_graph *g, or_node *n, or_rnn_step_fn step);
/* or_rnn_run without its time loop: begin (scratch, lengths, fold indices,
 * biases, cells, initial states), then end (zeros past the lengths, Y_h,
 * Y_c). */
int or_rnn_run_begin(or_graph *g, or_node *n);
void or_rnn_run_end(or_graph *g, or_node *n);
/* Which part of a chunk's input product to compute: rows split `parts`
 * ways, this the index-th (by batch row where rows are strided, or into
 * own_xw, where the part owns those batch rows), and the
 * columns [col0, col0 + ncols) of [0, gh) (or_rnn_input_cols_ok); work:
 * reduced-precision W's activation buffer for the part's rows (NULL:
 * s->qwork). */
typedef struct or_rnn_part {
    int index, parts;
    void *own_xw; /* or the part's batch rows, into this [chunk][rows][gh] */
    int64_t col0, ncols;
    void *work;
} or_rnn_part;
/* The whole of it. */
static inline or_rnn_part or_rnn_part_all(const or_rnn_state *s) {
    return (or_rnn_part){.index = 0, .parts = 1, .col0 = 0, .ncols = s->gh, .work = NULL};
}
/* Part `part` of direction d's X·Wᵀ for the chunk of iterations starting
 * at k0 (a multiple of s->chunk), into that direction's chunk buffer of xw
 * (or_rnn_xw_at), on pool (NULL: the calling thread). Not with s->fold. */
void or_rnn_input_chunk(or_graph *g, const or_node *n, int d, int64_t k0, const or_rnn_part *part,
                        or_threadpool *pool);
/* Whether columns [col0, col0 + ncols) of the input product can be computed
 * alone: all of them, or float W read in place, or packed for the blocked
 * GEMM with col0 on a panel edge (not reduced-precision W, which would
 * convert X once per part). */
bool or_rnn_input_cols_ok(const or_rnn_state *s, int64_t col0, int64_t ncols);
/* Bytes of that work for a part of up to `rows` rows (0: none needed). */
size_t or_rnn_input_work_size(const or_rnn_state *s, int64_t rows);
/* Whether s's team engine computes X·Wᵀ up front on the pool, every
 * direction's whole sequence, rather than in input phases: splitting units
 * over a sequence of one chunk. The members' input phases, rows split
 * between them, took 1.017 (LSTM hidden 1024) and 1.026 (2-layer LSTM
 * hidden 512) of its time at batch 1, two threads (6 alternating process
 * pairs, pair medians). */
bool or_rnn_xw_up_front(const or_rnn_state *s);
/* Iterations per chunk of xw for s's plan (its cache and pipe role): under
 * the current memory context's cap (alloc.h), the team engine's chunks are
 * the step-by-step path's; ONNXRUN_RNN_CHUNK forces any size (tests). */
int64_t or_rnn_chunk_steps(const or_rnn_state *s);
/* A pipelined layer's (one forward direction, layout 0, every row max_len
 * long, so xw's rows are X's, wrapping around every s->chunk steps): the
 * X·Wᵀ of every step on the pool (the first layer, whose xw holds the whole
 * sequence), or X rows [row0, row0 + rows) of it on the calling thread (the
 * second; the rows must not wrap). */
void or_rnn_input_all(or_graph *g, const or_node *n);
void or_rnn_input_rows(or_graph *g, const or_node *n, int64_t row0, int64_t rows);

/* ---- pipelined layers (recurrent_pipe.c) ---- */

/* The team engine's X·Wᵀ buffer (per direction running at once) at most:
 * the whole sequence up to this size, chunks past it. */
#define OR_RNN_TEAM_XW_BYTES (2u << 20)
/* The first layer of a pipelined pair keeps its X·Wᵀ for the whole
 * sequence, computed up front on both threads (computing it on its own
 * thread, 8 hand-overs at a time, took 1.06 of the time: LSTM hidden 512, 2
 * layers, batch 16, 8 alternating process pairs); pairs need it within
 * this. */
#define OR_RNN_PIPE_XW_BYTES (16u << 20)

/* The team plan of both nodes of a pipelined pair: one member owning every
 * unit (the by-direction plan of one direction). */
#define OR_RNN_TEAM_PIPE_PLAN (1 | OR_RNN_TEAM_BY_DIR)
/* n's part in a pipelined pair (see or_rnn_state.pipe_role), its partner's
 * index in *partner. Called while preparing n, after its shapes. */
int or_rnn_pipe_role(or_graph *g, const or_node *n, const or_rnn_state *s, int *partner);
/* Steps per hand-over between the layers of a pair at this batch
 * (ONNXRUN_RNN_CHUNK forces any). */
int64_t or_rnn_pipe_handover(int64_t batch);
/* Steps of xw of a layer with a pipe role (s->pipe_chunk set): the whole
 * sequence (the first layer) or a ring of hand-overs (the second). */
int64_t or_rnn_pipe_xw_steps(const or_rnn_state *s);
/* Runs first and its partner second (run_by == first's index) together. */
int or_rnn_pipe_run(or_graph *g, or_node *first, or_node *second);

/* Gate kernel for row b of direction d: xw is the row's X_t·Wᵀ slice of this
 * direction, y its Y slot (NULL when Y is absent or the pass writes no Y). */
typedef void (*or_rnn_row_fn)(or_rnn_state *s, int d, int64_t b, const void *xw, void *y);
/* Runs row over the batch rows active at iteration k (in parallel); with
 * zero_y, rows past their length get zeros in Y at time k. */
void or_rnn_rows(or_graph *g, or_rnn_state *s, int d, int64_t k, or_rnn_row_fn row, bool zero_y);

/* C[batch, nrows] (row stride gh) = A[batch, hidden] · R_d[r0 : r0 + nrows]ᵀ
 * for iteration k. block names the packed slice: 0 for rows from 0, 1 for
 * GRU's h rows. */
void or_rnn_gemm_r(or_graph *g, or_node *n, or_rnn_state *s, int d, int64_t k, int block,
                   int64_t r0, int64_t nrows, const void *A, void *C);

/* ---- embedding folding (recurrent_fold.c) ---- */

/* X·W_dᵀ as rows of a table E·W_dᵀ when X is an embedding lookup. */
struct or_rnn_fold {
    int indices;       /* the Gather's indices (a graph input); -1: no fold */
    bool transposed;   /* X = Transpose(Gather(...), perm [1, 0, 2]) */
    bool idx32;        /* indices are int32 (else int64) */
    int64_t vocab;     /* rows of E */
    const void *e_src; /* E's data (an initializer) */
    void *table[2];    /* [vocab, gh] per direction: E·W_dᵀ */
};

/* Whether the prepared node n reads X·Wᵀ from fold tables (tests). */
bool or_rnn_folds(const or_node *n);
/* How many copies of direction 0's R pack the prepared node n's steps take
 * turns reading (or_rnn_r_copies; 1: the pack alone; 0: R is not packed for
 * the blocked GEMM) (tests). */
int or_rnn_r_copy_count(const or_node *n);
/* The or_qkind direction 0's W is packed as in the prepared node n, 0 for
 * the float GEMM's pack or none (tests). */
int or_rnn_w_kind(const or_node *n);
/* Whether direction 0's fp32 R in the prepared node n is packed as float
 * panels (or_rnn_f32_panels) (tests). */
bool or_rnn_r_float_panels(const or_node *n);
/* Whether direction 0's float panels of R in the prepared node n are read one
 * panel at a time by one-row products (or_rnn_r_one_stream) (tests). */
bool or_rnn_r_reads_one_stream(const or_node *n);
/* Whether the prepared node n's odd steps sweep R back (tests). */
bool or_rnn_r_sweeps_back(const or_node *n);
/* Whether node n's X is such a lookup that may be folded (f filled, no
 * tables yet); ONNXRUN_RNN_FOLD=0 turns folding off. */
bool or_rnn_fold_find(or_graph *g, const or_node *n, const or_rnn_state *s, or_rnn_fold *f);
/* Same lookup (before tables). */
bool or_rnn_fold_same(const or_rnn_fold *a, const or_rnn_fold *b);
/* table[d] = E·W_dᵀ from W_d [gh, input]; false when memory ran out. */
bool or_rnn_fold_build(or_rnn_fold *f, const or_rnn_state *s, int d, const void *wd);
void or_rnn_fold_free(or_rnn_fold *f);
/* Run time: fails (ERR_INPUT) on an index outside [-vocab, vocab). */
int or_rnn_fold_check(or_graph *g, const or_node *n, const or_rnn_fold *f);
/* Asks for the table rows of iteration k of direction d for batch rows
 * [b0, b1) that are still running (the step-by-step path; the team engine
 * copies its slices out and gained nothing from prefetching them). */
void or_rnn_fold_prefetch(const or_rnn_state *s, int d, int64_t k, int64_t b0, int64_t b1);

/* ---- indexing shared by the step-by-step path and the team engine ---- */

/* Direction d runs backwards (iteration k is time len - 1 - k). */
static inline bool or_rnn_reversed(const or_rnn_state *s, int d) {
    return d == 1 || s->reverse;
}

/* Time of batch row b at iteration k of direction d, or -1 when the row is
 * past its length. */
static inline int64_t or_rnn_row_time(const or_rnn_state *s, int d, int64_t k, int64_t b) {
    int64_t len = s->lens[b];
    if (k >= len) return -1;
    return or_rnn_reversed(s, d) ? len - 1 - k : k;
}

/* Row of X holding time t of sequence b. */
static inline int64_t or_rnn_x_row(const or_rnn_state *s, int64_t t, int64_t b) {
    return s->layout ? b * s->seq + t : t * s->batch + b;
}

/* Element offset of Y[t, d, b, :] (layout 0) or Y[b, t, d, :] (layout 1). */
static inline int64_t or_rnn_y_off(const or_rnn_state *s, int64_t t, int d, int64_t b) {
    int64_t row = s->layout ? (b * s->seq + t) * s->dirs + d : (t * s->dirs + d) * s->batch + b;
    return row * s->hidden;
}

/* With s->fold: X_t·W_dᵀ of sequence b, read in place from the table (the
 * indices were checked at the start of the run). The Transpose's input,
 * the Gather's output, is X with its first two dims swapped. */
static inline const unsigned char *or_rnn_fold_xw(const or_rnn_state *s, int d, int64_t t,
                                                  int64_t b) {
    const or_rnn_fold *f = s->fold;
    int64_t x0 = s->layout ? s->batch : s->seq, x1 = s->layout ? s->seq : s->batch;
    int64_t r = or_rnn_x_row(s, t, b), at = f->transposed ? (r % x1) * x0 + r / x1 : r;
    int64_t v = f->idx32 ? ((const int32_t *)s->fold_idx)[at] : ((const int64_t *)s->fold_idx)[at];
    if (v < 0) v += f->vocab;
    return (const unsigned char *)f->table[d] + (size_t)(v * s->gh) * s->esz;
}

/* Where row b's X·Wᵀ for iteration k sits among its steps of k's chunk
 * (stored in time order; see or_rnn_input_chunk). */
static inline int64_t or_rnn_xw_local(const or_rnn_state *s, int d, int64_t k, int64_t b) {
    int64_t k0 = k / s->chunk * s->chunk,
            kb = s->lens[b] < k0 + s->chunk ? s->lens[b] : k0 + s->chunk;
    return or_rnn_reversed(s, d) ? kb - 1 - k : k - k0;
}

/* X_t·W_dᵀ of sequence b at iteration k (its time t): a row of the fold's
 * table, or of direction d's chunk buffer, which holds iterations [k0, k0 +
 * chunk) with row b's stored in time order (or_rnn_input_chunk). */
static inline const unsigned char *or_rnn_xw_at(const or_rnn_state *s, int d, int64_t k, int64_t b,
                                                int64_t t) {
    if (s->fold) return or_rnn_fold_xw(s, d, t, b);
    int64_t local = or_rnn_xw_local(s, d, k, b);
    int64_t buf = s->xw_dirs > 1 ? d : 0;
    return s->xw + (size_t)(((buf * s->chunk + local) * s->batch + b) * s->gh) * s->esz;
}

/* Element offsets into the scratch buffers. */
static inline int64_t or_rnn_state_off(const or_rnn_state *s, int d, int64_t b) {
    return ((int64_t)d * s->batch + b) * s->hidden;
}

#endif
