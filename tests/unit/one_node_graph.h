/* One-node test graphs built by hand and run through the planner, shared by the
 * op unit tests. Functions are static inline so that a test file may use any
 * subset of them without unused-function warnings. */
#ifndef OR_TEST_ONE_NODE_GRAPH_H
#define OR_TEST_ONE_NODE_GRAPH_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "graph.h"
#include "registry.h"

typedef struct test_graph {
    or_graph *g;
    or_node *n;
} test_graph;

static inline int tensor(or_graph *g, const char *name) {
    int t = or_graph_tensor(g, name);
    cr_assert(t >= 0);
    return t;
}

static inline void set_shape(or_tensor *t, int dtype, int rank, const int64_t *dims,
                             size_t nbytes) {
    t->dtype = dtype;
    t->rank = rank;
    for (int k = 0; k < rank; k++) t->dims[k] = dims[k];
    t->nbytes = nbytes;
}

static inline size_t byte_size(int dtype, int rank, const int64_t *dims) {
    return (size_t)or_shape_numel(rank, dims) * or_dtype_size(dtype);
}

/* A graph input bound to caller data (not static: its consumer runs at run time). */
static inline void input(test_graph *tg, const char *name, int dtype, int rank, const int64_t *dims,
                         const void *data) {
    or_graph *g = tg->g;
    int t = tensor(g, name);
    set_shape(&g->tensors[t], dtype, rank, dims, byte_size(dtype, rank, dims));
    g->tensors[t].kind = OR_T_INPUT;
    g->tensors[t].data = (void *)data;
    g->inputs = realloc(g->inputs, sizeof(int) * (size_t)(g->n_inputs + 1));
    g->inputs[g->n_inputs++] = t;
}

/* An initializer holding a copy of data (static: readable while planning). */
static inline void init(test_graph *tg, const char *name, int dtype, int rank, const int64_t *dims,
                        const void *data) {
    or_graph *g = tg->g;
    int t = tensor(g, name);
    size_t bytes = byte_size(dtype, rank, dims);
    set_shape(&g->tensors[t], dtype, rank, dims, bytes);
    g->tensors[t].kind = OR_T_INITIALIZER;
    g->tensors[t].is_static = true;
    g->tensors[t].owned = malloc(bytes ? bytes : 1);
    if (bytes && data) memcpy(g->tensors[t].owned, data, bytes);
    g->tensors[t].data = g->tensors[t].owned;
}

static inline void init_i64(test_graph *tg, const char *name, int64_t count, const int64_t *vals) {
    init(tg, name, OR_INT64, 1, &count, vals);
}

static inline test_graph make(const char *op, int opset, int n_in, const char *const *in, int n_out,
                              const char *const *out) {
    test_graph tg = {or_graph_new(), NULL};
    cr_assert_not_null(tg.g);
    tg.g->opset = opset;
    or_node *n = or_graph_add_node(tg.g);
    n->name = strdup("node0");
    n->op_type = strdup(op);
    n->domain = strdup("");
    n->opset = opset;
    n->n_inputs = n_in;
    n->inputs = calloc((size_t)n_in + 1, sizeof(int));
    for (int i = 0; i < n_in; i++) n->inputs[i] = in[i] ? tensor(tg.g, in[i]) : -1;
    n->n_outputs = n_out;
    n->outputs = calloc((size_t)n_out + 1, sizeof(int));
    for (int i = 0; i < n_out; i++) {
        n->outputs[i] = tensor(tg.g, out[i]);
        tg.g->outputs = realloc(tg.g->outputs, sizeof(int) * (size_t)(tg.g->n_outputs + 1));
        tg.g->outputs[tg.g->n_outputs++] = n->outputs[i];
        tg.g->tensors[n->outputs[i]].is_graph_output = true;
    }
    tg.n = n;
    return tg;
}

static inline or_attr *new_attr(test_graph *tg, const char *name, or_attr_type type) {
    or_node *n = tg->n;
    n->attrs = realloc(n->attrs, sizeof(or_attr) * (size_t)(n->n_attrs + 1));
    or_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

static inline void attr_int(test_graph *tg, const char *name, int64_t v) {
    new_attr(tg, name, OR_ATTR_INT)->i = v;
}

static inline int plan_and_run(test_graph *tg) {
    or_graph *g = tg->g;
    int status = or_graph_sort(g);
    if (status == ONNXRUN_OK) status = or_graph_check_ops(g);
    if (status == ONNXRUN_OK) status = or_graph_plan(g);
    if (status == ONNXRUN_OK) status = or_graph_run(g);
    return status;
}

static inline void run_ok(test_graph *tg) {
    int status = plan_and_run(tg);
    cr_assert_eq(status, ONNXRUN_OK, "%s", tg->g->errmsg);
}

/* Runs expecting failure with `status` and a message containing `needle`. */
static inline void run_fails(test_graph *tg, int status, const char *needle) {
    int got = plan_and_run(tg);
    cr_assert_eq(got, status, "status %d, message: %s", got, tg->g->errmsg);
    cr_assert(strstr(tg->g->errmsg, needle) != NULL, "message '%s' lacks '%s'", tg->g->errmsg,
              needle);
    cr_assert(strstr(tg->g->errmsg, "node0") != NULL, "message '%s' names no node", tg->g->errmsg);
}

static inline const or_tensor *out(test_graph *tg, const char *name) {
    return &tg->g->tensors[or_graph_find_tensor(tg->g, name)];
}

static inline void expect_shape(const or_tensor *t, int dtype, int rank, const int64_t *dims) {
    cr_assert_eq(t->dtype, dtype, "dtype %d, expected %d", t->dtype, dtype);
    cr_assert_eq(t->rank, rank, "rank %d, expected %d", t->rank, rank);
    for (int k = 0; k < rank; k++)
        cr_assert_eq(t->dims[k], dims[k], "dim %d is %lld, expected %lld", k, (long long)t->dims[k],
                     (long long)dims[k]);
}

static inline void expect_f32(const or_tensor *t, int rank, const int64_t *dims,
                              const float *vals) {
    expect_shape(t, OR_FLOAT, rank, dims);
    const float *d = t->data;
    for (int64_t i = 0; i < or_shape_numel(rank, dims); i++)
        cr_assert_float_eq(d[i], vals[i], 1e-6f, "[%lld] %g, expected %g", (long long)i, d[i],
                           vals[i]);
}

static inline void expect_i64(const or_tensor *t, int rank, const int64_t *dims,
                              const int64_t *vals) {
    expect_shape(t, OR_INT64, rank, dims);
    const int64_t *d = t->data;
    for (int64_t i = 0; i < or_shape_numel(rank, dims); i++)
        cr_assert_eq(d[i], vals[i], "[%lld] %lld, expected %lld", (long long)i, (long long)d[i],
                     (long long)vals[i]);
}

static inline void expect_i32(const or_tensor *t, int rank, const int64_t *dims,
                              const int32_t *vals) {
    expect_shape(t, OR_INT32, rank, dims);
    const int32_t *d = t->data;
    for (int64_t i = 0; i < or_shape_numel(rank, dims); i++)
        cr_assert_eq(d[i], vals[i], "[%lld] %d, expected %d", (long long)i, d[i], vals[i]);
}

#define IN(...) ((const char *[]){__VA_ARGS__})
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

#endif
