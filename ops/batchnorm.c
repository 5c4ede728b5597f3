/* BatchNormalization (opsets 6-23): y = scale * (x - mean) / sqrt(var +
 * epsilon)
 * + B per channel, x viewed as [N, C, D1...]. Types float32, float64,
 * float16 and bfloat16 (the half types through float32 loads, all arithmetic
 * in double). Before opset 15 every input shares x's type; from 15 scale/B
 * (T1) and mean/var (T2) may each have their own type.
 *
 * Modes:
 *  - inference: the given mean and var are used.
 *  - training, selected by training_mode=1 from opset 14, and before that by
 *    asking for more than one output (opset 6 also needs is_test=0): the
 *    batch mean and (biased) variance over every axis but 1 normalise x, and
 *    the running statistics come out as
 *      running = input * momentum + batch * (1 - momentum)   (momentum 0.9).
 *    Opset 14+ outputs: Y, running_mean, running_var. Opsets 6-9 outputs:
 *    Y, mean, var (running), saved_mean, saved_var (batch mean/variance).
 *    A running-statistics output requested without training mode (14+) gets
 *    the input mean/var unchanged.
 *  - spatial=0 (opsets 6-8): statistics per element of x's shape [C, D1...]
 *    instead of per channel (scale etc. have that shape).
 */
#include "../runtime/alloc.h"
#include "convert.h"
#include "op.h"

#include <math.h>

#define CHUNK 256 /* half-type elements converted per stack block */

typedef struct bn_plan {
    int64_t n, c, inner; /* x viewed as [n, c, inner] */
    double eps, momentum;
    bool training;
    int x_dt, p_dt, s_dt; /* x/y, scale/B, mean/var dtypes */
    double *prm;          /* [6, c]: scale, bias, mean, var, then a, b (y = a*x + b) */
} bn_plan;

enum { P_SCALE, P_BIAS, P_MEAN, P_VAR, P_A, P_B };

typedef struct bn_task {
    const bn_plan *p;
    const void *x;
    void *y;
} bn_task;

static bool bn_dtype_ok(int dt) {
    return dt == OR_FLOAT || dt == OR_DOUBLE || dt == OR_FLOAT16 || dt == OR_BFLOAT16;
}

/* ---- per-channel statistics (training) ---- */

/* Sums of x and of (x - shift)^2 over the `len` elements of one plane. */
static void plane_sums(int dt, const void *x, int64_t len, double shift, double *s1, double *s2) {
    double a = 0, b = 0;
    if (dt == OR_FLOAT) {
        const float *v = x;
        for (int64_t i = 0; i < len; i++) {
            double d = (double)v[i] - shift;
            a += v[i], b += d * d;
        }
    } else if (dt == OR_DOUBLE) {
        const double *v = x;
        for (int64_t i = 0; i < len; i++) {
            double d = v[i] - shift;
            a += v[i], b += d * d;
        }
    } else {
        double buf[CHUNK];
        size_t es = or_dtype_size(dt);
        for (int64_t o = 0; o < len; o += CHUNK) {
            int64_t m = len - o < CHUNK ? len - o : CHUNK;
            or_cast_block(dt, (const char *)x + (size_t)o * es, OR_DOUBLE, buf, m, false);
            for (int64_t i = 0; i < m; i++) {
                double d = buf[i] - shift;
                a += buf[i], b += d * d;
            }
        }
    }
    *s1 += a, *s2 += b;
}

static void stats_task(void *arg, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const bn_task *t = arg;
    const bn_plan *p = t->p;
    size_t es = or_dtype_size(p->x_dt);
    int64_t count = p->n * p->inner;
    for (int64_t c = begin; c < end; c++) {
        /* Two passes: the mean, then squares of deviations from it, so a
         * large common offset does not cancel the variance away. */
        double s1 = 0, s2 = 0, mean, unused = 0;
        for (int64_t i = 0; i < p->n; i++)
            plane_sums(p->x_dt, (const char *)t->x + (size_t)((i * p->c + c) * p->inner) * es,
                       p->inner, 0, &s1, &unused);
        mean = count ? s1 / (double)count : 0;
        s1 = 0;
        for (int64_t i = 0; i < p->n; i++)
            plane_sums(p->x_dt, (const char *)t->x + (size_t)((i * p->c + c) * p->inner) * es,
                       p->inner, mean, &s1, &s2);
        /* batch statistics go to the a/b rows until the affine is formed */
        p->prm[P_A * p->c + c] = mean;
        p->prm[P_B * p->c + c] = count ? s2 / (double)count : 0;
    }
}

