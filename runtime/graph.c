/* Graph construction, topological sort, errors, dtype and attribute helpers. */
#include "alloc.h"
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

or_graph *or_graph_new(void) {
    or_graph *g = or_calloc(1, sizeof *g);
    if (g) g->num_threads = 1;
    return g;
}

void or_tensor_free_contents(or_tensor *t) {
    if (!t) return;
    or_free(t->name);
    for (int i = 0; i < OR_MAX_RANK; i++) or_free(t->dim_params[i]);
    if (t->owned) {
        if (t->owned_is_mapping) {
            munmap(t->owned, t->owned_len);
            or_mem_uncharge(t->owned_len); /* counted against the session's cap */
        } else
            or_free(t->owned);
    }
    memset(t, 0, sizeof *t);
}

void or_attr_free_contents(or_attr *a) {
    or_free(a->name);
    or_free(a->s);
    if (a->t) {
        or_tensor_free_contents(a->t);
        or_free(a->t);
    }
    or_free(a->floats);
    or_free(a->ints);
    if (a->strings)
        for (size_t i = 0; i < a->n; i++) or_free(a->strings[i]);
    or_free(a->strings);
    memset(a, 0, sizeof *a);
}

void or_node_drop_cache(or_node *n) {
    if (n->free_cache && !n->cache_borrowed) n->free_cache(n->cache);
    n->cache = NULL;
    n->free_cache = NULL;
    n->cache_borrowed = false;
}

typedef struct or_retired_cache {
    int node;
    void *cache;
    void (*free_cache)(void *cache);
} or_retired_cache;

bool or_node_retire_cache(or_graph *g, or_node *n) {
    if (!n->cache || n->cache_borrowed || !g->caches_lent) {
        or_node_drop_cache(n);
        return true;
    }
    if (g->n_retired == g->cap_retired) {
        int cap = g->cap_retired ? 2 * g->cap_retired : 4;
        or_retired_cache *r = or_realloc(g->retired, sizeof *r * (size_t)cap);
        if (!r) return false;
        g->retired = r;
        g->cap_retired = cap;
    }
    g->retired[g->n_retired++] = (or_retired_cache){
        .node = (int)(n - g->nodes), .cache = n->cache, .free_cache = n->free_cache};
    n->cache = NULL;
    n->free_cache = NULL;
    return true;
}

void *or_node_revive_cache(or_graph *g, or_node *n, void (*free_cache)(void *),
                           bool (*matches)(const void *, const void *), const void *ctx) {
    int node = (int)(n - g->nodes);
    for (int i = 0; i < g->n_retired; i++) {
        or_retired_cache r = g->retired[i];
        if (r.node != node || r.free_cache != free_cache || !matches(r.cache, ctx)) continue;
        if (n->cache && !n->cache_borrowed) /* the slot it leaves takes n's own */
            g->retired[i] =
                (or_retired_cache){.node = node, .cache = n->cache, .free_cache = n->free_cache};
        else
            g->retired[i] = g->retired[--g->n_retired];
        n->cache = r.cache;
        n->free_cache = r.free_cache;
        n->cache_borrowed = false;
        return r.cache;
    }
    return NULL;
}

void or_graph_free_retired(or_graph *g) {
    for (int i = 0; i < g->n_retired; i++) g->retired[i].free_cache(g->retired[i].cache);
    or_free(g->retired);
    g->retired = NULL;
    g->n_retired = g->cap_retired = 0;
}

static void node_free_contents(or_node *n) {
    if (n->free_state) n->free_state(n->state);
    or_node_drop_cache(n);
    or_free(n->name);
    or_free(n->op_type);
    or_free(n->domain);
    or_free(n->inputs);
    or_free(n->outputs);
    for (int i = 0; i < n->n_attrs; i++) or_attr_free_contents(&n->attrs[i]);
    or_free(n->attrs);
}

void or_graph_free(or_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_nodes; i++) node_free_contents(&g->nodes[i]);
    or_graph_free_retired(g);
    or_free(g->nodes);
    for (int i = 0; i < g->n_tensors; i++) or_tensor_free_contents(&g->tensors[i]);
    or_free(g->tensors);
    or_free(g->name_slots);
    or_free(g->inputs);
    or_free(g->outputs);
    for (int i = 0; i < g->n_opsets; i++) or_free(g->opsets[i].domain);
    or_free(g->opsets);
    or_free(g->producer_name);
    or_free(g->producer_version);
    or_free(g->graph_name);
    or_free(g->model_path);
    or_free(g->arena);
    or_free(g);
}

