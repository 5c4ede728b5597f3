/* ConstantOfShape (opsets 9-23): a tensor of the shape given by the int64
 * input (known while planning; an empty shape gives a scalar) filled with the
 * one-element `value` attribute, whose dtype it takes (default float32 0).
 * Any fixed-size dtype. */
#include "shape_common.h"

#include <string.h>

static const or_tensor *fill_value(const or_node *n) {
    const or_attr *a = or_attr_find(n, "value");
    return a && a->type == OR_ATTR_TENSOR ? a->t : NULL;
}

static int cos_run(or_graph *g, or_node *n) {
    or_tensor *y = or_output(g, n, 0);
    const or_tensor *val = fill_value(n);
    int64_t count = or_tensor_numel(y);
    if (!val) {
        if (count) memset(y->data, 0, (size_t)count * sizeof(float));
        return 0;
    }
    size_t es = or_dtype_size(val->dtype);
    unsigned char *d = y->data;
    for (int64_t i = 0; i < count; i++) memcpy(d + (size_t)i * es, val->data, es);
    return 0;
}

static int check_value(or_graph *g, or_node *n, int *dtype, size_t *es) {
    const or_attr *a = or_attr_find(n, "value");
    *dtype = OR_FLOAT;
    *es = sizeof(float);
    if (!a) return 0;
    const or_tensor *t = a->t;
    if (a->type != OR_ATTR_TENSOR || !t)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "attribute 'value' must be a tensor");
    *es = or_dtype_size(t->dtype);
    if (*es == 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "value of dtype %s is not supported",
                            or_dtype_name(t->dtype));
    if (or_tensor_numel(t) != 1 || !t->data || t->nbytes < *es)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "value must hold exactly one element");
    *dtype = t->dtype;
    return 0;
}

int constant_of_shape_prepare(or_graph *g, or_node *n) {
    if (n->n_outputs < 1) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 output");
    int dtype;
    size_t es;
    int64_t dims[OR_MAX_RANK], rank;
    int rc = check_value(g, n, &dtype, &es);
    if (rc) return rc;
    if ((rc = shp_plan_ints(g, n, 0, "input", dims, OR_MAX_RANK, &rank))) return rc;
    for (int k = 0; k < rank; k++)
        if (dims[k] < 0)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "shape has a negative dim %lld",
                                (long long)dims[k]);
    if ((rc = shp_check_size(g, n, (int)rank, dims, es))) return rc;
    n->run = cos_run;
    return or_set_output(g, n, 0, dtype, (int)rank, dims);
}
