/* The ONNX loader on real files: backend-test models and their .pb tensors.
 * Expected values were read with /usr/bin/python3, onnx 1.12
 * (onnx.load / numpy_helper.to_array, or the raw int32_data field where
 * numpy_helper lacks the type), never from the loader itself. */
#include "loader.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TESTS_DIR ONNXRUN_SHARED_DIR "/onnx-backend-tests"

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    unsigned char *buf = malloc(n ? (size_t)n : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Loads TESTS_DIR/<rel>/model.onnx; returns the status, *g set on success. */
static int load_case(const char *rel, or_graph **g, char *err, size_t errlen) {
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", TESTS_DIR, rel);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    size_t len;
    unsigned char *buf = slurp(path, &len);
    int st = or_load_model(buf, len, dir, path, g, err, errlen);
    free(buf);
    return st;
}

static or_graph *load_ok(const char *rel) {
    char err[OR_ERRMSG_MAX];
    or_graph *g = NULL;
    int st = load_case(rel, &g, err, sizeof err);
    cr_assert_eq(st, ONNXRUN_OK, "%s: %s", rel, err);
    cr_assert_not_null(g);
    return g;
}

static const or_tensor *tensor(const or_graph *g, const char *name) {
    int i = or_graph_find_tensor(g, name);
    cr_assert_geq(i, 0, "no tensor '%s'", name);
    return &g->tensors[i];
}

static void assert_shape(const or_tensor *t, int rank, const int64_t *dims) {
    cr_assert_eq(t->rank, rank, "'%s' rank %d, expected %d", t->name, t->rank, rank);
    for (int i = 0; i < rank; i++) cr_assert_eq(t->dims[i], dims[i], "'%s' dim %d", t->name, i);
}

static const char *tname(const or_graph *g, int idx) {
    return g->tensors[idx].name;
}

static bool aligned64(const void *p) {
    return ((uintptr_t)p & 63) == 0;
}

Test(loader, test_add) {
    or_graph *g = load_ok("node/test_add");
    cr_assert_eq(g->ir_version, 7);
    cr_assert_str_eq(g->producer_name, "backend-test");
    cr_assert_str_eq(g->graph_name, "test_add");
    cr_assert_eq(g->opset, 14);
    cr_assert_eq(g->n_opsets, 1);
    cr_assert_str_eq(g->opsets[0].domain, "");
    cr_assert_eq(g->opsets[0].version, 14);
    cr_assert_eq(g->n_inputs, 2);
    cr_assert_str_eq(tname(g, g->inputs[0]), "x");
    cr_assert_str_eq(tname(g, g->inputs[1]), "y");
    static const int64_t d345[] = {3, 4, 5};
    for (int i = 0; i < 2; i++) {
        const or_tensor *t = &g->tensors[g->inputs[i]];
        cr_assert_eq(t->kind, OR_T_INPUT);
        cr_assert_eq(t->dtype, OR_FLOAT);
        cr_assert_not(t->is_static);
        assert_shape(t, 3, d345);
    }
    cr_assert_eq(g->n_outputs, 1);
    const or_tensor *sum = &g->tensors[g->outputs[0]];
    cr_assert_str_eq(sum->name, "sum");
    cr_assert(sum->is_graph_output);
    cr_assert_eq(sum->dtype, OR_FLOAT);
    assert_shape(sum, 3, d345);
    cr_assert_eq(g->n_nodes, 1);
    const or_node *n = &g->nodes[0];
    cr_assert_str_eq(n->name, "Add_0"); /* invented: the model has none */
    cr_assert_str_eq(n->op_type, "Add");
    cr_assert_str_eq(n->domain, "");
    cr_assert_eq(n->opset, 14);
    cr_assert_eq(n->n_inputs, 2);
    cr_assert_str_eq(tname(g, n->inputs[0]), "x");
    cr_assert_str_eq(tname(g, n->inputs[1]), "y");
    cr_assert_eq(n->n_outputs, 1);
    cr_assert_str_eq(tname(g, n->outputs[0]), "sum");
    cr_assert_eq(n->n_attrs, 0);
    or_graph_free(g);
}

Test(loader, lstm_defaults) {
    or_graph *g = load_ok("node/test_lstm_defaults");
    cr_assert_eq(g->ir_version, 10);
    cr_assert_eq(g->opset, 22);
    cr_assert_eq(g->n_inputs, 3);
    static const int64_t dx[] = {1, 3, 2}, dw[] = {1, 12, 2}, dr[] = {1, 12, 3}, dy[] = {1, 3, 3};
    assert_shape(tensor(g, "X"), 3, dx);
    assert_shape(tensor(g, "W"), 3, dw);
    assert_shape(tensor(g, "R"), 3, dr);
    assert_shape(tensor(g, "Y_h"), 3, dy);
    const or_node *n = &g->nodes[0];
    cr_assert_str_eq(n->op_type, "LSTM");
    cr_assert_eq(n->opset, 22);
    cr_assert_eq(n->n_outputs, 2);
    cr_assert_eq(n->outputs[0], -1); /* Y omitted */
    cr_assert_str_eq(tname(g, n->outputs[1]), "Y_h");
    cr_assert_eq(n->n_attrs, 1);
    cr_assert_eq(n->attrs[0].type, OR_ATTR_INT);
    cr_assert_eq(or_attr_int(n, "hidden_size", -1), 3);
    or_graph_free(g);
}

Test(loader, constant_tensor_attribute) {
    or_graph *g = load_ok("node/test_constant");
    cr_assert_eq(g->n_inputs, 0);
    cr_assert_eq(g->opset, 25);
    const or_node *n = &g->nodes[0];
    cr_assert_str_eq(n->op_type, "Constant");
    cr_assert_str_eq(n->name, "Constant_0");
    const or_attr *a = or_attr_find(n, "value");
    cr_assert_not_null(a);
    cr_assert_eq(a->type, OR_ATTR_TENSOR);
    const or_tensor *t = a->t;
    static const int64_t d55[] = {5, 5};
    cr_assert_eq(t->dtype, OR_FLOAT);
    assert_shape(t, 2, d55);
    cr_assert_eq(t->nbytes, 100);
    cr_assert(aligned64(t->data));
    const float *v = t->data;
    cr_assert_eq(v[0], 1.7640524f);
    cr_assert_eq(v[1], 0.4001572f);
    cr_assert_eq(v[5], -0.9772779f);
    cr_assert_eq(v[24], 2.2697546f);
    or_graph_free(g);
}

Test(loader, reshape_int64_input) {
    or_graph *g = load_ok("node/test_reshape_reordered_all_dims");
    const or_tensor *shape = tensor(g, "shape");
    static const int64_t d3[] = {3}, d423[] = {4, 2, 3};
    cr_assert_eq(shape->dtype, OR_INT64);
    cr_assert_eq(shape->kind, OR_T_INPUT);
    assert_shape(shape, 1, d3);
    assert_shape(tensor(g, "reshaped"), 3, d423);
    cr_assert_str_eq(g->nodes[0].op_type, "Reshape");
    or_graph_free(g);
}

Test(loader, raw_float_initializers) {
    or_graph *g = load_ok("pytorch-converted/test_BatchNorm1d_3d_input_eval");
    cr_assert_eq(g->ir_version, 3);
    cr_assert_str_eq(g->producer_name, "pytorch");
    cr_assert_str_eq(g->producer_version, "0.3");
    cr_assert_str_eq(g->graph_name, "torch-jit-export");
    cr_assert_eq(g->opset, 6);
    /* inputs 1..4 have initializers, so only "0" is a real input */
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_str_eq(tname(g, g->inputs[0]), "0");
    const or_tensor *w = tensor(g, "1");
    cr_assert_eq(w->kind, OR_T_INITIALIZER);
    cr_assert(w->is_static);
    cr_assert_eq(w->dtype, OR_FLOAT);
    static const int64_t d5[] = {5};
    assert_shape(w, 1, d5);
    cr_assert_eq(w->nbytes, 20);
    cr_assert(aligned64(w->data));
    cr_assert_not_null(w->owned);
    const float *v = w->data;
    static const float expect[] = {0.3610198f, 0.5929816f, 0.80851316f, 0.05314839f, 0.09606135f};
    for (int i = 0; i < 5; i++) cr_assert_eq(v[i], expect[i], "W[%d]", i);
    const float *var = tensor(g, "4")->data;
    for (int i = 0; i < 5; i++) cr_assert_eq(var[i], 1.0f);
    const or_node *n = &g->nodes[0];
    cr_assert_str_eq(n->op_type, "BatchNormalization");
    cr_assert_eq(or_attr_float(n, "epsilon", 0), 9.999999747378752e-06f);
    cr_assert_eq(or_attr_float(n, "momentum", 0), 0.8999999761581421f);
    cr_assert_eq(or_attr_int(n, "is_test", 0), 1);
    or_graph_free(g);
}

Test(loader, int64_initializers_and_unknown_dims) {
    /* Sequence ops are unknown to us but must still load (for --info). */
    or_graph *g = load_ok("simple/test_sequence_model1");
    cr_assert_eq(g->n_inputs, 3); /* pos and pos_at are initializers */
    cr_assert_str_eq(tname(g, g->inputs[2]), "Z");
    const or_tensor *pos = tensor(g, "pos"), *pos_at = tensor(g, "pos_at");
    cr_assert_eq(pos->kind, OR_T_INITIALIZER);
    cr_assert_eq(pos->dtype, OR_INT64);
    cr_assert_eq(pos->rank, 0);
    cr_assert_eq(pos->nbytes, 8);
    cr_assert_eq(*(const int64_t *)pos->data, 1);
    cr_assert_eq(*(const int64_t *)pos_at->data, 2);
    const or_tensor *out = tensor(g, "out");
    cr_assert_eq(out->rank, 3);
    cr_assert_eq(out->dims[0], -1);
    cr_assert_null(out->dim_params[0]);
    cr_assert_eq(out->dims[1], 3);
    cr_assert_eq(g->n_nodes, 5);
    or_graph_free(g);
}

Test(loader, symbolic_dim_param) {
    or_graph *g = load_ok("simple/test_sequence_model8");
    const or_tensor *x = tensor(g, "X");
    cr_assert_eq(x->rank, 1);
    cr_assert_eq(x->dims[0], -1);
    cr_assert_str_eq(x->dim_params[0], "n");
    const or_tensor *len = tensor(g, "len");
    cr_assert_eq(len->rank, 0); /* declared scalar */
    cr_assert_eq(len->dtype, OR_INT64);
    or_graph_free(g);
}

Test(loader, raw_int64_initializer) {
    or_graph *g = load_ok("pytorch-operator/test_operator_non_float_params");
    const or_tensor *w = tensor(g, "1");
    static const int64_t d22[] = {2, 2};
    assert_shape(w, 2, d22);
    cr_assert_eq(w->dtype, OR_INT64);
    const int64_t *v = w->data;
    for (int i = 0; i < 4; i++) cr_assert_eq(v[i], i + 1);
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_eq(g->n_nodes, 2);
    /* sorted: Add produces "2", which Mul reads */
    cr_assert_str_eq(g->nodes[0].op_type, "Add");
    cr_assert_str_eq(g->nodes[1].op_type, "Mul");
    or_graph_free(g);
}

Test(loader, attribute_tensors_of_several_types) {
    or_graph *g = load_ok("pytorch-operator/test_operator_addconstant");
    const or_attr *a = or_attr_find(&g->nodes[0], "value");
    cr_assert_eq(a->t->dtype, OR_DOUBLE);
    cr_assert_eq(a->t->rank, 0);
    cr_assert_eq(*(const double *)a->t->data, 1.0);
    cr_assert_eq(or_attr_int(&g->nodes[1], "broadcast", 0), 1);
    or_graph_free(g);

    g = load_ok("node/test_constantofshape_int_shape_zero"); /* int32_data */
    a = or_attr_find(&g->nodes[0], "value");
    cr_assert_eq(a->t->dtype, OR_INT32);
    cr_assert_eq(a->t->rank, 1);
    cr_assert_eq(a->t->dims[0], 1);
    cr_assert_eq(*(const int32_t *)a->t->data, 0);
    or_graph_free(g);

    g = load_ok("pytorch-converted/test_PixelShuffle");
    a = or_attr_find(&g->nodes[0], "value");
    cr_assert_eq(a->t->dtype, OR_INT64);
    static const int64_t shape[] = {1, 1, 3, 3, 4, 4}, perm[] = {0, 1, 4, 2, 5, 3};
    for (int i = 0; i < 6; i++) cr_assert_eq(((const int64_t *)a->t->data)[i], shape[i]);
    const or_node *tr = NULL;
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].op_type, "Transpose") == 0) tr = &g->nodes[i];
    cr_assert_not_null(tr);
    size_t count = 0;
    const int64_t *p = or_attr_ints(tr, "perm", &count);
    cr_assert_eq(count, 6);
    for (int i = 0; i < 6; i++) cr_assert_eq(p[i], perm[i]);
    or_graph_free(g);

    g = load_ok("pytorch-converted/test_PoissonNLLLLoss_no_reduce");
    a = or_attr_find(&g->nodes[0], "value");
    cr_assert_eq(a->t->dtype, OR_FLOAT);
    cr_assert_eq(a->t->nbytes, 400);
    cr_assert_eq(((const float *)a->t->data)[0], -1.3880433f);
    cr_assert_eq(((const float *)a->t->data)[5], 0.7387926f);
    or_graph_free(g);
}

