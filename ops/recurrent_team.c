/* The fused, persistent-team recurrent engine (see recurrent_team.h) for
 * float RNN, GRU and LSTM: packing of each member's R rows, per-plan
 * scratch, and the team job that runs the time loop. */
#include "recurrent_team.h"

#include "../runtime/alloc.h"
#include "../runtime/env.h"
#include "../runtime/threadpool.h"
#include "recurrent.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 64
#define UNIT_BLOCK 16 /* slice boundaries: whole 16-row panels per gate */
#define MAX_MEMBERS 64

/* Rows [b0, b0 + nb) of member m by rows: as even as possible. */
static void rows_of(int64_t batch, int members, int m, int64_t *b0, int64_t *nb) {
    *b0 = batch * m / members;
    *nb = batch * (m + 1) / members - *b0;
}

/* Units [u0, u0 + ns) of member m: blocks of 16 split as evenly as possible. */
static void slice_of(int64_t hidden, int members, int m, int64_t *u0, int64_t *ns) {
    int64_t blocks = (hidden + UNIT_BLOCK - 1) / UNIT_BLOCK;
    int64_t b0 = blocks * m / members, b1 = blocks * (m + 1) / members;
    int64_t a = b0 * UNIT_BLOCK, b = b1 * UNIT_BLOCK < hidden ? b1 * UNIT_BLOCK : hidden;
    *u0 = a;
    *ns = b > a ? b - a : 0;
}

/* One packed block of rows [N, hidden]: qgemm.h panels (BF16, S8, and float
 * where the panels are faster) or the blocked GEMM's pack (gemm.h). */
typedef struct or_rmat {
    int64_t N;       /* rows */
    or_qmat *q;      /* panels, or NULL */
    or_packed_b *pb; /* the blocked GEMM's Rᵀ, or NULL */
} or_rmat;

struct or_rnn_team_pack {
    int members, dirs;    /* members: slices of R's units per direction */
    bool split;           /* GRU without linear_before_reset: block 1 holds the h rows */
    bool alternate_sweep; /* R outgrows L2: odd steps sweep the rows back (product) */
    /* [dirs][slices][2]: block 0 = gates' rows of the slice (z r only when
     * split), block 1 = h rows when split. */
    or_rmat q[2][MAX_MEMBERS][2];
};

/* ---- when ---- */

/* ONNXRUN_RNN_TEAM: -1 unset, 0 off, 1 forced wherever it can run (two
 * directions on 2+ threads: by direction), 2 forced and splitting units, 3 as
 * 1 with threads taking over each other's parts at once (tests), 4 forced
 * and splitting rows. */
static int team_env(void) {
    return (int)or_env_value(OR_ENV_RNN_TEAM);
}

/* Float on AVX2 or AVX-512; bf16/int8 have kernels for both (qgemm.h). */
static bool simd_isa(void) {
    return or_cpu_isa() == OR_ISA_AVX512 || or_cpu_isa() == OR_ISA_AVX2;
}

/* Bidirectional nodes with at least this many batch rows run by direction on
 * two threads (a step there is compute-bound, and the split's per-step
 * barrier buys nothing). Measured on a 2-core Zen 5, 2 threads, median of 3
 * alternating rounds of `onnxrun --bench`, split units -> by direction (ms):
 * emb_lstm_classifier 2.85 -> 2.35 (AVX2 path: 4.59 -> 3.91),
 * rnn_h256_l2_bi_b16 7.77 -> 6.45 (AVX2: 12.2 -> 10.2), lstm_h256_l3_bi_b16
 * 38.3 -> 34.8; at batch 1 it lost (gru_h512_bi_b1 7.74 -> 7.96; on Zen 1
 * 35.0 -> 63.7). With 3+ threads the split keeps them all busy (unmeasured). */
#define BY_DIR_MIN_BATCH 4

/* One direction on 2+ threads splits the batch rows, a share for each
 * thread, where that share has 6 rows or more (4 with an R of up to 768
 * KiB) and R takes 8 MiB or less (as packed): each member takes its rows
 * through each chunk of steps, with every unit, on its own state and X·Wᵀ;
 * the members meet once a chunk (where a finished thread takes over a late
 * one's part), not at every step, but each reads all of R at every step.
 * Measured on the 2-core Zen 5 VM (its two vCPUs on two L3s: a cache line
 * makes the round trip between them in 460 ns), 2 threads, split units ->
 * split rows, 3-4 alternating process pairs, one-layer models:
 *  - R of 256 KiB-1.7 MiB: 1-2 rows a member, LSTM h128 1.03-1.05; 4 rows,
 *    LSTM h128 0.73, GRU h256 0.88, LSTM h256 1.00, GRU h384 1.015; 6 rows,
 *    LSTM h128 0.66, LSTM h256 0.87, GRU h384 0.88; 8 rows, LSTM h300 0.84,
 *    RNN h512 0.80;
 *  - R of 4 MiB (LSTM h512): 4 rows 1.21, 6 rows 0.95, 8 rows 0.91, 16-32
 *    rows 0.89-0.90;
 *  - R of 6.75 MiB (GRU h768): 8 rows 0.98, 16 rows 0.96; of 12 MiB (GRU
 *    h1024): 8 rows 1.16, 16 rows 1.24.
 * Where both threads' cores share one L3 (or_cpu_l3_shared), measured on a
 * 2-core Zen 3 VM (AVX2, 32 MiB L3 for both) split units -> split rows, 20-40
 * alternating single-run pairs of two live processes, medians of the pair
 * ratios: with R over 768 KiB, 8 rows a member lost (LSTM h256 1.05, LSTM
 * h512 1.03-1.12, 2-layer LSTM h512 1.14-1.18, GRU h768 1.13-1.18), 6 rows
 * tied (LSTM h256 1.01, LSTM h512 0.99, GRU h768 1.02) and 12-16 won (GRU
 * h768 0.96, LSTM h512 0.93); with R of 256 KiB 8 rows still won (LSTM h128
 * 0.82). So there such an R needs 12 rows a member. */
