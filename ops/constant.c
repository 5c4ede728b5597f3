/* Constant (opsets 1-23): outputs the tensor held by exactly one attribute:
 * `value` (any fixed-size dtype), or since opset 12 value_float (float32
 * scalar), value_floats (1-D float32), value_int (int64 scalar) or
 * value_ints (1-D int64). sparse_value and value_string(s) are rejected. */
#include "shape_common.h"

#include <string.h>

static int constant_run(or_graph *g, or_node *n) {
    or_tensor *y = or_output(g, n, 0);
    const or_attr *a = n->state;
    size_t bytes = (size_t)or_tensor_numel(y) * or_dtype_size(y->dtype);
    const void *src = NULL;
    switch (a->type) {
    case OR_ATTR_TENSOR:
        src = a->t->data;
        break;
    case OR_ATTR_FLOAT:
        src = &a->f;
        break;
    case OR_ATTR_INT:
        src = &a->i;
        break;
    case OR_ATTR_FLOATS:
        src = a->floats;
        break;
    case OR_ATTR_INTS:
        src = a->ints;
        break;
    default:
        return or_node_fail(g, n, ONNXRUN_ERR_INTERNAL, "unexpected attribute");
    }
    if (bytes) memcpy(y->data, src, bytes);
    return 0;
}

static int tensor_value(or_graph *g, or_node *n, const or_attr *a) {
    const or_tensor *t = a->t;
    if (a->type != OR_ATTR_TENSOR || !t)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "attribute 'value' must be a tensor");
    size_t es = or_dtype_size(t->dtype);
    int64_t numel = or_tensor_numel(t);
    if (es == 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "constant of dtype %s is not supported",
                            or_dtype_name(t->dtype));
    if (numel < 0 || (numel > 0 && (!t->data || t->nbytes < (size_t)numel * es)))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "constant tensor data is missing or short");
    return or_set_output(g, n, 0, t->dtype, t->rank, t->dims);
}

static bool is_value_attr(const char *name) {
    static const char *const names[] = {"value",        "value_float",  "value_floats",
                                        "value_int",    "value_ints",   "sparse_value",
                                        "value_string", "value_strings"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) return true;
    return false;
}

int constant_prepare(or_graph *g, or_node *n) {
    const or_attr *a = NULL;
    if (n->n_outputs < 1) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 output");
    for (int i = 0; i < n->n_attrs; i++) {
        if (!is_value_attr(n->attrs[i].name)) continue;
        if (a) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "has more than one value attribute");
        a = &n->attrs[i];
    }
    if (!a) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "has no value attribute");
    n->state = (void *)a; /* borrowed from the node: no free_state */
    n->run = constant_run;
    int64_t len = (int64_t)a->n;
    if (strcmp(a->name, "value") == 0) return tensor_value(g, n, a);
    if (strcmp(a->name, "value_float") == 0 && a->type == OR_ATTR_FLOAT)
        return or_set_output(g, n, 0, OR_FLOAT, 0, NULL);
    if (strcmp(a->name, "value_int") == 0 && a->type == OR_ATTR_INT)
        return or_set_output(g, n, 0, OR_INT64, 0, NULL);
    if (strcmp(a->name, "value_floats") == 0 && a->type == OR_ATTR_FLOATS)
        return or_set_output(g, n, 0, OR_FLOAT, 1, &len);
    if (strcmp(a->name, "value_ints") == 0 && a->type == OR_ATTR_INTS)
        return or_set_output(g, n, 0, OR_INT64, 1, &len);
    return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                        "attribute '%s' is not supported (only numeric dense constants are)",
                        a->name);
}