Test(loader, string_attribute) {
    or_graph *g = load_ok("node/test_constant_pad");
    const or_attr *a = or_attr_find(&g->nodes[0], "mode");
    cr_assert_eq(a->type, OR_ATTR_STRING);
    cr_assert_eq(a->s_len, 8);
    cr_assert_str_eq(or_attr_string(&g->nodes[0], "mode", ""), "constant");
    cr_assert_eq(g->n_inputs, 3);
    cr_assert_eq(tensor(g, "value")->rank, 0);
    or_graph_free(g);
}

static void expect_load_error(const char *rel, const char *needle1, const char *needle2) {
    char err[OR_ERRMSG_MAX];
    or_graph *g = (or_graph *)1;
    int st = load_case(rel, &g, err, sizeof err);
    cr_assert_eq(st, ONNXRUN_ERR_MODEL, "%s: status %d", rel, st);
    cr_assert_null(g);
    cr_assert_not_null(strstr(err, needle1), "%s: '%s'", rel, err);
    if (needle2) cr_assert_not_null(strstr(err, needle2), "%s: '%s'", rel, err);
    cr_assert_not_null(strstr(err, "model.onnx"), "message names the file: '%s'", err);
    cr_assert_null(strchr(err, '\n'));
}

Test(loader, unsupported_constructs_in_real_models) {
    expect_load_error("node/test_if", "nested graphs (If/Loop/Scan) are not supported", "If_0");
    expect_load_error("node/test_scan_sum", "nested graphs", "Scan");
    expect_load_error("node/test_identity_opt", "optional type", "opt_in");
    expect_load_error("node/test_identity_sequence", "sequence type", NULL);
    expect_load_error("node/test_adagrad", "'ai.onnx.preview.training'", "Adagrad_0");
    expect_load_error("node/test_ai_onnx_ml_array_feature_extractor", "'ai.onnx.ml'",
                      "ArrayFeatureExtractor");
    expect_load_error("node/test_ai_onnx_ml_label_encoder_string_int", "string tensors", NULL);
}

