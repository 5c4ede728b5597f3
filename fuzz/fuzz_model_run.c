/* libFuzzer target: one full load-then-run on small models built from the
 * fuzz bytes with the protobuf-c bindings. The bytes choose the opset, a few
 * typed graph inputs and initializers (small shapes, hostile values), then 1-4
 * nodes from the supported op list with fuzz-chosen inputs and attributes.
 * The model is packed, a session is created from the buffer, every input is
 * bound with data of its declared shape and the model is run (twice, to cover
 * the plan cache), then every output is read. A run-mode byte after the
 * nodes picks threads, allocator, graph outputs, ONNXRUN_RNN_PIPE and ONNXRUN_RNN_TEAM (gen.mode).
 * Any outcome but a crash, leak or UB report is fine. With FUZZ_MODEL_OUT=path set, each input's
 * model is also written to path, so that a finding can be replayed with the CLI. */
#include "onnx.pb-c.h"
#include "onnxrun.h"
#include "registry.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_GIN = 2, MAX_INIT = 3, MAX_NODES = 4, MAX_NIN = 4, MAX_NOUT = 3, MAX_ATTR = 3 };
enum { MAX_VALUES = MAX_GIN + MAX_INIT + MAX_NODES * MAX_NOUT, MAX_INTS = 5, MAX_RANK = 4 };
enum { MAX_TENSORS = MAX_GIN + MAX_INIT + MAX_NODES * MAX_ATTR };

/* ---- reading the fuzz bytes ---- */

typedef struct fz {
    const uint8_t *p;
    size_t n;
} fz;

static unsigned u8(fz *f) {
    if (!f->n) return 0;
    f->n--;
    return *f->p++;
}

static int pick(fz *f, int count) {
    return (int)(u8(f) % (unsigned)count);
}

/* Mostly small values, sometimes the edges that break size arithmetic. */
static int64_t hostile_int(fz *f) {
    static const int64_t edges[] = {
        INT64_MAX, INT64_MIN, (int64_t)1 << 32, (int64_t)1 << 40, -((int64_t)1 << 31), 1 << 20,
        65536,     -100};
    unsigned b = u8(f);
    if (b >= 240) return edges[b % 8];
    return (int64_t)(b % 12) - 4; /* -4 .. 7 */
}

static float hostile_float(fz *f) {
    static const float vals[] = {0.0f, 1.0f, -1.0f, 0.5f, 2.0f, -3.0f, 1e30f, -1e-30f};
    unsigned b = u8(f);
    if (b == 255) return __builtin_nanf("");
    if (b == 254) return __builtin_inff();
    return vals[b % 8];
}

/* ---- the model ---- */

typedef struct tensor_slot {
    Onnx__TensorProto tp;
    int64_t dims[MAX_RANK];
    uint8_t raw[64 * 8];
} tensor_slot;

typedef struct attr_slot {
    Onnx__AttributeProto ap;
    int64_t ints[MAX_INTS];
    char *strings[2];
    ProtobufCBinaryData sdata[2];
} attr_slot;

typedef struct gen {
    Onnx__ModelProto model;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    Onnx__GraphProto graph;
    char names[MAX_VALUES][8];
    int n_values;
    /* graph inputs */
    Onnx__ValueInfoProto gin[MAX_GIN], *gin_p[MAX_GIN];
    Onnx__TypeProto gin_t[MAX_GIN];
    Onnx__TypeProto__Tensor gin_tt[MAX_GIN];
    Onnx__TensorShapeProto gin_s[MAX_GIN];
    Onnx__TensorShapeProto__Dimension gin_d[MAX_GIN][MAX_RANK], *gin_dp[MAX_GIN][MAX_RANK];
    /* initializers and tensor attributes */
    tensor_slot tensors[MAX_TENSORS];
    int n_tensors;
    Onnx__TensorProto *init_p[MAX_INIT];
    /* nodes */
    Onnx__NodeProto node[MAX_NODES], *node_p[MAX_NODES];
    char *node_in[MAX_NODES][MAX_NIN], *node_out[MAX_NODES][MAX_NOUT];
    attr_slot attrs[MAX_NODES][MAX_ATTR];
    Onnx__AttributeProto *attr_p[MAX_NODES][MAX_ATTR];
    /* the run mode byte (read after the nodes): bit 0 two threads, bit 1 a
     * budgeted allocator and no cap, bit 2 only the last node's outputs are
     * graph outputs, bit 3 ONNXRUN_RNN_PIPE=1, bit 4 ONNXRUN_RNN_TEAM=4 */
    unsigned mode;
    /* outputs */
    Onnx__ValueInfoProto gout[MAX_NODES * MAX_NOUT], *gout_p[MAX_NODES * MAX_NOUT];
} gen;

