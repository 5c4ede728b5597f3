/* The planner and the executor.
 *
 * Planning walks the sorted nodes once: each prepare infers its outputs'
 * shapes; a node whose inputs are all known (initializers, constants, shapes)
 * runs right there and its outputs become static, which turns PyTorch's
 * Shape/Gather/Concat/ConstantOfShape chains into constants. The remaining
 * activations get offsets in one arena, first-fit by size over their
 * lifetimes, so a dead tensor's bytes are reused; a node whose outputs no
 * running node reads and no graph output is gets no slot and does not run.
 * Running is a plain loop. */
#include "alloc.h"
#include "exec.h"
#include "weights.h"

#include "../ops/op.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 64

int or_graph_check_ops(or_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        or_node *n = &g->nodes[i];
        if (n->op < 0) n->op = or_op_lookup(n->domain, n->op_type);
        if (n->op < 0)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported op '%s%s%s'",
                                n->domain && n->domain[0] ? n->domain : "",
                                n->domain && n->domain[0] ? "." : "", n->op_type);
        if (n->opset < or_op_first_opset(n->op))
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                                "opset %d is older than the oldest supported (%d)", n->opset,
                                or_op_first_opset(n->op));
        int max_in = or_op_max_inputs(n->op), max_out = or_op_max_outputs(n->op);
        if (max_in >= 0 && n->n_inputs > max_in)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "has %d inputs; %s takes at most %d",
                                n->n_inputs, n->op_type, max_in);
        if (max_out >= 0 && n->n_outputs > max_out)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "has %d outputs; %s gives at most %d",
                                n->n_outputs, n->op_type, max_out);
        for (int a = 0; a < n->n_attrs; a++)
            if (!or_op_has_attr(n->op, n->attrs[a].name))
                return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "%s has no attribute '%s'", n->op_type,
                                    n->attrs[a].name);
    }
    return ONNXRUN_OK;
}

bool or_graph_inputs_static(const or_graph *g) {
    for (int i = 0; i < g->n_inputs; i++) {
        const or_tensor *t = &g->tensors[g->inputs[i]];
        if (or_tensor_numel(t) < 0) return false;
    }
    return true;
}

int or_set_output(or_graph *g, or_node *n, int i, int dtype, int rank, const int64_t *dims) {
    or_tensor *t = or_output(g, n, i);
    if (!t) return ONNXRUN_OK;
    if (rank < 0 || rank > OR_MAX_RANK)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "output '%s' would have rank %d (max %d)",
                            t->name, rank, OR_MAX_RANK);
    int64_t numel = or_shape_numel(rank, dims);
    size_t elem = or_dtype_size(dtype);
    if (numel < 0 || elem == 0 || (uint64_t)numel > SIZE_MAX / 2 / elem)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "output '%s' has an invalid or too large shape (%s)", t->name,
                            or_dtype_name(dtype));
    t->dtype = dtype;
    t->rank = rank;
    for (int d = 0; d < rank; d++) t->dims[d] = dims[d];
    t->nbytes = (size_t)numel * elem;
    return ONNXRUN_OK;
}

static int fold_node(or_graph *g, or_node *n);

/* A graph input's value can steer planning once the caller has bound it; the
 * session then replans whenever those bytes change. */
static bool pin_input_value(or_graph *g, or_tensor *t) {
    if (!t->data) {
        g->plan_needs_input_values = true;
        return false;
    }
    t->value_pinned = true;
    return true;
}

/* Shape-like values are small; anything bigger is real data, not worth
 * computing twice (once here, once per run). */
#define DEMAND_FOLD_MAX_ELEMENTS 65536
#define DEMAND_FOLD_MAX_DEPTH 64

/* Computes an activation while planning when a prepare needs its value (a
 * Range limit or Pad pads derived from a graph input's value): its producer
 * chain runs now, from initializers and bound graph inputs, and is folded. */