/* Every model of the corpus either loads or fails with a status and a
 * message: no crash, no leak (under the sanitizer build). */
Test(loader, whole_corpus_loads_or_fails_cleanly, .timeout = 300) {
    static const char *const folders[] = {"node", "pytorch-converted", "pytorch-operator",
                                          "simple"};
    int ok = 0, failed = 0;
    for (size_t f = 0; f < sizeof folders / sizeof *folders; f++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", TESTS_DIR, folders[f]);
        DIR *d = opendir(dir);
        cr_assert_not_null(d, "%s", dir);
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char rel[600], err[OR_ERRMSG_MAX] = "";
            snprintf(rel, sizeof rel, "%s/%s", folders[f], e->d_name);
            or_graph *g = NULL;
            int st = load_case(rel, &g, err, sizeof err);
            if (st == ONNXRUN_OK) {
                cr_assert_not_null(g);
                cr_assert_eq(err[0], '\0');
                ok++;
            } else {
                cr_assert_eq(st, ONNXRUN_ERR_MODEL, "%s: %d %s", rel, st, err);
                cr_assert_null(g);
                cr_assert_neq(err[0], '\0', "%s", rel);
                failed++;
            }
            or_graph_free(g);
        }
        closedir(d);
    }
    /* 1743 of 1921 load with this corpus; the rest are strings, sequences,
     * subgraphs, 2/4-bit types and other domains. */
    cr_assert_geq(ok, 1700, "only %d models loaded (%d failed)", ok, failed);
}

