/* The loader's streaming path (initializers unpacked one at a time from a
 * skeleton of the model) against the whole-model unpack it falls back to:
 * the same tensors byte for byte, the same messages, the fallback taken for
 * encodings the split does not handle, and a clear message for a corrupt
 * initializer. Expected values are the ones written into the models. */
#include "../pack_model.h"
#include "loader.h"
#include "onnx.pb-c.h"
#include "onnxrun.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NW 1000 /* W: big enough (4000 bytes) for its raw_data block to be adopted */

/* Y = Add(X, W) with initializers W (raw float), B (float_data), I (int64_data),
 * Z (empty, zero-length raw_data) and H (float16 raw_data). */
typedef struct sample {
    Onnx__GraphProto graph;
    Onnx__TensorProto t[5], *inits[5];
    int64_t dims[5][1];
    float w[NW], b[3];
    int64_t i64[2];
    uint16_t h[2];
    Onnx__ValueInfoProto x, y, *inputs[1], *outputs[1];
    Onnx__TypeProto xt, yt;
    Onnx__TypeProto__Tensor xtt, ytt;
    Onnx__NodeProto node, *nodes[1];
    char *node_in[2], *node_out[1];
} sample;

static void tensor1d(Onnx__TensorProto *t, int64_t *dims, const char *name, int dtype, int64_t n) {
    *t = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = dtype;
    dims[0] = n;
    t->n_dims = 1;
    t->dims = dims;
}

static void value_info(Onnx__ValueInfoProto *v, Onnx__TypeProto *tp, Onnx__TypeProto__Tensor *tt,
                       const char *name) {
    *v = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
    *tp = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
    *tt = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
    tt->has_elem_type = 1;
    tt->elem_type = OR_FLOAT;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->name = (char *)name;
    v->type = tp;
}

static void sample_init(sample *s) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < NW; i++) s->w[i] = (float)i * 0.5f - 7.0f;
    s->b[0] = 1.5f, s->b[1] = -2.0f, s->b[2] = 1e6f;
    s->i64[0] = -3, s->i64[1] = (int64_t)1 << 40;
    s->h[0] = 0x3c00, s->h[1] = 0xc000; /* 1.0, -2.0 */
    tensor1d(&s->t[0], s->dims[0], "W", OR_FLOAT, NW);
    s->t[0].has_raw_data = 1;
    s->t[0].raw_data = (ProtobufCBinaryData){sizeof s->w, (uint8_t *)s->w};
    tensor1d(&s->t[1], s->dims[1], "B", OR_FLOAT, 3);
    s->t[1].n_float_data = 3;
    s->t[1].float_data = s->b;
    tensor1d(&s->t[2], s->dims[2], "I", OR_INT64, 2);
    s->t[2].n_int64_data = 2;
    s->t[2].int64_data = s->i64;
    tensor1d(&s->t[3], s->dims[3], "Z", OR_FLOAT, 0);
    s->t[3].has_raw_data = 1;
    tensor1d(&s->t[4], s->dims[4], "H", OR_FLOAT16, 2);
    s->t[4].has_raw_data = 1;
    s->t[4].raw_data = (ProtobufCBinaryData){sizeof s->h, (uint8_t *)s->h};
    for (int i = 0; i < 5; i++) s->inits[i] = &s->t[i];
    value_info(&s->x, &s->xt, &s->xtt, "X");
    value_info(&s->y, &s->yt, &s->ytt, "Y");
    s->inputs[0] = &s->x;
    s->outputs[0] = &s->y;
    s->node = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
    s->node.op_type = "Add";
    s->node_in[0] = "X", s->node_in[1] = "W", s->node_out[0] = "Y";
    s->node.n_input = 2, s->node.input = s->node_in;
    s->node.n_output = 1, s->node.output = s->node_out;
    s->nodes[0] = &s->node;
    s->graph = (Onnx__GraphProto)ONNX__GRAPH_PROTO__INIT;
    s->graph.name = "stream";
    s->graph.n_node = 1, s->graph.node = s->nodes;
    s->graph.n_initializer = 5, s->graph.initializer = s->inits;
    s->graph.n_input = 1, s->graph.input = s->inputs;
    s->graph.n_output = 1, s->graph.output = s->outputs;
}

/* ---- raw wire-format helpers, to build encodings protobuf-c never writes ---- */

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes;