static const char *const op_names[] = {"Abs",
                                       "Add",
                                       "And",
                                       "ArgMax",
                                       "ArgMin",
                                       "Cast",
                                       "CastLike",
                                       "Ceil",
                                       "Clip",
                                       "Concat",
                                       "Constant",
                                       "ConstantOfShape",
                                       "Conv",
                                       "Cos",
                                       "CumSum",
                                       "Div",
                                       "Dropout",
                                       "Elu",
                                       "Equal",
                                       "Erf",
                                       "Exp",
                                       "Expand",
                                       "Flatten",
                                       "Floor",
                                       "GRU",
                                       "Gather",
                                       "GatherElements",
                                       "Gemm",
                                       "Greater",
                                       "GreaterOrEqual",
                                       "HardSigmoid",
                                       "HardSwish",
                                       "Identity",
                                       "LSTM",
                                       "LeakyRelu",
                                       "Less",
                                       "LessOrEqual",
                                       "Log",
                                       "LogSoftmax",
                                       "MatMul",
                                       "Max",
                                       "Mean",
                                       "Min",
                                       "Mod",
                                       "Mul",
                                       "Neg",
                                       "Not",
                                       "Or",
                                       "PRelu",
                                       "Pad",
                                       "Pow",
                                       "RNN",
                                       "Range",
                                       "Reciprocal",
                                       "ReduceL1",
                                       "ReduceL2",
                                       "ReduceLogSum",
                                       "ReduceLogSumExp",
                                       "ReduceMax",
                                       "ReduceMean",
                                       "ReduceMin",
                                       "ReduceProd",
                                       "ReduceSum",
                                       "ReduceSumSquare",
                                       "Relu",
                                       "Reshape",
                                       "Round",
                                       "Scatter",
                                       "ScatterElements",
                                       "Selu",
                                       "Shape",
                                       "Sigmoid",
                                       "Sign",
                                       "Sin",
                                       "Size",
                                       "Slice",
                                       "Softmax",
                                       "Softplus",
                                       "Softsign",
                                       "Split",
                                       "Sqrt",
                                       "Squeeze",
                                       "Sub",
                                       "Sum",
                                       "Tanh",
                                       "Tile",
                                       "TopK",
                                       "Transpose",
                                       "Trilu",
                                       "Unsqueeze",
                                       "Where",
                                       "Xor"};
#define N_OPS (int)(sizeof op_names / sizeof op_names[0])

typedef struct attr_kind {
    const char *name;
    Onnx__AttributeProto__AttributeType type;
    const char *strings[3]; /* choices for string attributes */
} attr_kind;

#define A_INT ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
#define A_INTS ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
#define A_FLOAT ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
#define A_STRING ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
#define A_STRINGS ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
#define A_TENSOR ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR

