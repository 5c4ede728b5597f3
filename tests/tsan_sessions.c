/* Concurrency test, meant to be built with -DONNXRUN_TSAN=ON (ThreadSanitizer)
 * but valid in any build: several threads each create their own session from
 * the same model buffer and run it at the same time, half of them with an
 * intra-op pool of 2 threads (runtime/threadpool.c). Every run must give the
 * outputs a single-threaded reference session gave; ThreadSanitizer reports
 * any data race between sessions or inside the pool.
 *
 * usage: tsan_sessions MODEL_DIR... (each holds model.onnx and
 *        set_0/input/<input name>.npy); the pseudo-directory "synthetic" is a
 *        model built here whose Add/Sigmoid/MatMul/Softmax are large enough to
 *        be split across the pool. Ends with "tsan_sessions: N passed,
 *        M failed" and exits non-zero on any failure.
 */
#include "npy.h"
#include "onnx.pb-c.h"
#include "pack_model.h"
#include "onnxrun.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_THREADS 4
#define N_RUNS 3
#define MAX_IO 8

typedef struct model {
    const char *dir;
    unsigned char *buf;
    size_t len;
    size_t n_in, n_out;
    or_npy in[MAX_IO];
    bool in_is_malloced; /* synthetic inputs: free(), not or_npy_free() */
    onnxrun_tensor_view ref[MAX_IO];
    void *ref_data[MAX_IO];
} model;

typedef struct worker {
    const model *m;
    int num_threads;
    bool ok;
    char why[256];
} worker;

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) &&
            fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = n > 0 ? (size_t)n : 0;
    }
    fclose(f);
    return buf;
}

/* Creates a session, binds the model's inputs and runs it once. */
static onnxrun_session *open_and_run(const model *m, int num_threads, char *why, size_t whylen) {
    onnxrun_options opt;
    onnxrun_options_init(&opt);
    opt.num_threads = num_threads;
    onnxrun_session *s = NULL;
    onnxrun_status st = onnxrun_session_create_from_buffer(m->buf, m->len, m->dir, &opt, &s);
    for (size_t i = 0; st == ONNXRUN_OK && i < m->n_in; i++)
        st = onnxrun_set_input(s, i, m->in[i].dtype, m->in[i].rank, m->in[i].dims, m->in[i].data,
                               m->in[i].nbytes);
    if (st == ONNXRUN_OK) st = onnxrun_run(s);
    if (st != ONNXRUN_OK) {
        snprintf(why, whylen, "%s: %s", onnxrun_status_name(st), s ? onnxrun_errmsg(s) : "");
        onnxrun_session_destroy(s);
        return NULL;
    }
    return s;
}

static bool same_output(const onnxrun_tensor_view *a, const onnxrun_tensor_view *e) {
    if (a->dtype != e->dtype || a->nbytes != e->nbytes || a->rank != e->rank) return false;
    if (a->dtype != ONNXRUN_FLOAT) return memcmp(a->data, e->data, a->nbytes) == 0;
    const float *x = a->data, *y = e->data;
    for (size_t i = 0; i < a->nbytes / sizeof(float); i++)
        if (!(fabsf(x[i] - y[i]) <= 1e-5f + 1e-4f * fabsf(y[i]))) return false;
    return true;
}

static void *work(void *arg) {
    worker *w = arg;
    const model *m = w->m;
    w->ok = true;
    onnxrun_session *s = open_and_run(m, w->num_threads, w->why, sizeof w->why);
    if (!s) {
        w->ok = false;
        return NULL;
    }
    for (int r = 0; r < N_RUNS && w->ok; r++) {
        if (r > 0 && onnxrun_run(s) != ONNXRUN_OK) {
            snprintf(w->why, sizeof w->why, "run %d: %s", r, onnxrun_errmsg(s));
            w->ok = false;
        }
        for (size_t o = 0; o < m->n_out && w->ok; o++) {
            onnxrun_tensor_view v;
            if (onnxrun_get_output(s, o, &v) != ONNXRUN_OK || !same_output(&v, &m->ref[o])) {
                snprintf(w->why, sizeof w->why, "run %d: output %zu differs", r, o);
                w->ok = false;
            }
        }
    }
    onnxrun_session_destroy(s);
    return NULL;
}