static void put(bytes *b, const void *src, size_t n) {
    b->p = realloc(b->p, b->n + n + 1);
    cr_assert_not_null(b->p);
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_varint(bytes *b, uint64_t v) {
    do {
        uint8_t c = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        put(b, &c, 1);
        v >>= 7;
    } while (v);
}

static uint32_t field_no(const ProtobufCMessageDescriptor *d, const char *name) {
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    cr_assert_not_null(f);
    return f->id;
}

static void put_message_field(bytes *b, uint32_t field, const void *payload, size_t n) {
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, n);
    put(b, payload, n);
}

static bytes pack_graph(const Onnx__GraphProto *g) {
    bytes b = {malloc(onnx__graph_proto__get_packed_size(g) + 1), 0};
    b.n = onnx__graph_proto__pack(g, b.p);
    return b;
}

static bytes pack_tensor(const Onnx__TensorProto *t) {
    bytes b = {malloc(onnx__tensor_proto__get_packed_size(t) + 1), 0};
    b.n = onnx__tensor_proto__pack(t, b.p);
    return b;
}

/* The model header (pack_model's) followed by the given top-level bytes. */
static bytes model_with(const bytes *tail) {
    size_t len;
    uint8_t *header = pack_model(NULL, 17, &len);
    bytes b = {0};
    put(&b, header, len);
    free(header);
    put(&b, tail->p, tail->n);
    return b;
}

/* ---- loading and comparing ---- */

typedef struct loaded {
    or_graph *g;
    int status;
    char err[512];
    or_load_stats stats;
} loaded;

static loaded load(const void *buf, size_t len, int flags) {
    loaded l;
    memset(&l, 0, sizeof l);
    l.status = or_load_model_ex(buf, len, NULL, NULL, flags, &l.stats, &l.g, l.err, sizeof l.err);
    return l;
}

static const or_tensor *init(const loaded *l, const char *name) {
    int idx = or_graph_find_tensor(l->g, name);
    cr_assert_geq(idx, 0, "no tensor %s", name);
    cr_assert_eq(l->g->tensors[idx].kind, OR_T_INITIALIZER);
    return &l->g->tensors[idx];
}

static void expect_sample_values(const loaded *l, const sample *s) {
    cr_assert_eq(l->status, ONNXRUN_OK, "%s", l->err);
    const or_tensor *w = init(l, "W"), *b = init(l, "B"), *i = init(l, "I"), *z = init(l, "Z"),
                    *h = init(l, "H");
    cr_assert_eq(w->dtype, OR_FLOAT);
    cr_assert_eq(w->nbytes, sizeof s->w);
    cr_assert_eq(memcmp(w->data, s->w, sizeof s->w), 0);
    cr_assert_eq(((const float *)w->data)[NW - 1], (NW - 1) * 0.5f - 7.0f);
    cr_assert_eq((uintptr_t)w->data % 64, 0);
    cr_assert_eq(b->nbytes, 12);
    cr_assert_eq(((const float *)b->data)[2], 1e6f);
    cr_assert_eq(i->dtype, OR_INT64);
    cr_assert_eq(((const int64_t *)i->data)[1], (int64_t)1 << 40);
    cr_assert_eq(z->nbytes, 0);
    cr_assert_eq(z->rank, 1);
    cr_assert_eq(z->dims[0], 0);
    cr_assert_not_null(z->data);
    cr_assert_eq(h->dtype, OR_FLOAT16);
    cr_assert_eq(((const uint16_t *)h->data)[1], 0xc000);
}

/* Both loads succeeded with the same initializers, byte for byte. */
static void expect_same_initializers(const loaded *a, const loaded *b) {
    cr_assert_eq(a->status, ONNXRUN_OK, "%s", a->err);
    cr_assert_eq(b->status, ONNXRUN_OK, "%s", b->err);
    int count = 0;
    for (int k = 0; k < a->g->n_tensors; k++) {
        const or_tensor *t = &a->g->tensors[k];
        if (t->kind != OR_T_INITIALIZER) continue;
        const or_tensor *u = init(b, t->name);
        cr_assert_eq(t->dtype, u->dtype, "%s", t->name);
        cr_assert_eq(t->rank, u->rank, "%s", t->name);
        cr_assert_eq(memcmp(t->dims, u->dims, sizeof(int64_t) * (size_t)t->rank), 0);
        cr_assert_eq(t->nbytes, u->nbytes, "%s", t->name);
        cr_assert_eq(memcmp(t->data, u->data, t->nbytes), 0, "%s", t->name);
        count++;
    }
    cr_assert_eq(count, b->stats.initializers);
}