/* FNV-1a: names are short and this only has to spread them. */
static uint32_t name_hash(const char *name) {
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 16777619u;
    return h;
}

/* The slot holding name, or the empty slot where it would go. */
static int *name_slot(const or_graph *g, const char *name) {
    uint32_t mask = (uint32_t)g->name_slot_count - 1u;
    for (uint32_t i = name_hash(name) & mask;; i = (i + 1u) & mask) {
        int *slot = &g->name_slots[i];
        if (*slot == 0 || strcmp(g->tensors[*slot - 1].name, name) == 0) return slot;
    }
}

int or_graph_find_tensor(const or_graph *g, const char *name) {
    if (g->name_slot_count == 0) return -1;
    return *name_slot(g, name) - 1;
}

/* Grows the tensor array and rebuilds the name index at twice its size, so
 * the index stays at most half full. */
static bool grow_tensors(or_graph *g) {
    if (g->cap_tensors > INT32_MAX / 4) return false;
    int cap = g->cap_tensors ? g->cap_tensors * 2 : 64;
    int *slots = or_calloc((size_t)cap * 2, sizeof *slots);
    if (!slots) return false;
    or_tensor *grown = or_realloc(g->tensors, (size_t)cap * sizeof *grown);
    if (!grown) {
        or_free(slots);
        return false;
    }
    g->tensors = grown;
    g->cap_tensors = cap;
    or_free(g->name_slots);
    g->name_slots = slots;
    g->name_slot_count = cap * 2;
    for (int i = 0; i < g->n_tensors; i++) *name_slot(g, g->tensors[i].name) = i + 1;
    return true;
}

int or_graph_tensor(or_graph *g, const char *name) {
    int found = or_graph_find_tensor(g, name);
    if (found >= 0) return found;
    if (g->n_tensors == g->cap_tensors && !grow_tensors(g)) return -1;
    or_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = or_strdup(name);
    if (!t->name) return -1;
    t->rank = -1;
    t->producer = -1;
    *name_slot(g, t->name) = g->n_tensors + 1;
    return g->n_tensors++;
}

or_node *or_graph_add_node(or_graph *g) {
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 32;
        or_node *grown = or_realloc(g->nodes, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        g->nodes = grown;
        g->cap_nodes = cap;
    }
    or_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->op = -1;
    n->run_by = -1;
    return n;
}

typedef struct sort_work {
    int *producer;       /* [n_tensors] node index or -1 */
    int *pending;        /* [n_nodes] inputs not produced yet */
    int *order;          /* [n_nodes] queue of ready nodes, then the result */
    int *consumer_start; /* [n_tensors + 1] offsets into consumers */
    int *consumers;      /* [input references] node per activation input */
    or_node *sorted;     /* [n_nodes] */
} sort_work;

static void free_sort_work(sort_work *w) {
    or_free(w->producer);
    or_free(w->pending);
    or_free(w->order);
    or_free(w->consumer_start);
    or_free(w->consumers);
    or_free(w->sorted);
}

static int find_producers(or_graph *g, sort_work *w) {
    for (int t = 0; t < g->n_tensors; t++) w->producer[t] = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_outputs; k++) {
            int t = g->nodes[i].outputs[k];
            if (t < 0) continue;
            if (w->producer[t] >= 0 || g->tensors[t].kind != OR_T_ACTIVATION)
                return or_fail(g, ONNXRUN_ERR_MODEL, "tensor '%s' is produced twice (by node '%s')",
                               g->tensors[t].name, g->nodes[i].name);
            w->producer[t] = i;
        }
    return ONNXRUN_OK;
}

/* Counts each node's unproduced inputs and lists each tensor's consumers. */
static int link_consumers(or_graph *g, sort_work *w, int references) {
    w->consumers = or_malloc(sizeof(int) * (size_t)(references + 1));
    if (!w->consumers) return or_fail(g, ONNXRUN_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            int t = g->nodes[i].inputs[k];
            if (t < 0 || g->tensors[t].kind != OR_T_ACTIVATION) continue;
            if (w->producer[t] < 0)
                return or_fail(g, ONNXRUN_ERR_MODEL,
                               "node '%s' reads tensor '%s', which nothing produces",
                               g->nodes[i].name, g->tensors[t].name);
            w->pending[i]++;
            w->consumers[w->consumer_start[t + 1]++] = i;
        }
    return ONNXRUN_OK;
}