static const attr_kind attr_kinds[] = {
    {"axis", A_INT, {0}},
    {"axes", A_INTS, {0}},
    {"perm", A_INTS, {0}},
    {"keepdims", A_INT, {0}},
    {"alpha", A_FLOAT, {0}},
    {"beta", A_FLOAT, {0}},
    {"gamma", A_FLOAT, {0}},
    {"transA", A_INT, {0}},
    {"transB", A_INT, {0}},
    {"hidden_size", A_INT, {0}},
    {"direction", A_STRING, {"forward", "reverse", "bidirectional"}},
    {"activations", A_STRINGS, {"Sigmoid", "Tanh", "Relu"}},
    {"clip", A_FLOAT, {0}},
    {"linear_before_reset", A_INT, {0}},
    {"layout", A_INT, {0}},
    {"input_forget", A_INT, {0}},
    {"to", A_INT, {0}},
    {"kernel_shape", A_INTS, {0}},
    {"pads", A_INTS, {0}},
    {"strides", A_INTS, {0}},
    {"dilations", A_INTS, {0}},
    {"group", A_INT, {0}},
    {"auto_pad", A_STRING, {"NOTSET", "SAME_UPPER", "VALID"}},
    {"mode", A_STRING, {"constant", "reflect", "edge"}},
    {"value", A_TENSOR, {0}},
    {"largest", A_INT, {0}},
    {"sorted", A_INT, {0}},
    {"exclusive", A_INT, {0}},
    {"reverse", A_INT, {0}},
    {"upper", A_INT, {0}},
    {"split", A_INTS, {0}},
    {"starts", A_INTS, {0}},
    {"ends", A_INTS, {0}},
    {"shape", A_INTS, {0}},
    {"min", A_FLOAT, {0}},
    {"max", A_FLOAT, {0}},
    {"fmod", A_INT, {0}},
    {"select_last_index", A_INT, {0}},
    {"noop_with_empty_axes", A_INT, {0}},
    {"value_float", A_FLOAT, {0}},
    {"value_int", A_INT, {0}},
    {"value_ints", A_INTS, {0}},
    {"k", A_INT, {0}},
    {"ratio", A_FLOAT, {0}},
};
#define N_ATTR_KINDS (int)(sizeof attr_kinds / sizeof attr_kinds[0])

static const int dtypes[] = {ONNXRUN_FLOAT, ONNXRUN_FLOAT,  ONNXRUN_FLOAT, ONNXRUN_INT64,
                             ONNXRUN_INT64, ONNXRUN_INT32,  ONNXRUN_BOOL,  ONNXRUN_DOUBLE,
                             ONNXRUN_UINT8, ONNXRUN_FLOAT16};

/* Fills n elements of dtype at dst from the fuzz bytes. */
static void fill_values(fz *f, int dtype, size_t n, void *dst) {
    for (size_t i = 0; i < n; i++) {
        switch (dtype) {
        case ONNXRUN_FLOAT:
            ((float *)dst)[i] = hostile_float(f);
            break;
        case ONNXRUN_DOUBLE:
            ((double *)dst)[i] = hostile_float(f);
            break;
        case ONNXRUN_INT64:
            ((int64_t *)dst)[i] = hostile_int(f);
            break;
        case ONNXRUN_INT32:
            ((int32_t *)dst)[i] = (int32_t)hostile_int(f);
            break;
        case ONNXRUN_FLOAT16:
            ((uint16_t *)dst)[i] = (uint16_t)(u8(f) << 8 | u8(f));
            break;
        case ONNXRUN_BOOL:
            ((uint8_t *)dst)[i] = (uint8_t)(u8(f) & 1);
            break;
        default:
            ((uint8_t *)dst)[i] = (uint8_t)u8(f);
            break;
        }
    }
}

/* A small tensor: rank 0-3 (rank 1 more often: shape-like inputs), dims 0-4. */
static Onnx__TensorProto *make_tensor(gen *g, fz *f, const char *name) {
    tensor_slot *t = &g->tensors[g->n_tensors++];
    int dtype = dtypes[pick(f, (int)(sizeof dtypes / sizeof dtypes[0]))];
    int rank = pick(f, 5);
    if (rank == 4) rank = 1;
    size_t numel = 1;
    for (int d = 0; d < rank; d++) {
        t->dims[d] = pick(f, 5);
        numel *= (size_t)t->dims[d];
    }
    t->tp = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
    t->tp.name = (char *)name;
    t->tp.has_data_type = 1;
    t->tp.data_type = dtype;
    t->tp.n_dims = (size_t)rank;
    t->tp.dims = t->dims;
    fill_values(f, dtype, numel, t->raw);
    t->tp.has_raw_data = 1;
    t->tp.raw_data.len = numel * onnxrun_dtype_size((onnxrun_dtype)dtype);
    t->tp.raw_data.data = t->raw;
    return &t->tp;
}