/* ---- y = a*x + b per plane ---- */

static void apply_plane(int dt, const void *x, void *y, int64_t len, double a, double b) {
    if (dt == OR_FLOAT) {
        const float *v = x;
        float *w = y;
        for (int64_t i = 0; i < len; i++) w[i] = (float)(a * v[i] + b);
    } else if (dt == OR_DOUBLE) {
        const double *v = x;
        double *w = y;
        for (int64_t i = 0; i < len; i++) w[i] = a * v[i] + b;
    } else {
        double buf[CHUNK];
        size_t es = or_dtype_size(dt);
        for (int64_t o = 0; o < len; o += CHUNK) {
            int64_t m = len - o < CHUNK ? len - o : CHUNK;
            or_cast_block(dt, (const char *)x + (size_t)o * es, OR_DOUBLE, buf, m, false);
            for (int64_t i = 0; i < m; i++) buf[i] = a * buf[i] + b;
            or_cast_block(OR_DOUBLE, buf, dt, (char *)y + (size_t)o * es, m, false);
        }
    }
}

static void apply_task(void *arg, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const bn_task *t = arg;
    const bn_plan *p = t->p;
    size_t off = (size_t)p->inner * or_dtype_size(p->x_dt);
    for (int64_t i = begin; i < end; i++) {
        int64_t c = i % p->c;
        apply_plane(p->x_dt, (const char *)t->x + (size_t)i * off, (char *)t->y + (size_t)i * off,
                    p->inner, p->prm[P_A * p->c + c], p->prm[P_B * p->c + c]);
    }
}

/* ---- run ---- */

static void load_params(or_graph *g, or_node *n, const bn_plan *p) {
    for (int k = 0; k < 4; k++) {
        const or_tensor *t = or_input(g, n, 1 + k);
        or_cast_block(t->dtype, t->data, OR_DOUBLE, p->prm + k * p->c, p->c, false);
    }
}

static void store_stat(or_graph *g, or_node *n, int out, const bn_plan *p, const double *v) {
    or_tensor *t = or_output(g, n, out);
    if (t) or_cast_block(OR_DOUBLE, v, p->s_dt, t->data, p->c, false);
}

/* Running statistics (into the mean/var rows) from the batch ones (a/b rows).
 */
static void training_outputs(or_graph *g, or_node *n, const bn_plan *p) {
    double *mean = p->prm + P_MEAN * p->c, *var = p->prm + P_VAR * p->c;
    double *bmean = p->prm + P_A * p->c, *bvar = p->prm + P_B * p->c;
    bool legacy = n->opset < 14;
    if (legacy) store_stat(g, n, 3, p, bmean), store_stat(g, n, 4, p, bvar);
    for (int64_t c = 0; c < p->c; c++) {
        mean[c] = mean[c] * p->momentum + bmean[c] * (1 - p->momentum);
        var[c] = var[c] * p->momentum + bvar[c] * (1 - p->momentum);
    }
    store_stat(g, n, 1, p, mean);
    store_stat(g, n, 2, p, var);
}

static int bn_run(or_graph *g, or_node *n) {
    const bn_plan *p = n->state;
    bn_task t = {p, or_input(g, n, 0)->data, or_output(g, n, 0)->data};
    int64_t c = p->c;
    load_params(g, n, p);
    if (p->training) {
        int64_t per = p->n * p->inner;
        or_parallel_for(g->pool, c, per >= 8192 ? 1 : 8192 / (per + 1) + 1, stats_task, &t);
        training_outputs(g, n, p);
    } else {
        store_stat(g, n, 1, p, p->prm + P_MEAN * c);
        store_stat(g, n, 2, p, p->prm + P_VAR * c);
    }
    const double *mean = p->prm + (p->training ? P_A : P_MEAN) * c;
    const double *var = p->prm + (p->training ? P_B : P_VAR) * c;
    for (int64_t k = 0; k < c; k++) {
        double a = p->prm[P_SCALE * c + k] / sqrt(var[k] + p->eps);
        double b = p->prm[P_BIAS * c + k] - mean[k] * a;
        p->prm[P_A * c + k] = a; /* overwrites the batch stats, already consumed */
        p->prm[P_B * c + k] = b;
    }
    int64_t planes = p->n * c;
    if (planes && p->inner)
        or_parallel_for(g->pool, planes, p->inner >= 16384 ? 1 : 16384 / p->inner, apply_task, &t);
    return 0;
}