/* Y = Softmax(MatMul(Sigmoid(Add(X, X)), W)), X [4, 64, 256], W [256, 64]. */
static unsigned char *synthetic_model(size_t *len) {
    static float w[256 * 64];
    for (size_t i = 0; i < 256 * 64; i++) w[i] = (float)((i * 7919) % 17) / 17.0f - 0.5f;
    int64_t w_dims[2] = {256, 64};
    Onnx__TensorProto wt = ONNX__TENSOR_PROTO__INIT;
    wt.name = "W";
    wt.has_data_type = 1;
    wt.data_type = ONNXRUN_FLOAT;
    wt.n_dims = 2;
    wt.dims = w_dims;
    wt.has_raw_data = 1;
    wt.raw_data.len = sizeof w;
    wt.raw_data.data = (uint8_t *)w;
    Onnx__TensorProto *inits[] = {&wt};

    Onnx__TensorShapeProto__Dimension d[3];
    Onnx__TensorShapeProto__Dimension *dp[3];
    const int64_t x_dims[3] = {4, 64, 256};
    for (int i = 0; i < 3; i++) {
        d[i] = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
        d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d[i].dim_value = x_dims[i];
        dp[i] = &d[i];
    }
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 3;
    shape.dim = dp;
    Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
    tt.has_elem_type = 1;
    tt.elem_type = ONNXRUN_FLOAT;
    tt.shape = &shape;
    Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tt;
    Onnx__ValueInfoProto x = ONNX__VALUE_INFO_PROTO__INIT, y = ONNX__VALUE_INFO_PROTO__INIT;
    x.name = "X";
    x.type = &type;
    y.name = "Y";
    Onnx__ValueInfoProto *ins[] = {&x}, *outs[] = {&y};

    static char *io[4][3] = {{"X", "X", "A"}, {"A", "S", NULL}, {"S", "W", "M"}, {"M", "Y", NULL}};
    static const char *ops[4] = {"Add", "Sigmoid", "MatMul", "Softmax"};
    Onnx__NodeProto nodes[4], *node_p[4];
    for (int i = 0; i < 4; i++) {
        bool unary = io[i][2] == NULL;
        nodes[i] = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
        nodes[i].op_type = (char *)ops[i];
        nodes[i].n_input = unary ? 1 : 2;
        nodes[i].input = io[i];
        nodes[i].n_output = 1;
        nodes[i].output = unary ? &io[i][1] : &io[i][2];
        node_p[i] = &nodes[i];
    }
    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    graph.name = "synthetic";
    graph.n_node = 4;
    graph.node = node_p;
    graph.n_initializer = 1;
    graph.initializer = inits;
    graph.n_input = 1;
    graph.input = ins;
    graph.n_output = 1;
    graph.output = outs;
    return pack_model(&graph, 17, len);
}

static bool synthetic(model *m) {
    memset(m, 0, sizeof *m);
    m->dir = "synthetic";
    m->in_is_malloced = true;
    if (!(m->buf = synthetic_model(&m->len))) return false;
    or_npy *x = &m->in[0];
    x->dtype = ONNXRUN_FLOAT;
    x->rank = 3;
    x->dims[0] = 4;
    x->dims[1] = 64;
    x->dims[2] = 256;
    x->nbytes = 4 * 64 * 256 * sizeof(float);
    float *v = malloc(x->nbytes);
    if (!v) return false;
    for (size_t i = 0; i < x->nbytes / sizeof(float); i++) v[i] = (float)(i % 13) / 13.0f - 0.5f;
    x->data = v;
    m->n_in = 1;
    return true;
}