static const char *new_value(gen *g) {
    char *name = g->names[g->n_values];
    name[0] = 'v';
    name[1] = (char)('a' + g->n_values);
    name[2] = '\0';
    g->n_values++;
    return name;
}

static void make_graph_input(gen *g, fz *f, int i) {
    Onnx__TensorShapeProto *s = &g->gin_s[i];
    *s = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
    s->n_dim = (size_t)pick(f, MAX_RANK + 1);
    for (size_t d = 0; d < s->n_dim; d++) {
        Onnx__TensorShapeProto__Dimension *dim = &g->gin_d[i][d];
        *dim = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
        dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        dim->dim_value = 1 + pick(f, 4);
        g->gin_dp[i][d] = dim;
    }
    s->dim = g->gin_dp[i];
    g->gin_tt[i] = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
    g->gin_tt[i].has_elem_type = 1;
    g->gin_tt[i].elem_type = dtypes[pick(f, (int)(sizeof dtypes / sizeof dtypes[0]))];
    g->gin_tt[i].shape = s;
    g->gin_t[i] = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
    g->gin_t[i].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    g->gin_t[i].tensor_type = &g->gin_tt[i];
    g->gin[i] = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
    g->gin[i].name = (char *)new_value(g);
    g->gin[i].type = &g->gin_t[i];
    g->gin_p[i] = &g->gin[i];
}

/* An attribute kind for op: the byte's own pick when the op defines it;
 * otherwise (bytes below 224) one the op defines, since an unknown name
 * fails at load and would leave the op's attribute handling unfuzzed. */
static const attr_kind *pick_attr_kind(fz *f, int op) {
    unsigned b = u8(f);
    const attr_kind *k = &attr_kinds[b % N_ATTR_KINDS];
    if (op < 0 || b >= 224 || or_op_has_attr(op, k->name)) return k;
    int valid[N_ATTR_KINDS], n = 0;
    for (int i = 0; i < N_ATTR_KINDS; i++)
        if (or_op_has_attr(op, attr_kinds[i].name)) valid[n++] = i;
    return n ? &attr_kinds[valid[b % (unsigned)n]] : k;
}

static void make_attr(gen *g, fz *f, attr_slot *a, int op) {
    const attr_kind *k = pick_attr_kind(f, op);
    a->ap = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
    a->ap.name = (char *)k->name;
    a->ap.has_type = 1;
    a->ap.type = k->type;
    switch (k->type) {
    case A_INT:
        a->ap.has_i = 1;
        a->ap.i = hostile_int(f);
        break;
    case A_FLOAT:
        a->ap.has_f = 1;
        a->ap.f = hostile_float(f);
        break;
    case A_INTS:
        a->ap.n_ints = (size_t)pick(f, MAX_INTS + 1);
        for (size_t i = 0; i < a->ap.n_ints; i++) a->ints[i] = hostile_int(f);
        a->ap.ints = a->ints;
        break;
    case A_STRING:
        a->ap.has_s = 1;
        a->ap.s.data = (uint8_t *)k->strings[pick(f, 3)];
        a->ap.s.len = strlen((const char *)a->ap.s.data);
        break;
    case A_STRINGS:
        a->ap.n_strings = (size_t)pick(f, 3);
        for (size_t i = 0; i < a->ap.n_strings; i++) {
            a->sdata[i].data = (uint8_t *)k->strings[pick(f, 3)];
            a->sdata[i].len = strlen((const char *)a->sdata[i].data);
        }
        a->ap.strings = a->sdata;
        break;
    default:
        a->ap.t = make_tensor(g, f, "");
        break;
    }
}