static bool fold_on_demand(or_graph *g, or_tensor *t, int depth) {
    if (t->is_static) return true;
    if (t->kind == OR_T_INPUT) return pin_input_value(g, t);
    if (t->kind != OR_T_ACTIVATION || t->producer < 0 || depth > DEMAND_FOLD_MAX_DEPTH)
        return false;
    int64_t numel = or_tensor_numel(t);
    if (numel < 0 || numel > DEMAND_FOLD_MAX_ELEMENTS) return false;
    or_node *p = &g->nodes[t->producer];
    if (!p->run || p->folded) return false; /* not prepared yet, or failed */
    for (int k = 0; k < p->n_inputs; k++) {
        or_tensor *u = or_input(g, p, k);
        if (u && !fold_on_demand(g, u, depth + 1)) return false;
    }
    return fold_node(g, p) == ONNXRUN_OK;
}

const void *or_input_value(or_graph *g, or_node *n, int i) {
    or_tensor *t = or_input(g, n, i);
    if (!t) return NULL;
    return fold_on_demand(g, t, 0) ? t->data : NULL;
}

int64_t or_read_int(const or_tensor *t, int64_t index) {
    switch (t->dtype) {
    case OR_INT32:
        return ((const int32_t *)t->data)[index];
    case OR_INT64:
        return ((const int64_t *)t->data)[index];
    case OR_INT16:
        return ((const int16_t *)t->data)[index];
    case OR_INT8:
        return ((const int8_t *)t->data)[index];
    case OR_UINT8:
    case OR_BOOL:
        return ((const uint8_t *)t->data)[index];
    case OR_UINT16:
        return ((const uint16_t *)t->data)[index];
    case OR_UINT32:
        return ((const uint32_t *)t->data)[index];
    case OR_UINT64:
        return (int64_t)((const uint64_t *)t->data)[index];
    case OR_FLOAT:
        return (int64_t)((const float *)t->data)[index];
    case OR_DOUBLE:
        return (int64_t)((const double *)t->data)[index];
    default:
        return 0;
    }
}

double or_read_double(const or_tensor *t, int64_t index) {
    switch (t->dtype) {
    case OR_FLOAT:
        return ((const float *)t->data)[index];
    case OR_DOUBLE:
        return ((const double *)t->data)[index];
    default:
        return (double)or_read_int(t, index);
    }
}

static void *aligned_bytes(size_t n) {
    return or_aligned_alloc(ARENA_ALIGN, n);
}

void or_graph_unplan(or_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        or_node *n = &g->nodes[i];
        if (n->free_state) n->free_state(n->state);
        n->state = NULL;
        n->free_state = NULL;
        n->run = NULL;
        n->folded = false;
        n->output_is_view = false;
        n->scratch_bytes = 0;
        n->scratch = NULL;
        n->unread_inputs = 0;
        n->dead = false;
        n->run_by = -1;
    }
    for (int i = 0; i < g->n_tensors; i++) {
        or_tensor *t = &g->tensors[i];
        t->value_pinned = false;
        if (t->kind != OR_T_ACTIVATION) continue;
        if (t->owned && !t->owned_is_mapping) or_free(t->owned);
        t->owned = NULL;
        t->owned_len = 0;
        t->data = NULL;
        t->is_static = false;
    }
    g->planned = false;
}

/* Shape and Size only need their input's shape, which is known while planning. */
static bool inputs_all_static(or_graph *g, const or_node *n) {
    if (or_node_reads_only_shape(n)) return true;
    for (int k = 0; k < n->n_inputs; k++) {
        or_tensor *t = or_input(g, n, k);
        if (t && !t->is_static) return false;
    }
    return true;
}

void or_request_scratch(or_node *n, size_t bytes) {
    n->scratch_bytes = bytes;
}

/* A folded node runs before the arena exists: its scratch is temporary. */
static int run_folded(or_graph *g, or_node *n) {
    if (!n->scratch_bytes) return n->run(g, n);
    n->scratch = aligned_bytes(n->scratch_bytes);
    if (!n->scratch) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    int status = n->run(g, n);
    or_free(n->scratch);
    n->scratch = NULL;
    return status;
}

