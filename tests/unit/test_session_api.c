/* The session API beyond set_input/run/get_output: the allocator hook and
 * memory cap, caller-owned outputs, streaming state and clones. The model is
 * examples/kws_stream/kws.onnx (a PyTorch LSTM + Linear exported with h0/c0
 * inputs and hn/cn outputs); expected values are PyTorch's, saved by
 * examples/kws_stream/export.py. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "onnx.pb-c.h"
#include "../pack_model.h"
#include "cpu.h"
#include "onnxrun.h"
#include "recurrent.h"
#include "registry.h"
#include "session_internal.h"
#include "test_env.h"

#define KWS ONNXRUN_SOURCE_DIR "/examples/kws_stream/"
#define TOL 1e-5f
#define FEATS 10
#define HIDDEN 16
#define CLASSES 3

/* ---- a counting allocator: checks alignment and that every block is freed ---- */

/* Atomic: clones running in parallel share it (onnxrun.h asks for a
 * thread-safe allocator then; plain counters once lost a decrement). */
typedef struct counter {
    _Atomic long live, total;
    _Atomic size_t bytes, max_alignment;
    _Atomic size_t live_bytes; /* malloc_usable_size of the live blocks */
    _Atomic bool misaligned;
} counter;

static void *count_alloc(void *user, size_t size, size_t alignment) {
    counter *c = user;
    void *p = NULL;
    if (posix_memalign(&p, alignment < sizeof(void *) ? sizeof(void *) : alignment,
                       size ? size : 1))
        return NULL;
    if ((uintptr_t)p % alignment) c->misaligned = true;
    size_t seen = c->max_alignment;
    while (alignment > seen && !atomic_compare_exchange_weak(&c->max_alignment, &seen, alignment))
        ;
    c->live++;
    c->total++;
    c->bytes += size;
    c->live_bytes += malloc_usable_size(p);
    return p;
}

static void count_free(void *user, void *p) {
    counter *c = user;
    if (p) c->live--;
    if (p) c->live_bytes -= malloc_usable_size(p);
    free(p);
}

static onnxrun_options counted(counter *c, size_t cap) {
    atomic_init(&c->live, 0);
    atomic_init(&c->total, 0);
    atomic_init(&c->bytes, 0);
    atomic_init(&c->live_bytes, 0);
    atomic_init(&c->max_alignment, 0);
    atomic_init(&c->misaligned, false);
    onnxrun_options o;
    onnxrun_options_init(&o);
    static onnxrun_allocator a; /* copied by the session: a local would do too */
    a = (onnxrun_allocator){count_alloc, count_free, c};
    o.allocator = &a;
    o.max_memory_bytes = cap;
    return o;
}

/* ---- fixtures ---- */

typedef struct kws {
    or_npy stream, logits, hn, cn; /* [64,1,10], [64,1,3], [1,1,16], [1,1,16] */
} kws;

static void load_npy(const char *name, or_npy *out) {
    char path[512], err[256];
    snprintf(path, sizeof path, KWS "%s", name);
    cr_assert_eq(or_npy_load_file(path, out, err, sizeof err), ONNXRUN_OK, "%s", err);
}

static kws load_kws(void) {
    kws k;
    load_npy("stream.npy", &k.stream);
    load_npy("expected_logits.npy", &k.logits);
    load_npy("expected_hn.npy", &k.hn);
    load_npy("expected_cn.npy", &k.cn);
    cr_assert_eq(k.stream.dims[0], 64);
    return k;
}

static void free_kws(kws *k) {
    or_npy_free(&k->stream);
    or_npy_free(&k->logits);
    or_npy_free(&k->hn);
    or_npy_free(&k->cn);
}