#define BY_ROWS_MIN_ROWS 6
#define BY_ROWS_MIN_ROWS_SHARED_L3 12
#define BY_ROWS_MIN_ROWS_SMALL_R 4
#define BY_ROWS_SMALL_R_BYTES (768u << 10)
#define BY_ROWS_MAX_R_BYTES (8u << 20)

static bool by_rows_pays(const or_graph *g, const or_rnn_state *s, int threads) {
    double r_bytes = or_rnn_r_bytes(s, or_rnn_precision_kind(g->weight_precision));
    int64_t min_rows = r_bytes <= BY_ROWS_SMALL_R_BYTES ? BY_ROWS_MIN_ROWS_SMALL_R
                       : or_cpu_l3_shared()             ? BY_ROWS_MIN_ROWS_SHARED_L3
                                                        : BY_ROWS_MIN_ROWS;
    return threads >= 2 && s->dirs == 1 && s->batch / threads >= min_rows &&
           r_bytes <= BY_ROWS_MAX_R_BYTES;
}

static int pool_threads(const or_graph *g) {
    int threads = or_threadpool_size(g->pool);
    return threads > MAX_MEMBERS ? MAX_MEMBERS : threads;
}

/* Members splitting the units: one per thread, at most one per 16 units. */
static int units_members(const or_graph *g, const or_rnn_state *s) {
    int64_t blocks = (s->hidden + UNIT_BLOCK - 1) / UNIT_BLOCK;
    int threads = pool_threads(g);
    return threads < blocks ? threads : (int)blocks;
}

/* Default: split units whenever the pool has 2+ threads, one direction and
 * two alike. Measured on the 2-core Zen 1 (AVX2), 2 threads, median of 5
 * alternating rounds of `onnxrun --bench`, old path -> split units (ms):
 * lstm_h128_b1 1.41 -> 1.02, gru_h512_bi_b1 39.4 -> 35.0 (by direction:
 * 63.7), lstm_h512_l2_b1 29.7 -> 25.7, rnn_h1024_l2_b1 54.9 -> 50.6,
 * emb_lstm_classifier 33.8 -> 23.9, rnn_h256_l2_bi_b16 91.9 -> 66.5,
 * gru_h1024_b16 211 -> 207, lstm_h512_l2_b16 335 -> 335. An earlier
 * measurement on a Zen 5 found the split losing inside bench/run.sh, whose
 * onnxruntime runs left that engine's workers spinning on the other core;
 * the benchmark now pauses before each engine's turn (bench/bench.js). With
 * one thread the engine would run the same products as the old path. */
int or_rnn_team_members(const or_graph *g, const or_rnn_state *s) {
    int env = team_env();
    if (env == 0 || s->dtype != OR_FLOAT || s->hidden <= 0 || !simd_isa()) return 0;
    int threads = pool_threads(g);
    if (env < 0 && threads < 2) return 0;
    /* Two directions on two threads need no synchronisation at all. */
    bool by_dir = env == 1 || env == 3 || (env < 0 && threads == 2 && s->batch >= BY_DIR_MIN_BATCH);
    if (s->dirs == 2 && threads >= 2 && by_dir) return 2 | OR_RNN_TEAM_BY_DIR;
    if (env == 4 || (env < 0 && by_rows_pays(g, s, threads))) {
        int members = s->batch < threads ? (int)s->batch : threads; /* a row each at least */
        return (members > 1 ? members : 1) | OR_RNN_TEAM_BY_ROWS;
    }
    return units_members(g, s);
}

/* Every plan runs on the pack of split units (split rows, by direction and
 * a pipelined pair's layers with each member reading every slice), so that a
 * re-plan for another batch takes its own plan without R, which the first
 * plan usually hands back (runtime/weights.h).
 * With a pack of their own (all of R in one), a session planned at batch 16
 * ran batch 1 on one of its two threads. Measured on the 2-core Zen 5, 2
 * threads, LSTM input 256 hidden 512, 50 steps, the session's first run at
 * batch 16 and then batch 1: 3.42-3.52 ms a run at batch 1, now 1.18-1.23
 * (first run at batch 1: 1.16-1.31); first at batch 1, then batch 16 (split
 * units before, rows now): 7.24-7.38 -> 7.11-7.20. Split rows on the
 * slices against their own pack (4-8 alternating process pairs, pair
 * medians): LSTM hidden 512 batch 32 1.008, batch 8 1.001, the 2-layer
 * batch 16 of bench/ 0.97, LSTM hidden 128 batch 8, 12 and 16 0.98, 1.009
 * and 1.012. By direction on two slices against one (6 pairs):
 * emb_lstm_classifier 0.98, lstm_h256_l3_bi_b16 0.998, rnn_h256_l2_bi_b16
 * 0.977; bidirectional GRU input 256 hidden 512, 50 steps, first run at batch
 * 1 and then batch 16 (split units before, by direction now): 12.46-12.70
 * -> 10.80-11.45 ms a run. Pipelined pairs on two slices against one (6
 * pairs): LSTM hidden 512 2 layers batch 4 and 8 0.973 and 0.978; a 2-layer
 * LSTM input 256 hidden 512 first run at batch 4 and then batch 1 (paired
 * before, split units now): 3.85-3.90 -> 3.20-3.24 ms a run. */
