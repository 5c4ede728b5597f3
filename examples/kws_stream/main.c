/* kws_stream: streaming keyword spotting with a stateful LSTM.
 *
 *   kws_stream MODEL.onnx FRAMES.npy [CHUNK [EXPECTED_LOGITS.npy]]
 *
 * FRAMES.npy holds [time, 1, 10] float32 feature frames (think filterbank
 * energies arriving from a microphone). They are fed to the model CHUNK
 * frames at a time (default 8), as a live application would: the LSTM's
 * state (outputs hn/cn) is bound to its inputs (h0/c0) with
 * onnxrun_bind_state, so each chunk continues where the previous one ended
 * and the caller never touches the state. Each frame's scores (silence,
 * "yes", "no") are written straight into this program's buffer with
 * onnxrun_set_output; a keyword is reported when a frame's best class
 * changes to it. With EXPECTED_LOGITS.npy (PyTorch's scores for the whole
 * stream, from export.py) every score is compared, and the exit status is 1
 * if any differs by more than 1e-4.
 *
 * Uses only the public API (onnxrun.h).
 */
#include <onnxrun.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEATS 10
#define CLASSES 3

static const char *const class_names[CLASSES] = {"silence", "yes", "no"};

typedef struct {
    int rank;
    int64_t dims[ONNXRUN_MAX_RANK];
    float *data;
    size_t count;
} npy_f32;

/* Reads what numpy.save writes for a C-ordered little-endian float32 array. */
static int read_npy(const char *path, npy_f32 *a) {
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    char header[1024] = {0};
    if (!f) return -1;
    int ok = fread(pre, 1, 10, f) == 10 && memcmp(pre, "\x93NUMPY\x01", 7) == 0;
    size_t hlen = ok ? (size_t)(pre[8] | pre[9] << 8) : 0;
    ok = ok && hlen < sizeof header && fread(header, 1, hlen, f) == hlen &&
         strstr(header, "'descr': '<f4'") && strstr(header, "'fortran_order': False");
    const char *p = ok ? strstr(header, "'shape': (") : NULL;
    a->rank = 0;
    a->count = 1;
    for (p = p ? p + 10 : NULL; p && *p != ')' && a->rank < ONNXRUN_MAX_RANK;) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0) break;
        a->dims[a->rank++] = d;
        a->count *= (size_t)d;
        p = end + strspn(end, ", ");
    }
    ok = ok && p && *p == ')';
    a->data = ok ? malloc(a->count * sizeof(float) + 1) : NULL;
    ok = a->data && fread(a->data, sizeof(float), a->count, f) == a->count;
    fclose(f);
    return ok ? 0 : -1;
}

static int fail(onnxrun_session *s, const char *what) {
    fprintf(stderr, "kws_stream: %s: %s\n", what, onnxrun_errmsg(s));
    return 1;
}

/* hn -> h0, cn -> c0: after each run the LSTM's final state becomes the
 * initial state of the next. */
static int bind_states(onnxrun_session *s) {
    static const char *const pairs[2][2] = {{"hn", "h0"}, {"cn", "c0"}};
    for (int k = 0; k < 2; k++) {
        size_t out, in;
        if (onnxrun_output_index(s, pairs[k][0], &out) != ONNXRUN_OK ||
            onnxrun_input_index(s, pairs[k][1], &in) != ONNXRUN_OK ||
            onnxrun_bind_state(s, out, in) != ONNXRUN_OK)
            return fail(s, "binding the LSTM state");
    }
    return 0;
}

static int best_class(const float *scores) {
    int best = 0;
    for (int c = 1; c < CLASSES; c++)
        if (scores[c] > scores[best]) best = c;
    return best;
}

/* Runs the stream chunk by chunk; scores[t * CLASSES + c] receives every
 * frame's logits. */
static int run_stream(onnxrun_session *s, const npy_f32 *frames, int64_t chunk, float *scores) {
    int64_t total = frames->dims[0], previous = 0;
    size_t logits;
    if (onnxrun_output_index(s, "logits", &logits) != ONNXRUN_OK) return fail(s, "model");
    for (int64_t t = 0; t < total; t += chunk) {
        int64_t n = total - t < chunk ? total - t : chunk;
        int64_t dims[3] = {n, 1, FEATS};
        float *out = scores + t * CLASSES;
        if (onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 3, dims, frames->data + t * FEATS,
                              (size_t)(n * FEATS) * sizeof(float)) != ONNXRUN_OK ||
            onnxrun_set_output(s, logits, out, (size_t)(n * CLASSES) * sizeof(float)) !=
                ONNXRUN_OK ||
            onnxrun_run(s) != ONNXRUN_OK)
            return fail(s, "running a chunk");
        for (int64_t i = 0; i < n; i++) {
            int best = best_class(out + i * CLASSES);
            if (best != previous && best != 0)
                printf("frame %lld: \"%s\" (score %.2f)\n", (long long)(t + i), class_names[best],
                       (double)out[i * CLASSES + best]);
            previous = best;
        }
    }
    return 0;
}

static int compare(const float *scores, const npy_f32 *frames, const char *path) {
    npy_f32 want;
    size_t count = (size_t)frames->dims[0] * CLASSES;
    if (read_npy(path, &want) != 0 || want.count != count) {
        fprintf(stderr, "kws_stream: %s: not a float32 .npy of %zu scores\n", path, count);
        free(want.data);
        return 1;
    }
    double worst = 0;
    for (size_t i = 0; i < count; i++) worst = fmax(worst, fabs(scores[i] - want.data[i]));
    free(want.data);
    printf("max abs difference from %s: %.3g\n", path, worst);
    return worst <= 1e-4 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: kws_stream MODEL.onnx FRAMES.npy [CHUNK [EXPECTED_LOGITS.npy]]\n");
        return 2;
    }
    int64_t chunk = argc > 3 ? strtoll(argv[3], NULL, 10) : 8;
    npy_f32 frames = {0};
    if (chunk < 1 || read_npy(argv[2], &frames) != 0 || frames.rank != 3 || frames.dims[1] != 1 ||
        frames.dims[2] != FEATS) {
        fprintf(stderr, "kws_stream: need CHUNK >= 1 and %s as float32 [time, 1, %d]\n", argv[2],
                FEATS);
        free(frames.data);
        return 2;
    }
    onnxrun_session *s = NULL;
    float *scores = malloc((size_t)frames.dims[0] * CLASSES * sizeof(float) + 1);
    int rc = onnxrun_session_create_from_file(argv[1], NULL, &s) != ONNXRUN_OK ? fail(s, argv[1])
             : !scores                                                         ? 1
                                                                               : bind_states(s);
    if (rc == 0) rc = run_stream(s, &frames, chunk, scores);
    if (rc == 0)
        printf("%lld frames in chunks of %lld\n", (long long)frames.dims[0], (long long)chunk);
    if (rc == 0 && argc > 4) rc = compare(scores, &frames, argv[4]);
    onnxrun_session_destroy(s);
    free(scores);
    free(frames.data);
    return rc;
}
