/* Dropout in inference mode (opsets 6-23): output = input, and the optional
 * mask output is all ones (opsets 6-9: the input's type; 10+: bool). Opset
 * 6's is_test attribute is ignored: this engine only does inference.
 * From opset 12 the optional inputs ratio and training_mode exist; ratio is
 * ignored in inference. A training_mode that is true makes the op random,
 * which this engine does not do: it fails (while planning when the value is
 * known then, else when run) unless ratio is a known 0, where training mode
 * is deterministic and equal to inference. */
#include "../runtime/alloc.h"
#include "op.h"

#include "convert.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    bool check_training; /* training_mode only known at run time */
} dropout_state;

static int training_error(or_graph *g, or_node *n) {
    return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                        "training_mode is true: random dropout is not supported (inference "
                        "only)");
}

/* Whether training_mode is true with a nonzero ratio (the default ratio is
 * 0.5); values are the inputs' data. */
static bool random_mode(const or_tensor *r, const void *ratio, const uint8_t *training) {
    if (!training || !training[0]) return false;
    if (!r) return true;
    float v;
    or_cast_block(r->dtype, ratio, OR_FLOAT, &v, 1, true);
    return v != 0;
}

static void fill_ones(or_tensor *m) {
    int64_t count = or_tensor_numel(m);
    size_t size = or_dtype_size(m->dtype);
    unsigned char one[8] = {0};
    switch (m->dtype) {
    case OR_FLOAT:
        memcpy(one, &(float){1.0f}, 4);
        break;
    case OR_DOUBLE:
        memcpy(one, &(double){1.0}, 8);
        break;
    case OR_FLOAT16:
        memcpy(one, &(uint16_t){0x3c00}, 2);
        break;
    case OR_BFLOAT16:
        memcpy(one, &(uint16_t){0x3f80}, 2);
        break;
    default:
        one[0] = 1;
        break;
    }
    if (size == 1) {
        memset(m->data, one[0], (size_t)count);
        return;
    }
    for (int64_t i = 0; i < count; i++) memcpy((char *)m->data + (size_t)i * size, one, size);
}

static int dropout_run(or_graph *g, or_node *n) {
    const dropout_state *s = n->state;
    if (s->check_training) {
        const or_tensor *r = or_input(g, n, 1);
        if (random_mode(r, r ? r->data : NULL, or_input(g, n, 2)->data))
            return training_error(g, n);
    }
    const or_tensor *x = or_input(g, n, 0);
    or_tensor *y = or_output(g, n, 0), *mask = or_output(g, n, 1);
    size_t bytes = (size_t)or_tensor_numel(x) * or_dtype_size(x->dtype);
    if (y->data != x->data && bytes) memmove(y->data, x->data, bytes);
    if (mask) fill_ones(mask);
    return ONNXRUN_OK;
}

/* Fails when training is known to be random while planning; *at_run says
 * whether that must be checked when running instead. */
static int check_training(or_graph *g, or_node *n, bool *at_run) {
    *at_run = false;
    const or_tensor *t = or_input(g, n, 2), *r = or_input(g, n, 1);
    if (!t) return ONNXRUN_OK;
    if (t->dtype != OR_BOOL || or_tensor_numel(t) != 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "training_mode must be a bool scalar");
    if (r && (!or_cast_supported(r->dtype) || or_tensor_numel(r) != 1))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "ratio must be a float scalar");
    const uint8_t *tv = or_input_value(g, n, 2);
    const void *rv = r ? or_input_value(g, n, 1) : NULL;
    if (g->plan_needs_input_values)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "planning needs the value of an input");
    if (!tv || (r && !rv))
        *at_run = true;
    else if (random_mode(r, rv, tv))
        return training_error(g, n);
    return ONNXRUN_OK;
}

int dropout_prepare(or_graph *g, or_node *n) {
    const or_tensor *x = or_input(g, n, 0);
    int max_in = n->opset >= 12 ? 3 : 1;
    if (!x || n->n_inputs > max_in || !or_output(g, n, 0) || n->n_outputs > 2)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 1 to %d inputs and 1 or 2 outputs",
                            max_in);
    if (or_dtype_size(x->dtype) == 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "unsupported input type %s",
                            or_dtype_name(x->dtype));
    bool at_run;
    int status = check_training(g, n, &at_run);
    if (status != ONNXRUN_OK) return status;
    status = or_set_output(g, n, 0, x->dtype, x->rank, x->dims);
    if (status == ONNXRUN_OK)
        status = or_set_output(g, n, 1, n->opset >= 10 ? OR_BOOL : x->dtype, x->rank, x->dims);
    if (status != ONNXRUN_OK) return status;
    dropout_state *s = or_calloc(1, sizeof *s);
    if (!s) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    s->check_training = at_run;
    n->state = s;
    n->free_state = or_free;
    n->run = dropout_run;
    return ONNXRUN_OK;
}