static void make_node(gen *g, fz *f, int i) {
    Onnx__NodeProto *n = &g->node[i];
    *n = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
    n->op_type = (char *)op_names[pick(f, N_OPS)];
    int op = or_op_lookup("", n->op_type);
    n->n_input = (size_t)pick(f, MAX_NIN + 1);
    for (size_t k = 0; k < n->n_input; k++) {
        int v = pick(f, g->n_values + 1);
        g->node_in[i][k] = v == g->n_values ? "" : g->names[v]; /* "" is an absent input */
    }
    n->input = g->node_in[i];
    n->n_output = 1 + (size_t)pick(f, MAX_NOUT);
    for (size_t k = 0; k < n->n_output; k++) g->node_out[i][k] = (char *)new_value(g);
    n->output = g->node_out[i];
    n->n_attribute = (size_t)pick(f, MAX_ATTR + 1);
    for (size_t k = 0; k < n->n_attribute; k++) {
        make_attr(g, f, &g->attrs[i][k], op);
        g->attr_p[i][k] = &g->attrs[i][k].ap;
    }
    n->attribute = g->attr_p[i];
    g->node_p[i] = n;
}

static void make_model(gen *g, fz *f) {
    static const int opsets[] = {7, 9, 11, 13, 14, 17};
    g->model = (Onnx__ModelProto)ONNX__MODEL_PROTO__INIT;
    g->model.has_ir_version = 1;
    g->model.ir_version = 8;
    g->opset = (Onnx__OperatorSetIdProto)ONNX__OPERATOR_SET_ID_PROTO__INIT;
    g->opset.domain = "";
    g->opset.has_version = 1;
    g->opset.version = opsets[pick(f, 6)];
    g->opsets[0] = &g->opset;
    g->model.n_opset_import = 1;
    g->model.opset_import = g->opsets;
    g->graph = (Onnx__GraphProto)ONNX__GRAPH_PROTO__INIT;
    g->graph.name = "fuzz";
    g->model.graph = &g->graph;

    g->graph.n_input = 1 + (size_t)pick(f, MAX_GIN);
    for (size_t i = 0; i < g->graph.n_input; i++) make_graph_input(g, f, (int)i);
    g->graph.input = g->gin_p;
    g->graph.n_initializer = (size_t)pick(f, MAX_INIT + 1);
    for (size_t i = 0; i < g->graph.n_initializer; i++)
        g->init_p[i] = make_tensor(g, f, new_value(g));
    g->graph.initializer = g->init_p;
    g->graph.n_node = 1 + (size_t)pick(f, MAX_NODES);
    for (size_t i = 0; i < g->graph.n_node; i++) make_node(g, f, (int)i);
    g->graph.node = g->node_p;

    /* Every node's outputs are graph outputs: the planner skips a node whose
     * outputs nothing reads, and each node's run is what is fuzzed. With
     * mode bit 2 only the last node's are, so that the planner's liveness,
     * views and pairings of nodes (pipelined recurrent layers) are fuzzed. */
    g->mode = u8(f);
    g->graph.n_output = 0;
    size_t first = g->mode & 4 ? g->graph.n_node - 1 : 0;
    for (size_t i = first; i < g->graph.n_node; i++)
        for (size_t k = 0; k < g->node_p[i]->n_output; k++) {
            size_t o = g->graph.n_output++;
            g->gout[o] = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
            g->gout[o].name = g->node_p[i]->output[k];
            g->gout_p[o] = &g->gout[o];
        }
    g->graph.output = g->gout_p;
}

/* ---- running it ---- */

