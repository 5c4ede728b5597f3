/* The ONNX loader on models built here with the protobuf-c bindings: every
 * TensorProto storage form, attribute kinds, external data (including paths
 * that try to leave the model folder), malformed shapes and sizes,
 * unsupported constructs, truncated or corrupted files and nesting bombs.
 * Expected values are the ones written into the models. */
#include "loader.h"
#include "onnx.pb-c.h"
#include "registry.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a small model: Y = Add(X, W), W a float initializer of shape [2] ---- */

typedef struct model_builder {
    Onnx__ModelProto model;
    Onnx__OperatorSetIdProto opset, opset2, *opsets[2];
    Onnx__GraphProto graph;
    Onnx__TensorProto w, *inits[2];
    int64_t w_dims[OR_MAX_RANK + 2];
    float w_vals[2];
    Onnx__StringStringEntryProto ext[3], *ext_ptrs[3];
    Onnx__ValueInfoProto x, y, *inputs[2], *outputs[1];
    Onnx__TypeProto xt, yt;
    Onnx__TypeProto__Tensor xtt, ytt;
    Onnx__TensorShapeProto xs;
    Onnx__TensorShapeProto__Dimension xd, *xdp[OR_MAX_RANK + 2];
    Onnx__NodeProto node, *nodes[2];
    char *node_in[3], *node_out[1];
    Onnx__AttributeProto attr, *attrs[1];
} model_builder;

static void mb_init(model_builder *b) {
    memset(b, 0, sizeof *b);
    b->model = (Onnx__ModelProto)ONNX__MODEL_PROTO__INIT;
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->opset = (Onnx__OperatorSetIdProto)ONNX__OPERATOR_SET_ID_PROTO__INIT;
    b->opset.domain = "";
    b->opset.has_version = 1;
    b->opset.version = 17;
    b->opsets[0] = &b->opset;
    b->model.n_opset_import = 1;
    b->model.opset_import = b->opsets;
    b->model.graph = &b->graph;

    b->graph = (Onnx__GraphProto)ONNX__GRAPH_PROTO__INIT;
    b->graph.name = "hostile";
    b->w = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
    b->w.name = "W";
    b->w.has_data_type = 1;
    b->w.data_type = OR_FLOAT;
    b->w_dims[0] = 2;
    b->w.n_dims = 1;
    b->w.dims = b->w_dims;
    b->w_vals[0] = 1.5f;
    b->w_vals[1] = -2.0f;
    b->w.has_raw_data = 1;
    b->w.raw_data.len = sizeof b->w_vals;
    b->w.raw_data.data = (uint8_t *)b->w_vals;
    b->inits[0] = &b->w;
    b->graph.n_initializer = 1;
    b->graph.initializer = b->inits;

    b->xd = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    b->xd.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    b->xd.dim_value = 2;
    for (int i = 0; i < OR_MAX_RANK + 2; i++) b->xdp[i] = &b->xd;
    b->xs = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
    b->xs.n_dim = 1;
    b->xs.dim = b->xdp;
    b->xtt = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
    b->xtt.has_elem_type = 1;
    b->xtt.elem_type = OR_FLOAT;
    b->xtt.shape = &b->xs;
    b->xt = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
    b->xt.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    b->xt.tensor_type = &b->xtt;
    b->x = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
    b->x.name = "X";
    b->x.type = &b->xt;
    b->inputs[0] = &b->x;
    b->graph.n_input = 1;
    b->graph.input = b->inputs;

    b->ytt = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
    b->ytt.has_elem_type = 1;
    b->ytt.elem_type = OR_FLOAT;
    b->yt = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
    b->yt.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    b->yt.tensor_type = &b->ytt;
    b->y = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
    b->y.name = "Y";
    b->y.type = &b->yt;
    b->outputs[0] = &b->y;
    b->graph.n_output = 1;
    b->graph.output = b->outputs;

    b->node = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
    b->node.op_type = "Add";
    b->node_in[0] = "X";
    b->node_in[1] = "W";
    b->node.n_input = 2;
    b->node.input = b->node_in;
    b->node_out[0] = "Y";
    b->node.n_output = 1;
    b->node.output = b->node_out;
    b->nodes[0] = &b->node;
    b->graph.n_node = 1;
    b->graph.node = b->nodes;
    b->attr = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
    b->attrs[0] = &b->attr;
}

/* Adds one attribute to the node; the caller fills b->attr. */
static void mb_use_attr(model_builder *b, const char *name) {
    b->attr.name = (char *)name;
    b->node.n_attribute = 1;
    b->node.attribute = b->attrs;
}