static int fold_node(or_graph *g, or_node *n) {
    for (int k = 0; k < n->n_outputs; k++) {
        or_tensor *t = or_output(g, n, k);
        if (!t) continue;
        t->owned = aligned_bytes(t->nbytes);
        if (!t->owned) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
        t->owned_len = t->nbytes;
        t->data = t->owned;
    }
    int status = run_folded(g, n);
    if (status != ONNXRUN_OK) return status;
    for (int k = 0; k < n->n_outputs; k++) {
        or_tensor *t = or_output(g, n, k);
        if (t) t->is_static = true;
    }
    n->folded = true;
    return ONNXRUN_OK;
}

static int prepare_node(or_graph *g, or_node *n) {
    /* Every op but the recurrent ones writes output 0: an absent one is a
     * malformed model. */
    if ((n->n_outputs < 1 || n->outputs[0] < 0) && !or_op_is_recurrent(n->op))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "output 0 is required");
    for (int k = 0; k < n->n_outputs; k++) {
        or_tensor *t = or_output(g, n, k);
        if (t) t->rank = -1;
    }
    int status = or_op_prepare(n->op)(g, n);
    if (status != ONNXRUN_OK) return status;
    if (!n->run) return or_node_fail(g, n, ONNXRUN_ERR_INTERNAL, "prepare chose no kernel");
    for (int k = 0; k < n->n_outputs; k++) {
        or_tensor *t = or_output(g, n, k);
        if (t && (t->rank < 0 || t->dtype == OR_UNDEFINED))
            return or_node_fail(g, n, ONNXRUN_ERR_INTERNAL, "output '%s' has no shape", t->name);
    }
    return inputs_all_static(g, n) ? fold_node(g, n) : ONNXRUN_OK;
}

typedef struct {
    int tensor;      /* -1 - node index for a node's scratch */
    int first, last; /* schedule positions */
    size_t size;     /* rounded to ARENA_ALIGN */
    size_t offset;
} arena_slot;

static int by_size_desc(const void *a, const void *b) {
    const arena_slot *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->first - y->first;
}

static bool lifetimes_overlap(const arena_slot *a, const arena_slot *b) {
    return a->first <= b->last && b->first <= a->last;
}

/* First fit: the lowest offset that clears every placed slot alive at the same time. */
static size_t place_slot(const arena_slot *slots, int placed, const arena_slot *s) {
    size_t offset = 0;
    bool moved = true;
    while (moved) {
        moved = false;
        for (int j = 0; j < placed; j++) {
            const arena_slot *o = &slots[j];
            if (!lifetimes_overlap(o, s)) continue;
            if (offset < o->offset + o->size && o->offset < offset + s->size) {
                offset = o->offset + o->size;
                moved = true;
            }
        }
    }
    return offset;
}

/* The tensor whose slot a view op's output t can share, or -1. Both must be
 * arena activations of the same size: a graph input, an initializer or a
 * state buffer is not the arena's to lend. */
static int view_source(const or_graph *g, const or_node *n, int t, const int *slot_of) {
    if (!n->output_is_view || n->n_inputs < 1 || n->n_outputs < 1 || n->outputs[0] != t) return -1;
    int x = n->inputs[0];
    if (x < 0 || slot_of[x] < 0 || g->tensors[x].nbytes != g->tensors[t].nbytes) return -1;
    return x;
}

/* Whether the node's run reads its input k (a folded recurrent node does
 * not read X: or_node.unread_inputs). */
static bool reads_input(const or_node *n, int k) {
    return n->inputs[k] >= 0 && !(k < 32 && (n->unread_inputs >> k) & 1u);
}

/* Whether node n, run by node p (or_node.run_by), finds every input it reads
 * ready at p's turn: static, or owned (view_of) by a tensor that p or an
 * earlier node writes (p's own outputs as or_node.run_by says). */