/* ---- .pb tensors ---- */

static or_tensor load_pb(const char *rel) {
    char path[1024], err[OR_ERRMSG_MAX];
    snprintf(path, sizeof path, "%s/node/%s", TESTS_DIR, rel);
    or_tensor t;
    int st = or_load_tensor_pb_file(path, &t, err, sizeof err);
    cr_assert_eq(st, ONNXRUN_OK, "%s: %s", rel, err);
    cr_assert(aligned64(t.data));
    cr_assert_eq(t.owned, t.data);
    return t;
}

Test(tensor_pb, float_raw) {
    or_tensor t = load_pb("test_add/test_data_set_0/input_0.pb");
    cr_assert_str_eq(t.name, "x");
    cr_assert_eq(t.dtype, OR_FLOAT);
    static const int64_t d345[] = {3, 4, 5};
    assert_shape(&t, 3, d345);
    cr_assert_eq(t.nbytes, 240);
    const float *v = t.data;
    cr_assert_eq(v[0], 1.7640524f);
    cr_assert_eq(v[1], 0.4001572f);
    cr_assert_eq(v[2], 0.978738f);
    cr_assert_eq(v[3], 2.2408931f);
    or_tensor_free_contents(&t);
}

Test(tensor_pb, integer_types) {
    or_tensor t = load_pb("test_reshape_reordered_all_dims/test_data_set_0/input_1.pb");
    cr_assert_str_eq(t.name, "shape");
    cr_assert_eq(t.dtype, OR_INT64);
    cr_assert_eq(t.nbytes, 24);
    static const int64_t shape[] = {4, 2, 3};
    for (int i = 0; i < 3; i++) cr_assert_eq(((const int64_t *)t.data)[i], shape[i]);
    or_tensor_free_contents(&t);

    t = load_pb("test_add_uint8/test_data_set_0/input_0.pb");
    cr_assert_eq(t.dtype, OR_UINT8);
    cr_assert_eq(t.nbytes, 60);
    static const uint8_t u8[] = {23, 21, 13, 9};
    for (int i = 0; i < 4; i++) cr_assert_eq(((const uint8_t *)t.data)[i], u8[i]);
    or_tensor_free_contents(&t);

    t = load_pb("test_add_uint64/test_data_set_0/input_0.pb");
    cr_assert_eq(t.dtype, OR_UINT64);
    static const uint64_t u64[] = {14, 0, 19, 6, 1, 12, 18, 13};
    for (int i = 0; i < 8; i++) cr_assert_eq(((const uint64_t *)t.data)[i], u64[i]);
    or_tensor_free_contents(&t);

    t = load_pb("test_and2d/test_data_set_0/input_0.pb");
    cr_assert_eq(t.dtype, OR_BOOL);
    static const uint8_t b[] = {1, 1, 1, 1, 1, 0, 1, 0};
    for (int i = 0; i < 8; i++) cr_assert_eq(((const uint8_t *)t.data)[i], b[i]);
    or_tensor_free_contents(&t);

    t = load_pb("test_clip_default_int8_max/test_data_set_0/input_1.pb");
    cr_assert_str_eq(t.name, "max");
    cr_assert_eq(t.dtype, OR_INT8);
    cr_assert_eq(t.rank, 0);
    cr_assert_eq(t.nbytes, 1);
    cr_assert_eq(*(const int8_t *)t.data, 0);
    or_tensor_free_contents(&t);
}