static unsigned char *mb_pack(const model_builder *b, size_t *len) {
    *len = onnx__model_proto__get_packed_size(&b->model);
    unsigned char *buf = malloc(*len ? *len : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(onnx__model_proto__pack(&b->model, buf), *len);
    return buf;
}

static int mb_load_dir(const model_builder *b, const char *dir, or_graph **g, char *err) {
    size_t len;
    unsigned char *buf = mb_pack(b, &len);
    int st = or_load_model(buf, len, dir, "hostile.onnx", g, err, OR_ERRMSG_MAX);
    free(buf);
    if (st != ONNXRUN_OK) cr_assert_null(*g);
    return st;
}

static or_graph *mb_load_ok(const model_builder *b, const char *dir) {
    char err[OR_ERRMSG_MAX];
    or_graph *g = NULL;
    int st = mb_load_dir(b, dir, &g, err);
    cr_assert_eq(st, ONNXRUN_OK, "%s", err);
    return g;
}

/* Loads expecting status and every needle in the message. */
static void mb_expect(const model_builder *b, const char *dir, int status, const char *needle1,
                      const char *needle2) {
    char err[OR_ERRMSG_MAX];
    or_graph *g = NULL;
    int st = mb_load_dir(b, dir, &g, err);
    cr_assert_eq(st, status, "status %d, expected %d: %s", st, status, err);
    cr_assert(strncmp(err, "hostile.onnx: ", 14) == 0, "message names the file: '%s'", err);
    if (needle1) cr_assert_not_null(strstr(err, needle1), "'%s' not in '%s'", needle1, err);
    if (needle2) cr_assert_not_null(strstr(err, needle2), "'%s' not in '%s'", needle2, err);
}

static const or_tensor *find(const or_graph *g, const char *name) {
    int i = or_graph_find_tensor(g, name);
    cr_assert_geq(i, 0, "no tensor '%s'", name);
    return &g->tensors[i];
}

Test(loader_built, baseline) {
    model_builder b;
    mb_init(&b);
    or_graph *g = mb_load_ok(&b, NULL);
    const or_tensor *w = find(g, "W");
    cr_assert_eq(w->kind, OR_T_INITIALIZER);
    cr_assert_eq(((const float *)w->data)[0], 1.5f);
    cr_assert_eq(((const float *)w->data)[1], -2.0f);
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_eq(g->nodes[0].op, or_op_lookup("", "Add"));
    cr_assert_eq(g->ir_version, 8);
    or_graph_free(g);
}

/* ---- TensorProto storage forms ---- */

Test(loader_built, typed_fields) {
    model_builder b;
    mb_init(&b);
    b.w.has_raw_data = 0;
    or_graph *g;

    float fl[2] = {0.25f, -8.0f};
    b.w.n_float_data = 2;
    b.w.float_data = fl;
    g = mb_load_ok(&b, NULL);
    cr_assert_eq(((const float *)find(g, "W")->data)[1], -8.0f);
    or_graph_free(g);
    b.w.n_float_data = 0;

    /* int32_data narrowed to the element type: values or bit patterns */
    int32_t i32[2];
    b.w.n_int32_data = 2;
    b.w.int32_data = i32;
    struct {
        int dtype;
        int32_t in[2];
        unsigned char out[4];
        size_t esize;
    } narrow[] = {
        {OR_INT8, {-3, 127}, {0xfd, 0x7f}, 1},
        {OR_UINT8, {200, 0}, {200, 0}, 1},
        {OR_BOOL, {0, 5}, {0, 1}, 1},
        {OR_FLOAT8E5M2, {0x3c, 0xff}, {0x3c, 0xff}, 1},
        {OR_INT16, {-300, 2}, {0xd4, 0xfe, 2, 0}, 2},
        {OR_UINT16, {60000, 1}, {0x60, 0xea, 1, 0}, 2},
        {OR_FLOAT16, {0x3c00, 0xc000}, {0x00, 0x3c, 0x00, 0xc0}, 2},
        {OR_BFLOAT16, {0x3f80, 0x4000}, {0x80, 0x3f, 0x00, 0x40}, 2},
        {OR_INT32, {-1, 7}, {0xff, 0xff, 0xff, 0xff}, 4},
    };
    for (size_t k = 0; k < sizeof narrow / sizeof *narrow; k++) {
        b.w.data_type = narrow[k].dtype;
        b.ytt.elem_type = narrow[k].dtype;
        b.xtt.elem_type = narrow[k].dtype;
        memcpy(i32, narrow[k].in, sizeof i32);
        g = mb_load_ok(&b, NULL);
        const or_tensor *w = find(g, "W");
        cr_assert_eq(w->dtype, narrow[k].dtype);
        cr_assert_eq(w->nbytes, 2 * narrow[k].esize);
        size_t cmp = narrow[k].esize == 4 ? 4 : 2 * narrow[k].esize;
        cr_assert_eq(memcmp(w->data, narrow[k].out, cmp), 0, "dtype %d", narrow[k].dtype);
        or_graph_free(g);
    }
    b.w.n_int32_data = 0;

    int64_t i64[2] = {INT64_MIN, 42};
    b.w.data_type = b.xtt.elem_type = b.ytt.elem_type = OR_INT64;
    b.w.n_int64_data = 2;
    b.w.int64_data = i64;
    g = mb_load_ok(&b, NULL);
    cr_assert_eq(((const int64_t *)find(g, "W")->data)[0], INT64_MIN);
    cr_assert_eq(((const int64_t *)find(g, "W")->data)[1], 42);
    or_graph_free(g);
    b.w.n_int64_data = 0;

    double dbl[4] = {0.1, -1e300, 2.0, 3.0};
    b.w.data_type = b.xtt.elem_type = b.ytt.elem_type = OR_DOUBLE;
    b.w.n_double_data = 2;
    b.w.double_data = dbl;
    g = mb_load_ok(&b, NULL);
    cr_assert_eq(((const double *)find(g, "W")->data)[1], -1e300);
    or_graph_free(g);

    /* complex128: two doubles per element */
    b.w.data_type = b.xtt.elem_type = b.ytt.elem_type = OR_COMPLEX128;
    b.w.n_double_data = 4;
    g = mb_load_ok(&b, NULL);
    cr_assert_eq(find(g, "W")->nbytes, 32);
    cr_assert_eq(((const double *)find(g, "W")->data)[3], 3.0);
    or_graph_free(g);
    b.w.n_double_data = 0;

    uint64_t u64[2] = {4000000000u, UINT64_MAX};
    b.w.data_type = b.xtt.elem_type = b.ytt.elem_type = OR_UINT64;
    b.w.n_uint64_data = 2;
    b.w.uint64_data = u64;
    g = mb_load_ok(&b, NULL);
    cr_assert_eq(((const uint64_t *)find(g, "W")->data)[1], UINT64_MAX);
    or_graph_free(g);
    b.w.data_type = b.xtt.elem_type = b.ytt.elem_type = OR_UINT32;
    g = mb_load_ok(&b, NULL);
    cr_assert_eq(find(g, "W")->nbytes, 8);
    cr_assert_eq(((const uint32_t *)find(g, "W")->data)[0], 4000000000u);
    cr_assert_eq(((const uint32_t *)find(g, "W")->data)[1], UINT32_MAX);
    or_graph_free(g);
    b.w.n_uint64_data = 0;

    /* complex64: pairs in float_data */
    float cpx[4] = {1, 2, 3, 4};
    b.w.data_type = b.xtt.elem_type = b.ytt.elem_type = OR_COMPLEX64;
    b.w.n_float_data = 4;
    b.w.float_data = cpx;
    g = mb_load_ok(&b, NULL);
    cr_assert_eq(find(g, "W")->nbytes, 16);
    cr_assert_eq(((const float *)find(g, "W")->data)[3], 4.0f);
    or_graph_free(g);
}

Test(loader_built, typed_field_count_mismatch) {
    model_builder b;
    mb_init(&b);
    b.w.has_raw_data = 0;
    float fl[3] = {1, 2, 3};
    b.w.n_float_data = 3;
    b.w.float_data = fl;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 'W'",
              "float_data has 3 values, expected 2");
    b.w.n_float_data = 0; /* no data at all */
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 'W'", "float_data has 0 values");
    int32_t i32[2] = {1, 2}; /* data in the wrong field */
    b.w.n_int32_data = 2;
    b.w.int32_data = i32;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "float_data has 0 values", NULL);
}