static bool ready_for_run_by(const or_graph *g, const or_node *n, int p, const int *view_of) {
    const or_node *by = &g->nodes[p];
    if (by->folded || by->dead || by->run_by >= 0) return false;
    for (int k = 0; k < n->n_inputs; k++) {
        if (!reads_input(n, k)) continue;
        const or_tensor *t = &g->tensors[view_of[n->inputs[k]]];
        if (!t->is_static && t->kind == OR_T_ACTIVATION && t->producer > p) return false;
    }
    return true;
}

/* One slot per arena activation, except that a view op's output shares its
 * input's slot (the slot then lives until the last use of either, and the
 * op's run copies nothing): slot_of[t] is t's slot, view_of[t] the tensor
 * that owns it (t itself when not a view). Then one slot per node scratch.
 * A node run by an earlier one (or_node.run_by) has its outputs and scratch
 * live from that node's turn. */
static int collect_slots(or_graph *g, arena_slot *slots, int *slot_of, int *view_of) {
    int count = 0;
    for (int t = 0; t < g->n_tensors; t++) slot_of[t] = -1, view_of[t] = t;
    for (int i = 0; i < g->n_nodes; i++) {
        or_node *n = &g->nodes[i];
        if (n->folded || n->dead || (n->run_by >= 0 && !ready_for_run_by(g, n, n->run_by, view_of)))
            n->run_by = -1;
        if (n->folded || n->dead) continue;
        int first = n->run_by >= 0 ? n->run_by : i;
        for (int k = 0; k < n->n_outputs; k++) {
            int t = n->outputs[k];
            if (t < 0 || g->tensors[t].external) continue;
            g->tensors[t].last_use = i;
            int x = view_source(g, n, t, slot_of);
            if (x >= 0) {
                slot_of[t] = slot_of[x];
                view_of[t] = view_of[x];
                continue;
            }
            size_t size = (g->tensors[t].nbytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
            slot_of[t] = count;
            slots[count++] = (arena_slot){t, first, i, size ? size : ARENA_ALIGN, 0};
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].dead) continue; /* reads nothing */
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            int t = g->nodes[i].inputs[k];
            if (reads_input(&g->nodes[i], k) && g->tensors[t].last_use < i)
                g->tensors[t].last_use = i;
        }
    }
    for (int k = 0; k < g->n_outputs; k++) g->tensors[g->outputs[k]].last_use = g->n_nodes;
    for (int t = 0; t < g->n_tensors; t++)
        if (slot_of[t] >= 0 && slots[slot_of[t]].last < g->tensors[t].last_use)
            slots[slot_of[t]].last = g->tensors[t].last_use;
    for (int i = 0; i < g->n_nodes; i++) {
        const or_node *n = &g->nodes[i];
        if (n->folded || n->dead || !n->scratch_bytes) continue;
        size_t size = (n->scratch_bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
        if (size < n->scratch_bytes) return -1;
        slots[count++] = (arena_slot){-1 - i, n->run_by >= 0 ? n->run_by : i, i, size, 0};
    }
    return count;
}

