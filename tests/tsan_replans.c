/* Concurrency test of re-planning beside clones, meant for ThreadSanitizer
 * and AddressSanitizer builds (fuzz/run_sanitizers.sh) but valid in any: a
 * session over a PyTorch fixture of tests/models with three input sets of
 * batches 3, 5 and 1 (default tests/models/lstm_h0c0, a 2-layer LSTM; two
 * intra-op threads), planned at batch 3, is cloned twice. Then, all at the
 * same time, the original cycles through the three sets, re-planning at each
 * (on AVX-512 batches 3 and 5 pack R as float panels and batch 1 does not;
 * elsewhere the packs are the same), one clone runs the batch-3 set on the
 * packs it borrowed, and the other alternates batches 3 and 1 (packing its
 * own at batch 1); each clone destroys itself after its rounds while the
 * original goes on, alone at the end (its next plan frees what it kept for
 * them). Every output is checked against PyTorch's. The original must
 * neither free nor write the packs its clones read: before 2026-12-06 it
 * freed them, and ASan (on AVX-512) stopped this program with a use after
 * free.
 * usage: tsan_replans [MODEL_DIR]; prints "tsan_replans: N passed, M failed". */
#include "npy.h"
#include "onnxrun.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define N_SETS 3
#define MAX_IO 4
#define ROUNDS 6

static size_t n_in, n_out;
static or_npy inputs[N_SETS][MAX_IO], expected[N_SETS][MAX_IO];
static atomic_int bad;
static atomic_int clones_gone;
static pthread_barrier_t start; /* the three threads begin together */

typedef struct job {
    onnxrun_session *s;
    int sets[N_SETS]; /* set indices to cycle through, -1 ends */
    bool is_original;
} job;

/* Loads DIR/set_N/{input,output}/<name>.npy for each of the session's inputs
 * and outputs. */
static int load_set(const onnxrun_session *s, const char *dir, int set) {
    static const char *const kinds[2] = {"input", "output"};
    for (int kind = 0; kind < 2; kind++)
        for (size_t i = 0; i < (kind ? n_out : n_in); i++) {
            onnxrun_tensor_info info;
            if (kind ? onnxrun_output_info(s, i, &info) : onnxrun_input_info(s, i, &info)) return 1;
            char path[600], err[256];
            snprintf(path, sizeof path, "%s/set_%d/%s/%s.npy", dir, set, kinds[kind], info.name);
            if (or_npy_load_file(path, kind ? &expected[set][i] : &inputs[set][i], err,
                                 sizeof err)) {
                printf("tsan_replans: %s\n", err);
                return 1;
            }
        }
    return 0;
}

static bool close_to(const or_npy *want, const onnxrun_tensor_view *got) {
    if (got->nbytes != want->nbytes) return false;
    for (size_t i = 0; i < want->nbytes / sizeof(float); i++)
        if (!(fabsf(((const float *)got->data)[i] - ((const float *)want->data)[i]) <= 1e-4f))
            return false;
    return true;
}

/* Runs input set `set` on s and compares every output with PyTorch's. */
static void run_set(onnxrun_session *s, int set) {
    onnxrun_status status = ONNXRUN_OK;
    for (size_t i = 0; i < n_in && !status; i++) {
        const or_npy *x = &inputs[set][i];
        status = onnxrun_set_input(s, i, ONNXRUN_FLOAT, x->rank, x->dims, x->data, x->nbytes);
    }
    if (status || onnxrun_run(s)) {
        printf("tsan_replans: set %d: %s\n", set, onnxrun_errmsg(s));
        bad++;
        return;
    }
    for (size_t k = 0; k < n_out; k++) {
        onnxrun_tensor_view v;
        if (onnxrun_get_output(s, k, &v) || !close_to(&expected[set][k], &v)) {
            printf("tsan_replans: set %d, output %zu differs\n", set, k);
            bad++;
        }
    }
}

static void run_round(const job *j) {
    for (int k = 0; k < N_SETS && j->sets[k] >= 0; k++) run_set(j->s, j->sets[k]);
}

/* A clone: its rounds, then it destroys itself. The original: rounds until
 * both clones are gone, then more alone. */
static void *work(void *p) {
    const job *j = p;
    pthread_barrier_wait(&start);
    if (!j->is_original) {
        for (int round = 0; round < ROUNDS; round++) run_round(j);
        onnxrun_session_destroy(j->s);
        clones_gone++;
        return NULL;
    }
    while (clones_gone < 2) run_round(j);
    for (int round = 0; round < ROUNDS; round++) run_round(j);
    return NULL;
}

static onnxrun_session *clone_of(onnxrun_session *s) {
    onnxrun_session *c = NULL;
    if (onnxrun_session_clone(s, &c)) printf("tsan_replans: clone: %s\n", onnxrun_errmsg(s));
    return c;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/models/lstm_h0c0";
    char path[600];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    onnxrun_options o;
    onnxrun_options_init(&o);
    o.num_threads = 2;
    onnxrun_session *s = NULL;
    if (onnxrun_session_create_from_file(path, &o, &s)) {
        printf("tsan_replans: %s\n", onnxrun_errmsg(s));
        return 2;
    }
    n_in = onnxrun_input_count(s);
    n_out = onnxrun_output_count(s);
    if (n_in > MAX_IO || n_out > MAX_IO) return 2;
    for (int set = 0; set < N_SETS; set++)
        if (load_set(s, dir, set)) return 2;
    /* A first clone, before the first plan, keeps the initializers (a model
     * that has been cloned releases none): otherwise the recurrent nodes
     * release W and R after packing them, and a pack that is the only copy
     * of R is kept whatever the batch. */
    onnxrun_session *early = clone_of(s), *clones[2];
    if (!early) return 2;
    onnxrun_session_destroy(early);
    run_set(s, 0); /* planned at batch 3: what the clones borrow */
    clones[0] = clone_of(s);
    clones[1] = clone_of(s);
    if (!clones[0] || !clones[1]) return 2;
    job jobs[3] = {
        {s, {1, 2, 0}, true}, {clones[0], {0, -1}, false}, {clones[1], {0, 2, -1}, false}};
    pthread_t threads[3];
    pthread_barrier_init(&start, NULL, 3);
    for (int t = 0; t < 3; t++)
        if (pthread_create(&threads[t], NULL, work, &jobs[t])) return 2;
    for (int t = 0; t < 3; t++) pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start);
    onnxrun_session_destroy(s);
    for (int set = 0; set < N_SETS; set++) {
        for (size_t i = 0; i < n_in; i++) or_npy_free(&inputs[set][i]);
        for (size_t k = 0; k < n_out; k++) or_npy_free(&expected[set][k]);
    }
    printf("tsan_replans: %d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
    return bad != 0;
}