Test(loader_built, bad_shapes_and_sizes) {
    model_builder b;
    mb_init(&b);
    b.w.raw_data.len = 7;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 'W'", "raw_data has 7 bytes, expected 8");
    mb_init(&b);
    b.w.n_dims = 9;
    for (int i = 0; i < 9; i++) b.w_dims[i] = 1;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 'W' has rank 9", NULL);
    mb_init(&b);
    b.w_dims[0] = -2;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 'W' has negative dimension -2", NULL);
    mb_init(&b);
    b.w.n_dims = 2;
    b.w_dims[0] = b.w_dims[1] = (int64_t)1 << 32;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 'W'", "overflows");
    /* empty, but the other dims alone overflow */
    mb_init(&b);
    b.w.n_dims = 3;
    b.w_dims[0] = 0;
    b.w_dims[1] = b.w_dims[2] = (int64_t)1 << 62;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "overflows", NULL);
    /* element count fits int64, byte count does not fit size_t */
    mb_init(&b);
    b.w.n_dims = 2;
    b.w_dims[0] = b.w_dims[1] = (int64_t)1 << 31;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 'W'", "overflows");
    /* huge but representable: a size mismatch, not an allocation */
    mb_init(&b);
    b.w_dims[0] = (int64_t)1 << 60;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "raw_data has 8 bytes, expected 4611686018427387904",
              NULL);
    mb_init(&b);
    b.w.has_data_type = 0;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 'W' has no data type", NULL);
    mb_init(&b);
    b.w.data_type = 99;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "unsupported data type 99", NULL);
    mb_init(&b);
    b.w.data_type = OR_STRING;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 'W': string tensors are not supported",
              NULL);
    mb_init(&b);
    Onnx__TensorProto__Segment seg = ONNX__TENSOR_PROTO__SEGMENT__INIT;
    b.w.segment = &seg;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "segmented", NULL);
}

Test(loader_built, empty_initializer) {
    model_builder b;
    mb_init(&b);
    b.w_dims[0] = 0;
    b.w.raw_data.len = 0;
    or_graph *g = mb_load_ok(&b, NULL);
    cr_assert_eq(find(g, "W")->nbytes, 0);
    cr_assert_not_null(find(g, "W")->data);
    or_graph_free(g);
}

/* ---- graph inputs, outputs, value_info ---- */

Test(loader_built, declared_types) {
    model_builder b;
    mb_init(&b);
    Onnx__TensorShapeProto__Dimension sym = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT,
                                      none = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    sym.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    sym.dim_param = "batch";
    Onnx__TensorShapeProto__Dimension *dims[3] = {&sym, &b.xd, &none};
    b.xs.n_dim = 3;
    b.xs.dim = dims;
    or_graph *g = mb_load_ok(&b, NULL);
    const or_tensor *x = find(g, "X");
    cr_assert_eq(x->kind, OR_T_INPUT);
    cr_assert_eq(x->rank, 3);
    cr_assert_eq(x->dims[0], -1);
    cr_assert_str_eq(x->dim_params[0], "batch");
    cr_assert_eq(x->dims[1], 2);
    cr_assert_null(x->dim_params[1]);
    cr_assert_eq(x->dims[2], -1);
    cr_assert_null(x->dim_params[2]);
    const or_tensor *y = find(g, "Y");
    cr_assert(y->is_graph_output);
    cr_assert_eq(y->dtype, OR_FLOAT);
    cr_assert_eq(y->rank, -1); /* declared without a shape */
    or_graph_free(g);

    b.xtt.shape = NULL;
    g = mb_load_ok(&b, NULL);
    cr_assert_eq(find(g, "X")->rank, -1);
    or_graph_free(g);

    mb_init(&b);
    b.xd.dim_value = -3;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "graph input 'X' has negative dimension -3", NULL);
    mb_init(&b);
    b.xs.n_dim = 9;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "graph input 'X' has rank 9", NULL);
    mb_init(&b);
    b.x.type = NULL;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "graph input 'X' has no tensor element type", NULL);
    mb_init(&b);
    b.xtt.elem_type = OR_STRING;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "graph input 'X': string tensors", NULL);
    mb_init(&b);
    Onnx__TypeProto__Map map = ONNX__TYPE_PROTO__MAP__INIT;
    b.xt.value_case = ONNX__TYPE_PROTO__VALUE_MAP_TYPE;
    b.xt.map_type = &map;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "graph input 'X' has map type", NULL);
    mb_init(&b);
    Onnx__TypeProto__Sequence seq = ONNX__TYPE_PROTO__SEQUENCE__INIT;
    b.yt.value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    b.yt.sequence_type = &seq;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "graph output 'Y' has sequence type", NULL);
}

Test(loader_built, inputs_and_initializers) {
    model_builder b;
    mb_init(&b);
    /* W listed as an input too: it stays an initializer */
    Onnx__ValueInfoProto wi = ONNX__VALUE_INFO_PROTO__INIT;
    wi.name = "W";
    wi.type = &b.yt;
    b.inputs[1] = &wi;
    b.graph.n_input = 2;
    or_graph *g = mb_load_ok(&b, NULL);
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_str_eq(g->tensors[g->inputs[0]].name, "X");
    cr_assert_eq(find(g, "W")->kind, OR_T_INITIALIZER);
    or_graph_free(g);

    b.ytt.elem_type = OR_INT64; /* declared type disagrees with the initializer */
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "graph input 'W' is declared int64", "float32");

    mb_init(&b);
    b.inputs[1] = &b.x;
    b.graph.n_input = 2;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "graph input 'X' is listed twice", NULL);

    mb_init(&b);
    b.inits[1] = &b.w;
    b.graph.n_initializer = 2;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 'W' is defined twice", NULL);

    mb_init(&b);
    b.w.name = "";
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "initializer 0 has no name", NULL);
}

Test(loader_built, value_info_and_sorting) {
    model_builder b;
    mb_init(&b);
    /* file order Relu(T)->Y before Add(X,W)->T: the loader sorts */
    Onnx__NodeProto relu = ONNX__NODE_PROTO__INIT;
    char *relu_in[] = {"T"}, *relu_out[] = {"Y"};
    relu.op_type = "Relu";
    relu.name = "r";
    relu.n_input = 1;
    relu.input = relu_in;
    relu.n_output = 1;
    relu.output = relu_out;
    b.node_out[0] = "T";
    b.nodes[0] = &relu;
    b.nodes[1] = &b.node;
    b.graph.n_node = 2;
    Onnx__ValueInfoProto t = ONNX__VALUE_INFO_PROTO__INIT, *vis[2] = {&t, NULL};
    Onnx__ValueInfoProto unused = ONNX__VALUE_INFO_PROTO__INIT;
    unused.name = "nothing_uses_me";
    unused.type = &b.xt;
    vis[1] = &unused;
    t.name = "T";
    t.type = &b.xt;
    b.graph.n_value_info = 2;
    b.graph.value_info = vis;
    or_graph *g = mb_load_ok(&b, NULL);
    cr_assert_str_eq(g->nodes[0].op_type, "Add");
    cr_assert_str_eq(g->nodes[0].name, "Add_1"); /* index in the file */
    cr_assert_str_eq(g->nodes[1].name, "r");
    const or_tensor *tt = find(g, "T");
    cr_assert_eq(tt->dtype, OR_FLOAT);
    cr_assert_eq(tt->rank, 1);
    cr_assert_eq(tt->dims[0], 2);
    cr_assert_lt(or_graph_find_tensor(g, "nothing_uses_me"), 0);
    or_graph_free(g);

    relu_in[0] = "Y"; /* a cycle: Relu reads its own output */
    b.node_out[0] = "T";
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "cycle", NULL);
    relu_in[0] = "nope";
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "nope", NULL);
}

