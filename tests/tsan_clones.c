/* Concurrency test of onnxrun_session_clone, meant for a ThreadSanitizer
 * build (-DONNXRUN_TSAN=ON) but valid in any: a session over
 * examples/kws_stream/kws.onnx (LSTM state bound hn->h0, cn->c0, a 2-thread
 * intra-op pool, a memory cap so that allocations go through the session's
 * memory context) and three clones stream the same utterance in chunks of
 * different sizes from four threads at once, each checked against PyTorch's
 * logits; then the original is destroyed and the clones go on running and
 * are destroyed from their own threads (the shared weights' refcount).
 * usage: tsan_clones [KWS_DIR]   (default examples/kws_stream); prints
 * "tsan_clones: N passed, M failed". */
#include "npy.h"
#include "onnxrun.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static or_npy stream, logits;
static int bad; /* written by several threads only when failing */
static char path[3][512];
typedef struct {
    onnxrun_session *s;
    int chunk;
} job;
static void *work(void *p);
static void *work_destroy(void *p) {
    work(p);
    onnxrun_session_destroy(((job *)p)->s);
    return NULL;
}
static void *work(void *p) {
    job *j = p;
    for (int rep = 0; rep < 3; rep++) {
        onnxrun_reset_state(j->s);
        for (int t = 0; t < 64; t += j->chunk) {
            int n = t + j->chunk <= 64 ? j->chunk : 64 - t;
            int64_t d[3] = {n, 1, 10};
            if (onnxrun_set_input(j->s, 0, ONNXRUN_FLOAT, 3, d, (float *)stream.data + t * 10,
                                  n * 40) ||
                onnxrun_run(j->s)) {
                bad++;
                return NULL;
            }
            onnxrun_tensor_view v;
            onnxrun_get_output(j->s, 0, &v);
            for (int i = 0; i < n * 3; i++)
                if (fabsf(((const float *)v.data)[i] - ((float *)logits.data)[t * 3 + i]) > 1e-5f)
                    bad++;
        }
    }
    return NULL;
}
int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "examples/kws_stream";
    const char *names[3] = {"stream.npy", "expected_logits.npy", "kws.onnx"};
    for (int i = 0; i < 3; i++) snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]);
    char err[256];
    if (or_npy_load_file(path[0], &stream, err, sizeof err) ||
        or_npy_load_file(path[1], &logits, err, sizeof err)) {
        printf("tsan_clones: %s\n", err);
        return 2;
    }
    onnxrun_options o;
    onnxrun_options_init(&o);
    o.num_threads = 2;
    o.max_memory_bytes = 1 << 24;
    onnxrun_session *s = NULL, *c[3];
    if (onnxrun_session_create_from_file(path[2], &o, &s)) {
        printf("tsan_clones: %s\n", onnxrun_errmsg(s));
        return 2;
    }
    size_t hn, h0, cn, c0;
    onnxrun_output_index(s, "hn", &hn);
    onnxrun_input_index(s, "h0", &h0);
    onnxrun_output_index(s, "cn", &cn);
    onnxrun_input_index(s, "c0", &c0);
    onnxrun_bind_state(s, hn, h0);
    onnxrun_bind_state(s, cn, c0);
    job j0 = {s, 64};
    work(&j0);
    for (int i = 0; i < 3; i++)
        if (onnxrun_session_clone(s, &c[i])) {
            printf("clone: %s\n", onnxrun_errmsg(s));
            return 1;
        }
    pthread_t th[4];
    job js[4] = {{s, 7}, {c[0], 5}, {c[1], 16}, {c[2], 1}};
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, work, &js[i]);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    onnxrun_session_destroy(s);
    /* clones keep running after the original is gone, destroyed concurrently */
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, work_destroy, &js[i + 1]);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    or_npy_free(&stream);
    or_npy_free(&logits);
    printf("tsan_clones: %d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
    return bad != 0;
}