/* Offsets of each tensor's consumer list; returns the total, -1 on overflow. */
static int count_consumers(const or_graph *g, sort_work *w) {
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            int t = g->nodes[i].inputs[k];
            if (t >= 0 && g->tensors[t].kind == OR_T_ACTIVATION) w->consumer_start[t + 1]++;
        }
    int total = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        int count = w->consumer_start[t + 1];
        w->consumer_start[t + 1] = total; /* t's start; the end once its consumers are added */
        if (count > INT32_MAX - total) return -1;
        total += count;
    }
    return total;
}

static int report_cycle(or_graph *g, const sort_work *w) {
    for (int i = 0; i < g->n_nodes; i++) {
        if (w->pending[i] == 0) continue;
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            int t = g->nodes[i].inputs[k];
            if (t >= 0 && w->producer[t] >= 0 && w->pending[w->producer[t]] > 0)
                return or_fail(g, ONNXRUN_ERR_MODEL,
                               "the graph has a cycle through tensor '%s' (node '%s')",
                               g->tensors[t].name, g->nodes[i].name);
        }
    }
    return or_fail(g, ONNXRUN_ERR_MODEL, "the graph has a cycle");
}

/* Kahn's algorithm with a FIFO seeded in file order: linear in nodes plus
 * edges, and deterministic. */
static int kahn_order(or_graph *g, sort_work *w) {
    int head = 0, tail = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (w->pending[i] == 0) w->order[tail++] = i;
    while (head < tail) {
        const or_node *n = &g->nodes[w->order[head++]];
        for (int k = 0; k < n->n_outputs; k++) {
            int t = n->outputs[k];
            if (t < 0) continue;
            for (int c = w->consumer_start[t]; c < w->consumer_start[t + 1]; c++)
                if (--w->pending[w->consumers[c]] == 0) w->order[tail++] = w->consumers[c];
        }
    }
    return tail == g->n_nodes ? ONNXRUN_OK : report_cycle(g, w);
}

static int check_outputs_produced(or_graph *g) {
    for (int k = 0; k < g->n_outputs; k++) {
        or_tensor *t = &g->tensors[g->outputs[k]];
        if (t->kind == OR_T_ACTIVATION && t->producer < 0)
            return or_fail(g, ONNXRUN_ERR_MODEL, "graph output '%s' is never produced", t->name);
    }
    return ONNXRUN_OK;
}

int or_graph_sort(or_graph *g) {
    sort_work w = {
        .producer = or_malloc(sizeof(int) * (size_t)(g->n_tensors + 1)),
        .pending = or_calloc((size_t)g->n_nodes + 1, sizeof(int)),
        .order = or_malloc(sizeof(int) * (size_t)(g->n_nodes + 1)),
        .consumer_start = or_calloc((size_t)g->n_tensors + 1, sizeof(int)),
        .sorted = or_malloc(sizeof(or_node) * (size_t)(g->n_nodes + 1)),
    };
    int status = ONNXRUN_ERR_NOMEM;
    if (!w.producer || !w.pending || !w.order || !w.consumer_start || !w.sorted) {
        status = or_fail(g, status, "out of memory");
        goto out;
    }
    int references = count_consumers(g, &w);
    if (references < 0) {
        status = or_fail(g, ONNXRUN_ERR_MODEL, "the graph has too many edges");
        goto out;
    }
    if ((status = find_producers(g, &w)) != ONNXRUN_OK ||
        (status = link_consumers(g, &w, references)) != ONNXRUN_OK ||
        (status = kahn_order(g, &w)) != ONNXRUN_OK)
        goto out;
    for (int i = 0; i < g->n_nodes; i++) w.sorted[i] = g->nodes[w.order[i]];
    if (g->n_nodes) /* a graph without nodes has no node array: memcpy(NULL) is UB */
        memcpy(g->nodes, w.sorted, sizeof(or_node) * (size_t)g->n_nodes);
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_outputs; k++)
            if (g->nodes[i].outputs[k] >= 0) g->tensors[g->nodes[i].outputs[k]].producer = i;
    status = check_outputs_produced(g);
out:
    free_sort_work(&w);
    return status;
}

bool or_node_reads_only_shape(const or_node *n) {
    return strcmp(n->op_type, "Shape") == 0 || strcmp(n->op_type, "Size") == 0;
}

int or_fail(or_graph *g, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->errmsg, sizeof g->errmsg, fmt, ap);
    va_end(ap);
    return status;
}

int or_node_fail(or_graph *g, const or_node *n, int status, const char *fmt, ...) {
    int len = snprintf(g->errmsg, sizeof g->errmsg, "node '%s' (%s): ", n->name, n->op_type);
    if (len < 0 || (size_t)len >= sizeof g->errmsg) return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->errmsg + len, sizeof g->errmsg - (size_t)len, fmt, ap);
    va_end(ap);
    return status;
}

