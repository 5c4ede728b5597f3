/* Prepare/run shared by the elementwise ops (see elementwise.h). */
#include "../runtime/alloc.h"
#include "elementwise.h"

#include "convert.h"

#include <stdlib.h>
#include <string.h>

#define VIA_BLOCK 256

/* Runs the float32 kernel over blocks converted from/to the narrow formats. */
static void via_f32_kernel(const void *ctx, void *out, const void *const *in, const int *step,
                           int64_t n) {
    const or_ew_kern *k = ctx;
    float buf[OR_BCAST_MAX_IN + 1][VIA_BLOCK];
    const size_t out_size = or_dtype_size(k->out_dtype);
    const bool conv_out = or_dtype_via_f32(k->out_dtype);
    for (int64_t off = 0; off < n; off += VIA_BLOCK) {
        int64_t m = n - off < VIA_BLOCK ? n - off : VIA_BLOCK;
        const void *ptr[OR_BCAST_MAX_IN];
        for (int i = 0; i < k->n_in; i++) {
            int dt = k->in_dtype[i];
            const char *src = (const char *)in[i] + (step[i] ? (size_t)off * or_dtype_size(dt) : 0);
            if (or_dtype_via_f32(dt)) {
                or_load_f32(dt, src, buf[i], step[i] ? m : 1);
                ptr[i] = buf[i];
            } else {
                ptr[i] = src;
            }
        }
        char *dst = (char *)out + (size_t)off * out_size;
        k->fn(ctx, conv_out ? (void *)buf[OR_BCAST_MAX_IN] : dst, ptr, step, m);
        if (conv_out) or_store_f32(k->out_dtype, buf[OR_BCAST_MAX_IN], dst, m, true);
    }
}

void or_ew_copy(const void *ctx, void *out, const void *const *in, const int *step, int64_t n) {
    const or_ew_kern *k = ctx;
    (void)step;
    memcpy(out, in[0], (size_t)n * or_dtype_size(k->out_dtype));
}

void or_ew_exec(const or_ew_kern *k, const or_bcast *b, or_threadpool *pool, void *out,
                const void *const *in) {
    size_t in_size[OR_BCAST_MAX_IN];
    for (int i = 0; i < k->n_in; i++) in_size[i] = or_dtype_size(k->in_dtype[i]);
    or_bcast_run(b, pool, k->grain > 0 ? k->grain : OR_EW_GRAIN,
                 k->via_f32 ? via_f32_kernel : k->fn, k, out, or_dtype_size(k->out_dtype), in,
                 in_size);
}

bool or_ew_pick(or_ew_kern *k, const or_bcast_kernel *table, int dtype) {
    if (dtype <= 0 || dtype >= OR_DTYPE_COUNT) return false;
    k->via_f32 = false;
    k->fn = table[dtype];
    if (!k->fn && or_dtype_via_f32(dtype) && table[OR_FLOAT]) {
        k->fn = table[OR_FLOAT];
        k->via_f32 = true;
    }
    return k->fn != NULL;
}

int or_ew_prepare_shapes(or_graph *g, or_node *n, const or_ew_kern *k, or_run_fn run,
                         const int *ranks, const int64_t *const *dims) {
    int rank;
    int64_t out_dims[OR_MAX_RANK];
    int status = or_bcast_shape(g, n, k->n_in, ranks, dims, &rank, out_dims);
    if (status != ONNXRUN_OK) return status;
    status = or_set_output(g, n, 0, k->out_dtype, rank, out_dims);
    if (status != ONNXRUN_OK) return status;
    or_ew_state *s = or_calloc(1, sizeof *s);
    if (!s) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    s->k = *k;
    for (int i = 0; i < k->n_in; i++) s->k.in_dtype[i] = or_input(g, n, i)->dtype;
    if (or_bcast_plan(&s->b, k->n_in, ranks, dims, rank, out_dims) != 0) {
        or_free(s);
        return or_node_fail(g, n, ONNXRUN_ERR_INTERNAL, "broadcast plan failed");
    }
    n->state = s;
    n->free_state = or_free;
    n->run = run ? run : or_ew_run;
    return ONNXRUN_OK;
}

/* Before opset 7, B broadcast onto A only with broadcast=1, its shape lined
 * up with A's from `axis` on (default: the trailing dims). Written as numpy
 * broadcasting by padding B's shape with trailing 1s. */
