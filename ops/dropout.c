/* Dropout (opsets 6-23). Inference (the default): output = input, and the
 * optional mask output is all ones (opsets 6-9: the input's type; 10+: bool).
 * Opset 6's is_test attribute is ignored.
 *
 * Training mode (opset 12+: the training_mode input is true): each element
 * is kept when u >= ratio, u uniform in [0, 1), and scaled by 1 / (1 -
 * ratio); the mask says which were kept. ratio (input 1, default 0.5) must
 * lie in [0, 1); a ratio of 0 is the identity. The uniforms come from
 * MT19937 (mt19937.h) seeded like numpy's legacy RandomState: with the
 * `seed` attribute, every run reseeds with it and draws one random_sample
 * per element in row-major order, exactly what the ONNX reference does
 * (np.random.seed(seed); np.random.uniform(0, 1, shape) >= ratio), so its
 * outputs are reproduced bit for bit (numpy takes seeds in [0, 2^32); other
 * values are used mod 2^32). Without `seed`, each run seeds from the clock
 * mixed with a per-process counter.
 *
 * Types: input float32, float64, float16 and bfloat16 (the last two scaled
 * through float32 and rounded back); ratio any float type. Whether training
 * applies is decided while planning when training_mode and ratio are known
 * then, else at each run. */
#include "../runtime/alloc.h"
#include "op.h"

#include "convert.h"
#include "mt19937.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { MODE_INFER, MODE_TRAIN, MODE_AT_RUN } dropout_mode;

typedef struct {
    dropout_mode mode;
    bool has_seed;
    uint32_t seed;
    or_mt19937 rng;
} dropout_state;

/* Reads ratio (default 0.5) and training_mode from the inputs' data: sets
 * *train when dropout is random (training with a nonzero ratio). */
static int read_mode(or_graph *g, const or_node *n, const or_tensor *r, const void *ratio,
                     const uint8_t *training, bool *train, float *ratio_out) {
    float v = 0.5f;
    if (r) or_cast_block(r->dtype, ratio, OR_FLOAT, &v, 1, true);
    *ratio_out = v;
    *train = training && training[0] && v != 0;
    if (*train && !(v > 0 && v < 1))
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "ratio %g is outside [0, 1)", (double)v);
    return ONNXRUN_OK;
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

static uint32_t clock_seed(void) {
    static atomic_uint counter;
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    uint32_t c = atomic_fetch_add(&counter, 1u);
    return (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u ^ c * 0x9e3779b9u;
}

/* y = keep ? x * scale : 0 (signed zero, like mask * x * scale). */
static float drop_one(float x, bool keep, float scale) {
    return (keep ? 1.0f : 0.0f) * x * scale;
}

static void train_run(dropout_state *s, const or_tensor *x, or_tensor *y, uint8_t *mask,
                      float ratio) {
    or_mt_seed(&s->rng, s->has_seed ? s->seed : clock_seed());
    int64_t count = or_tensor_numel(x);
    float scale = 1.0f / (1.0f - ratio);
    for (int64_t i = 0; i < count; i++) {
        bool keep = or_mt_double(&s->rng) >= (double)ratio;
        if (mask) mask[i] = keep;
        switch (x->dtype) {
        case OR_DOUBLE:
            ((double *)y->data)[i] = (keep ? 1.0 : 0.0) * ((const double *)x->data)[i] * scale;
            break;
        case OR_FLOAT:
            ((float *)y->data)[i] = drop_one(((const float *)x->data)[i], keep, scale);
            break;
        default: { /* float16, bfloat16 */
            float v;
            or_load_f32(x->dtype, (const uint16_t *)x->data + i, &v, 1);
            v = drop_one(v, keep, scale);
            or_store_f32(x->dtype, &v, (uint16_t *)y->data + i, 1, true);
            break;
        }
        }
    }
}

static int dropout_run(or_graph *g, or_node *n) {
    dropout_state *s = n->state;
    const or_tensor *x = or_input(g, n, 0), *r = or_input(g, n, 1), *t = or_input(g, n, 2);
    or_tensor *y = or_output(g, n, 0), *mask = or_output(g, n, 1);
    bool train = false;
    float ratio = 0.5f;
    if (s->mode != MODE_INFER) {
        int status = read_mode(g, n, r, r ? r->data : NULL, t->data, &train, &ratio);
        if (status != ONNXRUN_OK) return status;
    }
    if (train) {
        train_run(s, x, y, mask ? mask->data : NULL, ratio);
        return ONNXRUN_OK;
    }
    size_t bytes = (size_t)or_tensor_numel(x) * or_dtype_size(x->dtype);
    if (y->data != x->data && bytes) memmove(y->data, x->data, bytes);
    if (mask) fill_ones(mask);
    return ONNXRUN_OK;
}

/* Decides the mode from training_mode and ratio when their values are known
 * while planning. */
static int plan_mode(or_graph *g, or_node *n, dropout_mode *mode) {
    *mode = MODE_INFER;
    const or_tensor *t = or_input(g, n, 2), *r = or_input(g, n, 1);
    if (!t) return ONNXRUN_OK;
    if (t->dtype != OR_BOOL || or_tensor_numel(t) != 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "training_mode must be a bool scalar");
    if (r && (!or_dtype_via_f32(r->dtype) && r->dtype != OR_FLOAT && r->dtype != OR_DOUBLE))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "ratio must be a float scalar");
    if (r && or_tensor_numel(r) != 1)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "ratio must be a float scalar");
    const uint8_t *tv = or_input_value(g, n, 2);
    const void *rv = r ? or_input_value(g, n, 1) : NULL;
    if (g->plan_needs_input_values)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "planning needs the value of an input");
    if (!tv || (r && !rv)) {
        *mode = MODE_AT_RUN;
        return ONNXRUN_OK;
    }
    bool train;
    float ratio;
    int status = read_mode(g, n, r, rv, tv, &train, &ratio);
    if (status == ONNXRUN_OK && train) *mode = MODE_TRAIN;
    return status;
}

static bool x_dtype_ok(int dt) {
    return dt == OR_FLOAT || dt == OR_DOUBLE || dt == OR_FLOAT16 || dt == OR_BFLOAT16;
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
    dropout_mode mode;
    int status = plan_mode(g, n, &mode);
    if (status != ONNXRUN_OK) return status;
    if (mode != MODE_INFER && !x_dtype_ok(x->dtype))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "training mode needs a float input, not %s",
                            or_dtype_name(x->dtype));
    status = or_set_output(g, n, 0, x->dtype, x->rank, x->dims);
    if (status == ONNXRUN_OK)
        status = or_set_output(g, n, 1, n->opset >= 10 ? OR_BOOL : x->dtype, x->rank, x->dims);
    if (status != ONNXRUN_OK) return status;
    dropout_state *s = or_calloc(1, sizeof *s);
    if (!s) return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    const or_attr *seed = or_attr_find(n, "seed");
    s->mode = mode;
    s->has_seed = seed && seed->type == OR_ATTR_INT;
    s->seed = s->has_seed ? (uint32_t)seed->i : 0;
    n->state = s;
    n->free_state = or_free;
    n->run = dropout_run;
    n->output_is_view = mode == MODE_INFER; /* training writes y apart from x */
    return ONNXRUN_OK;
}
