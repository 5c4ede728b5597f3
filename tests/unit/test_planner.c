/* Graph sorting, planning (shape inference, folding, arena reuse) and execution,
 * on graphs built by hand through the runtime's own structures. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "graph.h"
#include "registry.h"

static int tensor(or_graph *g, const char *name) {
    int t = or_graph_tensor(g, name);
    cr_assert(t >= 0);
    return t;
}

static or_node *add_node(or_graph *g, const char *op, const char *name, int n_in,
                         const char *const *in, int n_out, const char *const *out) {
    or_node *n = or_graph_add_node(g);
    cr_assert_not_null(n);
    n->name = strdup(name);
    n->op_type = strdup(op);
    n->domain = strdup("");
    n->opset = 17;
    n->n_inputs = n_in;
    n->inputs = calloc((size_t)n_in + 1, sizeof(int));
    for (int i = 0; i < n_in; i++) n->inputs[i] = in[i] ? tensor(g, in[i]) : -1;
    n->n_outputs = n_out;
    n->outputs = calloc((size_t)n_out + 1, sizeof(int));
    for (int i = 0; i < n_out; i++) n->outputs[i] = tensor(g, out[i]);
    return n;
}

/* A float input "x" of shape [n], bound to data. */
static void bind_input(or_graph *g, const char *name, float *data, int64_t n) {
    int t = tensor(g, name);
    g->tensors[t].kind = OR_T_INPUT;
    g->tensors[t].dtype = OR_FLOAT;
    g->tensors[t].rank = 1;
    g->tensors[t].dims[0] = n;
    g->tensors[t].data = data;
    g->tensors[t].nbytes = (size_t)n * sizeof(float);
    g->inputs = realloc(g->inputs, sizeof(int) * (size_t)(g->n_inputs + 1));
    g->inputs[g->n_inputs++] = t;
}

static void mark_output(or_graph *g, const char *name) {
    int t = tensor(g, name);
    g->tensors[t].is_graph_output = true;
    g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
    g->outputs[g->n_outputs++] = t;
}

static or_graph *new_graph(void) {
    or_graph *g = or_graph_new();
    cr_assert_not_null(g);
    g->opset = 17;
    return g;
}