static void drop(loaded *l) {
    or_graph_free(l->g);
    l->g = NULL;
}

Test(loader_stream, streamed_and_whole_loads_decode_the_same_bytes) {
    sample s;
    sample_init(&s);
    size_t len;
    uint8_t *buf = pack_model(&s.graph, 17, &len);
    loaded a = load(buf, len, 0), b = load(buf, len, OR_LOAD_WHOLE);
    expect_sample_values(&a, &s);
    expect_sample_values(&b, &s);
    expect_same_initializers(&a, &b);
    cr_assert(a.stats.streamed);
    cr_assert_eq(a.stats.initializers, 5);
    cr_assert_eq(a.stats.adopted, 1); /* W; the others are small or typed */
    cr_assert_lt(a.stats.skeleton_bytes, len - sizeof s.w);
    cr_assert_not(b.stats.streamed);
    cr_assert_eq(b.stats.initializers, 5);
    drop(&a);
    drop(&b);
    free(buf);
}

/* protobuf merges the two graph fields; the split leaves that to protobuf-c. */
Test(loader_stream, graph_field_split_in_two_falls_back_and_merges) {
    sample s;
    sample_init(&s);
    Onnx__GraphProto first = ONNX__GRAPH_PROTO__INIT;
    first.n_initializer = 2;
    first.initializer = s.inits; /* W, B */
    s.graph.n_initializer = 3;
    s.graph.initializer = s.inits + 2; /* I, Z, H */
    bytes g1 = pack_graph(&first), g2 = pack_graph(&s.graph), tail = {0};
    uint32_t graph_no = field_no(&onnx__model_proto__descriptor, "graph");
    put_message_field(&tail, graph_no, g1.p, g1.n);
    put_message_field(&tail, graph_no, g2.p, g2.n);
    bytes m = model_with(&tail);
    loaded a = load(m.p, m.n, 0);
    sample_init(&s);
    expect_sample_values(&a, &s);
    cr_assert_not(a.stats.streamed);
    cr_assert_eq(a.stats.initializers, 5);
    drop(&a);
    free(g1.p), free(g2.p), free(tail.p), free(m.p);
}

/* Initializers written after the nodes, inputs and outputs still stream. */
Test(loader_stream, initializers_after_nodes) {
    sample s;
    sample_init(&s);
    s.graph.n_initializer = 0;
    bytes g = pack_graph(&s.graph);
    uint32_t init_no = field_no(&onnx__graph_proto__descriptor, "initializer");
    for (int i = 4; i >= 0; i--) { /* reversed too */
        bytes t = pack_tensor(&s.t[i]);
        put_message_field(&g, init_no, t.p, t.n);
        free(t.p);
    }
    bytes tail = {0};
    put_message_field(&tail, field_no(&onnx__model_proto__descriptor, "graph"), g.p, g.n);
    /* and an unknown top-level varint field after the graph */
    put_varint(&tail, (uint64_t)999 << 3 | 0);
    put_varint(&tail, 12345);
    bytes m = model_with(&tail);
    loaded a = load(m.p, m.n, 0), b = load(m.p, m.n, OR_LOAD_WHOLE);
    expect_sample_values(&a, &s);
    expect_same_initializers(&a, &b);
    cr_assert(a.stats.streamed);
    cr_assert_eq(a.stats.initializers, 5);
    cr_assert_eq(a.g->n_nodes, 1);
    drop(&a), drop(&b);
    free(g.p), free(tail.p), free(m.p);
}

/* Only zero-length and typed initializers: nothing to adopt. */
Test(loader_stream, zero_length_and_typed_initializers) {
    sample s;
    sample_init(&s);
    s.graph.n_initializer = 3;
    s.graph.initializer = s.inits + 1; /* B, I, Z */
    s.node_in[1] = "B";
    size_t len;
    uint8_t *buf = pack_model(&s.graph, 17, &len);
    loaded a = load(buf, len, 0), b = load(buf, len, OR_LOAD_WHOLE);
    expect_same_initializers(&a, &b);
    cr_assert(a.stats.streamed);
    cr_assert_eq(a.stats.initializers, 3);
    cr_assert_eq(a.stats.adopted, 0);
    cr_assert_eq(init(&a, "Z")->nbytes, 0);
    cr_assert_eq(((const float *)init(&a, "B")->data)[0], 1.5f);
    cr_assert_eq(((const int64_t *)init(&a, "I")->data)[0], -3);
    drop(&a), drop(&b);
    free(buf);
}