static onnxrun_session *open_kws(const onnxrun_options *o) {
    onnxrun_session *s = NULL;
    onnxrun_status st = onnxrun_session_create_from_file(KWS "kws.onnx", o, &s);
    cr_assert_eq(st, ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    return s;
}

static void bind_kws_states(onnxrun_session *s) {
    size_t hn, cn, h0, c0;
    cr_assert_eq(onnxrun_output_index(s, "hn", &hn), ONNXRUN_OK);
    cr_assert_eq(onnxrun_output_index(s, "cn", &cn), ONNXRUN_OK);
    cr_assert_eq(onnxrun_input_index(s, "h0", &h0), ONNXRUN_OK);
    cr_assert_eq(onnxrun_input_index(s, "c0", &c0), ONNXRUN_OK);
    cr_assert_eq(onnxrun_bind_state(s, hn, h0), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_bind_state(s, cn, c0), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
}

static onnxrun_status set_frames(onnxrun_session *s, const kws *k, int64_t start, int64_t n) {
    int64_t dims[3] = {n, 1, FEATS};
    const float *x = (const float *)k->stream.data + start * FEATS;
    return onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 3, dims, x, sizeof(float) * (size_t)(n * FEATS));
}

static void expect_close(const float *got, const float *want, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        cr_assert(fabsf(got[i] - want[i]) <= TOL, "%s[%zu]: %g, expected %g", what, i,
                  (double)got[i], (double)want[i]);
}

static void expect_output(onnxrun_session *s, size_t index, const or_npy *want, size_t offset,
                          size_t count, const char *what) {
    onnxrun_tensor_view v;
    cr_assert_eq(onnxrun_get_output(s, index, &v), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    cr_assert_eq(v.nbytes, count * sizeof(float), "%s: %zu bytes", what, v.nbytes);
    expect_close(v.data, (const float *)want->data + offset, count, what);
}

/* Runs the stream in chunks of `chunk` frames (the last may be shorter) and
 * checks every chunk's logits and the final state against PyTorch's run of
 * the whole stream. */
static void stream_in_chunks(onnxrun_session *s, const kws *k, int64_t chunk) {
    for (int64_t t = 0; t < 64; t += chunk) {
        int64_t n = t + chunk <= 64 ? chunk : 64 - t;
        cr_assert_eq(set_frames(s, k, t, n), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
        cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "chunk at %lld: %s", (long long)t,
                     onnxrun_errmsg(s));
        expect_output(s, 0, &k->logits, (size_t)(t * CLASSES), (size_t)(n * CLASSES), "logits");
    }
    expect_output(s, 1, &k->hn, 0, HIDDEN, "hn");
    expect_output(s, 2, &k->cn, 0, HIDDEN, "cn");
}

/* ---- streaming state ---- */

Test(session_state, chunks_of_any_size_equal_the_whole_run) {
    kws k = load_kws();
    const int64_t chunks[] = {64, 1, 5, 16, 37};
    for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
        onnxrun_session *s = open_kws(NULL);
        bind_kws_states(s);
        stream_in_chunks(s, &k, chunks[i]);
        onnxrun_session_destroy(s);
    }
    free_kws(&k);
}

/* The state is carried without copies: the LSTM writes hn straight into the
 * state's spare buffer, which becomes h0 for the next run (two buffers that
 * swap), and the values still equal the whole run's. */
Test(session_state, outputs_are_written_into_swapping_state_buffers) {
    kws k = load_kws();
    onnxrun_session *s = open_kws(NULL);
    bind_kws_states(s);
    const void *seen[8];
    for (int run = 0; run < 8; run++) { /* 8 chunks of 8 frames: the whole stream */
        cr_assert_eq(set_frames(s, &k, run * 8, 8), ONNXRUN_OK);
        cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
        onnxrun_tensor_view h;
        cr_assert_eq(onnxrun_get_output(s, 1, &h), ONNXRUN_OK);
        seen[run] = h.data;
    }
    for (int run = 1; run < 8; run++) {
        cr_assert_neq(seen[run], seen[run - 1], "hn must not stay in one buffer");
        if (run >= 2) cr_assert_eq(seen[run], seen[run - 2], "hn must alternate two buffers");
    }
    expect_output(s, 1, &k.hn, 0, HIDDEN, "hn"); /* PyTorch's hn after the whole stream */
    onnxrun_session_destroy(s);
    free_kws(&k);
}

Test(session_state, reset_starts_again_from_zero) {
    kws k = load_kws();
    onnxrun_session *s = open_kws(NULL);
    bind_kws_states(s);
    stream_in_chunks(s, &k, 8);
    cr_assert_eq(onnxrun_reset_state(s), ONNXRUN_OK);
    onnxrun_tensor_view v; /* the views pointed into the states just reset */
    cr_assert_eq(onnxrun_get_output(s, 1, &v), ONNXRUN_ERR_ARGUMENT);
    cr_assert(strstr(onnxrun_errmsg(s), "'hn' has not been computed"), "%s", onnxrun_errmsg(s));
    stream_in_chunks(s, &k, 16);
    cr_assert_eq(onnxrun_get_output(s, 1, &v), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    onnxrun_session_destroy(s);
    free_kws(&k);
}

Test(session_state, set_input_gives_a_state_its_value) {
    kws k = load_kws();
    onnxrun_session *a = open_kws(NULL);
    bind_kws_states(a);
    cr_assert_eq(set_frames(a, &k, 0, 30), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(a), ONNXRUN_OK, "%s", onnxrun_errmsg(a));
    onnxrun_tensor_view h, c;
    cr_assert_eq(onnxrun_get_output(a, 1, &h), ONNXRUN_OK);
    cr_assert_eq(onnxrun_get_output(a, 2, &c), ONNXRUN_OK);
    /* a fresh session continues from the first one's state */
    onnxrun_session *b = open_kws(NULL);
    bind_kws_states(b);
    cr_assert_eq(onnxrun_set_input(b, 1, ONNXRUN_FLOAT, 3, h.dims, h.data, h.nbytes), ONNXRUN_OK,
                 "%s", onnxrun_errmsg(b));
    cr_assert_eq(onnxrun_set_input(b, 2, ONNXRUN_FLOAT, 3, c.dims, c.data, c.nbytes), ONNXRUN_OK);
    cr_assert_eq(set_frames(b, &k, 30, 34), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(b), ONNXRUN_OK, "%s", onnxrun_errmsg(b));
    expect_output(b, 0, &k.logits, 30 * CLASSES, 34 * CLASSES, "logits");
    expect_output(b, 1, &k.hn, 0, HIDDEN, "hn");
    onnxrun_session_destroy(a);
    onnxrun_session_destroy(b);
    free_kws(&k);
}

Test(session_state, mismatched_or_repeated_bindings_are_refused) {
    onnxrun_session *s = open_kws(NULL);
    cr_assert_eq(onnxrun_bind_state(s, 0, 1),
                 ONNXRUN_ERR_ARGUMENT); /* logits -> h0: rank 3 vs 3, 3 vs 16 */
    cr_assert(strstr(onnxrun_errmsg(s), "does not match"), "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_bind_state(s, 7, 1), ONNXRUN_ERR_ARGUMENT);
    cr_assert_eq(onnxrun_bind_state(s, 1, 1), ONNXRUN_OK);
    cr_assert_eq(onnxrun_bind_state(s, 1, 1), ONNXRUN_OK); /* the same pair again */
    cr_assert_eq(onnxrun_bind_state(s, 2, 1), ONNXRUN_ERR_ARGUMENT);
    cr_assert(strstr(onnxrun_errmsg(s), "already bound"), "%s", onnxrun_errmsg(s));
    onnxrun_session_destroy(s);
}

Test(session_state, batch_change_needs_a_reset) {
    onnxrun_session *s = open_kws(NULL);
    bind_kws_states(s);
    float x[2 * 2 * FEATS] = {0};
    int64_t one[3] = {4, 1, FEATS}, two[3] = {2, 2, FEATS};
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 3, one, x, sizeof(float) * 4 * FEATS),
                 ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 3, two, x, sizeof x), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_ERR_INPUT);
    cr_assert(strstr(onnxrun_errmsg(s), "'batch' is 1 in the state but 2"), "%s",
              onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_reset_state(s), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    onnxrun_tensor_view v;
    cr_assert_eq(onnxrun_get_output(s, 1, &v), ONNXRUN_OK);
    cr_assert_eq(v.dims[1], 2);
    onnxrun_session_destroy(s);
}

/* ---- caller-owned outputs ---- */

Test(session_output, written_into_the_callers_buffer) {
    kws k = load_kws();
    onnxrun_session *s = open_kws(NULL);
    bind_kws_states(s);
    float small[10], logits[64 * CLASSES + 1];
    logits[64 * CLASSES] = 42.0f;
    cr_assert_eq(onnxrun_set_output(s, 0, small, sizeof small), ONNXRUN_OK);
    cr_assert_eq(set_frames(s, &k, 0, 64), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_ERR_ARGUMENT);
    cr_assert(strstr(onnxrun_errmsg(s), "holds 40 bytes but shape [64,1,3] of float32 needs 768"),
              "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_set_output(s, 0, logits, sizeof logits), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    expect_close(logits, k.logits.data, 64 * CLASSES, "logits");
    cr_assert_eq(logits[64 * CLASSES], 42.0f, "wrote past the output");
    onnxrun_tensor_view v;
    cr_assert_eq(onnxrun_get_output(s, 0, &v), ONNXRUN_OK);
    cr_assert_eq(v.data, logits);
    cr_assert_eq(onnxrun_set_output(s, 0, NULL, 0), ONNXRUN_OK); /* back to engine-owned */
    cr_assert_eq(onnxrun_run(s), ONNXRUN_OK);
    cr_assert_eq(onnxrun_get_output(s, 0, &v), ONNXRUN_OK);
    cr_assert_neq(v.data, logits);
    cr_assert_eq(onnxrun_set_output(s, 3, logits, sizeof logits), ONNXRUN_ERR_ARGUMENT);
    onnxrun_session_destroy(s);
    free_kws(&k);
}

/* ---- allocator hook and memory cap ---- */

Test(session_memory, everything_goes_through_the_allocator_and_is_freed) {
    kws k = load_kws();
    counter c;
    onnxrun_options o = counted(&c, 0);
    o.num_threads = 2; /* the pool's workers must not free the session's memory */
    onnxrun_session *s = open_kws(&o);
    cr_assert_gt(c.total, 10);
    bind_kws_states(s);
    stream_in_chunks(s, &k, 16);
    cr_assert_gt(onnxrun_memory_used(s), 7372); /* at least the weights */
    cr_assert_geq(onnxrun_memory_peak(s), onnxrun_memory_used(s));
    onnxrun_session_destroy(s);
    cr_assert_eq(c.live, 0, "%ld blocks not freed", c.live);
    cr_assert_not(c.misaligned);
    cr_assert_geq(c.max_alignment, 64);
    free_kws(&k);
}

Test(session_memory, a_small_cap_fails_creation_with_a_message) {
    counter c;
    onnxrun_options o = counted(&c, 4096);
    onnxrun_session *s = NULL;
    cr_assert_eq(onnxrun_session_create_from_file(KWS "kws.onnx", &o, &s), ONNXRUN_ERR_NOMEM);
    cr_assert_not_null(s);
    cr_assert(strstr(onnxrun_errmsg(s), "memory limit exceeded (max_memory_bytes = 4096)"), "%s",
              onnxrun_errmsg(s));
    onnxrun_session_destroy(s);
    cr_assert_eq(c.live, 0);
    onnxrun_options big;
    onnxrun_options_init(&big);
    big.max_memory_bytes = 64u << 20; /* no allocator: the C library's, capped */
    s = open_kws(&big);
    cr_assert_lt(onnxrun_memory_used(s), 64u << 20);
    onnxrun_session_destroy(s);
}

/* Every cap from 0 to what a create + 2 runs need: each fails cleanly with
 * NOMEM or succeeds, and nothing leaks; from the peak on, everything works. */
Test(session_memory, every_cap_fails_cleanly_or_works, .timeout = 120) {
    kws k = load_kws();
    counter c;
    onnxrun_options o = counted(&c, 0);
    onnxrun_session *s = open_kws(&o);
    bind_kws_states(s);
    stream_in_chunks(s, &k, 32);
    size_t peak = onnxrun_memory_peak(s);
    onnxrun_session_destroy(s);
    int worked = 0, failed = 0;
    for (size_t cap = 0; cap <= peak + 64; cap += cap < 8192 ? 97 : 61) {
        o = counted(&c, cap ? cap : 1);
        s = NULL;
        onnxrun_status st = onnxrun_session_create_from_file(KWS "kws.onnx", &o, &s);
        if (st == ONNXRUN_OK) {
            bind_kws_states(s);
            for (int t = 0; t < 64 && st == ONNXRUN_OK; t += 32) {
                st = set_frames(s, &k, t, 32);
                if (st == ONNXRUN_OK) st = onnxrun_run(s);
            }
        }
        cr_assert(st == ONNXRUN_OK || st == ONNXRUN_ERR_NOMEM, "cap %zu: status %d: %s", cap, st,
                  onnxrun_errmsg(s));
        if (st == ONNXRUN_ERR_NOMEM)
            cr_assert(strstr(onnxrun_errmsg(s), "memory limit exceeded"), "cap %zu: %s", cap,
                      onnxrun_errmsg(s));
        if (cap >= peak) cr_assert_eq(st, ONNXRUN_OK, "cap %zu >= peak %zu", cap, peak);
        st == ONNXRUN_OK ? worked++ : failed++;
        onnxrun_session_destroy(s);
        cr_assert_eq(c.live, 0, "cap %zu: %ld blocks leaked", cap, c.live);
    }
    cr_assert_gt(failed, 50);
    cr_assert_gt(worked, 0);
    free_kws(&k);
}

/* ---- clones ---- */

typedef struct clone_job {
    onnxrun_session *s;
    const kws *k;
    int64_t chunk;
} clone_job;

static void *stream_job(void *p) {
    clone_job *j = p;
    stream_in_chunks(j->s, j->k, j->chunk);
    return NULL;
}

Test(session_clone, clones_share_weights_and_run_in_threads) {
    kws k = load_kws();
    counter c;
    onnxrun_options o = counted(&c, 0);
    onnxrun_session *s = open_kws(&o);
    bind_kws_states(s);
    stream_in_chunks(s, &k, 64); /* planned: the packed weights exist */
    size_t original = onnxrun_memory_used(s);
    onnxrun_session *c1 = NULL, *c2 = NULL;
    cr_assert_eq(onnxrun_session_clone(s, &c1), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_session_clone(c1, &c2), ONNXRUN_OK, "%s", onnxrun_errmsg(c1));
    onnxrun_tensor_info info; /* declared shapes, not the original's last run's */
    cr_assert_eq(onnxrun_output_info(c2, 0, &info), ONNXRUN_OK);
    cr_assert_eq(info.dims[0], -1);
    cr_assert_str_eq(info.dim_names[0], "time");
    cr_assert_eq(onnxrun_reset_state(s), ONNXRUN_OK);
    clone_job jobs[3] = {{s, &k, 7}, {c1, &k, 16}, {c2, &k, 3}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, stream_job, &jobs[i]);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    /* a clone holds no copy of the weights (7372 bytes raw, as much packed) */
    cr_assert_lt(onnxrun_memory_used(c1), original, "clone %zu, original %zu",
                 onnxrun_memory_used(c1), original);
    onnxrun_session_destroy(s); /* the clones keep the shared graph alive */
    cr_assert_eq(onnxrun_reset_state(c1), ONNXRUN_OK);
    stream_in_chunks(c1, &k, 64);
    onnxrun_session_destroy(c1);
    cr_assert_eq(onnxrun_reset_state(c2), ONNXRUN_OK);
    stream_in_chunks(c2, &k, 10);
    onnxrun_session_destroy(c2);
    cr_assert_eq(c.live, 0, "%ld blocks not freed", c.live);
    free_kws(&k);
}

Test(session_clone, refuses_bad_arguments) {
    onnxrun_session *s = NULL, *c = (onnxrun_session *)1;
    cr_assert_eq(onnxrun_session_clone(NULL, &c), ONNXRUN_ERR_ARGUMENT);
    cr_assert_null(c);
    s = open_kws(NULL);
    cr_assert_eq(onnxrun_session_clone(s, NULL), ONNXRUN_ERR_ARGUMENT);
    onnxrun_session_destroy(s);
}

/* ---- mapped external data counts against the cap ---- */

#define BIG (64 * 1024) /* floats: 256 KiB, above the loader's mmap threshold */

/* y = x + W, x and W float [BIG], W in external file w.bin of dir. */
static void write_external_model(const char *dir) {
    Onnx__TensorShapeProto__Dimension d0 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    d0.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d0.dim_value = BIG;
    Onnx__TensorShapeProto__Dimension *dims[] = {&d0};
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 1;
    shape.dim = dims;
    Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
    tt.has_elem_type = 1;
    tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt.shape = &shape;
    Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tt;
    Onnx__ValueInfoProto in = ONNX__VALUE_INFO_PROTO__INIT, out = ONNX__VALUE_INFO_PROTO__INIT;
    in.name = "x";
    in.type = &type;
    out.name = "y";
    out.type = &type;
    Onnx__ValueInfoProto *ins[] = {&in}, *outs[] = {&out};
    Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    loc.key = "location";
    loc.value = "w.bin";
    Onnx__StringStringEntryProto *locs[] = {&loc};
    int64_t wdims[] = {BIG};
    Onnx__TensorProto w = ONNX__TENSOR_PROTO__INIT;
    w.name = "W";
    w.has_data_type = 1;
    w.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    w.n_dims = 1;
    w.dims = wdims;
    w.has_data_location = 1;
    w.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    w.n_external_data = 1;
    w.external_data = locs;
    Onnx__TensorProto *inits[] = {&w};
    Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
    char *node_in[] = {"x", "W"}, *node_out[] = {"y"};
    node.op_type = "Add";
    node.n_input = 2;
    node.input = node_in;
    node.n_output = 1;
    node.output = node_out;
    Onnx__NodeProto *nodes[] = {&node};
    size_t len;
    uint8_t *buf = pack_graph_parts("g", nodes, 1, ins, 1, outs, 1, inits, 1, 17, &len);
    cr_assert_not_null(buf);
    char path[256];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
    static float ones[BIG];
    for (int i = 0; i < BIG; i++) ones[i] = 1.0f;
    snprintf(path, sizeof path, "%s/w.bin", dir);
    f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(ones, sizeof(float), BIG, f), (size_t)BIG);
    fclose(f);
}

static void remove_external_model(const char *dir) {
    char path[256];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/w.bin", dir);
    unlink(path);
    rmdir(dir);
}

Test(session_memory, mapped_external_data_counts_against_the_cap) {
    char dir[] = "/tmp/onnxrun_cap_XXXXXX", path[256];
    cr_assert_not_null(mkdtemp(dir));
    write_external_model(dir);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    counter c;
    onnxrun_options o = counted(&c, 0);
    onnxrun_session *s = NULL;
    cr_assert_eq(onnxrun_session_create_from_file(path, &o, &s), ONNXRUN_OK, "%s",
                 onnxrun_errmsg(s));
    /* W is mapped, not allocated, but counted */
    cr_assert_lt(c.bytes, (size_t)BIG * sizeof(float) * 2, "%zu bytes allocated", c.bytes);
    size_t used = onnxrun_memory_used(s);
    cr_assert_geq(used, (size_t)BIG * sizeof(float));
    static float x[BIG];
    for (int i = 0; i < BIG; i++) x[i] = 2.0f;
    int64_t dims[1] = {BIG};
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 1, dims, x, sizeof x), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    onnxrun_tensor_view v;
    cr_assert_eq(onnxrun_get_output(s, 0, &v), ONNXRUN_OK);
    cr_assert_eq(((const float *)v.data)[BIG - 1], 3.0f);
    onnxrun_session_destroy(s);
    cr_assert_eq(c.live, 0);
    /* a cap below the mapping fails cleanly, mapped or read */
    o = counted(&c, (size_t)BIG * sizeof(float) - 1);
    cr_assert_eq(onnxrun_session_create_from_file(path, &o, &s), ONNXRUN_ERR_NOMEM);
    cr_assert(strstr(onnxrun_errmsg(s), "memory limit exceeded"), "%s", onnxrun_errmsg(s));
    onnxrun_session_destroy(s);
    cr_assert_eq(c.live, 0);
    remove_external_model(dir);
}