/* ---- nodes and attributes ---- */

Test(loader_built, node_edges) {
    model_builder b;
    mb_init(&b);
    b.node_in[1] = "";
    b.node_in[2] = "W";
    b.node.n_input = 3;
    b.node.name = "my_add";
    or_graph *g = mb_load_ok(&b, NULL);
    const or_node *n = &g->nodes[0];
    cr_assert_str_eq(n->name, "my_add");
    cr_assert_eq(n->n_inputs, 3);
    cr_assert_eq(n->inputs[1], -1);
    cr_assert_str_eq(g->tensors[n->inputs[2]].name, "W");
    cr_assert_eq(n->opset, 17);
    or_graph_free(g);
}

Test(loader_built, attribute_kinds) {
    model_builder b;
    mb_init(&b);
    Onnx__AttributeProto a[8];
    Onnx__AttributeProto *ap[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
        ap[i] = &a[i];
        a[i].has_type = 1;
    }
    a[0].name = "f";
    a[0].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a[0].has_f = 1;
    a[0].f = 0.5f;
    a[1].name = "i";
    a[1].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a[1].has_i = 1;
    a[1].i = -7;
    a[2].name = "s";
    a[2].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    a[2].has_s = 1;
    a[2].s.data = (uint8_t *)"ab\0c";
    a[2].s.len = 4;
    float fl[] = {1.5f, 2.5f};
    a[3].name = "fs";
    a[3].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    a[3].n_floats = 2;
    a[3].floats = fl;
    a[4].name = "empty_ints";
    a[4].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    ProtobufCBinaryData strs[2] = {{3, (uint8_t *)"tanh"}, {0, NULL}};
    a[5].name = "ss";
    a[5].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    a[5].n_strings = 2;
    a[5].strings = strs;
    a[6].name = "untyped_int"; /* IR < 3: no type field */
    a[6].has_type = 0;
    a[6].has_i = 1;
    a[6].i = 9;
    a[7].name = "t";
    a[7].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    a[7].t = &b.w;
    b.node.n_attribute = 8;
    b.node.attribute = ap;
    or_graph *g = mb_load_ok(&b, NULL);
    const or_node *n = &g->nodes[0];
    cr_assert_eq(n->n_attrs, 8);
    cr_assert_eq(or_attr_float(n, "f", 0), 0.5f);
    cr_assert_eq(or_attr_int(n, "i", 0), -7);
    const or_attr *s = or_attr_find(n, "s");
    cr_assert_eq(s->type, OR_ATTR_STRING);
    cr_assert_eq(s->s_len, 4);
    cr_assert_eq(memcmp(s->s, "ab\0c", 5), 0);
    size_t count = 9;
    const float *f = or_attr_floats(n, "fs", &count);
    cr_assert_eq(count, 2);
    cr_assert_eq(f[1], 2.5f);
    cr_assert_not_null(or_attr_ints(n, "empty_ints", &count));
    cr_assert_eq(count, 0);
    const or_attr *ss = or_attr_find(n, "ss");
    cr_assert_eq(ss->type, OR_ATTR_STRINGS);
    cr_assert_eq(ss->n, 2);
    cr_assert_str_eq(ss->strings[0], "tan");
    cr_assert_str_eq(ss->strings[1], "");
    cr_assert_eq(or_attr_int(n, "untyped_int", 0), 9);
    const or_attr *t = or_attr_find(n, "t");
    cr_assert_str_eq(t->t->name, "W");
    cr_assert_eq(((const float *)t->t->data)[0], 1.5f);
    or_graph_free(g);

    /* a tensor attribute with bad data names the node and the attribute */
    b.w.raw_data.len = 3;
    b.graph.n_initializer = 0;
    b.node_in[1] = "X";
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "node 'Add_0' (Add): attribute 't'",
              "raw_data has 3 bytes");
}

Test(loader_built, unsupported_attributes) {
    model_builder b;
    mb_init(&b);
    Onnx__GraphProto sub = ONNX__GRAPH_PROTO__INIT;
    mb_use_attr(&b, "then_branch");
    b.attr.has_type = 1;
    b.attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    b.attr.g = &sub;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "node 'Add_0'",
              "nested graphs (If/Loop/Scan) are not supported");
    b.attr.has_type = 0; /* inferred from the field */
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "nested graphs", NULL);

    mb_init(&b);
    mb_use_attr(&b, "alpha");
    b.attr.has_type = 1;
    b.attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    b.attr.ref_attr_name = "outer_alpha";
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "refers to function attribute 'outer_alpha'", NULL);

    mb_init(&b);
    mb_use_attr(&b, "ts");
    b.attr.has_type = 1;
    b.attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "attribute 'ts'", "not supported");

    mb_init(&b);
    mb_use_attr(&b, "nothing");
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "attribute 'nothing' has no valid type", NULL);

    mb_init(&b);
    mb_use_attr(&b, "");
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "attribute 0 has no name", NULL);
}

Test(loader_built, domains_and_opsets) {
    model_builder b;
    mb_init(&b);
    /* an unused import of another domain is fine */
    b.opset2 = (Onnx__OperatorSetIdProto)ONNX__OPERATOR_SET_ID_PROTO__INIT;
    b.opset2.domain = "com.example";
    b.opset2.has_version = 1;
    b.opset2.version = 3;
    b.opsets[1] = &b.opset2;
    b.model.n_opset_import = 2;
    or_graph *g = mb_load_ok(&b, NULL);
    cr_assert_eq(g->n_opsets, 2);
    cr_assert_str_eq(g->opsets[1].domain, "com.example");
    cr_assert_eq(g->opsets[1].version, 3);
    cr_assert_eq(g->opset, 17);
    or_graph_free(g);

    b.node.domain = "com.example";
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "node 'Add_0' (Add)",
              "operator domain 'com.example' is not supported");
    b.node.domain = "ai.onnx"; /* the default domain's other name */
    g = mb_load_ok(&b, NULL);
    cr_assert_str_eq(g->nodes[0].domain, "");
    or_graph_free(g);

    b.opset.domain = "ai.onnx";
    b.opset2.domain = "";
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "opset_import lists domain '' twice", NULL);

    mb_init(&b);
    b.opset.domain = "com.example";
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "node 'Add_0'", "no opset of the default ONNX domain");
    /* before IR 3 there was no opset_import: opset 1 */
    b.model.n_opset_import = 0;
    b.model.ir_version = 2;
    g = mb_load_ok(&b, NULL);
    cr_assert_eq(g->opset, 1);
    cr_assert_eq(g->nodes[0].opset, 1);
    or_graph_free(g);

    mb_init(&b);
    b.opset.version = 0;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "invalid default-domain opset version 0", NULL);
    b.opset.has_version = 0;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "has no version", NULL);
}