int or_rnn_team_pack_plan(const or_graph *g, const or_rnn_state *s, int plan) {
    return plan & (OR_RNN_TEAM_BY_ROWS | OR_RNN_TEAM_BY_DIR) ? units_members(g, s) : plan;
}

/* ---- packing ---- */

void or_rnn_team_pack_free(or_rnn_team_pack *p) {
    if (!p) return;
    for (int d = 0; d < 2; d++)
        for (int m = 0; m < MAX_MEMBERS; m++)
            for (int b = 0; b < 2; b++) {
                or_qmat_free(p->q[d][m][b].q);
                or_packed_b_free(p->q[d][m][b].pb);
            }
    or_free(p);
}

/* Gates g0..g1-1 of units [u0, u0 + ns) of R_d, read in place: a block of
 * ns rows per gate, H * H floats apart; row_bytes: one packed row's. Packing a member's rows from a
 * copy of them had kept half of R more resident at load (LSTM hidden 1024, two threads: 39.6 MB
 * peak RSS, now 24.7; one thread 24.1). */
static bool pack_rows(or_rmat *out, or_qkind kind, bool panels, double row_bytes, const float *rd,
                      int64_t H, int g0, int g1, int64_t u0, int64_t ns, or_src_release *rel) {
    or_pack_rows rows = {.base = rd + (size_t)((g0 * H + u0) * H),
                         .esz = sizeof(float),
                         .ldb = H,
                         .block = ns,
                         .block_ld = H * H};
    out->N = (int64_t)(g1 - g0) * ns;
    bool huge = or_rnn_huge_for_tlb((double)out->N * row_bytes);
    if (kind == OR_Q_F32 && !panels)
        return (out->pb = or_sgemm_pack_bt_rows(H, out->N, &rows, huge, rel)) != NULL;
    return (out->q = or_qmat_pack_rows(kind, out->N, H, &rows, 0, huge, rel)) != NULL;
}

or_rnn_team_pack *or_rnn_team_pack_new(const or_rnn_state *s, int plan, or_qkind kind,
                                       const float *r, or_src_release *rel) {
    int slices = plan; /* of R's units per direction: split units' members */
    if (slices < 1 || slices > MAX_MEMBERS || !r) return NULL;
    const int64_t H = s->hidden;
    const int G = s->spec->gates;
    or_rnn_team_pack *p = or_calloc(1, sizeof *p);
    if (!p) return NULL;
    bool panels = kind != OR_Q_F32 || or_rnn_f32_panels(s, ONNXRUN_PRECISION_FP32);
    const double row_bytes = or_rnn_r_bytes(s, kind) / (double)s->gh;
    p->members = slices;
    p->dirs = (int)s->dirs;
    p->split = s->spec->kind == OR_RNN_GRU && !s->linear_before_reset;
    for (int d = 0; d < p->dirs; d++) {
        const float *rd = r + (size_t)(d * s->gh * H);
        for (int m = 0; m < slices; m++) {
            int64_t u0, ns;
            slice_of(H, slices, m, &u0, &ns);
            if (ns == 0) continue;
            if (!pack_rows(&p->q[d][m][0], kind, panels, row_bytes, rd, H, 0, p->split ? 2 : G, u0,
                           ns, rel) ||
                (p->split &&
                 !pack_rows(&p->q[d][m][1], kind, panels, row_bytes, rd, H, 2, 3, u0, ns, rel))) {
                or_rnn_team_pack_free(p);
                return NULL;
            }
        }
    }
    return p;
}

/* Not the one-thread rule (recurrent.c's alternate_sweep): each member reads
 * only its slice, and the 384 KiB slices of a 768 KiB R (2-layer GRU hidden
 * 256, two threads) ran 3% slower alternating. */
void or_rnn_team_pack_mark(or_rnn_team_pack *p, or_pack_source src, bool one_stream) {
    p->alternate_sweep = src != OR_PACK_CACHED;
    for (int d = 0; d < 2; d++)
        for (int m = 0; m < MAX_MEMBERS; m++)
            for (int b = 0; b < 2; b++)
                or_rnn_mark_source(p->q[d][m][b].pb, p->q[d][m][b].q, src, one_stream);
}

bool or_rnn_team_pack_sweeps_back(const or_rnn_team_pack *p) {
    return p->alternate_sweep;
}

/* ---- scratch ---- */

/* Slice j of the pack's units, [u0, u0 + ns), and its cells (biases,
 * peepholes and Rbh of its units; the cells read a row's X·Wᵀ in place,
 * its gates hidden apart). */
typedef struct slice {
    int64_t u0, ns;
    or_rnn_cell_f32 cell[2];
    float *bias; /* [dirs, gates * ns] */
    float *peep; /* [dirs, 3 * ns] (LSTM with P) */
    float *rbh;  /* [dirs, ns] (GRU with linear_before_reset) */
} slice;

/* One member's buffers (floats); each region starts on a cache line. A
 * member runs slices [j0, j1) of the pack (units [u0, u0 + ns)) on batch
 * rows [b0, b0 + nb): one slice and every row splitting units, every slice
 * and its own rows splitting rows, every slice and row by direction. */
typedef struct member {
    int j0, j1;
    int64_t u0, ns;
    int64_t b0, nb;
    float *rg;    /* per slice j, one after another: [nb, parts * ns_j], parts =
                     gates (split GRU: 2, the z r rows) */
    float *rgh;   /* per slice: [nb, ns_j] split GRU: (r ⊙ H)·Rhᵀ */
    float *xw;    /* split rows: [chunk][nb, gh] its rows' X·Wᵀ */
    float *hs[2]; /* split rows: [nb, hidden] its rows' state, double-buffered */
    float *cs;    /* split rows, LSTM: [nb, hidden] its rows' cell state */
    float *rhs;   /* split rows, split GRU: [nb, hidden] r ⊙ H_{t-1} of its rows */
    void *work;   /* activation conversion of the qgemm (BF16/S8) */
} member;