/* A clone made before the original ran packs its own weights; a clone of
 * that clone borrows nothing from it, so either can go first. */
Test(session_clone, clone_of_a_clone_with_its_own_packed_weights) {
    kws k = load_kws();
    counter c;
    onnxrun_options o = counted(&c, 0);
    onnxrun_session *s = open_kws(&o), *c1 = NULL, *c2 = NULL;
    bind_kws_states(s);
    cr_assert_eq(onnxrun_session_clone(s, &c1), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    stream_in_chunks(c1, &k, 32);
    cr_assert_eq(onnxrun_session_clone(c1, &c2), ONNXRUN_OK, "%s", onnxrun_errmsg(c1));
    stream_in_chunks(c2, &k, 16);
    onnxrun_session_destroy(c2);
    cr_assert_eq(onnxrun_reset_state(c1), ONNXRUN_OK);
    stream_in_chunks(c1, &k, 8);
    stream_in_chunks(s, &k, 64);
    onnxrun_session_destroy(c1);
    onnxrun_session_destroy(s);
    cr_assert_eq(c.live, 0, "%ld blocks not freed", c.live);
    free_kws(&k);
}

/* ---- Opaque tensors ---- */

Test(tensor, create_copies_data_and_describes_itself) {
    const float values[6] = {1, 2, 3, 4, 5, 6};
    const int64_t dims[2] = {2, 3};
    onnxrun_tensor *t = NULL;
    cr_assert_eq(onnxrun_tensor_create(ONNXRUN_FLOAT, 2, dims, values, sizeof values, &t),
                 ONNXRUN_OK);
    onnxrun_tensor_view v;
    cr_assert_eq(onnxrun_tensor_get_view(t, &v), ONNXRUN_OK);
    cr_assert_eq(v.dtype, ONNXRUN_FLOAT);
    cr_assert_eq(v.rank, 2);
    cr_assert_eq(v.dims[0], 2);
    cr_assert_eq(v.dims[1], 3);
    cr_assert_eq(v.nbytes, sizeof values);
    cr_assert_neq(v.data, (const void *)values, "the tensor must own a copy");
    cr_assert_eq(memcmp(v.data, values, sizeof values), 0);
    cr_assert_eq((uintptr_t)v.data % 64, 0);
    ((float *)onnxrun_tensor_data(t))[5] = -1; /* writable in place */
    cr_assert_eq(((const float *)v.data)[5], -1.0f);
    onnxrun_tensor_destroy(t);

    const int64_t scalar_dims[1] = {0};
    cr_assert_eq(onnxrun_tensor_create(ONNXRUN_INT64, 0, NULL, NULL, 0, &t), ONNXRUN_OK);
    cr_assert_eq(onnxrun_tensor_get_view(t, &v), ONNXRUN_OK);
    cr_assert_eq(v.nbytes, 8); /* a scalar: one element, zero */
    cr_assert_eq(*(const int64_t *)v.data, 0);
    onnxrun_tensor_destroy(t);
    cr_assert_eq(onnxrun_tensor_create(ONNXRUN_FLOAT, 1, scalar_dims, NULL, 0, &t), ONNXRUN_OK);
    onnxrun_tensor_destroy(t); /* empty tensors are fine */
    onnxrun_tensor_destroy(NULL);
}

Test(tensor, bad_shapes_and_sizes_are_refused) {
    onnxrun_tensor *t = (onnxrun_tensor *)&t; /* must be reset to NULL on failure */
    const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, negative[2] = {2, -1};
    const int64_t huge[3] = {INT64_MAX, INT64_MAX, 4}, two[1] = {2};
    const float data[2] = {1, 2};
    cr_assert_eq(onnxrun_tensor_create(ONNXRUN_FLOAT, 9, nine, NULL, 0, &t), ONNXRUN_ERR_ARGUMENT);
    cr_assert_null(t);
    cr_assert_eq(onnxrun_tensor_create(ONNXRUN_FLOAT, 2, negative, NULL, 0, &t),
                 ONNXRUN_ERR_ARGUMENT);
    cr_assert_eq(onnxrun_tensor_create(ONNXRUN_FLOAT, 3, huge, NULL, 0, &t), ONNXRUN_ERR_ARGUMENT);
    cr_assert_eq(onnxrun_tensor_create(ONNXRUN_FLOAT, 1, two, data, 4, &t), ONNXRUN_ERR_ARGUMENT);
    cr_assert_eq(onnxrun_tensor_create(ONNXRUN_STRING, 1, two, NULL, 0, &t), ONNXRUN_ERR_ARGUMENT);
    cr_assert_eq(onnxrun_tensor_create(ONNXRUN_FLOAT, 1, two, data, sizeof data, NULL),
                 ONNXRUN_ERR_ARGUMENT);
    cr_assert_eq(onnxrun_tensor_get_view(NULL, NULL), ONNXRUN_ERR_ARGUMENT);
}

/* Inputs given as tensors, outputs kept as tensors past the next run: the
 * first chunk's hn equals what the session reported then, and the whole
 * stream still matches PyTorch. */
Test(tensor, inputs_and_outputs_as_tensors) {
    kws k = load_kws();
    onnxrun_session *s = open_kws(NULL);
    bind_kws_states(s);
    onnxrun_tensor *first_hn = NULL;
    for (int run = 0; run < 4; run++) { /* 4 chunks of 16 frames */
        const int64_t dims[3] = {16, 1, FEATS};
        onnxrun_tensor *x = NULL;
        cr_assert_eq(onnxrun_tensor_create(ONNXRUN_FLOAT, 3, dims,
                                           (const float *)k.stream.data + run * 16 * FEATS,
                                           sizeof(float) * 16 * FEATS, &x),
                     ONNXRUN_OK);
        cr_assert_eq(onnxrun_set_input_tensor(s, 0, x), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
        cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
        onnxrun_tensor_destroy(x);
        if (run == 0) {
            cr_assert_eq(onnxrun_get_output_tensor(s, 1, &first_hn), ONNXRUN_OK);
            onnxrun_tensor_view now, kept;
            cr_assert_eq(onnxrun_get_output(s, 1, &now), ONNXRUN_OK);
            cr_assert_eq(onnxrun_tensor_get_view(first_hn, &kept), ONNXRUN_OK);
            cr_assert_eq(kept.nbytes, now.nbytes);
            cr_assert_eq(memcmp(kept.data, now.data, now.nbytes), 0);
        }
    }
    expect_output(s, 1, &k.hn, 0, HIDDEN, "hn");
    onnxrun_tensor_view kept, last;
    cr_assert_eq(onnxrun_tensor_get_view(first_hn, &kept), ONNXRUN_OK);
    cr_assert_eq(onnxrun_get_output(s, 1, &last), ONNXRUN_OK);
    cr_assert_neq(memcmp(kept.data, last.data, last.nbytes), 0, "the copy must not follow runs");
    onnxrun_tensor *none = (onnxrun_tensor *)&none;
    cr_assert_eq(onnxrun_get_output_tensor(s, 99, &none), ONNXRUN_ERR_ARGUMENT);
    cr_assert_null(none);
    cr_assert_eq(onnxrun_set_input_tensor(s, 0, NULL), ONNXRUN_ERR_ARGUMENT);
    cr_assert_str_eq(onnxrun_errmsg(s), "input tensor is NULL");
    cr_assert_eq(onnxrun_get_output_tensor(s, 1, NULL), ONNXRUN_ERR_ARGUMENT);
    cr_assert_str_eq(onnxrun_errmsg(s), "out_tensor is NULL");
    onnxrun_tensor_destroy(first_hn);
    onnxrun_session_destroy(s);
    free_kws(&k);
}

/* ---- a clone that plans for another batch ---- */

#define SIAM_T 5
#define SIAM_I 8
#define SIAM_H 24

static Onnx__TypeProto *float_type(Onnx__TypeProto *type, Onnx__TypeProto__Tensor *tt,
                                   Onnx__TensorShapeProto *shape,
                                   Onnx__TensorShapeProto__Dimension **dims, int rank) {
    *tt = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    if (rank > 0) {
        *shape = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
        shape->n_dim = (size_t)rank;
        shape->dim = dims;
        tt->shape = shape;
    }
    *type = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tt;
    return type;
}

static void float_init(Onnx__TensorProto *t, const char *name, int64_t *dims, size_t rank,
                       float *data, size_t count) {
    *t = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_dims = rank;
    t->dims = dims;
    t->n_float_data = count;
    t->float_data = data;
}

/* Two bidirectional LSTM nodes sharing W, R and B (a Siamese encoder): x1 ->
 * y1, x2 -> y2, inputs [T, batch, I] with a symbolic batch. Sharing keeps
 * the weights from being released after packing. */
static uint8_t *siamese_model(size_t *len) {
    static float w[2 * 4 * SIAM_H * SIAM_I], r[2 * 4 * SIAM_H * SIAM_H], b[2 * 8 * SIAM_H];
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) w[i] = 0.3f * sinf(0.7f * (float)i);
    for (size_t i = 0; i < sizeof r / sizeof *r; i++) r[i] = 0.2f * cosf(1.3f * (float)i);
    for (size_t i = 0; i < sizeof b / sizeof *b; i++) b[i] = 0.1f * sinf(2.1f * (float)i);
    static int64_t wd[3] = {2, 4 * SIAM_H, SIAM_I}, rd[3] = {2, 4 * SIAM_H, SIAM_H},
                   bd[2] = {2, 8 * SIAM_H};
    Onnx__TensorProto tw, tr, tb;
    float_init(&tw, "W", wd, 3, w, sizeof w / sizeof *w);
    float_init(&tr, "R", rd, 3, r, sizeof r / sizeof *r);
    float_init(&tb, "B", bd, 2, b, sizeof b / sizeof *b);
    Onnx__TensorProto *inits[] = {&tw, &tr, &tb};
    Onnx__TensorShapeProto__Dimension d[3] = {ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT,
                                              ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT,
                                              ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT};
    d[0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d[0].dim_value = SIAM_T;
    d[1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d[1].dim_param = "batch";
    d[2].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d[2].dim_value = SIAM_I;
    Onnx__TensorShapeProto__Dimension *dims[] = {&d[0], &d[1], &d[2]};
    Onnx__TypeProto in_type, out_type;
    Onnx__TypeProto__Tensor in_tt, out_tt;
    Onnx__TensorShapeProto in_shape, out_shape;
    float_type(&in_type, &in_tt, &in_shape, dims, 3);
    float_type(&out_type, &out_tt, &out_shape, NULL, 0);
    Onnx__ValueInfoProto vi[4] = {ONNX__VALUE_INFO_PROTO__INIT, ONNX__VALUE_INFO_PROTO__INIT,
                                  ONNX__VALUE_INFO_PROTO__INIT, ONNX__VALUE_INFO_PROTO__INIT};
    const char *names[4] = {"x1", "x2", "y1", "y2"};
    for (int i = 0; i < 4; i++) {
        vi[i].name = (char *)names[i];
        vi[i].type = i < 2 ? &in_type : &out_type;
    }
    Onnx__ValueInfoProto *ins[] = {&vi[0], &vi[1]}, *outs[] = {&vi[2], &vi[3]};
    Onnx__AttributeProto hidden = ONNX__ATTRIBUTE_PROTO__INIT, dir = ONNX__ATTRIBUTE_PROTO__INIT;
    hidden.name = "hidden_size";
    hidden.has_type = 1;
    hidden.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    hidden.has_i = 1;
    hidden.i = SIAM_H;
    dir.name = "direction";
    dir.has_type = 1;
    dir.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    dir.has_s = 1;
    dir.s.data = (uint8_t *)"bidirectional";
    dir.s.len = strlen("bidirectional");
    Onnx__AttributeProto *attrs[] = {&hidden, &dir};
    Onnx__NodeProto node[2] = {ONNX__NODE_PROTO__INIT, ONNX__NODE_PROTO__INIT};
    char *in1[] = {"x1", "W", "R", "B"}, *in2[] = {"x2", "W", "R", "B"}, *out1[] = {"y1"},
         *out2[] = {"y2"};
    char *node_names[2] = {"lstm1", "lstm2"};
    for (int i = 0; i < 2; i++) {
        node[i].name = node_names[i];
        node[i].op_type = "LSTM";
        node[i].n_input = 4;
        node[i].input = i ? in2 : in1;
        node[i].n_output = 1;
        node[i].output = i ? out2 : out1;
        node[i].n_attribute = 2;
        node[i].attribute = attrs;
    }
    Onnx__NodeProto *nodes[] = {&node[0], &node[1]};
    return pack_graph_parts("siamese", nodes, 2, ins, 2, outs, 2, inits, 3, 14, len);
}

/* Runs both inputs at batch B (x1 = x, x2 = 2x) and copies y1 into y. */
static void siamese_run(onnxrun_session *s, int64_t batch, float *y) {
    int64_t dims[3] = {SIAM_T, batch, SIAM_I}, n = SIAM_T * batch * SIAM_I;
    float *x = malloc(sizeof(float) * (size_t)n * 2);
    for (int64_t i = 0; i < n; i++) x[i] = sinf(0.37f * (float)i), x[n + i] = 2 * x[i];
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 3, dims, x, sizeof(float) * (size_t)n),
                 ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_set_input(s, 1, ONNXRUN_FLOAT, 3, dims, x + n, sizeof(float) * (size_t)n),
                 ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    onnxrun_tensor_view v;
    cr_assert_eq(onnxrun_get_output(s, 0, &v), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    cr_assert_eq(v.nbytes, sizeof(float) * (size_t)(SIAM_T * 2 * batch * SIAM_H));
    memcpy(y, v.data, v.nbytes);
    free(x);
}

enum { SIAM_B1 = SIAM_T * 2 * 1 * SIAM_H, SIAM_B4 = SIAM_T * 2 * 4 * SIAM_H };

/* The Siamese model, a session of it with two threads (a bidirectional node
 * at batch 4 then runs one direction per thread) run at batch 1, and a clone. */
typedef struct siamese_pair {
    uint8_t *model;
    size_t len;
    counter c;
    onnxrun_options o;
    onnxrun_session *s, *clone;
    float y1[SIAM_B1]; /* the session's output at batch 1 */
} siamese_pair;

static void siamese_pair_open(siamese_pair *p) {
    p->model = siamese_model(&p->len);
    cr_assert_not_null(p->model);
    p->o = counted(&p->c, 0);
    p->o.num_threads = 2;
    cr_assert_eq(onnxrun_session_create_from_buffer(p->model, p->len, NULL, &p->o, &p->s),
                 ONNXRUN_OK);
    siamese_run(p->s, 1, p->y1);
    cr_assert_eq(onnxrun_session_clone(p->s, &p->clone), ONNXRUN_OK, "%s", onnxrun_errmsg(p->s));
}

/* Destroys the clone (the original is gone by then) and checks every block
 * was freed. */
static void siamese_pair_close(siamese_pair *p) {
    onnxrun_session_destroy(p->clone);
    cr_assert_eq(p->c.live, 0, "%ld blocks not freed", (long)p->c.live);
    free(p->model);
}

/* A clone borrows the weights its original packed for batch 1; at batch 4
 * it packs its own instead of freeing the borrowed ones, which the original
 * keeps using. Shared weights (two nodes) are never released, so this is the
 * path where the clone's plan finds a cache made for another plan. */
Test(session_clone, replanned_for_another_batch_keeps_the_originals_weights) {
    siamese_pair p;
    siamese_pair_open(&p);
    onnxrun_session *fresh = NULL;
    float y1_again[SIAM_B1], y4[SIAM_B4], y4_fresh[SIAM_B4];
    siamese_run(p.clone, 4, y4);
    siamese_run(p.s, 1, y1_again);
    cr_assert_eq(memcmp(p.y1, y1_again, sizeof y1_again), 0, "the original's output changed");
    cr_assert_eq(onnxrun_session_create_from_buffer(p.model, p.len, NULL, &p.o, &fresh),
                 ONNXRUN_OK);
    siamese_run(fresh, 4, y4_fresh);
    for (int i = 0; i < SIAM_B4; i++)
        cr_assert_float_eq(y4[i], y4_fresh[i], 1e-6f, "y4[%d] %g vs %g", i, y4[i], y4_fresh[i]);
    siamese_run(p.clone, 1, y1_again); /* and back */
    for (int i = 0; i < SIAM_B1; i++) cr_assert_float_eq(y1_again[i], p.y1[i], 1e-6f, "[%d]", i);
    onnxrun_session_destroy(p.s); /* the clone outlives its original */
    siamese_run(p.clone, 4, y4);
    onnxrun_session_destroy(fresh);
    siamese_pair_close(&p);
}

/* The original re-planned for another batch after it was cloned packs anew
 * but must not free the weights its clone borrows (the asan suite runs
 * this). Going back to a batch it packed for takes those packs again: more
 * batch changes take no more memory. */
Test(session_clone, original_replanned_keeps_the_clones_weights) {
    siamese_pair p;
    siamese_pair_open(&p);
    float y1_again[SIAM_B1], y4[SIAM_B4], y4_again[SIAM_B4];
    siamese_run(p.s, 4, y4);
    siamese_run(p.clone, 1, y1_again);
    cr_assert_eq(memcmp(p.y1, y1_again, sizeof y1_again), 0, "the clone's output changed");
    siamese_run(p.s, 1, y1_again);
    cr_assert_eq(memcmp(p.y1, y1_again, sizeof y1_again), 0, "the original's output changed");
    size_t bytes = p.c.live_bytes;
    for (int round = 0; round < 3; round++) {
        siamese_run(p.s, 4, y4_again);
        cr_assert_eq(memcmp(y4, y4_again, sizeof y4), 0, "round %d", round);
        siamese_run(p.s, 1, y1_again);
        cr_assert_eq(memcmp(p.y1, y1_again, sizeof y1_again), 0, "round %d", round);
        cr_assert_eq((size_t)p.c.live_bytes, bytes, "round %d: %zu bytes live, %zu before", round,
                     (size_t)p.c.live_bytes, bytes);
    }
    onnxrun_session_destroy(p.s); /* the clone outlives its original */
    siamese_run(p.clone, 1, y1_again);
    cr_assert_eq(memcmp(p.y1, y1_again, sizeof y1_again), 0, "the clone's output changed");
    siamese_pair_close(&p);
}

/* Once its clones are gone, the original frees the packs it kept for them
 * at its next plan: back at batch 1 it holds what it held at batch 1 after
 * the same batch changes before it was cloned, give or take the record of
 * the shared graph (the arena keeps the size of the largest plan). */
Test(session_clone, original_left_alone_frees_what_it_kept) {
    siamese_pair p;
    p.model = siamese_model(&p.len);
    cr_assert_not_null(p.model);
    p.o = counted(&p.c, 0);
    p.o.num_threads = 2;
    cr_assert_eq(onnxrun_session_create_from_buffer(p.model, p.len, NULL, &p.o, &p.s), ONNXRUN_OK);
    float y1_again[SIAM_B1], y4[SIAM_B4];
    siamese_run(p.s, 1, p.y1);
    siamese_run(p.s, 4, y4);
    siamese_run(p.s, 1, y1_again);
    size_t before = p.c.live_bytes;
    long blocks_before = p.c.live;
    cr_assert_eq(onnxrun_session_clone(p.s, &p.clone), ONNXRUN_OK, "%s", onnxrun_errmsg(p.s));
    siamese_run(p.s, 4, y4); /* sets the batch-1 packs aside: the clone reads them */
    siamese_run(p.clone, 1, y1_again);
    cr_assert_eq(memcmp(p.y1, y1_again, sizeof y1_again), 0, "the clone's output changed");
    onnxrun_session_destroy(p.clone);
    siamese_run(p.s, 1, y1_again);
    cr_assert_eq(memcmp(p.y1, y1_again, sizeof y1_again), 0);
    /* The packs kept for the clone are about 64 KB in some 20 blocks; the
     * shared graph's record is one small block. */
    size_t after = p.c.live_bytes;
    cr_expect(after < before + 8192, "%zu bytes live, %zu before the clone", after, before);
    cr_expect_eq(p.c.live, blocks_before + 1, "%ld blocks live, %ld before the clone",
                 (long)p.c.live, blocks_before);
    onnxrun_session_destroy(p.s);
    cr_assert_eq(p.c.live, 0, "%ld blocks not freed", (long)p.c.live);
    free(p.model);
}

/* ---- stacked layers pipelined (ops/recurrent_pipe.c) across re-plans ---- */

#define FIXTURES ONNXRUN_SOURCE_DIR "/tests/models/"

/* Binds set k's x of fixture `model`, runs, and checks outputs outs[0..n)
 * against PyTorch's. */
static void run_fixture_set(onnxrun_session *s, const char *model, int k, const char *const *outs,
                            int n) {
    or_npy x, want;
    char path[512], err[256];
    snprintf(path, sizeof path, FIXTURES "%s/set_%d/input/x.npy", model, k);
    cr_assert_eq(or_npy_load_file(path, &x, err, sizeof err), ONNXRUN_OK, "%s", err);
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, x.rank, x.dims, x.data, x.nbytes),
                 ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "set %d: %s", k, onnxrun_errmsg(s));
    for (int i = 0; i < n; i++) {
        size_t index;
        cr_assert_eq(onnxrun_output_index(s, outs[i], &index), ONNXRUN_OK);
        snprintf(path, sizeof path, FIXTURES "%s/set_%d/output/%s.npy", model, k, outs[i]);
        cr_assert_eq(or_npy_load_file(path, &want, err, sizeof err), ONNXRUN_OK, "%s", err);
        onnxrun_tensor_view v;
        cr_assert_eq(onnxrun_get_output(s, index, &v), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
        cr_assert_eq(v.nbytes, want.nbytes, "set %d %s", k, outs[i]);
        const float *got = v.data, *exp = (const float *)want.data;
        for (size_t j = 0; j < want.nbytes / sizeof(float); j++)
            cr_assert(fabsf(got[j] - exp[j]) <= 1e-5f + 1e-3f * fabsf(exp[j]),
                      "set %d %s[%zu]: %g, expected %g", k, outs[i], j, (double)got[j],
                      (double)exp[j]);
        or_npy_free(&want);
    }
    or_npy_free(&x);
}

/* A session of fixture `model` with two intra-op threads. */
static onnxrun_session *open_on_two_threads(const char *model) {
    onnxrun_options opt;
    onnxrun_options_init(&opt);
    opt.num_threads = 2;
    char path[512];
    snprintf(path, sizeof path, FIXTURES "%s/model.onnx", model);
    onnxrun_session *s = NULL;
    cr_assert_eq(onnxrun_session_create_from_file(path, &opt, &s), ONNXRUN_OK, "%s: %s", model,
                 onnxrun_errmsg(s));
    return s;
}

static void run_stack_set(onnxrun_session *s, int k) {
    static const char *const outs[4] = {"y", "h_gru", "h_lstm", "c_lstm"};
    run_fixture_set(s, "gru_lstm_stack", k, outs, 4);
}

/* Whether the session's current plan runs a node by another's run. */
static bool runs_a_pair(const onnxrun_session *s) {
    for (int i = 0; i < s->graph->n_nodes; i++)
        if (s->graph->nodes[i].run_by >= 0) return true;
    return false;
}

/* How many of the session's recurrent layers split their batch rows. */
static int layers_splitting_rows(const onnxrun_session *s) {
    int rows = 0;
    for (int i = 0; i < s->graph->n_nodes; i++) {
        const or_node *n = &s->graph->nodes[i];
        if (n->op == OR_OP_LSTM || n->op == OR_OP_GRU) rows += or_rnn_team_splits_rows(n->state);
    }
    return rows;
}

/* On two threads whose cores have L3s of their own (ONNXRUN_L3_SHARED=0:
 * on one shared L3 nothing pairs) a batch of 4 pipelines the GRU and the
 * first LSTM layer;
 * batch 16 splits each layer's batch rows instead, batch 1 each layer's
 * units. W and R are handed back after the first plan, and every plan runs
 * on the same packs (split units'), so each batch takes its own plan
 * whichever came first, and so does a clone. When a pair had packs of its
 * own, pair-made packs ran paired at any batch and unpaired ones never
 * paired; split rows' own packs ran batch 1 on one of the two threads. Every
 * order gives PyTorch's outputs. */
Test(session_api, pipelined_stack_across_replans_and_clones) {
    static const int orders[3][4] = {{2, 0, 1, 2}, {0, 2, 1, 0}, {1, 1, 0, 2}};
    const bool simd = or_cpu_isa() == OR_ISA_AVX512 || or_cpu_isa() == OR_ISA_AVX2;
    static const char *const choices[3] = {"ONNXRUN_RNN_PIPE", "ONNXRUN_RNN_TEAM",
                                           "ONNXRUN_RNN_CHUNK"};
    for (int i = 0; i < 3; i++) unsetenv(choices[i]); /* the default plan */
    char *l3_saved = swap_env("ONNXRUN_L3_SHARED", "0");
    or_cpu_reset();
    for (int o = 0; o < 3; o++) {
        onnxrun_session *s = open_on_two_threads("gru_lstm_stack");
        for (int i = 0; i < 4; i++) {
            int set = orders[o][i]; /* batch 16, 4, 1 */
            run_stack_set(s, set);
            cr_expect_eq(runs_a_pair(s), simd && set == 1, "order %d, run %d", o, i);
            cr_expect_eq(layers_splitting_rows(s), simd && set == 0 ? 3 : 0, "order %d, run %d", o,
                         i);
        }
        onnxrun_session *clone = NULL;
        cr_assert_eq(onnxrun_session_clone(s, &clone), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
        for (int set = 0; set < 3; set++) {
            run_stack_set(clone, set);
            cr_expect_eq(runs_a_pair(clone), simd && set == 1, "order %d, clone, set %d", o, set);
            cr_expect_eq(layers_splitting_rows(clone), simd && set == 0 ? 3 : 0,
                         "order %d, clone, set %d", o, set);
        }
        run_stack_set(s, 1);
        onnxrun_session_destroy(clone);
        onnxrun_session_destroy(s);
    }
    restore_env("ONNXRUN_L3_SHARED", l3_saved);
    or_cpu_reset();
}

/* How many of the session's recurrent layers run one direction per thread. */
static int layers_by_direction(const onnxrun_session *s) {
    int by_dir = 0;
    for (int i = 0; i < s->graph->n_nodes; i++) {
        const or_node *n = &s->graph->nodes[i];
        const or_rnn_state *st = n->op == OR_OP_GRU ? n->state : NULL;
        by_dir += st && st->team && (st->team_plan & OR_RNN_TEAM_BY_DIR);
    }
    return by_dir;
}

/* A 2-layer bidirectional GRU on two threads: batch 5 runs each direction
 * on its own thread, batch 3 and 1 split the units. By direction shares the
 * units split's pack, so after the first plan (which hands W and R back)
 * each batch still takes its own plan, whichever came first; when each
 * direction had a pack of its own, a session first run at batch 5 ran batch
 * 1 by direction too. Every order gives PyTorch's outputs. */
Test(session_api, bidirectional_by_batch_across_replans) {
    static const char *const outs[2] = {"y", "h_n"};
    static const int orders[2][4] = {{1, 2, 0, 1}, {2, 1, 0, 2}}; /* batches 5, 1, 3 */
    const bool simd = or_cpu_isa() == OR_ISA_AVX512 || or_cpu_isa() == OR_ISA_AVX2;
    unsetenv("ONNXRUN_RNN_TEAM");
    for (int o = 0; o < 2; o++) {
        onnxrun_session *s = open_on_two_threads("gru_bidir_batch_first");
        for (int i = 0; i < 4; i++) {
            run_fixture_set(s, "gru_bidir_batch_first", orders[o][i], outs, 2);
            int want = simd && orders[o][i] == 1 ? 2 : 0;
            cr_expect_eq(layers_by_direction(s), want, "order %d, run %d", o, i);
        }
        onnxrun_session_destroy(s);
    }
}