Test(loader_built, functions_training_sparse) {
    model_builder b;
    mb_init(&b);
    Onnx__FunctionProto fn = ONNX__FUNCTION_PROTO__INIT, *fns[1] = {&fn};
    fn.name = "MyFunc";
    fn.domain = "local";
    b.model.n_functions = 1;
    b.model.functions = fns;
    or_graph *g = mb_load_ok(&b, NULL); /* defined but unused */
    or_graph_free(g);
    b.node.op_type = "MyFunc";
    b.node.domain = "local";
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "node 'MyFunc_0'",
              "model-local function 'MyFunc' (domain 'local')");

    mb_init(&b);
    Onnx__TrainingInfoProto ti = ONNX__TRAINING_INFO_PROTO__INIT, *tis[1] = {&ti};
    b.model.n_training_info = 1;
    b.model.training_info = tis;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "training", NULL);

    mb_init(&b);
    Onnx__SparseTensorProto sp = ONNX__SPARSE_TENSOR_PROTO__INIT, *sps[1] = {&sp};
    sp.values = &b.w;
    b.graph.n_sparse_initializer = 1;
    b.graph.sparse_initializer = sps;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "sparse initializer 'W'", NULL);

    mb_init(&b);
    b.node.op_type = "";
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "node has no op_type", NULL);
    mb_init(&b);
    b.node.op_type = "NoSuchOp"; /* unknown ops load (check_ops reports them) */
    g = mb_load_ok(&b, NULL);
    cr_assert_eq(g->nodes[0].op, -1);
    or_graph_free(g);
}

Test(loader_built, not_a_model) {
    char err[OR_ERRMSG_MAX];
    or_graph *g = NULL;
    cr_assert_eq(or_load_model("\x3a\x05\x01", 3, NULL, "x.onnx", &g, err, sizeof err),
                 ONNXRUN_ERR_MODEL);
    cr_assert_null(g);
    cr_assert_str_eq(err, "x.onnx: not a valid ONNX model (corrupt or truncated protobuf)");
    cr_assert_eq(or_load_model("", 0, NULL, "x.onnx", &g, err, sizeof err), ONNXRUN_ERR_MODEL);
    cr_assert_str_eq(err, "x.onnx: the model has no graph");
    /* a tiny error buffer is truncated, not overrun */
    char small[8];
    memset(small, 'z', sizeof small);
    or_load_model("", 0, NULL, "x.onnx", &g, small, 5);
    cr_assert_str_eq(small, "x.on");
    cr_assert_eq(small[5], 'z');
}

/* ---- corrupted and truncated files ---- */

static void load_all_variants(const unsigned char *model, size_t len, int *n_ok) {
    unsigned char *copy = malloc(len);
    cr_assert_not_null(copy);
    for (size_t cut = 0; cut <= len; cut++) {
        char err[OR_ERRMSG_MAX];
        or_graph *g = NULL;
        memcpy(copy, model, cut);
        int st = or_load_model(copy, cut, "/nonexistent", "cut.onnx", &g, err, sizeof err);
        if (st == ONNXRUN_OK) {
            (*n_ok)++;
            or_graph_free(g);
        } else {
            cr_assert_null(g);
            cr_assert_neq(err[0], '\0');
        }
    }
    static const unsigned char flips[] = {0x00, 0xff, 0x80, 0x01};
    for (size_t i = 0; i < len; i++)
        for (size_t f = 0; f < sizeof flips; f++) {
            char err[OR_ERRMSG_MAX];
            or_graph *g = NULL;
            memcpy(copy, model, len);
            copy[i] ^= flips[f] ? flips[f] : copy[i];
            if (or_load_model(copy, len, "/nonexistent", "flip.onnx", &g, err, sizeof err) ==
                ONNXRUN_OK)
                or_graph_free(g);
        }
    free(copy);
}

Test(loader_hostile, truncated_and_flipped_real_models, .timeout = 120) {
    static const char *const models[] = {
        ONNXRUN_SHARED_DIR "/onnx-backend-tests/node/test_lstm_defaults/model.onnx",
        ONNXRUN_SHARED_DIR "/onnx-backend-tests/pytorch-converted/test_BatchNorm1d_3d_input_eval/"
                           "model.onnx",
        ONNXRUN_SHARED_DIR "/onnx-backend-tests/node/test_constant/model.onnx",
        ONNXRUN_SHARED_DIR "/onnx-backend-tests/node/test_if/model.onnx",
    };
    for (size_t m = 0; m < sizeof models / sizeof *models; m++) {
        FILE *f = fopen(models[m], "rb");
        cr_assert_not_null(f);
        unsigned char buf[8192];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        cr_assert_gt(len, 0);
        int n_ok = 0;
        load_all_variants(buf, len, &n_ok);
        /* opset_import is stored after the graph: only the last few cuts
         * can be a complete model */
        cr_assert_leq(n_ok, (int)(len / 10), "%s: %d of %zu prefixes loaded", models[m], n_ok, len);
    }
}

/* Builds Model{graph{input{type: sequence(sequence(...(tensor)))}}} nested
 * `levels` times, back to front so each length is known. */
static unsigned char *nested_model(size_t levels, size_t *len) {
    size_t cap = levels * 12 + 64, start = cap;
    unsigned char *buf = malloc(cap);
    cr_assert_not_null(buf);
#define PREPEND_BYTE(b) (buf[--start] = (unsigned char)(b))
#define WRAP(field)                                                                                \
    do {                                                                                           \
        size_t body = cap - start;                                                                 \
        unsigned char tmp[10];                                                                     \
        int nb = 0;                                                                                \
        do {                                                                                       \
            tmp[nb++] = (unsigned char)((body & 0x7f) | (body > 0x7f ? 0x80 : 0));                 \
            body >>= 7;                                                                            \
        } while (body);                                                                            \
        while (nb) PREPEND_BYTE(tmp[--nb]);                                                        \
        PREPEND_BYTE((field) << 3 | 2);                                                            \
    } while (0)
    WRAP(1); /* TypeProto.tensor_type (empty) */
    for (size_t i = 0; i < levels; i++) {
        WRAP(1); /* Sequence.elem_type */
        WRAP(4); /* TypeProto.sequence_type */
    }
    WRAP(2);           /* ValueInfoProto.type */
    PREPEND_BYTE('s'); /* ValueInfoProto.name = "s" */
    PREPEND_BYTE(1);
    PREPEND_BYTE(1 << 3 | 2);
    WRAP(11); /* GraphProto.input */
    WRAP(7);  /* ModelProto.graph */
#undef WRAP
#undef PREPEND_BYTE
    *len = cap - start;
    memmove(buf, buf + start, *len);
    return buf;
}