Test(tensor_pb, int32_data_narrowed) {
    /* int16 values stored in int32_data */
    or_tensor t = load_pb("test_quantizelinear_blocked_symmetric/test_data_set_0/output_0.pb");
    cr_assert_eq(t.dtype, OR_INT16);
    cr_assert_eq(t.nbytes, 24);
    static const int16_t v[] = {4, -5, -4, 2, 0, 3, 1, 1};
    for (int i = 0; i < 8; i++) cr_assert_eq(((const int16_t *)t.data)[i], v[i]);
    or_tensor_free_contents(&t);

    /* float8e4m3fn bit patterns stored in int32_data */
    t = load_pb("test_dequantizelinear_e4m3fn/test_data_set_0/input_0.pb");
    cr_assert_eq(t.dtype, OR_FLOAT8E4M3FN);
    cr_assert_eq(t.nbytes, 5);
    static const uint8_t f8[] = {0, 48, 56, 126, 237};
    for (int i = 0; i < 5; i++) cr_assert_eq(((const uint8_t *)t.data)[i], f8[i]);
    or_tensor_free_contents(&t);
}

Test(tensor_pb, half_types_raw) {
    or_tensor t = load_pb("test_cast_FLOAT_to_FLOAT16/test_data_set_0/output_0.pb");
    cr_assert_eq(t.dtype, OR_FLOAT16);
    cr_assert_eq(t.nbytes, 24);
    static const uint16_t h[] = {0x37aa, 0x37af, 0x37ff, 0x3a8e};
    for (int i = 0; i < 4; i++) cr_assert_eq(((const uint16_t *)t.data)[i], h[i]);
    or_tensor_free_contents(&t);

    t = load_pb("test_cast_FLOAT_to_BFLOAT16/test_data_set_0/output_0.pb");
    cr_assert_eq(t.dtype, OR_BFLOAT16);
    static const uint16_t bf[] = {0x3ef5, 0x3ef6, 0x3f00, 0x3f52};
    for (int i = 0; i < 4; i++) cr_assert_eq(((const uint16_t *)t.data)[i], bf[i]);
    or_tensor_free_contents(&t);

    t = load_pb("test_cast_FLOAT_to_DOUBLE/test_data_set_0/output_0.pb");
    cr_assert_eq(t.dtype, OR_DOUBLE);
    cr_assert_eq(((const double *)t.data)[0], 0.4789254665374756);
    cr_assert_eq(((const double *)t.data)[3], 0.8191054463386536);
    or_tensor_free_contents(&t);
}