struct or_rnn_team {
    const or_rnn_team_pack *pack;
    int members, slices;
    void *block;
    bool by_dir, by_rows;
    bool fold;      /* X·Wᵀ read from fold tables */
    float *hbuf[2]; /* [batch, hidden] per direction: second half of the double-buffered state */
    float *rh[2];   /* [batch, hidden] per direction, split GRU: r ⊙ H_{t-1} */
    /* Split units, see team_units: members' parts done so far (all phases), and per
     * member 1 + the last phase it was claimed for. */
    bool steal_at_once; /* ONNXRUN_RNN_TEAM=3 */
    /* Split units in chunks: each member's input phase computes its own
     * units' columns (every row) where W's pack allows it, else its share
     * of the rows (every column). */
    bool input_cols;
    _Alignas(64) atomic_llong done;
    _Alignas(64) atomic_llong claim[MAX_MEMBERS];
    /* Per thread: it has entered this run's time loop. A pool worker that was
     * asleep takes a while to wake (measured on a 2-core VM after a 40 ms
     * pause: 1-5 ms for LSTM hidden 128, 0.8 ms back to back); until it
     * arrives its parts are taken over at once, not after STEAL_NS each. */
    _Alignas(64) atomic_int present[MAX_MEMBERS];
    slice sl[MAX_MEMBERS];
    member m[MAX_MEMBERS];
};

void or_rnn_team_free(or_rnn_team *t) {
    if (!t) return;
    or_free(t->block);
    or_free(t);
}

static size_t up(size_t x) {
    return (x + ALIGN - 1) / ALIGN * ALIGN;
}

/* Rows of H_{t-1}·Rᵀ per unit in a member's rg: the z r rows apart from h
 * in split GRU. */
static int64_t rg_parts(const or_rnn_state *s) {
    return s->spec->kind == OR_RNN_GRU && !s->linear_before_reset ? 2 : s->spec->gates;
}

/* Bytes of a slice's cell buffers; also places them when base is not NULL. */
static size_t slice_bytes(const or_rnn_state *s, slice *sl, unsigned char *base) {
    const size_t f = sizeof(float);
    const int64_t D = s->dirs, ns = sl->ns;
    size_t sz[3] = {up(f * (size_t)(D * s->spec->gates * ns)), up(f * (size_t)(D * 3 * ns)),
                    up(f * (size_t)(D * ns))};
    float **dst[3] = {&sl->bias, &sl->peep, &sl->rbh};
    size_t total = 0;
    for (int i = 0; i < 3; i++) {
        if (base) *dst[i] = (float *)(base + total);
        total += sz[i];
    }
    return total;
}

/* Bytes of one member's buffers; also places them when base is not NULL. */
static size_t member_bytes(const or_rnn_state *s, const or_rnn_team *t, member *m,
                           unsigned char *base) {
    const or_rnn_team_pack *p = t->pack;
    const int64_t B = m->nb, ns = m->ns;
    size_t f = sizeof(float), work = 0;
    for (int d = 0; d < s->dirs; d++)
        for (int j = m->j0; j < m->j1; j++)
            for (int b = 0; b < 2; b++) {
                const or_rmat *r = &p->q[d][j][b];
                size_t one = r->q && r->q->kind != OR_Q_F32 ? or_qmat_work_size(r->q, B) : 0;
                if (one > work) work = one;
            }
    /* The member's part of a chunk's input product (or_rnn_input_chunk:
     * every row, its share of them, or a batch row's iterations), unless the
     * product runs up front. */
    if (!or_rnn_xw_up_front(s)) {
        int parts = t->by_dir || t->input_cols ? 1 : t->members;
        int64_t rows = (s->chunk * s->batch + parts - 1) / parts;
        size_t in = or_rnn_input_work_size(s, rows > s->chunk ? rows : s->chunk);
        if (in > work) work = in;
    }
    const bool rows = t->by_rows, lstm = s->spec->kind == OR_RNN_LSTM;
    const bool split = s->spec->kind == OR_RNN_GRU && !s->linear_before_reset;
    const size_t state = rows ? f * (size_t)(B * s->hidden) : 0;
    size_t xw = rows && !t->fold ? f * (size_t)(s->chunk * B * s->gh) : 0;
    size_t sz[8] = {up(f * (size_t)(B * rg_parts(s) * ns)),
                    up(f * (size_t)(B * ns)),
                    up(xw),
                    up(state),
                    up(state),
                    up(lstm ? state : 0),
                    up(split ? state : 0),
                    up(work)};
    float **dst[7] = {&m->rg, &m->rgh, &m->xw, &m->hs[0], &m->hs[1], &m->cs, &m->rhs};
    size_t total = 0;
    for (int i = 0; i < 8; i++) {
        if (base && i < 7) *dst[i] = sz[i] ? (float *)(base + total) : NULL;
        if (base && i == 7) m->work = sz[7] ? base + total : NULL;
        total += sz[i];
    }
    return total;
}

