/* char_gru: generates text with the character-level GRU of export.py.
 *
 *   char_gru MODEL.onnx VOCAB.txt [-p PROMPT] [-n CHARS] [-t TEMPERATURE] [-s SEED]
 *
 * The model maps (x [1, time] character ids, h0 [layers, 1, hidden]) to
 * (logits [1, time, vocab], hn). The prompt is run once; then each sampled
 * character is fed back alone, with hn as the next h0. Temperature 0 picks the
 * most likely character (greedy); otherwise the next character is drawn from
 * softmax(logits / temperature) with a seeded generator, so a run is repeatable.
 */
#include <onnxrun.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *model, *vocab_path, *prompt;
    long count;
    double temperature;
    unsigned long long seed;
} args;

typedef struct {
    onnxrun_session *s;
    size_t x, h0, logits, hn; // input and output indexes
    float *h;                 // [layers, 1, hidden]
    int64_t h_dims[3];
    size_t h_bytes;
} generator;

static unsigned long long rng_state;

// splitmix64: a small, well-mixed generator; uniform() returns [0, 1).
static double uniform(void) {
    unsigned long long z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static int sample(const float *logits, int vocab, double temperature) {
    int best = 0;
    for (int i = 1; i < vocab; i++)
        if (logits[i] > logits[best]) best = i;
    if (temperature <= 0) return best;
    double total = 0, p[256];
    for (int i = 0; i < vocab; i++) total += p[i] = exp((logits[i] - logits[best]) / temperature);
    double u = uniform() * total;
    for (int i = 0; i < vocab; i++)
        if ((u -= p[i]) < 0) return i;
    return vocab - 1;
}

static int parse_args(int argc, char **argv, args *a) {
    *a = (args){NULL, NULL, "the river ", 200, 0.8, 1};
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (o[0] == '-' && o[1] && !o[2] && strchr("pnts", o[1]) && i + 1 < argc) {
            const char *v = argv[++i];
            if (o[1] == 'p') a->prompt = v;
            if (o[1] == 'n') a->count = strtol(v, NULL, 10);
            if (o[1] == 't') a->temperature = strtod(v, NULL);
            if (o[1] == 's') a->seed = strtoull(v, NULL, 10);
        } else if (pos < 2) {
            *(pos++ ? &a->vocab_path : &a->model) = o;
        } else {
            return -1;
        }
    }
    return pos == 2 && a->count >= 0 && a->prompt[0] ? 0 : -1;
}

static int read_vocab(const char *path, char *vocab, int *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    *size = (int)fread(vocab, 1, 256, f);
    fclose(f);
    return *size > 0 ? 0 : -1;
}

// Finds the tensors by name and sizes h from h0's declared [layers, batch, hidden].
static onnxrun_status open_model(generator *g, const char *path) {
    onnxrun_tensor_info info;
    onnxrun_status st = onnxrun_session_create_from_file(path, NULL, &g->s);
    if (!st) st = onnxrun_input_index(g->s, "x", &g->x);
    if (!st) st = onnxrun_input_index(g->s, "h0", &g->h0);
    if (!st) st = onnxrun_output_index(g->s, "logits", &g->logits);
    if (!st) st = onnxrun_output_index(g->s, "hn", &g->hn);
    if (!st) st = onnxrun_input_info(g->s, g->h0, &info);
    if (st) return st;
    if (info.rank != 3 || info.dims[0] <= 0 || info.dims[2] <= 0) return ONNXRUN_ERR_MODEL;
    g->h_dims[0] = info.dims[0], g->h_dims[1] = 1, g->h_dims[2] = info.dims[2];
    g->h_bytes = (size_t)(info.dims[0] * info.dims[2]) * sizeof(float);
    g->h = calloc(1, g->h_bytes);
    return g->h ? ONNXRUN_OK : ONNXRUN_ERR_NOMEM;
}

// Runs ids [1, n] from state h; leaves the last step's logits in *last and hn in h.
static onnxrun_status step(generator *g, const int64_t *ids, int64_t n, const float **last,
                           int vocab) {
    int64_t x_dims[2] = {1, n};
    onnxrun_tensor_view logits, hn;
    onnxrun_status st =
        onnxrun_set_input(g->s, g->x, ONNXRUN_INT64, 2, x_dims, ids, (size_t)n * sizeof *ids);
    if (!st) st = onnxrun_set_input(g->s, g->h0, ONNXRUN_FLOAT, 3, g->h_dims, g->h, g->h_bytes);
    if (!st) st = onnxrun_run(g->s);
    if (!st) st = onnxrun_get_output(g->s, g->logits, &logits);
    if (!st) st = onnxrun_get_output(g->s, g->hn, &hn);
    if (st) return st;
    if (logits.dtype != ONNXRUN_FLOAT || logits.rank != 3 || logits.dims[2] != vocab ||
        hn.nbytes != g->h_bytes)
        return ONNXRUN_ERR_MODEL;
    memcpy(g->h, hn.data, g->h_bytes);
    *last = (const float *)logits.data + (size_t)(n - 1) * (size_t)vocab;
    return ONNXRUN_OK;
}

static onnxrun_status generate(generator *g, const args *a, const char *vocab, int size) {
    size_t n = strlen(a->prompt);
    int64_t *ids = malloc(n * sizeof *ids);
    if (!ids) return ONNXRUN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *c = memchr(vocab, a->prompt[i], (size_t)size);
        if (!c) {
            fprintf(stderr, "char_gru: '%c' is not in the vocabulary\n", a->prompt[i]);
            free(ids);
            return ONNXRUN_ERR_INPUT;
        }
        ids[i] = c - vocab;
    }
    const float *logits;
    onnxrun_status st = step(g, ids, (int64_t)n, &logits, size);
    fputs(a->prompt, stdout);
    for (long i = 0; i < a->count && !st; i++) {
        int64_t next = sample(logits, size, a->temperature);
        putchar(vocab[next]);
        st = step(g, &next, 1, &logits, size);
    }
    putchar('\n');
    free(ids);
    return st;
}

int main(int argc, char **argv) {
    args a;
    char vocab[256];
    int size;
    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr,
                "usage: %s MODEL.onnx VOCAB.txt [-p PROMPT] [-n CHARS] [-t TEMPERATURE]"
                " [-s SEED]\n",
                argv[0]);
        return 1;
    }
    if (read_vocab(a.vocab_path, vocab, &size) != 0) {
        fprintf(stderr, "char_gru: cannot read %s\n", a.vocab_path);
        return 1;
    }
    rng_state = a.seed;
    generator g = {0};
    onnxrun_status st = open_model(&g, a.model);
    if (!st) st = generate(&g, &a, vocab, size);
    if (st)
        fprintf(stderr, "char_gru: %s: %s\n", onnxrun_status_name(st),
                g.s ? onnxrun_errmsg(g.s) : "out of memory");
    onnxrun_session_destroy(g.s);
    free(g.h);
    return st ? 2 : 0;
}