static int plan_arena(or_graph *g) {
    int total_slots = g->n_nodes; /* one scratch per node at most */
    for (int i = 0; i < g->n_nodes; i++) total_slots += g->nodes[i].n_outputs;
    arena_slot *slots = or_malloc(sizeof *slots * (size_t)(total_slots + 1));
    int *slot_of = or_malloc(sizeof(int) * (2 * (size_t)g->n_tensors + 1)), *view_of;
    if (!slots || !slot_of) {
        or_free(slots);
        or_free(slot_of);
        return or_fail(g, ONNXRUN_ERR_NOMEM, "out of memory planning the arena");
    }
    view_of = slot_of + g->n_tensors;
    int count = collect_slots(g, slots, slot_of, view_of);
    if (count < 0) {
        or_free(slots);
        or_free(slot_of);
        return or_fail(g, ONNXRUN_ERR_NOMEM, "out of memory: a node's scratch size overflows");
    }
    qsort(slots, (size_t)count, sizeof *slots, by_size_desc);
    size_t arena_size = 0;
    for (int s = 0; s < count; s++) {
        slots[s].offset = place_slot(slots, s, &slots[s]);
        if (slots[s].offset > SIZE_MAX - slots[s].size) { /* offsets must not wrap */
            or_free(slots);
            or_free(slot_of);
            return or_fail(g, ONNXRUN_ERR_NOMEM, "out of memory: the activation arena overflows");
        }
        if (slots[s].offset + slots[s].size > arena_size)
            arena_size = slots[s].offset + slots[s].size;
    }
    if (arena_size > g->arena_size || !g->arena) {
        or_free(g->arena);
        /* A run writes every slot of the arena, so the first run touches all its
         * pages: huge pages spare it the 4 KiB page faults, a hypervisor round trip
         * each on the Zen 5 VM even when prefaulted. Measured first runs:
         * rnn_h256_l2_bi_b16 of bench/ (7.2 MB arena) 17.2 -> 8.6 ms and
         * lstm_h512_l2_b16 61-65 -> 50 ms, the speed of later runs. */
        g->arena = or_large_alloc_exact(arena_size);
        g->arena_size = g->arena ? arena_size : 0;
        if (!g->arena) {
            or_free(slots);
            or_free(slot_of);
            return or_fail(g, ONNXRUN_ERR_NOMEM,
                           "out of memory: the activation arena needs %zu bytes", arena_size);
        }
    }
    for (int s = 0; s < count; s++) {
        if (slots[s].tensor < 0) {
            g->nodes[-1 - slots[s].tensor].scratch = g->arena + slots[s].offset;
            continue;
        }
        or_tensor *t = &g->tensors[slots[s].tensor];
        t->arena_offset = slots[s].offset;
        t->data = g->arena + slots[s].offset;
    }
    for (int t = 0; t < g->n_tensors; t++)
        if (view_of[t] != t) {
            g->tensors[t].arena_offset = g->tensors[view_of[t]].arena_offset;
            g->tensors[t].data = g->tensors[view_of[t]].data;
        }
    or_free(slots);
    or_free(slot_of);
    return ONNXRUN_OK;
}

/* Marks the nodes whose outputs no running node reads and no graph output
 * is (the sorted nodes backwards): an Embedding's Gather and Transpose once
 * a recurrent node reads their product from its tables. Without memory for
 * the marks, every node runs. */
static void mark_dead_nodes(or_graph *g) {
    bool *needed = or_calloc((size_t)g->n_tensors + 1, sizeof(bool)); /* bytes read */
    if (!needed) return;
    for (int k = 0; k < g->n_outputs; k++) needed[g->outputs[k]] = true;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        or_node *n = &g->nodes[i];
        if (n->folded) continue;
        bool live = false;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0 && needed[n->outputs[k]]) live = true;
        n->dead = !live;
        for (int k = 0; live && k < n->n_inputs; k++)
            if (reads_input(n, k)) needed[n->inputs[k]] = true;
    }
    or_free(needed);
}

int or_graph_plan(or_graph *g) {
    or_graph_unplan(g);
    g->plan_needs_input_values = false;
    g->errmsg[0] = '\0';
    for (int i = 0; i < g->n_nodes; i++) {
        int status = prepare_node(g, &g->nodes[i]);
        if (status != ONNXRUN_OK) {
            or_graph_unplan(g);
            return status;
        }
    }
    mark_dead_nodes(g);
    int status = plan_arena(g);
    if (status != ONNXRUN_OK) {
        or_graph_unplan(g);
        return status;
    }
    g->planned = true;
    or_weights_settle(g);
    return ONNXRUN_OK;
}

int or_graph_run(or_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        or_node *n = &g->nodes[i];
        if (n->folded || n->dead || n->run_by >= 0) continue;
        int status = n->run(g, n);
        if (status != ONNXRUN_OK) return status;
    }
    return ONNXRUN_OK;
}