/* Member i's slices, units and rows under the team's plan. */
static void place_member(const or_rnn_state *s, or_rnn_team *t, int i) {
    member *m = &t->m[i];
    bool units = !t->by_dir && !t->by_rows;
    m->j0 = units ? i : 0;
    m->j1 = units ? i + 1 : t->slices;
    m->u0 = t->sl[m->j0].u0;
    m->ns = t->sl[m->j1 - 1].u0 + t->sl[m->j1 - 1].ns - m->u0;
    if (t->by_rows)
        rows_of(s->batch, t->members, i, &m->b0, &m->nb);
    else
        m->b0 = 0, m->nb = s->batch;
}

/* The plan (s->team_plan) decides how members split the work; the pack
 * only how R's units are sliced. */
int or_rnn_team_setup(or_graph *g, or_node *n, or_rnn_state *s, const or_rnn_team_pack *pack) {
    /* Sizes are bounded by the node's tensors and the scratch recurrent.c
     * already sized (overflow-checked), so these cannot overflow. */
    /* Its counters are cache-line aligned (_Alignas(64)), so calloc's 16 will not do. */
    or_rnn_team *t = or_aligned_alloc(ALIGN, sizeof *t);
    if (!t) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    memset(t, 0, sizeof *t);
    t->pack = pack;
    t->by_dir = (s->team_plan & OR_RNN_TEAM_BY_DIR) != 0;
    t->by_rows = !t->by_dir && (s->team_plan & OR_RNN_TEAM_BY_ROWS);
    t->fold = or_rnn_folds(n);
    t->steal_at_once = team_env() == 3;
    t->slices = pack->members;
    int rows_members = s->team_plan & OR_RNN_TEAM_MEMBERS;
    t->members = t->by_dir ? (int)s->dirs : t->by_rows ? rows_members : pack->members;
    if (t->members < 1 || t->members > MAX_MEMBERS) t->members = 1;
    /* the double-buffered state and r ⊙ H of every row, but where members split the rows */
    size_t shared = t->by_rows ? 0 : up(sizeof(float) * (size_t)(s->batch * s->hidden));
    size_t total = 4 * shared;
    for (int j = 0; j < t->slices; j++) {
        slice_of(s->hidden, t->slices, j, &t->sl[j].u0, &t->sl[j].ns);
        total += slice_bytes(s, &t->sl[j], NULL);
    }
    t->input_cols = !t->by_dir && !t->by_rows && t->members > 1;
    for (int i = 0; i < t->members; i++) {
        place_member(s, t, i);
        for (int64_t gate = 0; gate < s->spec->gates; gate++)
            if (!or_rnn_input_cols_ok(s, gate * s->hidden + t->m[i].u0, t->m[i].ns))
                t->input_cols = false;
    }
    for (int i = 0; i < t->members; i++) total += member_bytes(s, t, &t->m[i], NULL);
    t->block = or_aligned_alloc(ALIGN, total);
    if (!t->block) {
        or_free(t);
        return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory: scratch needs %zu bytes",
                            total);
    }
    memset(t->block, 0, total);
    unsigned char *p = t->block;
    for (int d = 0; d < 2; d++) {
        t->hbuf[d] = (float *)(p + 2 * d * shared);
        t->rh[d] = (float *)(p + (2 * d + 1) * shared);
    }
    p += 4 * shared;
    for (int j = 0; j < t->slices; j++) p += slice_bytes(s, &t->sl[j], p);
    for (int i = 0; i < t->members; i++) p += member_bytes(s, t, &t->m[i], p);
    s->team = t;
    return ONNXRUN_OK;
}

bool or_rnn_team_splits_rows(const or_rnn_state *s) {
    return s->team && s->team->by_rows;
}

bool or_rnn_team_input_by_columns(const or_rnn_state *s) {
    return s->team && s->team->input_cols;
}

/* ---- run ---- */

/* A slice's cells: biases, peepholes and Rbh of its units. */
static void slice_cells(const or_rnn_state *s, slice *sl) {
    const int64_t G = s->spec->gates, H = s->hidden, ns = sl->ns, u0 = sl->u0;
    for (int d = 0; d < s->dirs; d++) {
        const or_rnn_cell_f32 *full = &s->cell32[d];
        or_rnn_cell_f32 *c = &sl->cell[d];
        *c = *full;
        c->hidden = ns;
        c->xw_gate = H;
        c->bias = sl->bias + d * G * ns;
        for (int64_t gate = 0; gate < G; gate++)
            memcpy(sl->bias + (d * G + gate) * ns, full->bias + gate * H + u0,
                   sizeof(float) * (size_t)ns);
        if (full->peep) {
            c->peep = sl->peep + d * 3 * ns;
            for (int64_t gate = 0; gate < 3; gate++)
                memcpy(sl->peep + (d * 3 + gate) * ns, full->peep + gate * H + u0,
                       sizeof(float) * (size_t)ns);
        }
        if (full->rbh) {
            c->rbh = sl->rbh + d * ns;
            memcpy(sl->rbh + d * ns, full->rbh + u0, sizeof(float) * (size_t)ns);
        }
    }
}

typedef struct team_ctx {
    or_graph *g;
    const or_node *n;
    or_rnn_state *s;
    or_rnn_team *t;
} team_ctx;

/* Row b's X_t·Wᵀ [gh], every unit: from the member's own chunk buffer where
 * it has its rows' (its steps of row b in time order, as or_rnn_xw_at's),
 * else where or_rnn_xw_at has it. */
static const float *row_xw(const or_rnn_state *s, const member *m, int d, int64_t k, int64_t b,
                           int64_t t) {
    if (s->team->by_rows && !s->fold)
        return m->xw + (or_rnn_xw_local(s, d, k, b) * m->nb + b - m->b0) * s->gh;
    return (const float *)or_rnn_xw_at(s, d, k, b, t);
}

/* The member's view of direction d's state: hp (H_{t-1}), hn (H_t), c
 * and rh (split GRU) start at its first row, b0. */