size_t or_dtype_size(int dtype) {
    switch (dtype) {
    case OR_FLOAT:
    case OR_INT32:
    case OR_UINT32:
        return 4;
    case OR_DOUBLE:
    case OR_INT64:
    case OR_UINT64:
    case OR_COMPLEX64:
        return 8;
    case OR_UINT8:
    case OR_INT8:
    case OR_BOOL:
        return 1;
    case OR_FLOAT8E4M3FN:
    case OR_FLOAT8E4M3FNUZ:
    case OR_FLOAT8E5M2:
    case OR_FLOAT8E5M2FNUZ:
    case OR_FLOAT8E8M0:
    case OR_UINT4:
    case OR_INT4:
    case OR_FLOAT4E2M1:
    case OR_UINT2:
    case OR_INT2:
        return 1;
    case OR_UINT16:
    case OR_INT16:
    case OR_FLOAT16:
    case OR_BFLOAT16:
        return 2;
    case OR_COMPLEX128:
        return 16;
    default:
        return 0;
    }
}

const char *or_dtype_name(int dtype) {
    static const char *const names[OR_DTYPE_COUNT] = {
        "undefined",      "float32",  "uint8",        "int8",           "uint16",
        "int16",          "int32",    "int64",        "string",         "bool",
        "float16",        "float64",  "uint32",       "uint64",         "complex64",
        "complex128",     "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
        "float8e5m2fnuz", "uint4",    "int4",         "float4e2m1",     "float8e8m0",
        "uint2",          "int2"};
    return dtype >= 0 && dtype < OR_DTYPE_COUNT ? names[dtype] : "unknown";
}

int or_dtype_pb_bits(int dtype) {
    switch (dtype) {
    case OR_UINT4:
    case OR_INT4:
    case OR_FLOAT4E2M1:
        return 4;
    case OR_UINT2:
    case OR_INT2:
        return 2;
    default:
        return 8 * (int)or_dtype_size(dtype);
    }
}

int64_t or_shape_numel(int rank, const int64_t *dims) {
    if (rank < 0) return -1;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return -1;
        if (dims[i] != 0 && n > INT64_MAX / dims[i]) return -1;
        n *= dims[i];
    }
    return n;
}

int64_t or_tensor_numel(const or_tensor *t) {
    return or_shape_numel(t->rank, t->dims);
}

const char *or_shape_str(int rank, const int64_t *dims, char *buf, size_t len) {
    if (rank < 0) {
        snprintf(buf, len, "[?]");
        return buf;
    }
    size_t pos = 0;
    int w = snprintf(buf, len, "[");
    pos = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < rank && pos < len; i++) {
        if (dims[i] < 0)
            w = snprintf(buf + pos, len - pos, "%s?", i ? "," : "");
        else
            w = snprintf(buf + pos, len - pos, "%s%lld", i ? "," : "", (long long)dims[i]);
        pos += w > 0 ? (size_t)w : 0;
    }
    if (pos < len) snprintf(buf + pos, len - pos, "]");
    return buf;
}

const or_attr *or_attr_find(const or_node *n, const char *name) {
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t or_attr_int(const or_node *n, const char *name, int64_t dflt) {
    const or_attr *a = or_attr_find(n, name);
    return a && a->type == OR_ATTR_INT ? a->i : dflt;
}

float or_attr_float(const or_node *n, const char *name, float dflt) {
    const or_attr *a = or_attr_find(n, name);
    if (a && a->type == OR_ATTR_FLOAT) return a->f;
    if (a && a->type == OR_ATTR_INT) return (float)a->i;
    return dflt;
}

const char *or_attr_string(const or_node *n, const char *name, const char *dflt) {
    const or_attr *a = or_attr_find(n, name);
    return a && a->type == OR_ATTR_STRING && a->s ? a->s : dflt;
}

const int64_t *or_attr_ints(const or_node *n, const char *name, size_t *count) {
    const or_attr *a = or_attr_find(n, name);
    if (a && a->type == OR_ATTR_INTS) {
        *count = a->n;
        static const int64_t empty_ints[1];
        return a->ints ? a->ints : empty_ints;
    }
    *count = 0;
    return NULL;
}

const float *or_attr_floats(const or_node *n, const char *name, size_t *count) {
    const or_attr *a = or_attr_find(n, name);
    if (a && a->type == OR_ATTR_FLOATS) {
        *count = a->n;
        static const float empty_floats[1];
        return a->floats ? a->floats : empty_floats;
    }
    *count = 0;
    return NULL;
}