Test(loader_hostile, nesting_bombs) {
    char err[OR_ERRMSG_MAX];
    or_graph *g = NULL;
    size_t len;
    unsigned char *buf = nested_model(200000, &len);
    int st = or_load_model(buf, len, NULL, "deep.onnx", &g, err, sizeof err);
    free(buf);
    cr_assert_eq(st, ONNXRUN_ERR_MODEL);
    cr_assert_not_null(strstr(err, "nest more than"), "%s", err);
    /* shallow nesting reaches the real check */
    buf = nested_model(5, &len);
    st = or_load_model(buf, len, NULL, "shallow.onnx", &g, err, sizeof err);
    free(buf);
    cr_assert_eq(st, ONNXRUN_ERR_MODEL);
    cr_assert_not_null(strstr(err, "graph input 's' has sequence type"), "%s", err);
}

Test(loader_hostile, tensor_pb_bytes) {
    char err[OR_ERRMSG_MAX];
    or_tensor t;
    cr_assert_eq(or_parse_tensor_pb("\xff\xff\xff", 3, &t, err, sizeof err), ONNXRUN_ERR_MODEL);
    cr_assert_null(t.data);
    /* external data is refused in standalone tensors */
    model_builder b;
    mb_init(&b);
    Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *locs[1] = {&loc};
    loc.key = "location";
    loc.value = "w.bin";
    b.w.has_data_location = 1;
    b.w.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    b.w.n_external_data = 1;
    b.w.external_data = locs;
    unsigned char packed[256];
    size_t len = onnx__tensor_proto__pack(&b.w, packed);
    cr_assert_eq(or_parse_tensor_pb(packed, len, &t, err, sizeof err), ONNXRUN_ERR_MODEL);
    cr_assert_not_null(strstr(err, "tensor 'W': external data 'w.bin' is not allowed"), "%s", err);
    b.w.has_data_location = 0;
    len = onnx__tensor_proto__pack(&b.w, packed);
    cr_assert_eq(or_parse_tensor_pb(packed, len, &t, err, sizeof err), ONNXRUN_OK, "%s", err);
    cr_assert_str_eq(t.name, "W");
    cr_assert_eq(((const float *)t.data)[1], -2.0f);
    or_tensor_free_contents(&t);
    /* every prefix fails cleanly or parses */
    for (size_t cut = 0; cut < len; cut++) {
        if (or_parse_tensor_pb(packed, cut, &t, err, sizeof err) == ONNXRUN_OK)
            or_tensor_free_contents(&t);
        else
            cr_assert_null(t.data);
    }
}

/* ---- external data ---- */

static char tmp_root[64];
static char model_dir[128];

static void write_file(const char *rel, const void *data, size_t len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_root, rel);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void ext_setup(void) {
    strcpy(tmp_root, "/tmp/onnxrun_loader_XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_root));
    snprintf(model_dir, sizeof model_dir, "%s/model", tmp_root);
    cr_assert_eq(mkdir(model_dir, 0700), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/sub", model_dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    const float w[2] = {1.5f, -2.0f};
    unsigned char padded[24] = {0};
    memcpy(padded + 16, w, 8);
    write_file("model/w.bin", w, sizeof w);
    write_file("model/sub/w.bin", w, sizeof w);
    write_file("model/padded.bin", padded, sizeof padded);
    write_file("outside.bin", w, sizeof w);
    snprintf(path, sizeof path, "%s/link.bin", model_dir);
    cr_assert_eq(symlink("../outside.bin", path), 0);
    snprintf(path, sizeof path, "%s/linkdir", model_dir);
    cr_assert_eq(symlink(tmp_root, path), 0);
    snprintf(path, sizeof path, "%s/inner_link.bin", model_dir);
    cr_assert_eq(symlink("sub/w.bin", path), 0);
}

static void ext_teardown(void) {
    static const char *const files[] = {"model/w.bin",
                                        "model/sub/w.bin",
                                        "model/padded.bin",
                                        "outside.bin",
                                        "model/link.bin",
                                        "model/linkdir",
                                        "model/inner_link.bin",
                                        "model/big.bin",
                                        "model/sub",
                                        "model"};
    char path[512];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp_root, files[i]);
        if (unlink(path) != 0) rmdir(path);
    }
    rmdir(tmp_root);
}

/* Points W at external data; NULL values leave a key out. */
static void set_external(model_builder *b, const char *location, const char *offset,
                         const char *length) {
    const char *keys[3] = {"location", "offset", "length"};
    const char *values[3] = {location, offset, length};
    b->w.has_raw_data = 0;
    b->w.has_data_location = 1;
    b->w.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    b->w.n_external_data = 0;
    b->w.external_data = b->ext_ptrs;
    for (int i = 0; i < 3; i++) {
        if (!values[i]) continue;
        b->ext[i] = (Onnx__StringStringEntryProto)ONNX__STRING_STRING_ENTRY_PROTO__INIT;
        b->ext[i].key = (char *)keys[i];
        b->ext[i].value = (char *)values[i];
        b->ext_ptrs[b->w.n_external_data++] = &b->ext[i];
    }
}

static void expect_w_values(const model_builder *b, bool mapped) {
    or_graph *g = mb_load_ok(b, model_dir);
    const or_tensor *w = find(g, "W");
    cr_assert_eq(w->nbytes, 8);
    cr_assert_eq(((const float *)w->data)[0], 1.5f);
    cr_assert_eq(((const float *)w->data)[1], -2.0f);
    cr_assert_eq(w->owned_is_mapping, mapped);
    cr_assert_eq(((uintptr_t)w->data & 63), 0);
    or_graph_free(g);
}

Test(external_data, valid_references, .init = ext_setup, .fini = ext_teardown) {
    model_builder b;
    mb_init(&b);
    set_external(&b, "w.bin", NULL, NULL);
    expect_w_values(&b, false);
    set_external(&b, "w.bin", "0", "8");
    expect_w_values(&b, false);
    set_external(&b, "sub/w.bin", NULL, "8");
    expect_w_values(&b, false);
    set_external(&b, "./sub//w.bin", NULL, NULL);
    expect_w_values(&b, false);
    set_external(&b, "inner_link.bin", NULL, NULL); /* symlink that stays inside */
    expect_w_values(&b, false);
    set_external(&b, "padded.bin", "16", "8");
    expect_w_values(&b, false);
    set_external(&b, "padded.bin", "16", NULL); /* length: the rest of the file */
    expect_w_values(&b, false);
    char rel_dir[600];
    snprintf(rel_dir, sizeof rel_dir, "%s/../model/", model_dir);
    or_graph *g = mb_load_ok(&b, rel_dir); /* model_dir itself may contain .. */
    or_graph_free(g);
}