/* ---- prepare ---- */

static void bn_free(void *state) {
    bn_plan *p = state;
    if (p) or_free(p->prm);
    or_free(p);
}

static int check_inputs(or_graph *g, or_node *n, const or_tensor *x, int64_t c, bool spatial) {
    static const char *const names[] = {"scale", "B", "mean", "var"};
    for (int k = 0; k < 4; k++) {
        const or_tensor *t = or_input(g, n, 1 + k);
        if (!bn_dtype_ok(t->dtype))
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "%s has unsupported type %s", names[k],
                                or_dtype_name(t->dtype));
        if (n->opset < 15 && t->dtype != x->dtype)
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "%s is %s but X is %s", names[k],
                                or_dtype_name(t->dtype), or_dtype_name(x->dtype));
        if (or_tensor_numel(t) != c || (spatial && t->rank != 1)) {
            char buf[96];
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "%s has shape %s, expected %lld elements along X's %s", names[k],
                                or_shape_str(t->rank, t->dims, buf, sizeof buf), (long long)c,
                                spatial ? "channel axis" : "dims after the batch axis");
        }
    }
    const int *in = n->inputs;
    if (g->tensors[in[1]].dtype != g->tensors[in[2]].dtype ||
        g->tensors[in[3]].dtype != g->tensors[in[4]].dtype)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "scale and B, and mean and var, must share their types");
    return ONNXRUN_OK;
}

static bool training_mode(const or_node *n) {
    if (n->opset >= 14) return or_attr_int(n, "training_mode", 0) != 0;
    bool more = false;
    for (int i = 1; i < n->n_outputs; i++) more |= n->outputs[i] >= 0;
    if (n->opset < 7 && or_attr_int(n, "is_test", 0) != 0) return false;
    return more;
}

static int declare_outputs(or_graph *g, or_node *n, const or_tensor *x, const bn_plan *p) {
    const or_tensor *mean = or_input(g, n, 3);
    int max_out = n->opset >= 14 ? 3 : 5;
    if (n->n_outputs > max_out)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "has %d outputs, at most %d allowed",
                            n->n_outputs, max_out);
    int st = or_set_output(g, n, 0, x->dtype, x->rank, x->dims);
    for (int i = 1; i < n->n_outputs && st == ONNXRUN_OK; i++)
        st = or_set_output(g, n, i, p->s_dt, mean->rank, mean->dims);
    return st;
}

int batchnorm_prepare(or_graph *g, or_node *n) {
    if (n->n_inputs != 5 || n->n_outputs < 1 || n->outputs[0] < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "expects 5 inputs and output Y");
    for (int i = 0; i < 5; i++)
        if (!or_input(g, n, i))
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "input %d is missing", i);
    const or_tensor *x = or_input(g, n, 0);
    if (!bn_dtype_ok(x->dtype))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "X has unsupported type %s",
                            or_dtype_name(x->dtype));
    if (x->rank < 2 || or_tensor_numel(x) < 0)
        return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "X must have a known shape of rank >= 2");
    bool spatial = n->opset >= 9 || or_attr_int(n, "spatial", 1) != 0;
    int64_t c = spatial ? x->dims[1] : or_shape_numel(x->rank - 1, x->dims + 1);
    int st = check_inputs(g, n, x, c, spatial);
    if (st != ONNXRUN_OK) return st;

    bn_plan *p = or_calloc(1, sizeof *p);
    if (!p || !(p->prm = or_malloc(sizeof(double) * (size_t)(c ? 6 * c : 1)))) {
        bn_free(p);
        return or_node_fail(g, n, ONNXRUN_ERR_NOMEM, "out of memory");
    }
    p->n = x->dims[0];
    p->c = c;
    p->inner = spatial ? or_shape_numel(x->rank - 2, x->dims + 2) : 1;
    p->eps = or_attr_float(n, "epsilon", 1e-5f);
    p->momentum = or_attr_float(n, "momentum", 0.9f);
    p->training = training_mode(n);
    p->x_dt = x->dtype;
    p->p_dt = or_input(g, n, 1)->dtype;
    p->s_dt = or_input(g, n, 3)->dtype;
    n->state = p;
    n->free_state = bn_free;
    n->run = bn_run;
    return declare_outputs(g, n, x, p);
}
