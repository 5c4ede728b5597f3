/* The fused recurrent engine: one team job (runtime/threadpool.h) runs the
 * whole time loop of an RNN/GRU/LSTM node, with no pool handoff per step.
 *
 * Split units (one direction at a time): the hidden units are split into one
 * slice per thread (multiples of 16 units); each slice's member owns the
 * rows of R of every gate for its units, packed at plan time as one matrix
 * whose rows are gate 0's units, then gate 1's, ... (the blocked GEMM's pack,
 * or qgemm.h panels where recurrent.c would use them, and for BF16/S8), so
 * its pre-activations come out as [gates][slice]. Per step a member
 * multiplies the whole H_{t-1} (every batch row) by its rows, runs the op's
 * gate kernel on its units only (a copy of the cell with hidden = slice,
 * reading each row's X·Wᵀ in place, its gates hidden apart) and writes its
 * units of H_t into the other half of a double-buffered state.
 * A step is one phase (GRU without linear_before_reset: two, the h-gate
 * product needs r ⊙ H_{t-1} of every unit), and so is each chunk's input
 * product when X·Wᵀ is computed in chunks (each member its own units'
 * columns where W's pack allows, else its share of the rows); a
 * phase opens when every member's part of the previous one is done. A
 * member runs on its owner thread, which keeps its R rows in its caches; a
 * thread that is done takes over a member's part whose owner has not
 * started it after 30 us (owner descheduled).
 *
 * By direction (bidirectional, 2+ threads): each direction runs whole on its
 * own thread (every slice of split units' pack, one after the other) with
 * its own state and input product chunks, no synchronisation at all.
 *
 * Split rows (one direction, 2+ threads, 6+ batch rows a member, or 4+
 * with R of up to 768 KiB, and R of up to 8 MiB): each member owns a share
 * of the batch rows and every unit (every slice of split units' pack, one
 * after the other, shared by the members); per chunk of steps it computes
 * its rows' X·Wᵀ into its own buffer, then runs the chunk's steps on its own
 * copy of its rows' state. A chunk is one phase, so members meet once a
 * chunk. All plans (a pipelined pair's layers too, recurrent_pipe.c) share
 * the pack, so a re-plan for another batch takes its own though R was
 * handed back after the first plan.
 *
 * Used for float on AVX2 and AVX-512 (BF16/S8 weights too) with static R,
 * by default when the pool has 2+ threads, splitting units, directions or
 * rows (see or_rnn_team_members); everything else keeps the step-by-step path of
 * recurrent.c. ONNXRUN_RNN_TEAM=0 forces the old path, =1 forces the engine
 * wherever it can run (also one thread; two directions on 2+ threads run by
 * direction), =2 forces it splitting units, =3 as 1 with threads taking
 * over each other's parts at once (tests, benchmarks), =4 forces it
 * splitting rows.
 */
#ifndef OR_RECURRENT_TEAM_H
#define OR_RECURRENT_TEAM_H

#include "kernels/gemm.h"
#include "kernels/qgemm.h"

#include <stdbool.h>
#include <stdint.h>

struct or_graph;
struct or_node;
struct or_rnn_state;

/* Packed per-member R rows, kept in the op's n->cache. */
typedef struct or_rnn_team_pack or_rnn_team_pack;
/* Per-plan scratch (per-member buffers, second hidden state), in n->state. */
typedef struct or_rnn_team or_rnn_team;

/* The engine's plan for this node (any weight precision): 0 when the old
 * path should run, else the members
 * splitting the units, or 2 | OR_RNN_TEAM_BY_DIR: each direction of a
 * bidirectional node runs whole on its own thread, without barriers, or
 * members | OR_RNN_TEAM_BY_ROWS: they split the batch rows. */
#define OR_RNN_TEAM_BY_DIR 0x100
#define OR_RNN_TEAM_BY_ROWS 0x200
#define OR_RNN_TEAM_MEMBERS 0xff /* the plan's member count */
int or_rnn_team_members(const struct or_graph *g, const struct or_rnn_state *s);
/* The plan R is packed for, to run plan: every plan uses split units'
 * pack. */
int or_rnn_team_pack_plan(const struct or_graph *g, const struct or_rnn_state *s, int plan);

/* Packs R [dirs, gates * hidden, hidden] (float) for plan (one of
 * or_rnn_team_pack_plan's: split units' members, a slice of the units
 * each), reporting each source row to rel once copied (rel may be NULL);
 * NULL when out of memory or plan is not such. kind is the qgemm.h kind of
 * the weights. */
or_rnn_team_pack *or_rnn_team_pack_new(const struct or_rnn_state *s, int plan, or_qkind kind,
                                       const float *r, or_src_release *rel);
/* How steps read the members' slices: src where from (recurrent.h's
 * or_rnn_r_source), one_stream as or_rnn_r_one_stream decides it for the
 * whole R, since the members read their slices at the same time. */
void or_rnn_team_pack_mark(or_rnn_team_pack *p, or_pack_source src, bool one_stream);
/* Whether the members of s's team split a chunk's input product by their
 * units' columns rather than by rows (tests). */
bool or_rnn_team_input_by_columns(const struct or_rnn_state *s);
/* Whether s's team members split the batch rows (tests). */
bool or_rnn_team_splits_rows(const struct or_rnn_state *s);
/* Whether the members' odd steps sweep their rows back (tests). */
bool or_rnn_team_pack_sweeps_back(const or_rnn_team_pack *p);
void or_rnn_team_pack_free(or_rnn_team_pack *p);

/* Allocates s->team for s->team_plan on pack (made for
 * or_rnn_team_pack_plan of it); fails the node on overflow or out of
 * memory. */
int or_rnn_team_setup(struct or_graph *g, struct or_node *n, struct or_rnn_state *s,
                      const or_rnn_team_pack *pack);
void or_rnn_team_free(or_rnn_team *t);

/* Any thread count works (members are spread over the threads the pool
 * has). Iterations [0, s->max_len) of every direction of node n, as
 * or_rnn_run's steps do: X·Wᵀ up front on the pool when the sequence is one
 * chunk and the units are split, else each chunk of s->chunk iterations
 * opened by its input phase (or_rnn_input_chunk: each member its units'
 * columns or its share of the rows; by direction, each thread its own
 * direction's); none when folded. Reads s->h (initial state, receives the
 * final one), s->c, s->lens, s->cell32; writes Y. */
void or_rnn_team_run(struct or_graph *g, struct or_node *n);

/* or_rnn_team_run in parts, for a caller that runs the steps itself on one
 * thread (recurrent_pipe.c): begin, then or_rnn_team_step for iterations
 * 0, 1, ... s->max_len - 1 in order (direction 0, one member owning every
 * unit: a by-direction plan of one direction), then end (the final state
 * into s->h). */
void or_rnn_team_begin(struct or_rnn_state *s);
void or_rnn_team_step(struct or_rnn_state *s, int64_t k);
void or_rnn_team_end(struct or_rnn_state *s);

#endif