Test(external_data, large_ranges_are_mapped, .init = ext_setup, .fini = ext_teardown) {
    enum { N = 32768, PAD = 4096 + 64 };
    size_t bytes = PAD + N * sizeof(float) + 4;
    unsigned char *file = calloc(1, bytes);
    cr_assert_not_null(file);
    for (int i = 0; i < N; i++) {
        float v = (float)i * 0.5f;
        memcpy(file + PAD + (size_t)i * 4, &v, 4);
    }
    write_file("model/big.bin", file, bytes);
    free(file);
    model_builder b;
    mb_init(&b);
    b.w_dims[0] = N;
    set_external(&b, "big.bin", "4160", "131072");
    or_graph *g = mb_load_ok(&b, model_dir);
    const or_tensor *w = find(g, "W");
    cr_assert(w->owned_is_mapping);
    cr_assert_eq(w->nbytes, (size_t)N * 4);
    cr_assert_eq(((uintptr_t)w->data & 63), 0);
    cr_assert_eq(((const float *)w->data)[0], 0.0f);
    cr_assert_eq(((const float *)w->data)[3], 1.5f);
    cr_assert_eq(((const float *)w->data)[N - 1], (float)(N - 1) * 0.5f);
    or_graph_free(g);

    /* unaligned start: read into an aligned buffer instead */
    b.w_dims[0] = N - 1;
    set_external(&b, "big.bin", "4164", "131068");
    g = mb_load_ok(&b, model_dir);
    w = find(g, "W");
    cr_assert_not(w->owned_is_mapping);
    cr_assert_eq(((uintptr_t)w->data & 63), 0);
    cr_assert_eq(((const float *)w->data)[0], 0.5f);
    cr_assert_eq(((const float *)w->data)[N - 2], (float)(N - 1) * 0.5f);
    or_graph_free(g);
}

Test(external_data, escapes_are_refused, .init = ext_setup, .fini = ext_teardown) {
    model_builder b;
    mb_init(&b);
    set_external(&b, "../outside.bin", NULL, NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "initializer 'W'", "leaves the model folder");
    set_external(&b, "sub/../w.bin", NULL, NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "leaves the model folder", NULL);
    set_external(&b, "sub/..", NULL, NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "leaves the model folder", NULL);
    char abs[600];
    snprintf(abs, sizeof abs, "%s/outside.bin", tmp_root);
    set_external(&b, abs, NULL, NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "is an absolute path", NULL);
    set_external(&b, "link.bin", NULL, NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "'link.bin' resolves outside the model folder",
              NULL);
    set_external(&b, "linkdir/outside.bin", NULL, NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "resolves outside the model folder", NULL);
    set_external(&b, "linkdir/model/w.bin", NULL, NULL); /* back inside through the link */
    expect_w_values(&b, false);
    set_external(&b, "w.bin", NULL, NULL);
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "not allowed here", NULL);
}

Test(external_data, bad_ranges, .init = ext_setup, .fini = ext_teardown) {
    model_builder b;
    mb_init(&b);
    set_external(&b, "w.bin", "100", NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "offset 100 is beyond the end of 'w.bin'", NULL);
    set_external(&b, "w.bin", "4", "8");
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "range 4+8 is beyond the end", NULL);
    set_external(&b, "w.bin", "1", "18446744073709551615");
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "beyond the end", NULL);
    set_external(&b, "w.bin", "18446744073709551615", "8");
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "beyond the end", NULL);
    set_external(&b, "w.bin", "99999999999999999999", "8");
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "invalid external data offset", NULL);
    set_external(&b, "w.bin", "-1", NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "invalid external data offset '-1'", NULL);
    set_external(&b, "w.bin", " 0", NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "invalid external data offset", NULL);
    set_external(&b, "w.bin", NULL, "8x");
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "invalid external data length '8x'", NULL);
    set_external(&b, "w.bin", NULL, "4");
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "external data has 4 bytes, expected 8", NULL);
    set_external(&b, "padded.bin", NULL, NULL); /* whole file: 24 bytes */
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "external data has 24 bytes, expected 8", NULL);
    set_external(&b, "missing.bin", NULL, NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_IO, "external data file 'missing.bin'", NULL);
    set_external(&b, "sub", NULL, NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "is not a regular file", NULL);
    set_external(&b, NULL, "0", "8");
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "external data has no location", NULL);
    set_external(&b, "", NULL, NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "external data has no location", NULL);
    b.w_dims[0] = (int64_t)1 << 61; /* byte count computed with overflow checks */
    set_external(&b, "w.bin", NULL, NULL);
    mb_expect(&b, model_dir, ONNXRUN_ERR_MODEL, "expected 9223372036854775808", NULL);
}

/* ---- hostile shapes and values through the session API ---- */

static onnxrun_status mb_session(const model_builder *b, onnxrun_session **s) {
    size_t len;
    unsigned char *buf = mb_pack(b, &len);
    *s = NULL;
    onnxrun_status st = onnxrun_session_create_from_buffer(buf, len, NULL, NULL, s);
    free(buf);
    cr_assert_not_null(*s);
    return st;
}

/* Creating the session fails with status and a message holding needle. */
static void expect_create_fails(const model_builder *b, onnxrun_status status, const char *needle) {
    onnxrun_session *s;
    onnxrun_status st = mb_session(b, &s);
    cr_expect_eq(st, status, "status %d, expected %d: %s", st, status, onnxrun_errmsg(s));
    cr_expect_not_null(strstr(onnxrun_errmsg(s), needle), "'%s' not in '%s'", needle,
                       onnxrun_errmsg(s));
    onnxrun_session_destroy(s);
}

/* Creating the session succeeds. */
static void expect_create_ok(const model_builder *b) {
    onnxrun_session *s;
    cr_assert_eq(mb_session(b, &s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    onnxrun_session_destroy(s);
}

Test(hostile_shapes, huge_declared_input_shapes) {
    model_builder b;
    mb_init(&b);
    b.node.op_type = "Identity";
    b.node.n_input = 1;
    b.xs.n_dim = 2;
    b.xd.dim_value = (int64_t)1 << 40; /* [2^40, 2^40]: the element count overflows */
    onnxrun_session *s;
    cr_assert_eq(mb_session(&b, &s), ONNXRUN_OK, "planning waits for a bound input");
    float x[2] = {0};
    const int64_t dims[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, dims, x, sizeof x), ONNXRUN_ERR_INPUT);
    cr_assert_neq(onnxrun_run(s), ONNXRUN_OK);
    onnxrun_session_destroy(s);
    b.xs.n_dim = 1;
    b.xd.dim_value = (int64_t)1 << 62; /* 2^62 floats: the byte count overflows */
    expect_create_fails(&b, ONNXRUN_ERR_MODEL, "node 'Identity_0' (Identity): output 'Y'");
    b.xd.dim_value = -3;
    expect_create_fails(&b, ONNXRUN_ERR_MODEL, "negative dimension");
    b.xd.dim_value = 2;
    b.xs.n_dim = OR_MAX_RANK + 1;
    expect_create_fails(&b, ONNXRUN_ERR_MODEL, "rank 9");
}

Test(hostile_shapes, bound_input_shapes_are_checked) {
    model_builder b;
    mb_init(&b);
    b.node.op_type = "Identity";
    b.node.n_input = 1;
    b.xs.n_dim = 2;
    b.xd.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    b.xd.dim_param = "N"; /* [N, N]: any shape may be bound */
    onnxrun_session *s;
    cr_assert_eq(mb_session(&b, &s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    float x[4] = {1, 2, 3, 4};
    const int64_t overflow[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
    const int64_t bytes_overflow[2] = {(int64_t)1 << 31, (int64_t)1 << 31};
    const int64_t negative[2] = {-2, -2};
    const int64_t ok[OR_MAX_RANK + 1] = {2, 2};
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, overflow, x, sizeof x),
                 ONNXRUN_ERR_INPUT);
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, bytes_overflow, x, sizeof x),
                 ONNXRUN_ERR_INPUT);
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, negative, x, sizeof x),
                 ONNXRUN_ERR_INPUT);
    cr_assert_neq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, OR_MAX_RANK + 1, ok, x, sizeof x),
                  ONNXRUN_OK);
    cr_assert_neq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, -1, ok, x, sizeof x), ONNXRUN_OK);
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, ok, x, sizeof x - 1), ONNXRUN_ERR_INPUT);
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, ok, x, sizeof x), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    onnxrun_tensor_view v;
    cr_assert_eq(onnxrun_get_output(s, 0, &v), ONNXRUN_OK);
    cr_assert_eq(v.nbytes, sizeof x);
    cr_assert_eq(((const float *)v.data)[3], 4.0f);
    onnxrun_session_destroy(s);
}