/* raw_data written twice: protobuf keeps the last one. */
Test(loader_stream, repeated_raw_data_keeps_the_last) {
    sample s;
    sample_init(&s);
    bytes t = pack_tensor(&s.t[4]);       /* H = [1.0, -2.0] */
    uint16_t other[2] = {0x4000, 0x4200}; /* 2.0, 3.0 */
    put_message_field(&t, field_no(&onnx__tensor_proto__descriptor, "raw_data"), other, 4);
    s.graph.n_initializer = 0;
    s.node_in[1] = "H";
    bytes g = pack_graph(&s.graph);
    put_message_field(&g, field_no(&onnx__graph_proto__descriptor, "initializer"), t.p, t.n);
    bytes tail = {0};
    put_message_field(&tail, field_no(&onnx__model_proto__descriptor, "graph"), g.p, g.n);
    bytes m = model_with(&tail);
    loaded a = load(m.p, m.n, 0), b = load(m.p, m.n, OR_LOAD_WHOLE);
    expect_same_initializers(&a, &b);
    cr_assert(a.stats.streamed);
    cr_assert_eq(((const uint16_t *)init(&a, "H")->data)[0], 0x4000);
    cr_assert_eq(((const uint16_t *)init(&a, "H")->data)[1], 0x4200);
    drop(&a), drop(&b);
    free(t.p), free(g.p), free(tail.p), free(m.p);
}

static void expect_same_error(const void *buf, size_t len, int status, const char *needle) {
    loaded a = load(buf, len, 0), b = load(buf, len, OR_LOAD_WHOLE);
    cr_assert_eq(a.status, status, "%d: %s", a.status, a.err);
    cr_assert_eq(b.status, status, "%d: %s", b.status, b.err);
    cr_assert_str_eq(a.err, b.err);
    cr_assert(strstr(a.err, needle), "%s", a.err);
    cr_assert_null(a.g);
}

Test(loader_stream, initializer_errors_are_the_same_on_both_paths) {
    sample s;
    sample_init(&s);
    size_t len;
    s.t[4].name = "W"; /* duplicate */
    uint8_t *buf = pack_model(&s.graph, 17, &len);
    expect_same_error(buf, len, ONNXRUN_ERR_MODEL, "initializer 'W' is defined twice");
    free(buf);
    sample_init(&s);
    s.t[2].name = NULL;
    buf = pack_model(&s.graph, 17, &len);
    expect_same_error(buf, len, ONNXRUN_ERR_MODEL, "initializer 2 has no name");
    free(buf);
    sample_init(&s);
    s.dims[0][0] = NW + 1; /* raw_data one element short */
    buf = pack_model(&s.graph, 17, &len);
    expect_same_error(buf, len, ONNXRUN_ERR_MODEL,
                      "initializer 'W': raw_data has 4000 bytes, expected 4004");
    free(buf);
    sample_init(&s);
    s.t[1].n_float_data = 2; /* B: typed field short */
    buf = pack_model(&s.graph, 17, &len);
    expect_same_error(buf, len, ONNXRUN_ERR_MODEL, "float_data has 2 values, expected 3");
    free(buf);
    sample_init(&s);
    s.t[0].has_data_location = 1;
    s.t[0].data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    buf = pack_model(&s.graph, 17, &len); /* model_dir NULL: external data is refused */
    loaded a = load(buf, len, 0), b = load(buf, len, OR_LOAD_WHOLE);
    cr_assert_eq(a.status, ONNXRUN_ERR_MODEL);
    cr_assert_str_eq(a.err, b.err);
    free(buf);
}