typedef struct rows_state {
    const float *hp;
    float *hn, *c, *rh;
} rows_state;

/* Where slice sl's H_{t-1}·Rᵀ of row i of member m starts in m->rg. */
static float *slice_rg(const or_rnn_state *s, const member *m, const slice *sl, int64_t i) {
    const int64_t parts = rg_parts(s);
    return m->rg + m->nb * parts * (sl->u0 - m->u0) + i * parts * sl->ns;
}

/* The gate kernel on slice sl of the member's row i, whose X_t·Wᵀ (every
 * unit) is xw and Y row y (or NULL): H_t into st->hn. */
static void slice_gates(const or_rnn_state *s, const member *m, const slice *sl, int d,
                        const rows_state *st, int64_t i, const float *xw, float *y) {
    const int64_t H = s->hidden, ns = sl->ns, u0 = sl->u0;
    const or_rnn_cell_f32 *cell = &sl->cell[d];
    float *h = st->hn + i * H + u0, *rg = slice_rg(s, m, sl, i);
    memcpy(h, st->hp + i * H + u0, sizeof(float) * (size_t)ns);
    switch (s->spec->kind) {
    case OR_RNN_SIMPLE:
        s->k.f32.rnn(cell, rg, xw + u0, h, y);
        break;
    case OR_RNN_LSTM:
        s->k.f32.lstm(cell, rg, xw + u0, st->c + i * H + u0, h, y);
        break;
    case OR_RNN_GRU:
        if (s->linear_before_reset)
            s->k.f32.gru(cell, rg, rg + 2 * ns, xw + u0, h, y);
        else
            s->k.f32.gru(cell, rg, m->rgh + m->nb * (u0 - m->u0) + i * ns, xw + u0, h, y);
        break;
    }
}

/* The gate kernel on the member's units of its rows: H_t into st->hn. */
static void gates(const or_rnn_state *s, const or_rnn_team *t, const member *m, int d, int64_t k,
                  const rows_state *st) {
    const int64_t H = s->hidden;
    for (int64_t b = m->b0; b < m->b0 + m->nb; b++) {
        const int64_t i = b - m->b0; /* the row in the member's buffers */
        int64_t time = or_rnn_row_time(s, d, k, b);
        float *y = NULL;
        if (s->y) y = (float *)s->y + or_rnn_y_off(s, time < 0 ? k : time, d, b);
        if (time < 0) {
            memcpy(st->hn + i * H + m->u0, st->hp + i * H + m->u0, sizeof(float) * (size_t)m->ns);
            if (y) memset(y + m->u0, 0, sizeof(float) * (size_t)m->ns);
            continue;
        }
        const float *xw = row_xw(s, m, d, k, b, time);
        for (int j = m->j0; j < m->j1; j++)
            if (t->sl[j].ns) slice_gates(s, m, &t->sl[j], d, st, i, xw, y ? y + t->sl[j].u0 : NULL);
    }
}

/* GRU without linear_before_reset: r ⊙ H_{t-1} of the member's units. */
static void reset_rows(const or_rnn_state *s, const or_rnn_team *t, const member *m, int d,
                       int64_t k, const rows_state *st) {
    const int64_t H = s->hidden;
    for (int64_t b = m->b0; b < m->b0 + m->nb; b++) {
        int64_t time = or_rnn_row_time(s, d, k, b), i = b - m->b0;
        if (time < 0) continue;
        const float *xw = row_xw(s, m, d, k, b, time);
        for (int j = m->j0; j < m->j1; j++) {
            const slice *sl = &t->sl[j];
            if (!sl->ns) continue;
            s->k.f32.gru_reset(&sl->cell[d], slice_rg(s, m, sl, i), xw + sl->u0,
                               st->hp + i * H + sl->u0, st->rh + i * H + sl->u0);
        }
    }
}

/* C[B, r->N] = A[B, H] · rowsᵀ, on the calling thread; back: the rows
 * last to first (odd steps, see recurrent.c's or_rnn_gemm_r). */
static void product(const or_rmat *r, int64_t B, int64_t H, const float *A, float *C, void *work,
                    bool back) {
    if (r->q)
        or_qmat_gemm_sweep(r->q, B, A, H, C, r->N, work, NULL, back);
    else
        or_sgemm_packed_sweep(B, r->N, H, 1, A, H, r->pb, 0, C, r->N, NULL, back);
}

/* Block b's products of the member's slices (the last first when back):
 * block 0 from H_{t-1} into rg, block 1 (split GRU's h rows) from r ⊙ H
 * into rgh. */
static void products(const or_rnn_state *s, const or_rnn_team *t, const member *m, int d, int b,
                     const rows_state *st, bool back) {
    for (int n = 0; n < m->j1 - m->j0; n++) {
        const slice *sl = &t->sl[back ? m->j1 - 1 - n : m->j0 + n];
        if (!sl->ns) continue;
        const or_rmat *r = &t->pack->q[d][sl - t->sl][b];
        if (b == 0)
            product(r, m->nb, s->hidden, st->hp, slice_rg(s, m, sl, 0), m->work, back);
        else
            product(r, m->nb, s->hidden, st->rh, m->rgh + m->nb * (sl->u0 - m->u0), m->work, back);
    }
}

/* Step k of direction d, phase `phase` (0: the product and, for split GRU,
 * r ⊙ H; 1, split GRU only: the h-gate product) for member mi; the gate
 * kernel ends the last phase. Step k reads H_{t-1} from one half of the
 * double-buffered state (s->h for even k) and writes the other. */