/* Under ASan a refused huge allocation must return NULL, as malloc does,
 * rather than abort: the library's handling of it is what is tested. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1";
}

/* ConstantOfShape(W) with W an int64 initializer: the shape comes from data. */
static void shape_from_data(model_builder *b, int64_t *shape, int rank) {
    mb_init(b);
    b->node.op_type = "ConstantOfShape";
    b->node.n_input = 1;
    b->node_in[0] = "W";
    b->graph.n_input = 0;
    b->w.data_type = OR_INT64;
    b->w_dims[0] = rank;
    b->w.raw_data.len = sizeof(int64_t) * (size_t)rank;
    b->w.raw_data.data = (uint8_t *)shape;
}

Test(hostile_shapes, shapes_computed_from_data) {
    model_builder b;
    int64_t overflow[3] = {(int64_t)1 << 21, (int64_t)1 << 21, (int64_t)1 << 21};
    shape_from_data(&b, overflow, 3);
    expect_create_fails(&b, ONNXRUN_ERR_INPUT, "[2097152,2097152,2097152] is too large");
    int64_t negative[2] = {4, -1};
    shape_from_data(&b, negative, 2);
    expect_create_fails(&b, ONNXRUN_ERR_INPUT, "node 'ConstantOfShape_0' (ConstantOfShape)");
    int64_t too_many[OR_MAX_RANK + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    shape_from_data(&b, too_many, OR_MAX_RANK + 1);
    expect_create_fails(&b, ONNXRUN_ERR_MODEL, "ConstantOfShape");
    /* 2^52 floats fit size_t but not memory: a clean allocation failure */
    int64_t absurd[3] = {(int64_t)1 << 20, (int64_t)1 << 20, (int64_t)1 << 12};
    shape_from_data(&b, absurd, 3);
    expect_create_fails(&b, ONNXRUN_ERR_NOMEM, "out of memory");
}

/* More inputs or outputs than the op's schema allows fail at load, naming the
 * node (they used to be ignored: fuzz_model_run built a Gemm with four). */
Test(hostile_shapes, too_many_inputs_or_outputs) {
    model_builder b;
    mb_init(&b);
    b.node.name = "adder";
    b.node_in[2] = "X";
    b.node.n_input = 3;
    expect_create_fails(&b, ONNXRUN_ERR_MODEL, "has 3 inputs; Add takes at most 2");
    expect_create_fails(&b, ONNXRUN_ERR_MODEL, "adder");

    mb_init(&b);
    char *two_outputs[] = {"Y", "Z"};
    b.node.output = two_outputs;
    b.node.n_output = 2;
    expect_create_fails(&b, ONNXRUN_ERR_MODEL, "has 2 outputs; Add gives at most 1");

    mb_init(&b); /* variadic: any count */
    b.node.op_type = "Sum";
    b.node_in[2] = "X";
    b.node.n_input = 3;
    expect_create_ok(&b);
}

/* An attribute that no supported opset of the op defines fails at load,
 * naming it: a misspelt one (transb for transB) was silently ignored. */
Test(hostile_shapes, unknown_attribute) {
    model_builder b;
    mb_init(&b);
    mb_use_attr(&b, "alpha");
    b.attr.has_type = 1;
    b.attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    b.attr.has_f = 1;
    b.attr.f = 2.0f;
    expect_create_fails(&b, ONNXRUN_ERR_MODEL, "Add has no attribute 'alpha'");

    mb_init(&b); /* Add-6's broadcast is known (and fine at any opset here) */
    b.opset.version = 6;
    mb_use_attr(&b, "broadcast");
    b.attr.has_type = 1;
    b.attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    b.attr.has_i = 1;
    b.attr.i = 1;
    expect_create_ok(&b);
}

/* ---- fuzz findings (inputs under fuzz/regressions/) ---- */

/* An empty node list: the topological sort once did memcpy(NULL, ..., 0). */
Test(fuzz_regressions, graph_without_nodes) {
    model_builder b;
    mb_init(&b);
    b.graph.n_node = 0;
    mb_expect(&b, NULL, ONNXRUN_ERR_MODEL, "'Y'", NULL);
    b.graph.n_output = 0;
    b.graph.n_input = 0;
    or_graph *g = mb_load_ok(&b, NULL);
    cr_assert_eq(g->n_nodes, 0);
    or_graph_free(g);
}

/* A Shape node whose only output is unnamed: its run once wrote through a
 * NULL output. Only RNN/GRU/LSTM may leave output 0 out. */
Test(fuzz_regressions, shape_without_output) {
    const char *path =
        ONNXRUN_SOURCE_DIR "/fuzz/regressions/fuzz_model_load/shape_without_output.onnx";
    onnxrun_session *s = NULL;
    cr_assert_eq(onnxrun_session_create_from_file(path, NULL, &s), ONNXRUN_ERR_MODEL);
    cr_assert(strstr(onnxrun_errmsg(s), "(Shape): output 0 is required"), "%s", onnxrun_errmsg(s));
    onnxrun_session_destroy(s);
}

/* Every committed model finding loads (or fails cleanly) through the API. */
Test(fuzz_regressions, committed_model_inputs) {
    const char *dir = ONNXRUN_SOURCE_DIR "/fuzz/regressions/fuzz_model_load";
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        onnxrun_session *s = NULL;
        onnxrun_status st = onnxrun_session_create_from_file(path, NULL, &s);
        cr_assert_not_null(s, "%s", path);
        if (st != ONNXRUN_OK)
            cr_assert_neq(onnxrun_errmsg(s)[0], '\0', "%s: status %d without a message", path, st);
        onnxrun_session_destroy(s);
        files++;
    }
    closedir(d);
    cr_assert_geq(files, 1);
}