Test(planner, sorts_nodes_given_in_reverse_order) {
    or_graph *g = new_graph();
    float x[3] = {1, 2, 3};
    bind_input(g, "x", x, 3);
    /* y = (x + x) + (x + x), written consumer first */
    add_node(g, "Add", "second", 2, (const char *[]){"a", "a"}, 1, (const char *[]){"y"});
    add_node(g, "Add", "first", 2, (const char *[]){"x", "x"}, 1, (const char *[]){"a"});
    mark_output(g, "y");
    cr_assert_eq(or_graph_sort(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_str_eq(g->nodes[0].name, "first");
    cr_assert_eq(or_graph_check_ops(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    const float *y = g->tensors[or_graph_find_tensor(g, "y")].data;
    cr_assert_float_eq(y[0], 4.0f, 0);
    cr_assert_float_eq(y[1], 8.0f, 0);
    cr_assert_float_eq(y[2], 12.0f, 0);
    or_graph_free(g);
}

/* A long chain listed backwards (t_k = x + t_{k-1}): the sort must restore it
 * and the name index must keep finding every tensor as the table grows. */
Test(planner, sorts_a_long_chain_given_backwards) {
    enum { LENGTH = 20000 };
    or_graph *g = new_graph();
    float x[1] = {1};
    bind_input(g, "x", x, 1);
    char in[32], out[32], name[32];
    for (int k = LENGTH; k >= 1; k--) {
        snprintf(in, sizeof in, k == 1 ? "x" : "t%d", k - 1);
        snprintf(out, sizeof out, "t%d", k);
        snprintf(name, sizeof name, "n%d", k);
        add_node(g, "Add", name, 2, (const char *[]){"x", in}, 1, (const char *[]){out});
    }
    snprintf(out, sizeof out, "t%d", LENGTH);
    mark_output(g, out);
    cr_assert_eq(or_graph_sort(g), ONNXRUN_OK, "%s", g->errmsg);
    for (int k = 1; k <= LENGTH; k++) {
        snprintf(name, sizeof name, "n%d", k);
        cr_assert_str_eq(g->nodes[k - 1].name, name);
        snprintf(out, sizeof out, "t%d", k);
        int t = or_graph_find_tensor(g, out);
        cr_assert(t >= 0 && strcmp(g->tensors[t].name, out) == 0, "lost %s", out);
        cr_assert_eq(g->tensors[t].producer, k - 1);
    }
    cr_assert_eq(or_graph_find_tensor(g, "t0"), -1);
    cr_assert_eq(or_graph_check_ops(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    const float *y = g->tensors[or_graph_find_tensor(g, out)].data;
    cr_assert_float_eq(y[0], (float)LENGTH + 1.0f, 0); /* 1 + LENGTH additions of 1 */
    or_graph_free(g);
}

Test(planner, reports_a_cycle_naming_a_tensor) {
    or_graph *g = new_graph();
    float x[1] = {1};
    bind_input(g, "x", x, 1);
    add_node(g, "Add", "n1", 2, (const char *[]){"x", "b"}, 1, (const char *[]){"a"});
    add_node(g, "Add", "n2", 2, (const char *[]){"x", "a"}, 1, (const char *[]){"b"});
    mark_output(g, "b");
    cr_assert_eq(or_graph_sort(g), ONNXRUN_ERR_MODEL);
    cr_assert(strstr(g->errmsg, "cycle") != NULL, "%s", g->errmsg);
    cr_assert(strstr(g->errmsg, "'a'") || strstr(g->errmsg, "'b'"), "%s", g->errmsg);
    or_graph_free(g);
}

Test(planner, reports_a_missing_producer_naming_the_tensor) {
    or_graph *g = new_graph();
    float x[1] = {1};
    bind_input(g, "x", x, 1);
    add_node(g, "Add", "n1", 2, (const char *[]){"x", "ghost"}, 1, (const char *[]){"y"});
    mark_output(g, "y");
    cr_assert_eq(or_graph_sort(g), ONNXRUN_ERR_MODEL);
    cr_assert(strstr(g->errmsg, "'ghost'") != NULL, "%s", g->errmsg);
    or_graph_free(g);
}

Test(planner, rejects_an_unknown_op_naming_the_node) {
    or_graph *g = new_graph();
    float x[1] = {1};
    bind_input(g, "x", x, 1);
    add_node(g, "NoSuchOp", "mystery", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    mark_output(g, "y");
    cr_assert_eq(or_graph_sort(g), ONNXRUN_OK);
    cr_assert_eq(or_graph_check_ops(g), ONNXRUN_ERR_MODEL);
    cr_assert(strstr(g->errmsg, "mystery") && strstr(g->errmsg, "NoSuchOp"), "%s", g->errmsg);
    or_graph_free(g);
}

/* A chain t1 = x+x, t2 = t1+t1, ..., t8 = t7+t7: each intermediate is dead once
 * the next node ran, so two buffers of 1024 floats (4096 bytes, already a
 * multiple of the 64-byte alignment) cover the whole chain. */
Test(planner, reuses_arena_space_of_dead_tensors) {
    or_graph *g = new_graph();
    float *x = calloc(1024, sizeof(float));
    for (int i = 0; i < 1024; i++) x[i] = 1.0f;
    bind_input(g, "x", x, 1024);
    const char *names[] = {"x", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"};
    for (int i = 1; i <= 8; i++)
        add_node(g, "Add", names[i], 2, (const char *[]){names[i - 1], names[i - 1]}, 1,
                 (const char *[]){names[i]});
    mark_output(g, "t8");
    cr_assert_eq(or_graph_sort(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_check_ops(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(g->arena_size, 2 * 4096, "arena %zu", g->arena_size);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    const float *y = g->tensors[or_graph_find_tensor(g, "t8")].data;
    cr_assert_float_eq(y[0], 256.0f, 0);
    cr_assert_float_eq(y[1023], 256.0f, 0);
    or_graph_free(g);
    free(x);
}

/* Nodes whose inputs are all known while planning run then, outside the arena. */
Test(planner, folds_nodes_with_static_inputs) {
    or_graph *g = new_graph();
    float x[2] = {1, 2};
    bind_input(g, "x", x, 2);
    int c = tensor(g, "c");
    static float c_data[2] = {10, 20};
    g->tensors[c].kind = OR_T_INITIALIZER;
    g->tensors[c].is_static = true;
    g->tensors[c].dtype = OR_FLOAT;
    g->tensors[c].rank = 1;
    g->tensors[c].dims[0] = 2;
    g->tensors[c].data = c_data;
    g->tensors[c].nbytes = sizeof c_data;
    add_node(g, "Add", "fold_me", 2, (const char *[]){"c", "c"}, 1, (const char *[]){"cc"});
    add_node(g, "Add", "use", 2, (const char *[]){"x", "cc"}, 1, (const char *[]){"y"});
    mark_output(g, "y");
    cr_assert_eq(or_graph_sort(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_check_ops(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert(g->nodes[0].folded);
    cr_assert_not(g->nodes[1].folded);
    cr_assert(g->tensors[or_graph_find_tensor(g, "cc")].is_static);
    cr_assert_eq(g->arena_size, 64); /* only y: 8 bytes rounded to 64 */
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    const float *y = g->tensors[or_graph_find_tensor(g, "y")].data;
    cr_assert_float_eq(y[0], 21.0f, 0);
    cr_assert_float_eq(y[1], 42.0f, 0);
    or_graph_free(g);
}

/* A node whose output nothing reads and no graph output is (nor, then, the
 * node feeding only it) does not run and takes no arena memory; a node
 * feeding a graph output and the dead branch at once still runs. */
Test(planner, nodes_nobody_reads_do_not_run) {
    or_graph *g = new_graph();
    float x[4] = {1, 2, 3, 4};
    bind_input(g, "x", x, 4);
    add_node(g, "Add", "shared", 2, (const char *[]){"x", "x"}, 1, (const char *[]){"xx"});
    add_node(g, "Mul", "unread_1", 2, (const char *[]){"xx", "xx"}, 1, (const char *[]){"sq"});
    add_node(g, "Neg", "unread_2", 1, (const char *[]){"sq"}, 1, (const char *[]){"nsq"});
    add_node(g, "Sub", "used", 2, (const char *[]){"xx", "x"}, 1, (const char *[]){"y"});
    mark_output(g, "y");
    cr_assert_eq(or_graph_sort(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_check_ops(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    for (int i = 0; i < g->n_nodes; i++) {
        const or_node *n = &g->nodes[i];
        bool unread = strncmp(n->name, "unread", 6) == 0;
        cr_assert_eq(n->dead, unread, "%s", n->name);
        cr_assert_eq(g->tensors[n->outputs[0]].data == NULL, unread, "%s", n->name);
    }
    cr_assert_eq(g->arena_size, 2 * 64, "xx and y only");
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    const float *y = g->tensors[or_graph_find_tensor(g, "y")].data;
    for (int i = 0; i < 4; i++) cr_assert_float_eq(y[i], x[i], 0);
    /* Read by a graph output, the branch runs again. */
    mark_output(g, "nsq");
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    for (int i = 0; i < g->n_nodes; i++) cr_assert_not(g->nodes[i].dead, "%s", g->nodes[i].name);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    const float *nsq = g->tensors[or_graph_find_tensor(g, "nsq")].data;
    for (int i = 0; i < 4; i++) cr_assert_float_eq(nsq[i], -4 * x[i] * x[i], 0);
    or_graph_free(g);
}

/* Re-planning for new input shapes gives new output shapes and values. */
Test(planner, replans_for_new_input_shapes) {
    or_graph *g = new_graph();
    float x[4] = {1, 2, 3, 4};
    bind_input(g, "x", x, 2);
    add_node(g, "Add", "add", 2, (const char *[]){"x", "x"}, 1, (const char *[]){"y"});
    mark_output(g, "y");
    cr_assert_eq(or_graph_sort(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_check_ops(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    or_tensor *y = &g->tensors[or_graph_find_tensor(g, "y")];
    cr_assert_eq(y->dims[0], 2);
    or_tensor *in = &g->tensors[g->inputs[0]];
    in->dims[0] = 4;
    in->nbytes = sizeof x;
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(y->dims[0], 4);
    cr_assert_float_eq(((float *)y->data)[3], 8.0f, 0);
    or_graph_free(g);
}

static const float *data_of(or_graph *g, const char *name) {
    return g->tensors[or_graph_find_tensor(g, name)].data;
}

static void plan_and_run(or_graph *g) {
    cr_assert_eq(or_graph_sort(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_check_ops(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_plan(g), ONNXRUN_OK, "%s", g->errmsg);
    cr_assert_eq(or_graph_run(g), ONNXRUN_OK, "%s", g->errmsg);
}

/* A view op's output (Identity, Flatten: the same bytes) shares its input's
 * slot, along a chain, and that slot lives until the last use of any of
 * them: d, computed after a's last direct reader, must not take it (y would
 * then be |x| + |x|). */
Test(planner, view_ops_share_their_input_slot_until_its_last_use) {
    or_graph *g = new_graph();
    float x[1024];
    for (int i = 0; i < 1024; i++) x[i] = (float)(i - 512);
    bind_input(g, "x", x, 1024);
    add_node(g, "Neg", "neg", 1, (const char *[]){"x"}, 1, (const char *[]){"a"});
    add_node(g, "Identity", "view1", 1, (const char *[]){"a"}, 1, (const char *[]){"b"});
    add_node(g, "Abs", "abs", 1, (const char *[]){"x"}, 1, (const char *[]){"d"});
    add_node(g, "Add", "add", 2, (const char *[]){"b", "d"}, 1, (const char *[]){"y"});
    add_node(g, "Flatten", "view2", 1, (const char *[]){"b"}, 1, (const char *[]){"f"});
    mark_output(g, "y");
    mark_output(g, "f");
    plan_and_run(g);
    cr_assert_eq(data_of(g, "b"), data_of(g, "a"));
    cr_assert_eq(data_of(g, "f"), data_of(g, "a"));
    cr_assert_neq(data_of(g, "d"), data_of(g, "a"));
    const float *y = data_of(g, "y"), *f = data_of(g, "f");
    for (int i = 0; i < 1024; i++) {
        cr_assert_float_eq(y[i], -x[i] + fabsf(x[i]), 0, "y[%d]", i);
        cr_assert_float_eq(f[i], -x[i], 0, "f[%d]", i);
    }
    cr_assert_eq(g->tensors[or_graph_find_tensor(g, "f")].rank, 2);
    or_graph_free(g);
}

/* A graph input is the caller's buffer, not the arena's to lend: its view is
 * a copy. A Dropout in training mode is no view (it writes y apart from x). */
Test(planner, views_of_inputs_and_training_dropout_copy) {
    or_graph *g = new_graph();
    float x[4] = {1, 2, 3, 4};
    bind_input(g, "x", x, 4);
    int t = tensor(g, "training");
    static bool training = true;
    g->tensors[t].kind = OR_T_INPUT;
    g->tensors[t].dtype = OR_BOOL;
    g->tensors[t].rank = 0;
    g->tensors[t].data = &training;
    g->tensors[t].nbytes = 1;
    g->inputs = realloc(g->inputs, sizeof(int) * (size_t)(g->n_inputs + 1));
    g->inputs[g->n_inputs++] = t;
    add_node(g, "Identity", "copy", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    add_node(g, "Neg", "neg", 1, (const char *[]){"x"}, 1, (const char *[]){"a"});
    add_node(g, "Dropout", "drop", 3, (const char *[]){"a", NULL, "training"}, 1,
             (const char *[]){"b"});
    mark_output(g, "y");
    mark_output(g, "b");
    plan_and_run(g);
    cr_assert_neq(data_of(g, "y"), (const float *)x);
    for (int i = 0; i < g->n_nodes; i++)
        cr_assert_eq(g->nodes[i].output_is_view, strcmp(g->nodes[i].name, "copy") == 0, "%s",
                     g->nodes[i].name);
    cr_assert_neq(data_of(g, "b"), data_of(g, "a"));
    for (int i = 0; i < 4; i++) {
        cr_assert_float_eq(data_of(g, "y")[i], x[i], 0);
        float b = data_of(g, "b")[i];
        cr_assert(b == 0 || b == -2 * x[i], "b[%d] = %g", i, b); /* ratio 0.5 */
        cr_assert_float_eq(data_of(g, "a")[i], -x[i], 0);
    }
    or_graph_free(g);
}