/* Groups, malformed keys and truncations: the whole unpack's message. */
Test(loader_stream, malformed_models_fall_back_with_the_usual_message) {
    sample s;
    sample_init(&s);
    size_t len;
    uint8_t *buf = pack_model(&s.graph, 17, &len);
    bytes m = {0};
    put(&m, buf, len);
    put_varint(&m, (uint64_t)77 << 3 | 3); /* a group */
    put_varint(&m, (uint64_t)77 << 3 | 4);
    expect_same_error(m.p, m.n, ONNXRUN_ERR_MODEL, "not a valid ONNX model");
    for (size_t cut = 1; cut < len; cut += len / 40 + 1) { /* truncated anywhere */
        loaded a = load(buf, cut, 0), b = load(buf, cut, OR_LOAD_WHOLE);
        cr_assert_eq(a.status, b.status, "cut %zu", cut);
        cr_assert_str_eq(a.err, b.err, "cut %zu", cut);
        drop(&a), drop(&b);
    }
    uint8_t bad_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    expect_same_error(bad_varint, sizeof bad_varint, ONNXRUN_ERR_MODEL, "not a valid ONNX model");
    free(buf);
    free(m.p);
}

/* Replaces the 2-byte length of W's raw_data (4000) by 16383: the initializer
 * claims more bytes than it holds, while every enclosing length is intact. */
static uint8_t *with_overlong_raw_data(size_t *len) {
    sample s;
    sample_init(&s);
    uint8_t *buf = pack_model(&s.graph, 17, len);
    uint8_t key = (uint8_t)(field_no(&onnx__tensor_proto__descriptor, "raw_data") << 3 | 2);
    for (size_t i = 0; i + 3 < *len; i++)
        if (buf[i] == key && buf[i + 1] == (0x80 | (4000 & 0x7f)) && buf[i + 2] == 4000 >> 7) {
            buf[i + 1] = 0xff, buf[i + 2] = 0x7f;
            return buf;
        }
    cr_assert_fail("raw_data of W not found");
    return NULL;
}

Test(loader_stream, corrupt_initializer_is_named) {
    size_t len;
    uint8_t *buf = with_overlong_raw_data(&len);
    loaded a = load(buf, len, 0), b = load(buf, len, OR_LOAD_WHOLE);
    cr_assert_eq(a.status, ONNXRUN_ERR_MODEL);
    cr_assert_str_eq(a.err,
                     "not a valid ONNX model (corrupt or truncated protobuf in initializer 'W')");
    cr_assert_null(a.g);
    cr_assert_eq(b.status, ONNXRUN_ERR_MODEL);
    cr_assert(strstr(b.err, "not a valid ONNX model (corrupt or truncated protobuf)"), "%s", b.err);
    free(buf);
}

/* A packed dims field with a truncated varint: the top level of the tensor
 * is fine, protobuf-c refuses it when that initializer's turn comes. */
Test(loader_stream, corrupt_initializer_contents_are_named) {
    sample s;
    sample_init(&s);
    s.graph.n_initializer = 0;
    bytes g = pack_graph(&s.graph), t = {0};
    uint8_t bad_dims[] = {0x80};
    put_message_field(&t, field_no(&onnx__tensor_proto__descriptor, "name"), "Q", 1);
    put_message_field(&t, field_no(&onnx__tensor_proto__descriptor, "dims"), bad_dims, 1);
    put_message_field(&g, field_no(&onnx__graph_proto__descriptor, "initializer"), t.p, t.n);
    bytes tail = {0};
    put_message_field(&tail, field_no(&onnx__model_proto__descriptor, "graph"), g.p, g.n);
    bytes m = model_with(&tail);
    loaded a = load(m.p, m.n, 0);
    cr_assert_eq(a.status, ONNXRUN_ERR_MODEL);
    cr_assert(strstr(a.err, "corrupt or truncated protobuf in initializer 'Q'"), "%s", a.err);
    free(g.p), free(t.p), free(tail.p), free(m.p);
}