static void run_phase(or_rnn_state *s, or_rnn_team *t, int d, int64_t k, int phase, int mi) {
    const bool split = s->spec->kind == OR_RNN_GRU && !s->linear_before_reset;
    member *m = &t->m[mi];
    rows_state st;
    if (t->by_rows) { /* its own buffers */
        st = (rows_state){m->hs[k % 2], m->hs[1 - k % 2], m->cs, m->rhs};
    } else { /* every row (b0 = 0) */
        float *h0 = (float *)s->h + or_rnn_state_off(s, d, 0), *h1 = t->hbuf[d];
        float *c = s->c ? (float *)s->c + or_rnn_state_off(s, d, 0) : NULL;
        st = (rows_state){k % 2 ? h1 : h0, k % 2 ? h0 : h1, c, t->rh[d]};
    }
    const bool back = t->pack->alternate_sweep && k % 2 != 0;
    if (m->nb == 0) return;
    products(s, t, m, d, phase, &st, back);
    if (phase == 0 && split) {
        reset_rows(s, t, m, d, k, &st);
        return;
    }
    gates(s, t, m, d, k, &st);
}

/* Waiting on the done counter: spins, then yields the CPU (oversubscribed
 * machines); a finished thread takes over a member's part whose owner has not
 * claimed it after STEAL_NS (a running owner claims its part within ~0.1 us
 * of the phase opening; a descheduled one is gone for a time slice, ms). */
#define WAIT_SPINS 20000
#define STEAL_NS 30000

static bool claim(or_rnn_team *t, int mi, long long phi) {
    long long want = phi;
    return atomic_compare_exchange_strong(&t->claim[mi], &want, phi + 1);
}

static int phases_per_step(const or_rnn_state *s) {
    return s->spec->kind == OR_RNN_GRU && !s->linear_before_reset ? 2 : 1;
}

/* Whether each chunk opens with an input phase (not when X·Wᵀ is read from
 * fold tables or computed up front, nor where members split the rows: each
 * computes its own). */
static bool has_input_phases(const or_rnn_state *s) {
    return !s->fold && !or_rnn_xw_up_front(s) && !s->team->by_rows;
}

/* Phases of one direction: per chunk, its input phase, then P per step
 * (split rows: one for all of the chunk's steps, which each member runs on
 * its own rows without waiting for the others). */
static long long dir_phases(const or_rnn_state *s) {
    long long chunks = (s->max_len + s->chunk - 1) / s->chunk;
    long long steps = s->team->by_rows ? chunks : (long long)s->max_len * phases_per_step(s);
    return chunks * has_input_phases(s) + steps;
}

/* Phase phi of the run (directions one after the other): direction d,
 * iteration k, phase 0..P-1 of its step, or -1 for the input phase of the
 * chunk starting at k (split rows: phase 0 for the chunk's steps). */
static void phase_at(const or_rnn_state *s, long long phi, int *d, int64_t *k, int *phase) {
    const long long per_dir = dir_phases(s), in = has_input_phases(s), P = phases_per_step(s);
    const bool by_rows = s->team->by_rows;
    const long long per_chunk = in + (by_rows ? 1 : s->chunk * P), j = phi % per_dir;
    long long c = j / per_chunk, r = j % per_chunk;
    *d = (int)(phi / per_dir);
    if (r < in || by_rows) {
        *k = c * s->chunk;
        *phase = r < in ? -1 : 0;
        return;
    }
    *k = c * s->chunk + (r - in) / P;
    *phase = (int)((r - in) % P);
}

/* Member mi's part of the input product of the chunk starting at k: by
 * direction all of it, else its units' columns of every gate, or its share
 * of the rows (split rows: its own batch rows, into its own buffer). */
static void input_part(const team_ctx *tc, int d, int64_t k, int mi) {
    const or_rnn_state *s = tc->s;
    const member *m = &tc->t->m[mi];
    or_rnn_part part = or_rnn_part_all(s);
    part.work = m->work;
    if (tc->t->by_dir || !tc->t->input_cols) {
        if (!tc->t->by_dir) part.index = mi, part.parts = tc->t->members;
        if (tc->t->by_rows) part.own_xw = m->xw;
        or_rnn_input_chunk(tc->g, tc->n, d, k, &part, NULL);
        return;
    }
    part.ncols = m->ns;
    for (int64_t gate = 0; gate < s->spec->gates; gate++) {
        part.col0 = gate * s->hidden + m->u0;
        or_rnn_input_chunk(tc->g, tc->n, d, k, &part, NULL);
    }
}

/* Split rows: member m's rows of direction d's state (s->h, s->c) into its
 * own buffers (h_own, m->cs), or back. The members keep apart the rows they
 * write at every step: writing rows of shared buffers, next to another
 * member's, took 1.1-1.2x the time (two threads that the VM put on two
 * L3s). */
static void rows_state_copy(or_rnn_state *s, const member *m, int d, float *h_own, bool in) {
    size_t bytes = sizeof(float) * (size_t)(m->nb * s->hidden);
    float *h = (float *)s->h + or_rnn_state_off(s, d, m->b0);
    float *c = s->c ? (float *)s->c + or_rnn_state_off(s, d, m->b0) : NULL;
    memcpy(in ? h_own : h, in ? h : h_own, bytes);
    if (c) memcpy(in ? m->cs : c, in ? c : m->cs, bytes);
}

/* Split rows: member mi's rows through the chunk of steps from k, its rows'
 * X·Wᵀ first. */