static void bind_and_run(onnxrun_session *s, fz *f) {
    size_t n_in = onnxrun_input_count(s);
    void *bufs[MAX_GIN] = {0};
    for (size_t i = 0; i < n_in && i < MAX_GIN; i++) {
        onnxrun_tensor_info info;
        if (onnxrun_input_info(s, i, &info) != ONNXRUN_OK || info.rank < 0) goto out;
        size_t numel = 1;
        for (int d = 0; d < info.rank; d++) numel *= (size_t)info.dims[d];
        size_t nbytes = numel * onnxrun_dtype_size(info.dtype);
        bufs[i] = malloc(nbytes ? nbytes : 1);
        if (!bufs[i]) goto out;
        fill_values(f, info.dtype, numel, bufs[i]);
        if (onnxrun_set_input(s, i, info.dtype, info.rank, info.dims, bufs[i], nbytes) !=
            ONNXRUN_OK)
            goto out;
    }
    for (int pass = 0; pass < 2; pass++) {
        if (onnxrun_run(s) != ONNXRUN_OK) break;
        for (size_t o = 0; o < onnxrun_output_count(s); o++) {
            onnxrun_tensor_view v;
            if (onnxrun_get_output(s, o, &v) != ONNXRUN_OK) continue;
            volatile unsigned char sum = 0; /* every output byte must be readable */
            for (size_t b = 0; b < v.nbytes; b++) sum ^= ((const unsigned char *)v.data)[b];
            (void)sum;
        }
    }
out:
    for (int i = 0; i < MAX_GIN; i++) free(bufs[i]);
}

/* ---- memory ----
 * Half the inputs run under max_memory_bytes, the other half through this
 * allocator with no cap: a capped session takes other load-time paths (it
 * never folds an embedding into a recurrent node's input product), and the
 * budget keeps hostile shapes from reaching libFuzzer's RSS limit. */

enum { FUZZ_BUDGET = 256 << 20, HEADER = 64 };

static void *budget_alloc(void *user, size_t size, size_t alignment) {
    size_t *left = user;
    (void)alignment; /* at most 64, which the header keeps */
    if (*left < HEADER || size > *left - HEADER) return NULL;
    unsigned char *block = aligned_alloc(HEADER, (size + HEADER + HEADER - 1) / HEADER * HEADER);
    if (!block) return NULL;
    *left -= size + HEADER;
    memcpy(block, &size, sizeof size);
    return block + HEADER;
}

static void budget_free(void *user, void *ptr) {
    if (!ptr) return;
    unsigned char *block = (unsigned char *)ptr - HEADER;
    size_t size;
    memcpy(&size, block, sizeof size);
    *(size_t *)user += size + HEADER;
    free(block);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f = {data, size};
    gen *g = calloc(1, sizeof *g);
    if (!g) return 0;
    make_model(g, &f);
    size_t len = onnx__model_proto__get_packed_size(&g->model);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf && onnx__model_proto__pack(&g->model, buf) == len) {
        const char *out = getenv("FUZZ_MODEL_OUT");
        FILE *fp = out ? fopen(out, "wb") : NULL;
        if (fp) {
            fwrite(buf, 1, len, fp);
            fclose(fp);
        }
        unsigned mode = g->mode;
        if (mode & 8) setenv("ONNXRUN_RNN_PIPE", "1", 1);
        if (mode & 16) setenv("ONNXRUN_RNN_TEAM", "4", 1); /* the team splitting batch rows */
        size_t budget = FUZZ_BUDGET;
        onnxrun_allocator budgeted = {budget_alloc, budget_free, &budget};
        onnxrun_options opt;
        onnxrun_options_init(&opt);
        opt.num_threads = 1 + (int)(mode & 1);
        if (mode & 2)
            opt.allocator = &budgeted;
        else
            opt.max_memory_bytes = FUZZ_BUDGET;
        onnxrun_session *s = NULL;
        onnxrun_status st = onnxrun_session_create_from_buffer(buf, len, NULL, &opt, &s);
        if (st == ONNXRUN_OK) bind_and_run(s, &f);
        onnxrun_session_destroy(s);
        unsetenv("ONNXRUN_RNN_PIPE");
        unsetenv("ONNXRUN_RNN_TEAM");
        if (budget != FUZZ_BUDGET) __builtin_trap(); /* a block never given back */
    }
    free(buf);
    free(g);
    return 0;
}