/* A mapped file: pages behind the initializers are dropped, values intact. */
Test(loader_stream, mapped_model_releases_pages_behind_it) {
    static sample s;
    sample_init(&s);
    static float big[300000]; /* 1.2 MB: spans many pages */
    for (int i = 0; i < 300000; i++) big[i] = (float)(i % 977);
    Onnx__TensorProto t;
    int64_t dims[1];
    tensor1d(&t, dims, "BIG", OR_FLOAT, 300000);
    t.has_raw_data = 1;
    t.raw_data = (ProtobufCBinaryData){sizeof big, (uint8_t *)big};
    Onnx__TensorProto *inits[6] = {&t, s.inits[0], s.inits[1], s.inits[2], s.inits[3], s.inits[4]};
    s.graph.n_initializer = 6;
    s.graph.initializer = inits;
    size_t len;
    uint8_t *buf = pack_model(&s.graph, 17, &len);
    char path[] = "/tmp/onnxrun_stream_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, buf, len), (ssize_t)len);
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    cr_assert_neq(map, MAP_FAILED);
    loaded a = load(map, len, OR_LOAD_MAPPED);
    expect_sample_values(&a, &s);
    cr_assert(a.stats.streamed);
    cr_assert_gt(a.stats.released_bytes, sizeof big - 8192);
    cr_assert_leq(a.stats.released_bytes, len);
    const or_tensor *tb = init(&a, "BIG");
    cr_assert_eq(tb->nbytes, sizeof big);
    cr_assert_eq(memcmp(tb->data, big, sizeof big), 0);
    cr_assert_eq(a.stats.adopted, 2);
    /* the mapping still reads back the file after the drop */
    cr_assert_eq(memcmp(map, buf, len), 0);
    drop(&a);
    munmap(map, len);
    close(fd);
    unlink(path);
    free(buf);
}

/* Through the public API: a model file costs its weights about twice while
 * loading (the counted file mapping and the tensors), where reading it and
 * unpacking it whole held three copies. */
Test(loader_stream, session_from_file_holds_two_copies_at_most) {
    enum { N = 250000 }; /* 1 MB of weights */
    static float w[N];
    for (int i = 0; i < N; i++) w[i] = (float)i;
    sample s;
    sample_init(&s);
    tensor1d(&s.t[0], s.dims[0], "W", OR_FLOAT, N);
    s.t[0].has_raw_data = 1;
    s.t[0].raw_data = (ProtobufCBinaryData){sizeof w, (uint8_t *)w};
    s.graph.n_initializer = 1;
    size_t len;
    uint8_t *buf = pack_model(&s.graph, 17, &len);
    char path[] = "/tmp/onnxrun_stream_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, buf, len), (ssize_t)len);
    close(fd);
    onnxrun_options o;
    onnxrun_options_init(&o);
    o.max_memory_bytes = (size_t)1 << 30; /* gives the session a counted context */
    onnxrun_session *sess = NULL;
    cr_assert_eq(onnxrun_session_create_from_file(path, &o, &sess), ONNXRUN_OK, "%s",
                 onnxrun_errmsg(sess));
    size_t peak = onnxrun_memory_peak(sess);
    cr_assert_gt(peak, 2 * sizeof w);
    cr_assert_lt(peak, 2 * sizeof w + sizeof w / 4, "peak %zu", peak);
    onnxrun_session_destroy(sess);
    /* so a cap of 2.3 times the weights is enough */
    o.max_memory_bytes = 2 * sizeof w + sizeof w * 3 / 10;
    cr_assert_eq(onnxrun_session_create_from_file(path, &o, &sess), ONNXRUN_OK, "%s",
                 onnxrun_errmsg(sess));
    onnxrun_session_destroy(sess);
    unlink(path);
    free(buf);
}

/* A 5-byte key whose value overflows 32 bits: protobuf-c keeps it as an
 * unknown field, the stricter wire check does not; protobuf-c decides. */
Test(loader_stream, a_key_only_protobuf_c_accepts_is_no_corruption) {
    sample s;
    sample_init(&s);
    bytes t = pack_tensor(&s.t[4]);
    uint8_t odd[] = {0xfa, 0xfe, 0xea, 0xd5, 0x10, 0x01, 0x00}; /* wire type 2, 1 byte */
    put(&t, odd, sizeof odd);
    s.graph.n_initializer = 0;
    s.node_in[1] = "H";
    bytes g = pack_graph(&s.graph);
    put_message_field(&g, field_no(&onnx__graph_proto__descriptor, "initializer"), t.p, t.n);
    bytes tail = {0};
    put_message_field(&tail, field_no(&onnx__model_proto__descriptor, "graph"), g.p, g.n);
    bytes m = model_with(&tail);
    loaded a = load(m.p, m.n, 0), b = load(m.p, m.n, OR_LOAD_WHOLE);
    expect_same_initializers(&a, &b);
    cr_assert(a.stats.streamed);
    cr_assert_eq(((const uint16_t *)init(&a, "H")->data)[1], 0xc000);
    drop(&a), drop(&b);
    free(t.p), free(g.p), free(tail.p), free(m.p);
}