Test(tensor_pb, empty_tensor_has_data_pointer) {
    or_tensor t = load_pb("test_castlike_FLOAT_to_BFLOAT16/test_data_set_0/input_1.pb");
    cr_assert_eq(t.dtype, OR_BFLOAT16);
    cr_assert_eq(t.rank, 1);
    cr_assert_eq(t.dims[0], 0);
    cr_assert_eq(t.nbytes, 0);
    cr_assert_not_null(t.data);
    or_tensor_free_contents(&t);
}

static void expect_pb_error(const char *rel, int status, const char *needle) {
    char path[1024], err[OR_ERRMSG_MAX];
    snprintf(path, sizeof path, "%s/node/%s", TESTS_DIR, rel);
    or_tensor t;
    int st = or_load_tensor_pb_file(path, &t, err, sizeof err);
    cr_assert_eq(st, status, "%s: %d %s", rel, st, err);
    cr_assert_null(t.data);
    cr_assert_null(t.name);
    if (needle) cr_assert_not_null(strstr(err, needle), "%s: '%s'", rel, err);
}

Test(tensor_pb, non_tensors_are_errors) {
    expect_pb_error("test_identity_sequence/test_data_set_0/input_0.pb", ONNXRUN_ERR_MODEL,
                    "not a tensor?");
    expect_pb_error("test_identity_opt/test_data_set_0/input_0.pb", ONNXRUN_ERR_MODEL, NULL);
    expect_pb_error("test_optional_has_element_empty_optional_input/test_data_set_0/input_0.pb",
                    ONNXRUN_ERR_MODEL, NULL);
    expect_pb_error("test_string_concat/test_data_set_0/input_0.pb", ONNXRUN_ERR_MODEL,
                    "string tensors are not supported");
    expect_pb_error("no_such_case/input_0.pb", ONNXRUN_ERR_IO, "no_such_case");
}

/* Every .pb file of the corpus parses or fails cleanly. */
Test(tensor_pb, whole_corpus_parses_or_fails_cleanly, .timeout = 300) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/node", TESTS_DIR);
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    int ok = 0, files = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        for (int k = 0; k < 4; k++) {
            char path[1400], err[OR_ERRMSG_MAX];
            snprintf(path, sizeof path, "%s/%s/test_data_set_0/%s_%d.pb", dir, e->d_name,
                     k < 2 ? "input" : "output", k % 2);
            FILE *f = fopen(path, "rb");
            if (!f) continue;
            fclose(f);
            files++;
            or_tensor t;
            int st = or_load_tensor_pb_file(path, &t, err, sizeof err);
            if (st == ONNXRUN_OK) {
                cr_assert_eq(t.nbytes, (size_t)or_tensor_numel(&t) * or_dtype_size(t.dtype));
                ok++;
            } else {
                cr_assert_eq(st, ONNXRUN_ERR_MODEL, "%s: %s", path, err);
            }
            or_tensor_free_contents(&t);
        }
    }
    closedir(d);
    cr_assert_gt(files, 3000);
    cr_assert_geq(ok * 100, files * 95, "%d of %d parsed", ok, files);
}