static int legacy_shape(or_graph *g, const or_node *n, int ranks[2], int64_t dims[2][OR_MAX_RANK]) {
    if (or_attr_int(n, "broadcast", 0) == 0) return ONNXRUN_OK;
    int64_t axis = or_attr_int(n, "axis", ranks[0] - ranks[1]);
    if (axis < 0 || axis + ranks[1] > ranks[0]) {
        char sa[160], sb[160];
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                            "legacy broadcast of %s onto %s at axis %lld is out of range",
                            or_shape_str(ranks[1], dims[1], sb, sizeof sb),
                            or_shape_str(ranks[0], dims[0], sa, sizeof sa), (long long)axis);
    }
    while (ranks[1] < ranks[0] - axis) dims[1][ranks[1]++] = 1;
    return ONNXRUN_OK;
}

int or_ew_prepare(or_graph *g, or_node *n, const or_ew_kern *k, or_run_fn run) {
    int ranks[OR_BCAST_MAX_IN];
    int64_t shapes[OR_BCAST_MAX_IN][OR_MAX_RANK];
    const int64_t *dims[OR_BCAST_MAX_IN];
    if (k->n_in < 1 || k->n_in > OR_BCAST_MAX_IN)
        return or_node_fail(g, n, ONNXRUN_ERR_INTERNAL, "bad elementwise arity");
    for (int i = 0; i < k->n_in; i++) {
        const or_tensor *t = or_input(g, n, i);
        if (!t) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input %d is missing", i);
        if (t->rank < 0 || t->rank > OR_MAX_RANK)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input %d has an unknown shape", i);
        ranks[i] = t->rank;
        memcpy(shapes[i], t->dims, sizeof(int64_t) * (size_t)t->rank);
        dims[i] = shapes[i];
    }
    if (n->opset < 7 && k->n_in == 2) {
        int status = legacy_shape(g, n, ranks, shapes);
        if (status != ONNXRUN_OK) return status;
    }
    return or_ew_prepare_shapes(g, n, k, run, ranks, dims);
}

int or_ew_run(or_graph *g, or_node *n) {
    const or_ew_state *s = n->state;
    const void *in[OR_BCAST_MAX_IN];
    for (int i = 0; i < s->k.n_in; i++) in[i] = or_input(g, n, i)->data;
    or_ew_exec(&s->k, &s->b, g->pool, or_output(g, n, 0)->data, in);
    return ONNXRUN_OK;
}

int or_ew_check_arity(or_graph *g, const or_node *n, int lo, int hi) {
    if (n->n_inputs < lo || n->n_inputs > hi) {
        if (lo == hi)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects %d input%s, got %d", lo,
                                lo == 1 ? "" : "s", n->n_inputs);
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects %d to %d inputs, got %d", lo, hi,
                            n->n_inputs);
    }
    for (int i = 0; i < lo; i++)
        if (!or_input(g, n, i))
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input %d is missing", i);
    if (!or_output(g, n, 0)) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "output 0 is missing");
    return ONNXRUN_OK;
}

int or_ew_same_dtype(or_graph *g, const or_node *n, int count, int *dtype) {
    *dtype = or_input(g, n, 0)->dtype;
    for (int i = 1; i < count; i++) {
        const or_tensor *t = or_input(g, n, i);
        if (t->dtype != *dtype)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input %d is %s but input 0 is %s", i,
                                or_dtype_name(t->dtype), or_dtype_name(*dtype));
    }
    return ONNXRUN_OK;
}

int or_ew_bad_dtype(or_graph *g, const or_node *n, int dtype) {
    return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported input type %s", or_dtype_name(dtype));
}

int or_ew_simple(or_graph *g, or_node *n, int count, const or_bcast_kernel *table, int out_dtype,
                 const double *p, int64_t grain) {
    int dtype;
    int status = or_ew_check_arity(g, n, count, count);
    if (status == ONNXRUN_OK) status = or_ew_same_dtype(g, n, count, &dtype);
    if (status != ONNXRUN_OK) return status;
    or_ew_kern k = {.n_in = count, .out_dtype = out_dtype ? out_dtype : dtype, .grain = grain};
    if (!or_ew_pick(&k, table, dtype)) return or_ew_bad_dtype(g, n, dtype);
    if (p)
        for (int i = 0; i < 4; i++) k.p[i] = p[i];
    return or_ew_prepare(g, n, &k, NULL);
}