static void run_rows(const team_ctx *tc, int d, int64_t k, int mi) {
    or_rnn_state *s = tc->s;
    const member *m = &tc->t->m[mi];
    const int64_t end = k + s->chunk < s->max_len ? k + s->chunk : s->max_len;
    if (m->nb == 0) return; /* a re-plan for fewer rows than the pack's members */
    if (k == 0) rows_state_copy(s, m, d, m->hs[0], true);
    if (!s->fold) input_part(tc, d, k, mi);
    for (; k < end; k++)
        for (int phase = 0; phase < phases_per_step(s); phase++)
            run_phase(s, tc->t, d, k, phase, mi);
    /* Step k wrote its H_t into hs[1 - k % 2]. */
    if (end == s->max_len) rows_state_copy(s, m, d, m->hs[s->max_len % 2], false);
}

/* Phase `phase` of direction d at iteration k (-1: the chunk's input
 * product) for member mi of the team's members. */
static void run_any(const team_ctx *tc, int d, int64_t k, int phase, int mi) {
    if (phase < 0)
        input_part(tc, d, k, mi);
    else if (tc->t->by_rows)
        run_rows(tc, d, k, mi);
    else
        run_phase(tc->s, tc->t, d, k, phase, mi);
}

/* Split units, phases ordered (direction, chunk, step, phase), members owned by
 * thread mi % nt. A phase opens when every part of the previous ones is
 * done; its owner claims each chunk and runs it, so each thread keeps its
 * rows of R in its own caches (measured: taking parts first-come from a
 * shared counter instead ran LSTM hidden 512-1024 on 2 threads 1.5x slower
 * than fixed owners). A thread that finished waits for the phase to close
 * and takes over parts still unclaimed after a while: an owner descheduled
 * between parts (another process on its core) then delays the step by
 * microseconds instead of a time slice, as or_parallel_for's caller does.
 * Only an owner preempted inside a part is waited for. */
static void team_units(const team_ctx *tc, int ti, int nt) {
    or_rnn_state *s = tc->s;
    or_rnn_team *t = tc->t;
    const long long C = t->members, total = (long long)s->dirs * dir_phases(s);
    atomic_store(&t->present[ti], 1);
    for (;;) {
        long long phi = atomic_load(&t->done) / C;
        if (phi >= total) return;
        int d, phase;
        int64_t k;
        phase_at(s, phi, &d, &k, &phase);
        for (int mi = ti; mi < C; mi += nt)
            if (claim(t, mi, phi)) {
                run_any(tc, d, k, phase, mi);
                atomic_fetch_add(&t->done, 1);
            }
        int64_t since = 0;
        for (int spins = 0; atomic_load(&t->done) < (phi + 1) * C; spins++) {
            if (spins % 256 == 255 && !since) since = or_now_ns();
            bool late = since && spins % 256 == 255 && or_now_ns() - since > STEAL_NS;
            for (int mi = 0; mi < C; mi++)
                if ((t->steal_at_once || late || !atomic_load(&t->present[mi % nt])) &&
                    claim(t, mi, phi)) {
                    run_any(tc, d, k, phase, mi);
                    atomic_fetch_add(&t->done, 1);
                }
            if (spins > WAIT_SPINS) sched_yield();
        }
    }
}

/* Thread ti of nt. By direction: the thread runs directions ti, ti + nt, ...
 * whole, input products included, on their own member, chunk and state
 * buffers, without waiting for anybody. Split units: team_units. Any thread
 * count works (a clone sharing the pack may run without a pool). */
static void team_thread(void *ctx, int ti, int nt) {
    const team_ctx *tc = ctx;
    or_rnn_state *s = tc->s;
    const int P = phases_per_step(s);
    if (!tc->t->by_dir) {
        team_units(tc, ti, nt);
        return;
    }
    for (int d = ti; d < s->dirs; d += nt)
        for (int64_t k = 0; k < s->max_len; k++) {
            if (k % s->chunk == 0 && has_input_phases(s)) input_part(tc, d, k, d);
            for (int phase = 0; phase < P; phase++) run_phase(s, tc->t, d, k, phase, d);
        }
}

void or_rnn_team_begin(or_rnn_state *s) {
    or_rnn_team *t = s->team;
    for (int j = 0; j < t->slices; j++) slice_cells(s, &t->sl[j]);
    atomic_store(&t->done, 0);
    for (int mi = 0; mi < t->members; mi++) {
        atomic_store(&t->claim[mi], 0);
        atomic_store(&t->present[mi], 0);
    }
}

void or_rnn_team_end(or_rnn_state *s) {
    /* After an odd number of steps the final state is in the second half
     * (split rows: each member has written its rows back). */
    if (s->max_len % 2 && !s->team->by_rows)
        for (int d = 0; d < s->dirs; d++)
            memcpy((float *)s->h + or_rnn_state_off(s, d, 0), s->team->hbuf[d],
                   sizeof(float) * (size_t)(s->batch * s->hidden));
}

void or_rnn_team_step(or_rnn_state *s, int64_t k) {
    for (int phase = 0; phase < phases_per_step(s); phase++) run_phase(s, s->team, 0, k, phase, 0);
}

void or_rnn_team_run(or_graph *g, or_node *n) {
    or_rnn_state *s = n->state;
    or_rnn_team *t = s->team;
    team_ctx tc = {g, n, s, t};
    if (!s->fold && or_rnn_xw_up_front(s))
        for (int d = 0; d < s->dirs; d++) {
            or_rnn_part all = or_rnn_part_all(s);
            or_rnn_input_chunk(g, n, d, 0, &all, g->pool);
        }
    or_rnn_team_begin(s);
    int threads = or_threadpool_size(g->pool);
    if (threads > t->members) threads = t->members;
    or_threadpool_team(g->pool, threads, team_thread, &tc);
    or_rnn_team_end(s);
}