static bool load_model(model *m, const char *dir) {
    char path[4096];
    memset(m, 0, sizeof *m);
    m->dir = dir;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (!(m->buf = read_file(path, &m->len)))
        return fprintf(stderr, "cannot read %s\n", path), false;
    onnxrun_session *s = NULL;
    if (onnxrun_session_create_from_buffer(m->buf, m->len, dir, NULL, &s) != ONNXRUN_OK) {
        fprintf(stderr, "%s: %s\n", path, s ? onnxrun_errmsg(s) : "out of memory");
        onnxrun_session_destroy(s);
        return false;
    }
    m->n_in = onnxrun_input_count(s);
    bool ok = m->n_in <= MAX_IO;
    for (size_t i = 0; ok && i < m->n_in; i++) {
        onnxrun_tensor_info info;
        char err[256];
        onnxrun_input_info(s, i, &info);
        snprintf(path, sizeof path, "%s/set_0/input/%s.npy", dir, info.name);
        if (or_npy_load_file(path, &m->in[i], err, sizeof err) != ONNXRUN_OK) {
            fprintf(stderr, "%s\n", err);
            ok = false;
        }
    }
    onnxrun_session_destroy(s);
    return ok;
}

/* The reference outputs, from one single-threaded session. */
static bool reference(model *m) {
    char why[256];
    onnxrun_session *s = open_and_run(m, 1, why, sizeof why);
    if (!s) return fprintf(stderr, "%s: reference run: %s\n", m->dir, why), false;
    m->n_out = onnxrun_output_count(s);
    bool ok = m->n_out <= MAX_IO;
    for (size_t o = 0; ok && o < m->n_out; o++) {
        ok = onnxrun_get_output(s, o, &m->ref[o]) == ONNXRUN_OK &&
             (m->ref_data[o] = malloc(m->ref[o].nbytes + 1)) != NULL;
        if (!ok) break;
        memcpy(m->ref_data[o], m->ref[o].data, m->ref[o].nbytes);
        m->ref[o].data = m->ref_data[o];
        m->ref[o].name = NULL; /* owned by the session */
    }
    onnxrun_session_destroy(s);
    return ok;
}

static void free_model(model *m) {
    for (size_t i = 0; i < MAX_IO; i++) {
        if (m->in_is_malloced)
            free(m->in[i].data);
        else
            or_npy_free(&m->in[i]);
        free(m->ref_data[i]);
    }
    free(m->buf);
}

/* Runs N_THREADS workers on the model at once; returns the failures. */
static int race(const model *m) {
    pthread_t tid[N_THREADS];
    worker w[N_THREADS];
    int failed = 0;
    for (int t = 0; t < N_THREADS; t++) {
        w[t] = (worker){.m = m, .num_threads = 1 + t % 2};
        if (pthread_create(&tid[t], NULL, work, &w[t]) != 0) {
            w[t].ok = false;
            snprintf(w[t].why, sizeof w[t].why, "pthread_create failed");
            tid[t] = 0;
        }
    }
    for (int t = 0; t < N_THREADS; t++) {
        if (tid[t]) pthread_join(tid[t], NULL);
        if (!w[t].ok) {
            fprintf(stderr, "FAIL %s thread %d (num_threads=%d): %s\n", m->dir, t, w[t].num_threads,
                    w[t].why);
            failed++;
        }
    }
    return failed;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: tsan_sessions MODEL_DIR...\n");
        return 2;
    }
    int passed = 0, failed = 0;
    for (int a = 1; a < argc; a++) {
        model m;
        bool loaded = strcmp(argv[a], "synthetic") == 0 ? synthetic(&m) : load_model(&m, argv[a]);
        int f = loaded && reference(&m) ? race(&m) : N_THREADS;
        passed += N_THREADS - f;
        failed += f;
        free_model(&m);
    }
    printf("tsan_sessions: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
